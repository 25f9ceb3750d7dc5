//! The base root of every build root, and what it offers to BuildRequires resolution.
//!
//! The base (the host's `/`, or an image root cairn built) is scanned once: its installed
//! packages with versions, the sonames of its libraries, its pkg-config modules and the
//! programs in `/usr/bin`, `/bin`, `/usr/sbin`, `/sbin`. All of that becomes one virtual
//! package, `cairn-build-root`, in an in-memory repository: BuildRequires it satisfies
//! are not installed again, and packages installed on top of the base find their own
//! dependencies in it. Its identity (a digest of that scan, or the image's identity) is
//! part of every build's cache key and lock pins.

use crate::PkgBuildError;
use cairn_deps::{Atom, Constraint, Dep, Flavor, Op};
use cairn_package::{Checksum, ChecksumAlgo, Package, RepoId, RepoPackages, Version};
use cairn_rpmbuild::{BaseCaps, RootLayout};
use cairn_version::Evr;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Name of the virtual package (and of its repository).
pub const BUILD_ROOT_PACKAGE: &str = "cairn-build-root";

/// Directories whose programs count as provided paths (file BuildRequires).
const BIN_DIRS: [&str; 4] = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

/// The base root builds start from.
#[derive(Debug, Clone)]
pub struct Base {
    pub layout: RootLayout,
    /// `host:sha256:<hex>` or `image:<identity>`.
    pub identity: String,
    /// Its installed packages are Debian packages (versions converted for RPM matching).
    pub deb: bool,
    pub caps: BaseCaps,
    /// Programs in the bin directories, as absolute paths.
    pub programs: Vec<String>,
    /// What rpm's ELF dependency generator says the base's shared libraries provide
    /// beyond their sonames: symbol versions (`libc.so.6(GLIBC_2.34)(64bit)`), and
    /// `rtld(GNU_HASH)` when there is a dynamic loader. Packages built on a Debian base
    /// require these.
    pub library_provides: Vec<String>,
    /// The rpm architecture builds target.
    pub arch: String,
}

impl Base {
    /// The host's `/` as the base: fast, and not hermetic (its toolchain is whatever the
    /// machine has). Its identity is a digest of what it offers.
    pub fn host(arch: &str) -> Result<Base, PkgBuildError> {
        Base::scan(Path::new("/"), None, arch)
    }

    /// A root directory cairn built (an image's `rootfs`), known by its image identity.
    pub fn image_root(root: &Path, identity: &str, arch: &str) -> Result<Base, PkgBuildError> {
        Base::scan(root, Some(format!("image:{identity}")), arch)
    }

    fn scan(root: &Path, identity: Option<String>, arch: &str) -> Result<Base, PkgBuildError> {
        let caps =
            cairn_rpmbuild::base_capabilities(root, arch).map_err(|e| PkgBuildError::Base {
                path: root.to_owned(),
                message: e.to_string(),
            })?;
        let deb = cairn_rpmbuild::base_has_path(root, "/var/lib/dpkg/status");
        let foreign = deb || !rpmdb_has_packages(root);
        let programs = programs(root);
        let library_provides = library_provides(root, &caps.sonames);
        let identity = identity.unwrap_or_else(|| {
            let mut h = Sha256::new();
            for (n, v) in &caps.packages {
                h.update(format!("p {n} {v}\n"));
            }
            for s in &caps.sonames {
                h.update(format!("s {s}\n"));
            }
            for (n, v) in &caps.pkgconfig {
                h.update(format!("c {n} {}\n", v.as_deref().unwrap_or("")));
            }
            for p in &programs {
                h.update(format!("f {p}\n"));
            }
            for p in &library_provides {
                h.update(format!("l {p}\n"));
            }
            format!("host:sha256:{}", hex::encode(h.finalize()))
        });
        Ok(Base {
            layout: RootLayout {
                base: root.to_owned(),
                foreign,
            },
            identity,
            deb,
            caps,
            programs,
            library_provides,
            arch: arch.to_owned(),
        })
    }

