//! What a root has installed, read from its package database.

use crate::run;
use crate::{Format, InstallError};
use std::ffi::OsStr;
use std::path::Path;

/// One installed package, as the root's package database records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InstalledPackage {
    pub name: String,
    pub arch: String,
    /// dpkg's version, or RPM `[epoch:]version-release` (no `0:` epoch).
    pub version: String,
    /// RPM: `%{LICENSE}`. Debian: the `License:` short names of the `Files:` paragraphs
    /// of a machine-readable `/usr/share/doc/<name>/copyright`, in file order, each once,
    /// joined with ` AND ` (an alternative like `GPL-1+ or Artistic` in parentheses);
    /// `None` when the file is missing or not machine-readable.
    pub license: Option<String>,
    /// The source package: RPM `%{SOURCERPM}`'s name, Debian `Source:` (or the name).
    pub source: String,
    /// Installed size in bytes (dpkg records KiB: multiplied by 1024).
    pub installed_size: u64,
}

/// The packages installed in `root`, sorted by name and architecture. Debian: dpkg's
/// database in `root/var/lib/dpkg`, packages in state `ii` only. RPM: the database in
/// `root/usr/lib/sysimage/rpm` (without `gpg-pubkey` entries). Does not need root.
pub fn installed(format: Format, root: &Path) -> Result<Vec<InstalledPackage>, InstallError> {
    let mut out: Vec<InstalledPackage> = match format {
        Format::Deb => dpkg_entries(root)?
            .into_iter()
            .filter(|e| e.status == "ii")
            .map(|e| e.package)
            .collect(),
        Format::Rpm => rpm_entries(root)?,
    };
    out.sort();
    Ok(out)
}

/// A dpkg database entry with its abbreviated status (`ii`, `iU`, `rc`…).
#[derive(Debug)]
pub(crate) struct DpkgEntry {
    pub status: String,
    pub package: InstalledPackage,
}

pub(crate) fn dpkg_entries(root: &Path) -> Result<Vec<DpkgEntry>, InstallError> {
    let admindir = root.join("var/lib/dpkg");
    let out = run::host_output(
        "dpkg-query",
        &[
            OsStr::new("--admindir"),
            admindir.as_os_str(),
            OsStr::new("--show"),
            OsStr::new(
                "--showformat=${db:Status-Abbrev}\t${Package}\t${Architecture}\t${Version}\t${source:Package}\t${Installed-Size}\n",
            ),
        ],
    )?;
    let text = String::from_utf8_lossy(&out);
    let mut entries = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [status, name, arch, version, source, size] = f[..] else {
            return Err(InstallError::Io(std::io::Error::other(format!(
                "dpkg-query --admindir {}: unexpected line {line:?}",
                admindir.display()
            ))));
        };
        let source = if source.is_empty() { name } else { source };
        entries.push(DpkgEntry {
            status: status.trim().to_owned(),
            package: InstalledPackage {
                name: name.to_owned(),
                arch: arch.to_owned(),
                version: version.to_owned(),
                license: deb_license(root, name)?,
                source: source.to_owned(),
                installed_size: size.trim().parse::<u64>().unwrap_or(0) * 1024,
            },
        });
    }
    Ok(entries)
}

/// The license of a Debian package from its machine-readable copyright file.
fn deb_license(root: &Path, name: &str) -> Result<Option<String>, InstallError> {
    let docs = root.join("usr/share/doc");
    let mut dir = docs.join(name);
    // /usr/share/doc/<pkg> may be a symlink to another package's directory
    if let Ok(target) = fs_err::read_link(&dir) {
        dir = if target.is_absolute() {
            root.join(target.strip_prefix("/").unwrap_or(&target))
        } else {
            docs.join(target)
        };
    }
    let file = dir.join("copyright");
    match fs_err::symlink_metadata(&file) {
        Ok(m) if m.is_file() => {}
        _ => return Ok(None),
    }
    let bytes = fs_err::read(&file)?;
    Ok(license_from_copyright(
        &String::from_utf8_lossy(&bytes),
        &file,
    ))
}

/// The `License:` short names of a machine-readable (copyright-format 1.0) file.
pub(crate) fn license_from_copyright(text: &str, origin: &Path) -> Option<String> {
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    let (field, value) = first.split_once(':')?;
    if !field.trim().eq_ignore_ascii_case("Format")
        || !(value.contains("copyright-format") || value.contains("dep5"))
    {
        return None;
    }
    let paras = cairn_deb822::parse_paragraphs(text, &origin.display().to_string()).ok()?;
    let mut names: Vec<String> = Vec::new();
    for p in paras.iter().filter(|p| p.get("Files").is_some()) {
        let Some(lic) = p.get("License") else {
            continue;
        };
        let short = lic.lines().next().unwrap_or("").trim();
        if short.is_empty() {
            continue;
        }
        let lower = short.to_ascii_lowercase();
        let short = if lower.contains(" or ") || lower.contains(" and ") || short.contains(',') {
            format!("({short})")
        } else {
            short.to_owned()
        };
        if !names.contains(&short) {
            names.push(short);
        }
    }
    (!names.is_empty()).then(|| names.join(" AND "))
}

