//! What a foreign base (one whose packages are not in an rpm database, e.g. a Debian
//! root) offers to BuildRequires resolution: its packages, the sonames of its shared
//! libraries, its pkg-config modules, and whether it has a given path. Paths are resolved
//! inside the base: absolute symlinks point into the base, never to the host.

use crate::{BaseCaps, RpmbuildError};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// Resolve `path` (absolute or relative, read as from the base's `/`) inside `base`,
/// following symlinks as the base would see them. `None` if a component is missing or
/// the symlinks loop.
pub(crate) fn resolve_in(base: &Path, path: &str) -> Option<PathBuf> {
    let mut todo: Vec<String> = components(path).into_iter().rev().collect();
    let mut cur: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "." => continue,
            ".." => {
                cur.pop();
                continue;
            }
            _ => {}
        }
        let mut candidate = base.to_path_buf();
        candidate.extend(&cur);
        candidate.push(&c);
        let meta = fs_err::symlink_metadata(&candidate).ok()?;
        if meta.file_type().is_symlink() {
            links += 1;
            if links > 40 {
                return None;
            }
            let target = fs_err::read_link(&candidate).ok()?;
            let target = target.to_string_lossy();
            if target.starts_with('/') {
                cur.clear();
            }
            todo.extend(components(&target).into_iter().rev());
        } else {
            cur.push(c);
        }
    }
    let mut out = base.to_path_buf();
    out.extend(&cur);
    Some(out)
}

fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_owned()),
            _ => None,
        })
        .collect()
}

/// Whether the base has `path` (a file BuildRequires such as `/usr/bin/gcc`), following
/// symlinks inside the base.
pub fn base_has_path(base: &Path, path: &str) -> bool {
    resolve_in(base, path).is_some()
}

/// The ELF machine number and Debian multiarch triplet of an rpm architecture.
fn arch_info(arch: &str) -> (Option<u16>, Option<&'static str>) {
    match arch {
        "x86_64" => (Some(62), Some("x86_64-linux-gnu")),
        "aarch64" => (Some(183), Some("aarch64-linux-gnu")),
        "i386" | "i486" | "i586" | "i686" => (Some(3), Some("i386-linux-gnu")),
        "ppc64le" => (Some(21), Some("powerpc64le-linux-gnu")),
        "s390x" => (Some(22), Some("s390x-linux-gnu")),
        "riscv64" => (Some(243), Some("riscv64-linux-gnu")),
        "armv7hl" | "armv7l" => (Some(40), Some("arm-linux-gnueabihf")),
        _ => (None, None),
    }
}

