//! GUID Partition Table with a protective MBR (UEFI 2.10, chapter 5), written by hand.
//!
//! Layout: LBA 0 protective MBR, LBA 1 primary header, LBA 2..33 the 128-entry array;
//! at the end of the disk the backup array (33 sectors before the end) and the backup
//! header in the last sector.

use crate::ids::Guid;

pub(crate) const SECTOR: u64 = 512;
pub(crate) const ENTRY_COUNT: u32 = 128;
pub(crate) const ENTRY_SIZE: u32 = 128;
/// Sectors taken by the partition entry array (128 × 128 bytes = 16 KiB).
pub(crate) const ENTRY_SECTORS: u64 = (ENTRY_COUNT as u64 * ENTRY_SIZE as u64) / SECTOR;
const HEADER_SIZE: u32 = 92;

/// One partition as it goes into the table.
#[derive(Debug, Clone)]
pub(crate) struct GptPartition {
    pub type_guid: Guid,
    pub guid: Guid,
    pub first_lba: u64,
    /// Inclusive.
    pub last_lba: u64,
    pub attributes: u64,
    pub name: String,
}

/// The sectors that make up the partition table, ready to be written.
#[derive(Debug)]
pub(crate) struct Gpt {
    pub mbr: [u8; 512],
    pub primary_header: [u8; 512],
    pub backup_header: [u8; 512],
    pub entries: Vec<u8>,
    /// LBA of the backup entry array.
    pub backup_entries_lba: u64,
    pub last_lba: u64,
}

/// First LBA usable for partitions.
pub(crate) fn first_usable_lba() -> u64 {
    2 + ENTRY_SECTORS
}

/// Last LBA usable for partitions on a disk of `total_sectors`.
pub(crate) fn last_usable_lba(total_sectors: u64) -> u64 {
    total_sectors - 2 - ENTRY_SECTORS
}