    /// The virtual package standing for everything the base offers.
    pub fn virtual_package(&self) -> Package {
        let mut p = Package::bare(
            BUILD_ROOT_PACKAGE,
            Version::Rpm(Evr::new(0, "1", Some("1".into()))),
            self.arch.clone(),
        );
        let mut provides = Vec::new();
        for (name, version) in &self.caps.packages {
            provides.push(Dep::Atom(atom(name, rpm_version(version, self.deb))));
        }
        let sonames: BTreeSet<&String> = self
            .caps
            .sonames
            .iter()
            .chain(&self.library_provides)
            .collect();
        for s in sonames {
            provides.push(Dep::Atom(Atom::name(s.clone())));
        }
        for (name, version) in &self.caps.pkgconfig {
            let evr = version.as_deref().and_then(|v| rpm_version(v, false));
            provides.push(Dep::Atom(atom(&format!("pkgconfig({name})"), evr)));
        }
        p.provides = provides;
        p.files = self.programs.clone();
        p.summary = Some(format!("what the build root base {} offers", self.identity));
        p
    }

    /// The in-memory repository holding [`Base::virtual_package`].
    pub fn virtual_repo(&self) -> RepoPackages {
        let digest = Sha256::digest(self.identity.as_bytes());
        RepoPackages {
            repo: RepoId(BUILD_ROOT_PACKAGE.into()),
            priority: 99,
            revision: Checksum::new(ChecksumAlgo::Sha256, hex::encode(digest)),
            base_urls: Vec::new(),
            packages: vec![self.virtual_package()],
        }
    }

    /// A matcher answering whether the base alone satisfies a dependency.
    pub fn matcher(&self) -> BaseMatcher {
        let pkg = self.virtual_package();
        let mut provides: HashMap<String, Vec<Atom>> = HashMap::new();
        for d in &pkg.provides {
            if let Dep::Atom(a) = d {
                provides.entry(a.name.clone()).or_default().push(a.clone());
            }
        }
        provides
            .entry(pkg.name.clone())
            .or_default()
            .push(Atom::name(pkg.name.clone()));
        BaseMatcher {
            provides,
            files: pkg.files.into_iter().collect(),
        }
    }
}

/// Answers "does the base satisfy this dependency" (see [`Base::matcher`]).
#[derive(Debug, Clone)]
pub struct BaseMatcher {
    provides: HashMap<String, Vec<Atom>>,
    files: BTreeSet<String>,
}

impl BaseMatcher {
    /// Whether the base satisfies `dep` (an rpmspec BuildRequires line). A line that does
    /// not parse is not satisfied (the solver then reports it).
    pub fn satisfies(&self, dep: &str) -> bool {
        let Ok(d) = cairn_deps::parse_rpm_dep(dep.trim()) else {
            return false;
        };
        d.eval(&mut |a: &Atom| {
            if a.is_file() {
                return self.files.contains(&a.name);
            }
            self.provides.get(&a.name).is_some_and(|ps| {
                ps.iter()
                    .any(|p| cairn_deps::provide_matches(Flavor::Rpm, p, a))
            })
        })
    }
}

fn atom(name: &str, evr: Option<Evr>) -> Atom {
    Atom {
        name: name.to_owned(),
        constraint: evr.map(|e| {
            Box::new(Constraint {
                op: Op::Eq,
                version: Version::Rpm(e),
            })
        }),
        arch: None,
    }
}

/// A package version as an RPM EVR. Debian versions lose their epoch (Debian and Fedora
/// epochs do not correspond) and keep the revision as the release.
pub(crate) fn rpm_version(v: &str, deb: bool) -> Option<Evr> {
    let v = v.trim();
    let v = if deb {
        v.split_once(':').map_or(v, |(_, rest)| rest)
    } else {
        v
    };
    if v.is_empty() {
        return None;
    }
    Evr::parse(v).ok()
}

