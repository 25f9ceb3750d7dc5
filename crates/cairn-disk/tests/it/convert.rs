//! Fixed VHD and qcow2, read back by qemu-img.

use crate::common::*;
use anyhow::{Context, Result, ensure};
use cairn_disk::{DiskIds, build_raw, convert_qcow2, vhd_geometry, write_vhd_fixed};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Command;

/// `qemu-img info`; `format` is needed for fixed VHDs, which QEMU cannot probe (the
/// `conectix` cookie is only at the end).
fn qemu_img_info(p: &Path, format: &str) -> Result<serde_json::Value> {
    let out = run(Command::new(need("qemu-img"))
        .args(["info", "--output=json", "-f", format])
        .arg(p))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(stderr.trim().is_empty(), "qemu-img info warned: {stderr}");
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// A raw file that is not a whole MiB, with data, zero runs and a hole.
fn odd_raw(p: &Path) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    for i in 0u32..((3 << 20) / 4) {
        data.extend_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
    }
    data[100_000..300_000].fill(0);
    data.extend_from_slice(&[0xab; 12_345]);
    fs_err::write(p, &data)?;
    Ok(data)
}

#[test]
fn fixed_vhd_reads_back_as_the_padded_raw() -> Result<()> {
    let dir = scratch()?;
    let raw = dir.path().join("in.raw");
    let data = odd_raw(&raw)?;
    let vhd = dir.path().join("out.vhd");
    let info = write_vhd_fixed(&raw, &vhd, "cairn-it/vhd", SDE)?;
    let padded = (data.len() as u64).div_ceil(1 << 20) << 20;
    ensure!(
        info.virtual_size == padded && info.file_size == padded + 512,
        "{info:?}"
    );
    ensure!(fs_err::metadata(&vhd)?.len() == padded + 512);

    let v = qemu_img_info(&vhd, "vpc")?;
    ensure!(v["format"] == "vpc", "{v}");
    ensure!(v["virtual-size"].as_u64() == Some(padded), "{v}");
    let back = dir.path().join("back.raw");
    run(Command::new(need("qemu-img"))
        .args(["convert", "-f", "vpc", "-O", "raw"])
        .arg(&vhd)
        .arg(&back))?;
    let got = fs_err::read(&back)?;
    let mut want = data.clone();
    want.resize(padded as usize, 0);
    ensure!(got.len() == want.len(), "round trip length {}", got.len());
    ensure!(got == want, "round trip bytes differ");

    // The footer agrees with the one qemu-img writes for a fixed disk of the same size
    // (force_size) in cookie, features, version, data offset, sizes and disk type.
    let theirs = dir.path().join("qemu.vhd");
    run(Command::new(need("qemu-img"))
        .args([
            "create",
            "-q",
            "-f",
            "vpc",
            "-o",
            "subformat=fixed,force_size=on",
        ])
        .arg(&theirs)
        .arg(padded.to_string()))?;
    let (ours, qemu) = (footer(&vhd)?, footer(&theirs)?);
    ensure!(
        ours[0..24] == qemu[0..24],
        "cookie, features, version, data offset"
    );
    ensure!(ours[40..56] == qemu[40..56], "original and current size");
    ensure!(ours[60..64] == qemu[60..64], "disk type");
    // Reproducible: same inputs, same file.
    let vhd2 = dir.path().join("again.vhd");
    write_vhd_fixed(&raw, &vhd2, "cairn-it/vhd", SDE)?;
    ensure!(fs_err::read(&vhd)? == fs_err::read(&vhd2)?);
    Ok(())
}

fn footer(p: &Path) -> Result<Vec<u8>> {
    let mut f = fs_err::File::open(p)?;
    f.seek(SeekFrom::End(-512))?;
    let mut b = vec![0u8; 512];
    f.read_exact(&mut b)?;
    Ok(b)
}

#[test]
fn geometry_matches_qemu_img() -> Result<()> {
    // Without force_size, qemu-img rounds a size up to the first CHS geometry (by the
    // same VHD algorithm) that covers it; for sizes that are exactly such a geometry the
    // geometry it writes must be ours. One size per branch: 17, 31 and 63 sectors.
    let dir = scratch()?;
    for sectors in [6800u64, 496_000, 2_096_640] {
        let p = dir.path().join(format!("{sectors}.vhd"));
        run(Command::new(need("qemu-img"))
            .args(["create", "-q", "-f", "vpc", "-o", "subformat=fixed"])
            .arg(&p)
            .arg((sectors * 512).to_string()))?;
        let f = footer(&p)?;
        ensure!(
            u64::from_be_bytes(f[48..56].try_into()?) == sectors * 512,
            "not exact"
        );
        let g = vhd_geometry(sectors);
        ensure!(
            (u16::from_be_bytes([f[56], f[57]]), f[58], f[59])
                == (g.cylinders, g.heads, g.sectors_per_track),
            "{sectors} sectors: qemu {:?}, ours {g:?}",
            &f[56..60]
        );
    }
    Ok(())
}

#[test]
fn built_disk_converts_to_vhd_and_qcow2() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/convert");
    let root = dir.path().join("root");
    make_tree(&root, &ids, false)?;
    let raw = dir.path().join("disk.raw");
    let info = build_raw(&spec(&ids, &root), &raw)?;

    let vhd = dir.path().join("disk.vhd");
    let v = write_vhd_fixed(&raw, &vhd, "cairn-it/convert", SDE)?;
    ensure!(v.virtual_size == info.size && v.padding == 0, "{v:?}");
    let i = qemu_img_info(&vhd, "vpc")?;
    ensure!(
        i["format"] == "vpc" && i["virtual-size"].as_u64() == Some(info.size),
        "{i}"
    );
    run(Command::new(need("qemu-img"))
        .args(["compare", "-q", "-f", "raw", "-F", "vpc"])
        .arg(&raw)
        .arg(&vhd))?;
    // Sparse input, sparse output.
    let blocks = std::os::unix::fs::MetadataExt::blocks(&fs_err::metadata(&vhd)?);
    ensure!(
        blocks * 512 < info.size / 4,
        "VHD is not sparse: {blocks} blocks"
    );

    let q = dir.path().join("disk.qcow2");
    convert_qcow2(&raw, &q)?;
    run(Command::new(need("qemu-img")).args(["check", "-q"]).arg(&q))?;
    let i = qemu_img_info(&q, "qcow2")?;
    ensure!(
        i["format"] == "qcow2" && i["virtual-size"].as_u64() == Some(info.size),
        "{i}"
    );
    run(Command::new(need("qemu-img"))
        .args(["compare", "-q", "-f", "raw", "-F", "qcow2"])
        .arg(&raw)
        .arg(&q))
    .context("qcow2 content differs from the raw disk")?;
    let q2 = dir.path().join("again.qcow2");
    convert_qcow2(&raw, &q2)?;
    ensure!(
        fs_err::read(&q)? == fs_err::read(&q2)?,
        "qcow2 conversion is not reproducible"
    );
    Ok(())
}