/// The protective MBR: one partition of type 0xEE covering the disk from LBA 1.
pub(crate) fn protective_mbr(total_sectors: u64) -> [u8; 512] {
    let mut m = [0u8; 512];
    let e = &mut m[446..462];
    e[0] = 0x00; // not bootable
    e[1..4].copy_from_slice(&[0x00, 0x02, 0x00]); // CHS of LBA 1
    e[4] = 0xEE;
    e[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
    e[8..12].copy_from_slice(&1u32.to_le_bytes());
    let size = u32::try_from(total_sectors - 1).unwrap_or(u32::MAX);
    e[12..16].copy_from_slice(&size.to_le_bytes());
    m[510] = 0x55;
    m[511] = 0xAA;
    m
}

fn entry_bytes(p: &GptPartition) -> [u8; 128] {
    let mut e = [0u8; 128];
    e[0..16].copy_from_slice(&p.type_guid.to_gpt_bytes());
    e[16..32].copy_from_slice(&p.guid.to_gpt_bytes());
    e[32..40].copy_from_slice(&p.first_lba.to_le_bytes());
    e[40..48].copy_from_slice(&p.last_lba.to_le_bytes());
    e[48..56].copy_from_slice(&p.attributes.to_le_bytes());
    for (i, unit) in p.name.encode_utf16().take(36).enumerate() {
        e[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
    }
    e
}

fn header(
    disk: Guid,
    my_lba: u64,
    alternate_lba: u64,
    entries_lba: u64,
    total_sectors: u64,
    entries_crc: u32,
) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[0..8].copy_from_slice(b"EFI PART");
    h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    h[12..16].copy_from_slice(&HEADER_SIZE.to_le_bytes());
    // 16..20: header CRC, filled below; 20..24 reserved.
    h[24..32].copy_from_slice(&my_lba.to_le_bytes());
    h[32..40].copy_from_slice(&alternate_lba.to_le_bytes());
    h[40..48].copy_from_slice(&first_usable_lba().to_le_bytes());
    h[48..56].copy_from_slice(&last_usable_lba(total_sectors).to_le_bytes());
    h[56..72].copy_from_slice(&disk.to_gpt_bytes());
    h[72..80].copy_from_slice(&entries_lba.to_le_bytes());
    h[80..84].copy_from_slice(&ENTRY_COUNT.to_le_bytes());
    h[84..88].copy_from_slice(&ENTRY_SIZE.to_le_bytes());
    h[88..92].copy_from_slice(&entries_crc.to_le_bytes());
    let crc = crc32fast::hash(&h[..HEADER_SIZE as usize]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Builds the whole table. Partitions must lie within the usable area, in order, and not
/// overlap (the caller computes the layout; this is checked with debug assertions).
pub(crate) fn build(disk: Guid, total_sectors: u64, parts: &[GptPartition]) -> Gpt {
    debug_assert!(parts.len() <= ENTRY_COUNT as usize);
    let mut entries = vec![0u8; (ENTRY_COUNT * ENTRY_SIZE) as usize];
    let mut prev_end = first_usable_lba() - 1;
    for (i, p) in parts.iter().enumerate() {
        debug_assert!(p.first_lba > prev_end && p.last_lba >= p.first_lba);
        debug_assert!(p.last_lba <= last_usable_lba(total_sectors));
        prev_end = p.last_lba;
        let off = i * ENTRY_SIZE as usize;
        entries[off..off + ENTRY_SIZE as usize].copy_from_slice(&entry_bytes(p));
    }
    let entries_crc = crc32fast::hash(&entries);
    let last_lba = total_sectors - 1;
    let backup_entries_lba = total_sectors - 1 - ENTRY_SECTORS;
    Gpt {
        mbr: protective_mbr(total_sectors),
        primary_header: header(disk, 1, last_lba, 2, total_sectors, entries_crc),
        backup_header: header(
            disk,
            last_lba,
            1,
            backup_entries_lba,
            total_sectors,
            entries_crc,
        ),
        entries,
        backup_entries_lba,
        last_lba,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    #[test]
    fn headers_carry_valid_crcs_and_point_at_each_other() {
        let disk = Guid::derive("t", "disk");
        let parts = [GptPartition {
            type_guid: crate::TYPE_ESP,
            guid: Guid::derive("t", "p"),
            first_lba: 2048,
            last_lba: 4095,
            attributes: 0,
            name: "esp".into(),
        }];
        let total = 8192;
        let g = build(disk, total, &parts);
        for (h, my, alt, ent) in [
            (&g.primary_header, 1, total - 1, 2),
            (&g.backup_header, total - 1, 1, total - 33),
        ] {
            assert_eq!(&h[0..8], b"EFI PART");
            let mut copy = h[..92].to_vec();
            copy[16..20].fill(0);
            assert_eq!(crc32fast::hash(&copy), u32_at(h, 16));
            assert_eq!(u64_at(h, 24), my);
            assert_eq!(u64_at(h, 32), alt);
            assert_eq!(u64_at(h, 40), 34);
            assert_eq!(u64_at(h, 48), total - 34);
            assert_eq!(u64_at(h, 72), ent);
            assert_eq!(u32_at(h, 88), crc32fast::hash(&g.entries));
            assert_eq!(Guid::from_gpt_bytes(h[56..72].try_into().unwrap()), disk);
        }
        assert_eq!(g.entries.len(), 16384);
        assert_eq!(&g.entries[56..62], &[b'e', 0, b's', 0, b'p', 0]);
        assert_eq!(u64_at(&g.entries, 32), 2048);
        assert_eq!(u64_at(&g.entries, 40), 4095);
        assert!(g.entries[128..].iter().all(|&b| b == 0));
    }

    #[test]
    fn protective_mbr_covers_disk_and_caps_size() {
        let m = protective_mbr(8192);
        assert_eq!(m[450], 0xEE);
        assert_eq!(u32_at(&m, 454), 1);
        assert_eq!(u32_at(&m, 458), 8191);
        assert_eq!(&m[510..], &[0x55, 0xAA]);
        let big = protective_mbr(1 << 40);
        assert_eq!(u32_at(&big, 458), u32::MAX);
    }
}