/// rpm's arguments to use `root` and its database under `/usr/lib/sysimage/rpm` (Debian's
/// rpm defaults `%_dbpath` to `~/.rpmdb`).
pub(crate) fn rpm_root_args(root: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "--root".into(),
        root.as_os_str().to_owned(),
        "--dbpath".into(),
        crate::rpm::DBPATH.into(),
        "--define".into(),
        format!("_dbpath {}", crate::rpm::DBPATH).into(),
    ]
}

pub(crate) fn rpm_entries(root: &Path) -> Result<Vec<InstalledPackage>, InstallError> {
    let dbdir = root.join(crate::rpm::DBPATH.trim_start_matches('/'));
    if !dbdir.is_dir() {
        return Err(InstallError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{}: no rpm database here", dbdir.display()),
        )));
    }
    let mut args = rpm_root_args(root);
    args.extend(
        [
            "--query",
            "--all",
            "--queryformat",
            "%{NAME}\\t%{ARCH}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{LICENSE}\\t%{SOURCERPM}\\t%{SIZE}\\n",
        ]
        .map(Into::into),
    );
    let argrefs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    // a query leaves sqlite's -shm and an empty -wal behind; a query must not change
    // the root, so remove what it created
    let side = [
        dbdir.join("rpmdb.sqlite-shm"),
        dbdir.join("rpmdb.sqlite-wal"),
    ];
    let existed: Vec<bool> = side
        .iter()
        .map(|p| fs_err::symlink_metadata(p).is_ok())
        .collect();
    let out = run::host_output("rpm", &argrefs)?;
    for (p, existed) in side.iter().zip(existed) {
        if !existed
            && fs_err::symlink_metadata(p)
                .is_ok_and(|m| m.is_file() && (m.len() == 0 || p.ends_with("rpmdb.sqlite-shm")))
        {
            fs_err::remove_file(p)?;
        }
    }
    let text = String::from_utf8_lossy(&out);
    let mut pkgs = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, arch, version, license, srpm, size] = f[..] else {
            return Err(InstallError::Io(std::io::Error::other(format!(
                "rpm --root {} -qa: unexpected line {line:?}",
                root.display()
            ))));
        };
        if name == "gpg-pubkey" {
            continue;
        }
        pkgs.push(InstalledPackage {
            name: name.to_owned(),
            arch: arch.to_owned(),
            version: strip_zero_epoch(version).to_owned(),
            license: (!license.is_empty() && license != "(none)").then(|| license.to_owned()),
            source: source_rpm_name(srpm).unwrap_or(name).to_owned(),
            installed_size: size.parse().unwrap_or(0),
        });
    }
    Ok(pkgs)
}

pub(crate) fn strip_zero_epoch(v: &str) -> &str {
    v.strip_prefix("0:").unwrap_or(v)
}

/// `foo-bar-1.2-3.fc41.src.rpm` → `foo-bar`.
pub(crate) fn source_rpm_name(srpm: &str) -> Option<&str> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, _release) = base.rsplit_once('-')?;
    let (name, _version) = rest.rsplit_once('-')?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_readable_copyright_gives_license_short_names() {
        let text = r"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: x

Files: *
Copyright: 2000 A
License: GPL-2+
 This program is free software...
 .
 More text.

Files: lib/*
Copyright: 2001 B
License: GPL-1+ or Artistic

Files: debian/*
License: GPL-2+

License: GPL-2+
 Full text.
";
        assert_eq!(
            license_from_copyright(text, Path::new("c")).as_deref(),
            Some("GPL-2+ AND (GPL-1+ or Artistic)")
        );
    }

    #[test]
    fn free_form_copyright_has_no_license() {
        let text = "This is the Debian prepackaged version of foo.\n\nCopyright: GPL\n";
        assert_eq!(license_from_copyright(text, Path::new("c")), None);
        assert_eq!(license_from_copyright("", Path::new("c")), None);
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(source_rpm_name("glibc-2.39-1.fc40.src.rpm"), Some("glibc"));
        assert_eq!(
            source_rpm_name("python-foo-bar-1.0-1.nosrc.rpm"),
            Some("python-foo-bar")
        );
        assert_eq!(source_rpm_name("(none)"), None);
        assert_eq!(strip_zero_epoch("0:1.0-1"), "1.0-1");
        assert_eq!(strip_zero_epoch("2:1.0-1"), "2:1.0-1");
    }
}
