//! Deterministic identifiers: GUIDs/UUIDs and the FAT volume serial, derived from an
//! identity string with SHA-256.

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// A GUID/UUID, stored in RFC 4122 byte order (the order it is written in text).
///
/// GPT stores the first three fields little-endian; [`Guid::to_gpt_bytes`] gives that form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub [u8; 16]);

/// A string that is not a GUID of the form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{0}` is not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")]
pub struct ParseGuidError(pub String);

const fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

const fn parse_guid(s: &[u8]) -> Option<[u8; 16]> {
    if s.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut i = 0;
    let mut n = 0;
    while i < 36 {
        if i == 8 || i == 13 || i == 18 || i == 23 {
            if s[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        let (Some(hi), Some(lo)) = (hex_val(s[i]), hex_val(s[i + 1])) else {
            return None;
        };
        out[n] = (hi << 4) | lo;
        n += 1;
        i += 2;
    }
    Some(out)
}

impl Guid {
    /// Parses a GUID at compile time; panics (at compile time) on a malformed literal.
    pub const fn from_str_const(s: &str) -> Guid {
        match parse_guid(s.as_bytes()) {
            Some(b) => Guid(b),
            None => panic!("malformed GUID literal"),
        }
    }

    /// A version-8 (RFC 9562 "custom") UUID from the first 16 bytes of
    /// SHA-256(`cairn-disk\0` purpose `\0` identity), with the RFC 4122 variant bits.
    pub fn derive(identity: &str, purpose: &str) -> Guid {
        let d = derive_hash(identity, purpose);
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0f) | 0x80;
        b[8] = (b[8] & 0x3f) | 0x80;
        Guid(b)
    }

    /// The 16 bytes as GPT (and EFI) store them: first three fields little-endian.
    pub fn to_gpt_bytes(&self) -> [u8; 16] {
        let b = &self.0;
        [
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
            b[14], b[15],
        ]
    }

    /// The inverse of [`Guid::to_gpt_bytes`].
    pub fn from_gpt_bytes(g: [u8; 16]) -> Guid {
        Guid([
            g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
            g[14], g[15],
        ])
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl FromStr for Guid {
    type Err = ParseGuidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_guid(s.as_bytes())
            .map(Guid)
            .ok_or_else(|| ParseGuidError(s.to_string()))
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

pub(crate) fn derive_hash(identity: &str, purpose: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"cairn-disk\0");
    h.update(purpose.as_bytes());
    h.update(b"\0");
    h.update(identity.as_bytes());
    h.finalize().into()
}

/// Every identifier of one disk, derived from its identity string.
///
/// The same identity always gives the same identifiers, so a caller can write
/// `/etc/fstab` (see [`fstab`]) into the root before the disk is built. GUIDs are
/// version-8 UUIDs (RFC 9562: hash-derived "custom" layout) with RFC 4122 variant bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskIds {
    /// The GPT disk GUID.
    pub disk: Guid,
    /// Unique GUID of the BIOS boot partition.
    pub bios_boot_partition: Guid,
    /// Unique GUID of the EFI System Partition.
    pub esp_partition: Guid,
    /// Unique GUID of the root partition.
    pub root_partition: Guid,
    /// UUID of the ext4 root filesystem (`root=UUID=…`).
    pub root_fs_uuid: Guid,
    /// ext4 directory hash seed.
    pub root_hash_seed: Guid,
    /// FAT volume serial number of the ESP.
    pub esp_serial: u32,
}

impl DiskIds {
    /// Derives all identifiers from `identity` (e.g. `"debian-12-cloud/amd64"`).
    pub fn derive(identity: &str) -> DiskIds {
        let s = derive_hash(identity, "esp-fat-serial");
        DiskIds {
            disk: Guid::derive(identity, "gpt-disk"),
            bios_boot_partition: Guid::derive(identity, "gpt-partition-bios-boot"),
            esp_partition: Guid::derive(identity, "gpt-partition-esp"),
            root_partition: Guid::derive(identity, "gpt-partition-root"),
            root_fs_uuid: Guid::derive(identity, "ext4-root-uuid"),
            root_hash_seed: Guid::derive(identity, "ext4-root-hash-seed"),
            esp_serial: u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        }
    }

    /// The ESP serial as Linux (blkid, `/dev/disk/by-uuid`) shows it: `ABCD-1234`.
    pub fn esp_serial_string(&self) -> String {
        format!(
            "{:04X}-{:04X}",
            self.esp_serial >> 16,
            self.esp_serial & 0xffff
        )
    }
}

/// `/etc/fstab` for a disk with these identifiers: the ext4 root by UUID and the ESP at
/// `/boot/efi` by its FAT serial (`vfat`, `umask=0077`). The caller writes it into the
/// root (and creates `/boot/efi`) before building the disk.
pub fn fstab(ids: &DiskIds) -> String {
    format!(
        "# /etc/fstab: static file system information (written by cairn).\n\
         # <file system>  <mount point>  <type>  <options>  <dump>  <pass>\n\
         UUID={}  /  ext4  defaults,errors=remount-ro  0  1\n\
         UUID={}  /boot/efi  vfat  umask=0077  0  2\n",
        ids.root_fs_uuid,
        ids.esp_serial_string()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_round_trip() {
        let g: Guid = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B".parse().unwrap();
        assert_eq!(g.to_string(), "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
        assert_eq!(g, crate::TYPE_ESP);
        assert!(
            "c12a7328f81f-11d2-ba4b-00a0c93ec93b0"
                .parse::<Guid>()
                .is_err()
        );
        assert!(
            "g12a7328-f81f-11d2-ba4b-00a0c93ec93b"
                .parse::<Guid>()
                .is_err()
        );
    }

    #[test]
    fn gpt_byte_order_is_mixed_endian() {
        // The EFI System Partition type as it appears on disk (UEFI spec, table 5.7).
        let on_disk = [
            0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e,
            0xc9, 0x3b,
        ];
        assert_eq!(crate::TYPE_ESP.to_gpt_bytes(), on_disk);
        assert_eq!(Guid::from_gpt_bytes(on_disk), crate::TYPE_ESP);
    }

    #[test]
    fn derived_ids_are_stable_distinct_and_versioned() {
        let a = DiskIds::derive("cairn-test");
        let b = DiskIds::derive("cairn-test");
        let c = DiskIds::derive("cairn-test2");
        assert_eq!(a, b);
        assert_ne!(a.disk, c.disk);
        assert_ne!(a.esp_serial, c.esp_serial);
        let all = [
            a.disk,
            a.bios_boot_partition,
            a.esp_partition,
            a.root_partition,
            a.root_fs_uuid,
            a.root_hash_seed,
        ];
        for (i, g) in all.iter().enumerate() {
            assert_eq!(g.0[6] >> 4, 8, "version 8: {g}");
            assert_eq!(g.0[8] >> 6, 0b10, "RFC 4122 variant: {g}");
            for h in &all[i + 1..] {
                assert_ne!(g, h);
            }
        }
        // The derivation is SHA-256 over a fixed framing: pin one value so a change to the
        // framing (which would change every image) is noticed.
        let expected = {
            let mut h = Sha256::new();
            h.update(b"cairn-disk\0gpt-disk\0cairn-test");
            let d: [u8; 32] = h.finalize().into();
            let mut b = [0u8; 16];
            b.copy_from_slice(&d[..16]);
            b[6] = (b[6] & 0x0f) | 0x80;
            b[8] = (b[8] & 0x3f) | 0x80;
            Guid(b)
        };
        assert_eq!(a.disk, expected);
    }

    #[test]
    fn fstab_names_root_uuid_and_esp_serial() {
        let ids = DiskIds {
            esp_serial: 0x1234_abcd,
            ..DiskIds::derive("x")
        };
        assert_eq!(ids.esp_serial_string(), "1234-ABCD");
        let t = fstab(&ids);
        let lines: Vec<Vec<&str>> = t
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines[0],
            [
                format!("UUID={}", ids.root_fs_uuid).as_str(),
                "/",
                "ext4",
                "defaults,errors=remount-ro",
                "0",
                "1"
            ]
        );
        assert_eq!(
            lines[1],
            [
                "UUID=1234-ABCD",
                "/boot/efi",
                "vfat",
                "umask=0077",
                "0",
                "2"
            ]
        );
        assert_eq!(lines.len(), 2);
    }
}
