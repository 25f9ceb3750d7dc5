//! Fixed VHD for Azure: the raw data padded to a whole MiB, then a 512-byte footer
//! (Microsoft "Virtual Hard Disk Image Format Specification" 1.0, "Hard Disk Footer").
//!
//! The creator application is `win ` (Hyper-V, host OS `Wi2k`): readers such as QEMU
//! take the disk size from the footer's current size for that creator, and from the CHS
//! geometry (which rounds the size down) for unknown ones. Azure needs the virtual size
//! to be a whole number of MiB.

use crate::DiskError;
use crate::ids::{Guid, derive_hash};
use serde::Serialize;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

const MIB: u64 = 1 << 20;
/// 2000-01-01T00:00:00Z as a Unix time.
const VHD_EPOCH: u64 = 946_684_800;
const COPY_CHUNK: usize = 1 << 20;
const HOLE_BLOCK: usize = 4096;

/// Cylinders, heads and sectors per track, as the footer stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VhdGeometry {
    /// Cylinders.
    pub cylinders: u16,
    /// Heads.
    pub heads: u8,
    /// Sectors per track.
    pub sectors_per_track: u8,
}

/// The CHS geometry for a disk of `total_sectors` 512-byte sectors, by the algorithm in
/// the VHD specification (appendix "CHS Calculation").
pub fn vhd_geometry(total_sectors: u64) -> VhdGeometry {
    let total = total_sectors.min(65535 * 16 * 255);
    let (spt, heads, cyl_times_heads);
    if total >= 65535 * 16 * 63 {
        spt = 255;
        heads = 16;
        cyl_times_heads = total / spt;
    } else {
        let mut s = 17;
        let mut cth = total / s;
        let mut h = cth.div_ceil(1024);
        if h < 4 {
            h = 4;
        }
        if cth >= h * 1024 || h > 16 {
            s = 31;
            h = 16;
            cth = total / s;
        }
        if cth >= h * 1024 {
            s = 63;
            h = 16;
            cth = total / s;
        }
        spt = s;
        heads = h;
        cyl_times_heads = cth;
    }
    VhdGeometry {
        cylinders: (cyl_times_heads / heads) as u16,
        heads: heads as u8,
        sectors_per_track: spt as u8,
    }
}

/// The virtual size of a VHD holding `raw_len` bytes: rounded up to a whole MiB.
pub fn vhd_virtual_size(raw_len: u64) -> u64 {
    raw_len.div_ceil(MIB) * MIB
}

/// The fields of a fixed-disk footer that vary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VhdFooter {
    /// Seconds since 2000-01-01T00:00:00Z.
    pub timestamp: u32,
    /// Original and current size in bytes.
    pub size: u64,
    /// Disk geometry.
    pub geometry: VhdGeometry,
    /// Unique id of the disk.
    pub uuid: Guid,
}

impl VhdFooter {
    /// The footer for a disk of `size` bytes made at `source_date_epoch`.
    pub fn new(size: u64, identity: &str, source_date_epoch: u64) -> VhdFooter {
        let d = derive_hash(identity, "vhd-uuid");
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0f) | 0x80;
        b[8] = (b[8] & 0x3f) | 0x80;
        VhdFooter {
            timestamp: u32::try_from(source_date_epoch.saturating_sub(VHD_EPOCH))
                .unwrap_or(u32::MAX),
            size,
            geometry: vhd_geometry(size / 512),
            uuid: Guid(b),
        }
    }

    /// The 512 footer bytes, checksum included.
    pub fn to_bytes(&self) -> [u8; 512] {
        let mut f = [0u8; 512];
        f[0..8].copy_from_slice(b"conectix");
        f[8..12].copy_from_slice(&2u32.to_be_bytes()); // features: reserved bit
        f[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes()); // format version
        f[16..24].copy_from_slice(&u64::MAX.to_be_bytes()); // data offset: fixed disk
        f[24..28].copy_from_slice(&self.timestamp.to_be_bytes());
        f[28..32].copy_from_slice(b"win ");
        f[32..36].copy_from_slice(&0x000a_0000u32.to_be_bytes()); // creator version 10.0
        f[36..40].copy_from_slice(b"Wi2k");
        f[40..48].copy_from_slice(&self.size.to_be_bytes()); // original size
        f[48..56].copy_from_slice(&self.size.to_be_bytes()); // current size
        f[56..58].copy_from_slice(&self.geometry.cylinders.to_be_bytes());
        f[58] = self.geometry.heads;
        f[59] = self.geometry.sectors_per_track;
        f[60..64].copy_from_slice(&2u32.to_be_bytes()); // disk type: fixed
        f[68..84].copy_from_slice(&self.uuid.0);
        f[84] = 0; // saved state
        let sum = checksum(&f);
        f[64..68].copy_from_slice(&sum.to_be_bytes());
        f
    }
}