/// Scan a foreign base for what it offers to BuildRequires resolution on `arch`:
///
/// * `packages`: installed packages with their versions from `/var/lib/dpkg/status`
///   (status `installed`), or, without a dpkg database, from the rpm database at
///   `/usr/lib/sysimage/rpm` (queried with the host's rpm; `EPOCH:VERSION-RELEASE`);
/// * `sonames`: `SONAME()(64bit)` (no suffix for 32-bit objects) for each ELF shared
///   object of `arch`'s machine in `/lib`, `/usr/lib`, `/lib64`, `/usr/lib64` and the
///   multiarch directories (not recursive), read from its `DT_SONAME`, not its file name;
/// * `pkgconfig`: each `*.pc` in the pkg-config directories with its `Version:` (with
///   `${variables}` of the file expanded);
/// * `files_count`: how many distinct paths the package database lists.
pub fn base_capabilities(base: &Path, arch: &str) -> Result<BaseCaps, RpmbuildError> {
    if !base.is_dir() {
        return Err(RpmbuildError::BaseScan {
            path: base.to_owned(),
            message: "the base is not a directory".into(),
        });
    }
    let (machine, triplet) = arch_info(arch);
    let (packages, files_count) = match resolve_in(base, "var/lib/dpkg/status") {
        Some(status) if status.is_file() => dpkg_packages(base, &status)?,
        _ => rpm_packages(base)?,
    };

    let mut lib_dirs = vec![
        "lib".to_owned(),
        "usr/lib".to_owned(),
        "lib64".to_owned(),
        "usr/lib64".to_owned(),
    ];
    let mut pc_dirs = vec![
        "usr/lib/pkgconfig".to_owned(),
        "usr/lib64/pkgconfig".to_owned(),
        "usr/share/pkgconfig".to_owned(),
    ];
    if let Some(t) = triplet {
        lib_dirs.push(format!("lib/{t}"));
        lib_dirs.push(format!("usr/lib/{t}"));
        pc_dirs.push(format!("usr/lib/{t}/pkgconfig"));
    }
    let mut sonames = BTreeSet::new();
    for dir in unique_dirs(base, &lib_dirs) {
        for path in read_dir_sorted(&dir)? {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if !name.is_some_and(|n| n.contains(".so")) {
                continue;
            }
            // symlinks are other names of a file the scan sees anyway (or dangling)
            if !fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            if let Some(so) = crate::elf::read_soname(&path) {
                if machine.is_some_and(|m| m != so.machine) {
                    continue;
                }
                let mark = if so.elf64 { "()(64bit)" } else { "" };
                sonames.insert(format!("{}{mark}", so.soname));
            }
        }
    }
    let mut pkgconfig = BTreeMap::new();
    for dir in unique_dirs(base, &pc_dirs) {
        for path in read_dir_sorted(&dir)? {
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".pc"))
                .map(str::to_owned)
            else {
                continue;
            };
            let Ok(text) = fs_err::read_to_string(&path) else {
                continue;
            };
            pkgconfig.entry(name).or_insert_with(|| pc_version(&text));
        }
    }
    Ok(BaseCaps {
        packages,
        sonames: sonames.into_iter().collect(),
        pkgconfig: pkgconfig.into_iter().collect(),
        files_count,
    })
}

/// The existing directories among `dirs` (resolved in the base), each once.
fn unique_dirs(base: &Path, dirs: &[String]) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    dirs.iter()
        .filter_map(|d| resolve_in(base, d))
        .filter(|p| p.is_dir())
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, RpmbuildError> {
    let mut out: Vec<PathBuf> = fs_err::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    Ok(out)
}

/// A `.pc` file's `Version:`, with `${var}` references to its `var=value` lines expanded.
pub(crate) fn pc_version(text: &str) -> Option<String> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let colon = line.find(':');
        let equals = line.find('=');
        match (colon, equals) {
            // a `Field: value` line (a colon before any `=`)
            (Some(c), e) if e.is_none_or(|e| c < e) && line[..c].trim() == "Version" => {
                let v = expand(line[c + 1..].trim(), &vars);
                return (!v.is_empty()).then_some(v);
            }
            (Some(c), e) if e.is_none_or(|e| c < e) => {}
            (_, Some(e)) => {
                let value = expand(line[e + 1..].trim(), &vars);
                vars.push((line[..e].trim().to_owned(), value));
            }
            _ => {}
        }
    }
    None
}

