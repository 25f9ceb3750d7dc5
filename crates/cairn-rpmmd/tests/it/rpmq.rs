//! Test helper: fill an [`RpmRecord`] from a real RPM file with `rpm -qp --qf` queries,
//! the way createrepo_c reads the header (so that the writers can be compared with it).

use anyhow::{Context, Result, bail, ensure};
use cairn_rpmmd::{RpmChangelog, RpmDep, RpmFile, RpmFileKind, RpmRecord};
use std::path::Path;
use std::process::Command;

const FS: char = '\u{1f}';
const RS: char = '\u{1e}';

fn query(rpm: &Path, fmt: &str) -> Result<String> {
    let out = Command::new("rpm")
        .args(["--dbpath", "/nonexistent-cairn-test-db", "-qp", "--qf", fmt])
        .arg(rpm)
        .output()
        .context("running rpm -qp")?;
    ensure!(
        out.status.success(),
        "rpm -qp --qf {fmt:?} {}: {}",
        rpm.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Records of an array query: one `Vec<String>` of fields per array element.
fn rows(rpm: &Path, tags: &[&str]) -> Result<Vec<Vec<String>>> {
    let fields: Vec<String> = tags.iter().map(|t| format!("%{{{t}}}")).collect();
    let fmt = format!("[{}{RS}]", fields.join(&FS.to_string()));
    let text = query(rpm, &fmt)?;
    Ok(text
        .split(RS)
        .filter(|r| !r.is_empty())
        .map(|r| r.split(FS).map(str::to_owned).collect())
        .collect())
}

fn none_empty(s: &str) -> String {
    if s == "(none)" {
        String::new()
    } else {
        s.to_owned()
    }
}

/// A header version string `[E:]V[-R]` split as createrepo_c does (epoch 0 when absent).
fn evr(s: &str) -> (Option<String>, Option<String>, Option<String>) {
    if s.is_empty() {
        return (None, None, None);
    }
    let (e, rest) = match s.split_once(':') {
        Some((e, rest)) => (e.to_owned(), rest),
        None => ("0".to_owned(), s),
    };
    let (v, r) = match rest.split_once('-') {
        Some((v, r)) => (v.to_owned(), (!r.is_empty()).then(|| r.to_owned())),
        None => (rest.to_owned(), None),
    };
    (Some(e), Some(v), r)
}

fn deps(rpm: &Path, tag: &str, requires: bool) -> Result<Vec<RpmDep>> {
    rows(
        rpm,
        &[
            &format!("{tag}NAME"),
            &format!("{tag}FLAGS"),
            &format!("{tag}VERSION"),
        ],
    )?
    .into_iter()
    .map(|f| {
        let flags: u64 = f[1].parse().context("dependency flags")?;
        let (epoch, version, release) = evr(&f[2]);
        let op = match flags & 0xe {
            0 => None,
            2 => Some("LT"),
            4 => Some("GT"),
            8 => Some("EQ"),
            10 => Some("LE"),
            12 => Some("GE"),
            x => bail!("odd sense flags {x}"),
        };
        Ok(RpmDep {
            name: f[0].clone(),
            flags: op.map(str::to_owned),
            epoch,
            version,
            release,
            // RPMSENSE_PREREQ | RPMSENSE_SCRIPT_PRE | RPMSENSE_SCRIPT_POST
            pre: requires && flags & (64 | 512 | 1024) != 0,
        })
    })
    .collect()
}

/// Where the main header starts and ends: after the 96-byte lead and the 8-aligned
/// signature header.
fn header_range(bytes: &[u8]) -> Result<(u64, u64)> {
    let section = |at: usize| -> Result<usize> {
        ensure!(
            bytes.len() >= at + 16,
            "file too short for a header at {at}"
        );
        ensure!(
            bytes[at..at + 3] == [0x8e, 0xad, 0xe8],
            "no header magic at {at}"
        );
        let n = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
        Ok(16 + n(at + 8) * 16 + n(at + 12))
    };
    let sig = section(96)?;
    let start = 96 + sig.div_ceil(8) * 8;
    let end = start + section(start)?;
    Ok((start as u64, end as u64))
}

/// Build the record of the RPM file at `path`, located at `location` in its repository.
pub fn record(path: &Path, location: &str) -> Result<RpmRecord> {
    let scalar_tags = [
        "NAME",
        "EPOCHNUM",
        "VERSION",
        "RELEASE",
        "ARCH",
        "SUMMARY",
        "DESCRIPTION",
        "PACKAGER",
        "URL",
        "BUILDTIME",
        "LONGSIZE",
        "LONGARCHIVESIZE",
        "LICENSE",
        "VENDOR",
        "GROUP",
        "BUILDHOST",
        "SOURCERPM",
    ];
    let fmt: Vec<String> = scalar_tags.iter().map(|t| format!("%{{{t}}}")).collect();
    let s = query(path, &fmt.join(&FS.to_string()))?;
    let v: Vec<&str> = s.split(FS).collect();
    ensure!(v.len() == scalar_tags.len(), "scalar query gave {v:?}");

    let bytes = fs_err::read(path)?;
    let (header_start, header_end) = header_range(&bytes)?;
    let sum = Command::new("sha256sum").arg(path).output()?;
    let checksum = String::from_utf8(sum.stdout)?
        .split_whitespace()
        .next()
        .context("sha256sum output")?
        .to_owned();
    let mtime = fs_err::metadata(path)?
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();

    let files = rows(path, &["FILENAMES", "FILEFLAGS", "FILEMODES"])?
        .into_iter()
        .map(|f| -> Result<RpmFile> {
            let flags: u64 = f[1].parse()?;
            let mode: u64 = f[2].parse()?;
            let kind = if mode & 0o170000 == 0o040000 {
                RpmFileKind::Dir
            } else if flags & 64 != 0 {
                RpmFileKind::Ghost
            } else {
                RpmFileKind::File
            };
            Ok(RpmFile {
                path: f[0].clone(),
                kind,
            })
        })
        .collect::<Result<_>>()?;
    let changelogs = rows(path, &["CHANGELOGTIME", "CHANGELOGNAME", "CHANGELOGTEXT"])?
        .into_iter()
        .map(|f| -> Result<RpmChangelog> {
            Ok(RpmChangelog {
                date: f[0].parse()?,
                author: f[1].clone(),
                text: f[2].clone(),
            })
        })
        .collect::<Result<_>>()?;

    Ok(RpmRecord {
        name: v[0].to_owned(),
        epoch: v[1].parse()?,
        version: v[2].to_owned(),
        release: v[3].to_owned(),
        arch: v[4].to_owned(),
        checksum,
        checksum_type: "sha256".to_owned(),
        summary: none_empty(v[5]),
        description: none_empty(v[6]),
        packager: none_empty(v[7]),
        url: none_empty(v[8]),
        time_file: mtime,
        time_build: v[9].parse()?,
        size_package: bytes.len() as u64,
        size_installed: v[10].parse()?,
        size_archive: v[11].parse()?,
        location: location.to_owned(),
        license: none_empty(v[12]),
        vendor: none_empty(v[13]),
        group: none_empty(v[14]),
        buildhost: none_empty(v[15]),
        sourcerpm: none_empty(v[16]),
        header_start,
        header_end,
        provides: deps(path, "PROVIDE", false)?,
        requires: deps(path, "REQUIRE", true)?,
        conflicts: deps(path, "CONFLICT", false)?,
        obsoletes: deps(path, "OBSOLETE", false)?,
        recommends: deps(path, "RECOMMEND", false)?,
        suggests: deps(path, "SUGGEST", false)?,
        supplements: deps(path, "SUPPLEMENT", false)?,
        enhances: deps(path, "ENHANCE", false)?,
        files,
        changelogs,
    })
}
