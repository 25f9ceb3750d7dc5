//! Reproducibility: the same tree, created in a different order, at a different time and
//! on a different filesystem (so readdir order, inode numbers and ctimes differ), gives
//! a byte-identical disk.

use crate::common::*;
use anyhow::{Result, bail};
use cairn_disk::{DiskIds, build_raw};
use std::io::Read;
use std::path::Path;

/// Compares two files; names the first differing offset and the partition holding it.
fn same_bytes(a: &Path, b: &Path, info: &cairn_disk::RawInfo) -> Result<()> {
    let (la, lb) = (fs_err::metadata(a)?.len(), fs_err::metadata(b)?.len());
    if la != lb {
        bail!("sizes differ: {la} vs {lb}");
    }
    let (mut fa, mut fb) = (fs_err::File::open(a)?, fs_err::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut off = 0u64;
    while off < la {
        let n = ((la - off) as usize).min(ba.len());
        fa.read_exact(&mut ba[..n])?;
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            let i = ba[..n]
                .iter()
                .zip(&bb[..n])
                .position(|(x, y)| x != y)
                .unwrap();
            let at = off + i as u64;
            let part = info
                .partitions
                .iter()
                .find(|p| at >= p.start_lba * 512 && at < p.start_lba * 512 + p.size)
                .map_or("outside partitions".to_string(), |p| p.name.clone());
            bail!("disks differ first at byte {at} ({part})");
        }
        off += n as u64;
    }
    Ok(())
}

#[test]
fn same_tree_in_another_order_gives_identical_bytes() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/repro");
    let root_a = dir.path().join("root");
    make_tree(&root_a, &ids, false)?;
    // The second tree lives on tmpfs when there is one (readdir returns creation order
    // there, hash order on ext4), is created in reverse order and a second later.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let shm = Path::new("/dev/shm");
    let other = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("cairn-disk-it-")
            .tempdir_in(shm)?
    } else {
        scratch()?
    };
    let root_b = other.path().join("root");
    make_tree(&root_b, &ids, true)?;

    let a = dir.path().join("a.raw");
    let b = dir.path().join("b.raw");
    let info_a = build_raw(&spec(&ids, &root_a), &a)?;
    let info_b = build_raw(&spec(&ids, &root_b), &b)?;
    assert_eq!(info_a, info_b);
    same_bytes(&a, &b, &info_a)?;

    // A different identity changes the identifiers, hence the bytes.
    let c = dir.path().join("c.raw");
    let ids_c = DiskIds::derive("cairn-it/repro-other");
    let info_c = build_raw(&spec(&ids_c, &root_a), &c)?;
    assert!(same_bytes(&a, &c, &info_c).is_err());
    Ok(())
}