fn expand(value: &str, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.iter().rev().find(|(n, _)| n == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

type Packages = (Vec<(String, String)>, usize);

fn dpkg_packages(base: &Path, status: &Path) -> Result<Packages, RpmbuildError> {
    let text = fs_err::read_to_string(status)?;
    let origin = status.display().to_string();
    let paragraphs =
        cairn_deb822::parse_paragraphs(&text, &origin).map_err(|e| RpmbuildError::BaseScan {
            path: status.to_owned(),
            message: e.to_string(),
        })?;
    let mut packages = BTreeSet::new();
    for p in &paragraphs {
        let installed = p
            .get("Status")
            .is_some_and(|s| s.split_whitespace().nth(2) == Some("installed"));
        if let (true, Some(name), Some(version)) = (installed, p.get("Package"), p.get("Version")) {
            packages.insert((name.to_owned(), version.to_owned()));
        }
    }
    let mut files = HashSet::new();
    if let Some(info) = resolve_in(base, "var/lib/dpkg/info").filter(|p| p.is_dir()) {
        for list in read_dir_sorted(&info)? {
            if list.extension().is_some_and(|e| e == "list")
                && let Ok(text) = fs_err::read_to_string(&list)
            {
                files.extend(
                    text.lines()
                        .filter(|l| !l.is_empty() && *l != "/.")
                        .map(str::to_owned),
                );
            }
        }
    }
    Ok((packages.into_iter().collect(), files.len()))
}

fn rpm_packages(base: &Path) -> Result<Packages, RpmbuildError> {
    if resolve_in(base, crate::ns::DBPATH).is_none() {
        return Ok((Vec::new(), 0));
    }
    let query = |qf: &str| -> Result<String, RpmbuildError> {
        let out = Command::new("rpm")
            .arg("--root")
            .arg(base)
            .args(["--dbpath", crate::ns::DBPATH, "-qa", "--qf", qf])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C.UTF-8")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| RpmbuildError::ToolMissing {
                tool: "rpm".into(),
                source: e,
            })?;
        if !out.status.success() {
            return Err(RpmbuildError::BaseScan {
                path: base.join(crate::ns::DBPATH.trim_start_matches('/')),
                message: format!(
                    "rpm -qa failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let list = query("%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n")?;
    let packages: BTreeSet<(String, String)> = list
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(n, _)| *n != "gpg-pubkey")
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let files: HashSet<String> = query("[%{FILENAMES}\\n]")?
        .lines()
        .map(str::to_owned)
        .collect();
    Ok((packages.into_iter().collect(), files.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_symlinks_stay_inside_the_base() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path();
        fs_err::create_dir_all(b.join("usr/bin")).unwrap();
        fs_err::write(b.join("usr/bin/gcc-12"), "").unwrap();
        symlink("gcc-12", b.join("usr/bin/gcc")).unwrap();
        symlink("usr/bin", b.join("bin")).unwrap();
        // points at the host's /etc/passwd if followed naively
        symlink("/etc/passwd", b.join("usr/bin/passwd-link")).unwrap();
        symlink("/usr/bin/../bin/gcc", b.join("cc")).unwrap();
        assert!(base_has_path(b, "/usr/bin/gcc"));
        assert!(base_has_path(b, "/bin/gcc"));
        assert!(base_has_path(b, "cc"));
        assert_eq!(resolve_in(b, "/bin/gcc"), Some(b.join("usr/bin/gcc-12")));
        assert!(!base_has_path(b, "/usr/bin/passwd-link"));
        assert!(!base_has_path(b, "/usr/bin/make"));
        symlink("loop", b.join("loop")).unwrap();
        assert!(!base_has_path(b, "/loop"));
    }

    #[test]
    fn pc_versions_expand_variables() {
        let pc = "prefix=/usr\nmajor=1\nversion=${major}.2\n\nName: z\nDescription: x: y\nVersion: ${version}.3\nLibs: -lz\n";
        assert_eq!(pc_version(pc).as_deref(), Some("1.2.3"));
        assert_eq!(pc_version("Name: a\n"), None);
        assert_eq!(pc_version("Version: ${nope}\n").as_deref(), Some("${nope}"));
    }

    #[test]
    fn dpkg_status_keeps_installed_packages_only() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path();
        fs_err::create_dir_all(b.join("var/lib/dpkg/info")).unwrap();
        fs_err::write(
            b.join("var/lib/dpkg/status"),
            "Package: gcc\nStatus: install ok installed\nVersion: 4:12.2.0-3\n\n\
             Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n",
        )
        .unwrap();
        fs_err::write(
            b.join("var/lib/dpkg/info/gcc.list"),
            "/.\n/usr\n/usr/bin/gcc\n",
        )
        .unwrap();
        let caps = base_capabilities(b, "x86_64").unwrap();
        assert_eq!(caps.packages, vec![("gcc".into(), "4:12.2.0-3".into())]);
        assert_eq!(caps.files_count, 2);
        assert!(caps.sonames.is_empty());
    }
}