/// The provides rpm's ELF dependency generator (`/usr/lib/rpm/elfdeps -P`, the host's)
/// reports for the shared libraries in the base's library directories (`/lib`,
/// `/usr/lib`, `/lib64`, `/usr/lib64` and their `*-linux-gnu*` multiarch directories,
/// not recursive), minus the plain sonames; plus `rtld(GNU_HASH)` when the base has an
/// `ld-linux` loader. Empty when the host has no elfdeps.
fn library_provides(root: &Path, sonames: &[String]) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for d in ["/lib", "/usr/lib", "/lib64", "/usr/lib64"] {
        if let Some(real) = dir_in(root, d) {
            if let Ok(rd) = fs_err::read_dir(&real) {
                for e in rd.filter_map(Result::ok) {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if n.contains("-linux-gnu") && e.path().is_dir() {
                        dirs.push(e.path());
                    }
                }
            }
            dirs.push(real);
        }
    }
    let mut seen = BTreeSet::new();
    let mut files = String::new();
    for d in dirs {
        let Ok(canon) = fs_err::canonicalize(&d) else {
            continue;
        };
        if !seen.insert(canon.clone()) {
            continue;
        }
        let Ok(rd) = fs_err::read_dir(&canon) else {
            continue;
        };
        let mut names: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(".so"))
            })
            .collect();
        names.sort();
        for n in names {
            let s = n.to_string_lossy();
            if !s.contains('\n') {
                files.push_str(&s);
                files.push('\n');
            }
        }
    }
    let mut out = BTreeSet::new();
    if sonames.iter().any(|s| s.starts_with("ld-linux")) {
        out.insert("rtld(GNU_HASH)".to_owned());
    }
    let run = || -> Option<String> {
        use std::io::Write as _;
        let mut child = Command::new("/usr/lib/rpm/elfdeps")
            .arg("-P")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut stdin = child.stdin.take()?;
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(files.as_bytes());
        });
        let out = child.wait_with_output().ok()?;
        let _ = feeder.join();
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let plain: BTreeSet<&str> = sonames.iter().map(String::as_str).collect();
    for line in run().unwrap_or_default().lines() {
        let l = line.trim();
        if !l.is_empty() && !plain.contains(l) {
            out.insert(l.to_owned());
        }
    }
    out.into_iter().collect()
}

/// Whether `root` has an rpm database with packages in it (at `/usr/lib/sysimage/rpm`).
fn rpmdb_has_packages(root: &Path) -> bool {
    if !cairn_rpmbuild::base_has_path(root, "/usr/lib/sysimage/rpm") {
        return false;
    }
    Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args([
            "--dbpath",
            "/usr/lib/sysimage/rpm",
            "-qa",
            "--qf",
            "%{NAME}\\n",
        ])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| !l.trim().is_empty() && l.trim() != "gpg-pubkey")
        })
        .unwrap_or(false)
}

/// The programs (files and symlinks) in the base's bin directories, as absolute paths
/// under each directory's own name (so `/bin/sh` counts on a merged-`/usr` root too).
fn programs(root: &Path) -> Vec<String> {
    let mut out = BTreeSet::new();
    for dir in BIN_DIRS {
        let Some(real) = dir_in(root, dir) else {
            continue;
        };
        let Ok(rd) = fs_err::read_dir(&real) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let name = e.file_name().to_string_lossy().into_owned();
            if !is_dir && !name.contains(char::is_whitespace) {
                out.insert(format!("{dir}/{name}"));
            }
        }
    }
    out.into_iter().collect()
}