/// One's complement of the byte sum, with the checksum field (64..68) counted as zero.
pub(crate) fn checksum(footer: &[u8; 512]) -> u32 {
    let sum = footer
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |acc, (_, &b)| acc.wrapping_add(u32::from(b)));
    !sum
}

/// What [`write_vhd_fixed`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VhdInfo {
    /// Virtual disk size (the raw size rounded up to a whole MiB).
    pub virtual_size: u64,
    /// File size: virtual size plus the 512-byte footer.
    pub file_size: u64,
    /// Zero bytes added after the raw data.
    pub padding: u64,
    /// The footer's fields.
    pub footer: VhdFooter,
}

/// Copies `raw` into `out` as an Azure fixed VHD. All-zero 4 KiB blocks are skipped, so
/// a sparse input gives a sparse output.
pub fn write_vhd_fixed(
    raw: &Path,
    out: &Path,
    identity: &str,
    source_date_epoch: u64,
) -> Result<VhdInfo, DiskError> {
    let mut input = fs_err::File::open(raw)?;
    let raw_len = input.metadata()?.len();
    if raw_len == 0 {
        return Err(DiskError::BadInput {
            path: raw.to_path_buf(),
            reason: "the raw disk is empty".into(),
        });
    }
    let virtual_size = vhd_virtual_size(raw_len);
    let footer = VhdFooter::new(virtual_size, identity, source_date_epoch);

    let mut output = fs_err::File::create(out)?;
    output.set_len(virtual_size)?;
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut pos = 0u64;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            let n = input.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        for (i, block) in buf[..filled].chunks(HOLE_BLOCK).enumerate() {
            if block.iter().any(|&b| b != 0) {
                output.seek(SeekFrom::Start(pos + (i * HOLE_BLOCK) as u64))?;
                output.write_all(block)?;
            }
        }
        pos += filled as u64;
        if filled < buf.len() {
            break;
        }
    }
    if pos != raw_len {
        return Err(DiskError::BadInput {
            path: raw.to_path_buf(),
            reason: format!("read {pos} bytes, but the file is {raw_len} bytes long"),
        });
    }
    output.seek(SeekFrom::Start(virtual_size))?;
    output.write_all(&footer.to_bytes())?;
    output.sync_all()?;
    Ok(VhdInfo {
        virtual_size,
        file_size: virtual_size + 512,
        padding: virtual_size - raw_len,
        footer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn geometry_examples() {
        // 1 GiB: the well-known 2080/16/63.
        assert_eq!(
            vhd_geometry(2 * 1024 * 1024),
            VhdGeometry {
                cylinders: 2080,
                heads: 16,
                sectors_per_track: 63
            }
        );
        // 10 MiB: 17 sectors per track, 4 heads.
        assert_eq!(
            vhd_geometry(20480),
            VhdGeometry {
                cylinders: 301,
                heads: 4,
                sectors_per_track: 17
            }
        );
        // 200 GiB: capped at the largest geometry.
        assert_eq!(
            vhd_geometry(200 * 1024 * 1024 * 2),
            VhdGeometry {
                cylinders: 65535,
                heads: 16,
                sectors_per_track: 255
            }
        );
        // 64 MiB: 17 sectors per track, 8 heads.
        assert_eq!(
            vhd_geometry(131072),
            VhdGeometry {
                cylinders: 963,
                heads: 8,
                sectors_per_track: 17
            }
        );
        // 300 MiB: 17 sectors would need 36 heads, 31 sectors 20 480 cylinders·heads.
        assert_eq!(
            vhd_geometry(614400),
            VhdGeometry {
                cylinders: 609,
                heads: 16,
                sectors_per_track: 63
            }
        );
    }

    #[test]
    fn footer_layout_and_checksum() {
        let f = VhdFooter::new(3 * MIB, "vhd-test", 1_700_000_000);
        let b = f.to_bytes();
        assert_eq!(&b[0..8], b"conectix");
        assert_eq!(&b[8..12], &[0, 0, 0, 2]);
        assert_eq!(&b[12..16], &[0, 1, 0, 0]);
        assert_eq!(&b[16..24], &[0xff; 8]);
        assert_eq!(
            u32::from_be_bytes(b[24..28].try_into().unwrap()),
            1_700_000_000 - 946_684_800
        );
        assert_eq!(u64::from_be_bytes(b[40..48].try_into().unwrap()), 3 * MIB);
        assert_eq!(u64::from_be_bytes(b[48..56].try_into().unwrap()), 3 * MIB);
        assert_eq!(&b[60..64], &[0, 0, 0, 2]);
        assert_eq!(b[84], 0);
        assert!(b[85..].iter().all(|&x| x == 0));
        // The sum of all bytes but the checksum, plus the checksum, is all ones.
        let stored = u32::from_be_bytes(b[64..68].try_into().unwrap());
        let sum: u32 = b
            .iter()
            .enumerate()
            .filter(|(i, _)| !(64..68).contains(i))
            .map(|(_, &x)| u32::from(x))
            .sum();
        assert_eq!(stored.wrapping_add(sum), u32::MAX);
        // Same identity and time, same footer; another identity, another UUID.
        assert_eq!(
            VhdFooter::new(3 * MIB, "vhd-test", 1_700_000_000).to_bytes(),
            b
        );
        assert_ne!(VhdFooter::new(3 * MIB, "other", 1_700_000_000).uuid, f.uuid);
    }

    #[test]
    fn timestamp_saturates() {
        assert_eq!(VhdFooter::new(MIB, "t", 0).timestamp, 0);
        assert_eq!(VhdFooter::new(MIB, "t", VHD_EPOCH).timestamp, 0);
        assert_eq!(VhdFooter::new(MIB, "t", u64::MAX).timestamp, u32::MAX);
    }

    proptest! {
        #[test]
        fn virtual_size_is_the_next_whole_mib(raw in 1u64..(1u64 << 44)) {
            let v = vhd_virtual_size(raw);
            prop_assert_eq!(v % MIB, 0);
            prop_assert!(v >= raw);
            prop_assert!(v - raw < MIB);
            prop_assert_eq!(vhd_virtual_size(v), v);
        }

        #[test]
        fn geometry_never_exceeds_the_disk(sectors in 1u64..(1u64 << 33)) {
            let g = vhd_geometry(sectors);
            let chs = u64::from(g.cylinders) * u64::from(g.heads) * u64::from(g.sectors_per_track);
            prop_assert!(chs <= sectors);
            prop_assert!(g.heads <= 16);
        }

        #[test]
        fn checksum_verifies(size in 1u64..(1u64 << 40), sde in any::<u64>(), id in ".{0,20}") {
            let b = VhdFooter::new(size, &id, sde).to_bytes();
            let stored = u32::from_be_bytes(b[64..68].try_into().unwrap());
            prop_assert_eq!(stored, checksum(&b));
        }
    }
}
