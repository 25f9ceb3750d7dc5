//! The EFI System Partition: FAT32 written in place with mtools.
//!
//! mtools takes every timestamp from `SOURCE_DATE_EPOCH` (set from the explicit
//! parameter, never inherited) and converts it with `TZ=UTC`; the volume serial comes
//! from [`DiskIds`](crate::DiskIds). Files and directories are created in a fixed order.

use crate::DiskError;
use crate::tools::{self, MCOPY, MFORMAT, MMD};
use std::path::Path;
use std::process::Command;

/// One file to put on the ESP: its path there (`/`-separated, no leading slash) and the
/// host file holding its content.
#[derive(Debug)]
pub(crate) struct EspFile<'a> {
    pub path: &'a str,
    pub source: &'a Path,
}

fn mtools_cmd(tool: &Path, work: &Path, sde: u64) -> Command {
    let mut c = Command::new(tool);
    c.current_dir(work)
        .env("SOURCE_DATE_EPOCH", sde.to_string())
        .env("TZ", "UTC")
        .env("MTOOLS_SKIP_CHECK", "1")
        .env("MTOOLSRC", "/dev/null")
        .env_remove("MTOOLS_LOWER_CASE")
        .env_remove("MTOOLS_TWENTY_FOUR_HOUR_CLOCK")
        .env_remove("MTOOLS_NO_VFAT")
        .env_remove("MTOOLS_DOTTED_DIR")
        .env_remove("MTOOLS_NAME_NUMERIC_TAIL");
    c
}

/// Formats FAT32 inside `device` (relative to `work`) at partition `start_lba` of
/// `sectors` sectors and copies `files` onto it, creating their directories.
pub(crate) fn make(
    work: &Path,
    device: &str,
    start_lba: u64,
    sectors: u64,
    serial: u32,
    files: &[EspFile<'_>],
    sde: u64,
) -> Result<(), DiskError> {
    let mformat = tools::find(&MFORMAT)?;
    let mmd = tools::find(&MMD)?;
    let mcopy = tools::find(&MCOPY)?;
    let image = format!("{device}@@{}", start_lba * 512);

    let mut c = mtools_cmd(&mformat, work, sde);
    c.arg("-i")
        .arg(&image)
        .args(["-F", "-N"])
        .arg(format!("{serial:08x}"))
        .args(["-v", "ESP", "-T"])
        .arg(sectors.to_string())
        .arg("-H")
        .arg(start_lba.to_string())
        .args(["-h", "255", "-s", "63", "-m", "0xf8", "::"]);
    tools::run(&mut c)?;

    let mut dirs: Vec<String> = Vec::new();
    for f in files {
        let mut acc = String::new();
        let parts: Vec<&str> = f.path.split('/').collect();
        for p in &parts[..parts.len() - 1] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(p);
            if !dirs.contains(&acc) {
                dirs.push(acc.clone());
            }
        }
    }
    if !dirs.is_empty() {
        let mut c = mtools_cmd(&mmd, work, sde);
        c.arg("-i").arg(&image);
        for d in &dirs {
            c.arg(format!("::/{d}"));
        }
        tools::run(&mut c)?;
    }
    for f in files {
        let mut c = mtools_cmd(&mcopy, work, sde);
        c.arg("-i")
            .arg(&image)
            .arg(f.source)
            .arg(format!("::/{}", f.path));
        tools::run(&mut c)?;
    }
    Ok(())
}