/// Where a directory of the base really is on the host (one level of symlink, relative
/// or absolute, resolved inside the base).
fn dir_in(root: &Path, dir: &str) -> Option<PathBuf> {
    let rel = dir.trim_start_matches('/');
    let p = root.join(rel);
    let meta = fs_err::symlink_metadata(&p).ok()?;
    if meta.file_type().is_symlink() {
        let target = fs_err::read_link(&p).ok()?;
        let resolved = if target.is_absolute() {
            root.join(target.strip_prefix("/").ok()?)
        } else {
            p.parent()?.join(target)
        };
        return resolved.is_dir().then_some(resolved);
    }
    meta.is_dir().then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Base {
        Base {
            layout: RootLayout {
                base: "/nonexistent".into(),
                foreign: true,
            },
            identity: "host:sha256:00".into(),
            deb: true,
            caps: BaseCaps {
                packages: vec![
                    ("gcc".into(), "4:12.2.0-3".into()),
                    ("make".into(), "4.3-4.1".into()),
                    ("zlib1g-dev".into(), "1:1.2.13.dfsg-1".into()),
                ],
                sonames: vec!["libz.so.1()(64bit)".into()],
                pkgconfig: vec![("zlib".into(), Some("1.2.13".into())), ("odd".into(), None)],
                files_count: 3,
            },
            programs: vec!["/bin/sh".into(), "/usr/bin/gcc".into()],
            library_provides: vec!["libz.so.1(ZLIB_1.2.9)(64bit)".into()],
            arch: "x86_64".into(),
        }
    }

    #[test]
    fn debian_versions_lose_the_epoch() {
        let e = rpm_version("4:12.2.0-3", true).unwrap();
        assert_eq!(
            (e.epoch, e.version.as_str(), e.release.as_deref()),
            (0, "12.2.0", Some("3"))
        );
        let e = rpm_version("2:1.0-1", false).unwrap();
        assert_eq!(e.epoch, 2);
        assert!(rpm_version("", true).is_none());
    }

    #[test]
    fn the_base_satisfies_names_versions_sonames_pkgconfig_and_programs() {
        let m = base().matcher();
        for yes in [
            "gcc",
            "gcc >= 12",
            "gcc < 13",
            "make",
            "libz.so.1()(64bit)",
            "libz.so.1(ZLIB_1.2.9)(64bit)",
            "pkgconfig(zlib) >= 1.2",
            "pkgconfig(odd)",
            "/usr/bin/gcc",
            "/bin/sh",
            "(gcc or clang)",
            "cairn-build-root",
        ] {
            assert!(m.satisfies(yes), "{yes}");
        }
        for no in [
            "gcc >= 13",
            "glibc-devel",
            "pkgconfig(zlib) >= 2",
            "/usr/bin/perl",
            "(gcc and clang)",
            "not a ( dep",
        ] {
            assert!(!m.satisfies(no), "{no}");
        }
    }

    #[test]
    fn the_virtual_package_carries_everything() {
        let b = base();
        let r = b.virtual_repo();
        assert_eq!(r.packages.len(), 1);
        let p = &r.packages[0];
        assert_eq!(p.name, BUILD_ROOT_PACKAGE);
        assert_eq!(p.provides.len(), 3 + 2 + 2);
        assert_eq!(p.files, vec!["/bin/sh", "/usr/bin/gcc"]);
    }

    #[test]
    fn the_hosts_libraries_provide_symbol_versions() {
        let b = Base::host("x86_64").unwrap();
        let m = b.matcher();
        assert!(m.satisfies("libc.so.6()(64bit)"));
        assert!(m.satisfies("libc.so.6(GLIBC_2.34)(64bit)"));
        assert!(m.satisfies("rtld(GNU_HASH)"));
        assert!(m.satisfies("/bin/sh"));
        assert!(m.satisfies("gcc") && m.satisfies("make"));
        assert!(b.layout.foreign && b.deb);
        assert!(b.identity.starts_with("host:sha256:"));
        assert_eq!(b.identity, Base::host("x86_64").unwrap().identity);
    }

    #[test]
    fn programs_follow_merged_usr_links_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs_err::create_dir_all(r.join("usr/bin/subdir")).unwrap();
        fs_err::write(r.join("usr/bin/gcc"), "").unwrap();
        std::os::unix::fs::symlink("usr/bin", r.join("bin")).unwrap();
        // an absolute link points into the root, never at the host
        std::os::unix::fs::symlink("/usr/bin", r.join("sbin")).unwrap();
        assert_eq!(programs(r), vec!["/bin/gcc", "/sbin/gcc", "/usr/bin/gcc"]);
    }
}
