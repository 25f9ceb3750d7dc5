//! `cairn.lock`: what `cairn lock` pins and a build later downloads.
//!
//! The lock is TOML with a `version`, one table per repository the packages come from
//! (URLs and the metadata revision seen) and one table per image (a fingerprint of the
//! inputs it was resolved from, and its packages). Packages are written one per line,
//! sorted, so a diff of the lock reads like a changelog.
//!
//! Pure: [`Lockfile::to_toml`] and [`Lockfile::parse`] work on strings; writing the file
//! atomically is the caller's job. Older versions are migrated forward on parse.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The version this crate writes.
pub const LOCK_VERSION: u32 = 1;

/// The lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    pub version: u32,
    #[serde(default)]
    pub repos: BTreeMap<String, LockedRepo>,
    #[serde(default)]
    pub images: BTreeMap<String, LockedImage>,
}

/// A repository packages were resolved from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedRepo {
    /// The project source it belongs to.
    pub source: String,
    /// `rpm-md` or `apt`.
    pub kind: String,
    /// Base URLs (mirrors) package locations are relative to.
    pub urls: Vec<String>,
    /// Digest of the repository's top-level metadata (`repomd.xml` or `InRelease`) when
    /// the lock was written.
    pub revision: String,
}

/// One image's resolved package set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    /// Fingerprint (`sha256:…`) of the image and source definitions it was resolved from.
    pub inputs: String,
    /// Target architecture.
    pub arch: String,
    pub packages: Vec<LockedPackage>,
}

/// One pinned package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    pub name: String,
    /// Version as the flavour prints it (`1:2.3-4.fc41`, `2.36-9+deb12u4`).
    pub evr: String,
    pub arch: String,
    /// Key into [`Lockfile::repos`].
    pub repo: String,
    /// Path of the package file relative to the repository URL.
    pub location: String,
    /// `algo:hex` of the package file.
    pub checksum: String,
    /// Size of the package file in bytes.
    pub size: u64,
}

/// Errors reading a lock file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    #[error("{file}: not a valid lock file: {message}")]
    Syntax { file: String, message: String },
    #[error(
        "{file}: lock version {found} is newer than this cairn understands ({LOCK_VERSION}); upgrade cairn"
    )]
    TooNew { file: String, found: u32 },
    #[error("{file}: lock version {found} is not supported (known: 1..={LOCK_VERSION})")]
    Unsupported { file: String, found: u32 },
    #[error(
        "{file}: image `{image}` package {package} refers to repository `{repo}`, which the lock does not list"
    )]
    DanglingRepo {
        file: String,
        image: String,
        package: String,
        repo: String,
    },
}

impl Default for Lockfile {
    fn default() -> Self {
        Lockfile {
            version: LOCK_VERSION,
            repos: BTreeMap::new(),
            images: BTreeMap::new(),
        }
    }
}

impl Lockfile {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse a lock file's text, migrating older versions forward.
    pub fn parse(text: &str, file: &str) -> Result<Lockfile, LockError> {
        let syntax = |e: toml::de::Error| {
            let mut m = e.message().trim().to_owned();
            if let Some(span) = e.span() {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                m = format!("line {line}: {m}");
            }
            LockError::Syntax {
                file: file.to_owned(),
                message: m,
            }
        };
        let table: toml::Table = toml::from_str(text).map_err(syntax)?;
        let found = match table.get("version") {
            Some(toml::Value::Integer(v)) => u32::try_from(*v).unwrap_or(u32::MAX),
            Some(_) => {
                return Err(LockError::Syntax {
                    file: file.to_owned(),
                    message: "`version` must be an integer".into(),
                });
            }
            None => {
                return Err(LockError::Syntax {
                    file: file.to_owned(),
                    message: "missing `version`".into(),
                });
            }
        };
        if found > LOCK_VERSION {
            return Err(LockError::TooNew {
                file: file.to_owned(),
                found,
            });
        }
        // Migrations from older versions go here, each `vN -> vN+1` on the table.
        if found != LOCK_VERSION {
            return Err(LockError::Unsupported {
                file: file.to_owned(),
                found,
            });
        }
        let lock: Lockfile = toml::from_str(text).map_err(syntax)?;
        lock.check(file)?;
        Ok(lock)
    }

    fn check(&self, file: &str) -> Result<(), LockError> {
        for (iname, img) in &self.images {
            for p in &img.packages {
                if !self.repos.contains_key(&p.repo) {
                    return Err(LockError::DanglingRepo {
                        file: file.to_owned(),
                        image: iname.clone(),
                        package: format!("{}-{}.{}", p.name, p.evr, p.arch),
                        repo: p.repo.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Sort everything into the canonical order (packages by name, arch, evr).
    pub fn normalize(&mut self) {
        self.version = LOCK_VERSION;
        for img in self.images.values_mut() {
            img.packages.sort_by(|a, b| {
                (&a.name, &a.arch, &a.evr, &a.repo).cmp(&(&b.name, &b.arch, &b.evr, &b.repo))
            });
            img.packages.dedup();
        }
    }

    /// Drop repositories no image refers to.
    pub fn prune_repos(&mut self) {
        let used: std::collections::BTreeSet<&String> = self
            .images
            .values()
            .flat_map(|i| i.packages.iter().map(|p| &p.repo))
            .collect();
        let used: std::collections::BTreeSet<String> = used.into_iter().cloned().collect();
        self.repos.retain(|k, _| used.contains(k));
    }

    /// The canonical text: stable key order, one package per line.
    pub fn to_toml(&self) -> String {
        let mut me = self.clone();
        me.normalize();
        let mut out = String::new();
        out.push_str("# cairn.lock: written by `cairn lock`. Do not edit by hand.\n");
        let _ = writeln!(out, "version = {}", me.version);
        for (id, r) in &me.repos {
            let _ = writeln!(out, "\n[repos.{}]", key(id));
            let _ = writeln!(out, "source = {}", s(&r.source));
            let _ = writeln!(out, "kind = {}", s(&r.kind));
            let _ = writeln!(
                out,
                "urls = [{}]",
                r.urls.iter().map(|u| s(u)).collect::<Vec<_>>().join(", ")
            );
            let _ = writeln!(out, "revision = {}", s(&r.revision));
        }
        for (name, img) in &me.images {
            let _ = writeln!(out, "\n[images.{}]", key(name));
            let _ = writeln!(out, "inputs = {}", s(&img.inputs));
            let _ = writeln!(out, "arch = {}", s(&img.arch));
            out.push_str("packages = [\n");
            for p in &img.packages {
                let _ = writeln!(
                    out,
                    "  {{ name = {}, evr = {}, arch = {}, repo = {}, location = {}, checksum = {}, size = {} }},",
                    s(&p.name),
                    s(&p.evr),
                    s(&p.arch),
                    s(&p.repo),
                    s(&p.location),
                    s(&p.checksum),
                    p.size
                );
            }
            out.push_str("]\n");
        }
        out
    }
}

/// A TOML basic string.
fn s(v: &str) -> String {
    toml::Value::String(v.to_owned()).to_string()
}

/// A TOML key: bare when possible.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_owned()
    } else {
        s(k)
    }
}

/// Differences between two package lists, for `lock --check` and for humans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageDiff {
    pub added: Vec<LockedPackage>,
    pub removed: Vec<LockedPackage>,
    /// (old, new) pairs for the same name and arch.
    pub changed: Vec<(LockedPackage, LockedPackage)>,
}

impl PackageDiff {
    pub fn between(old: &[LockedPackage], new: &[LockedPackage]) -> Self {
        let key = |p: &LockedPackage| (p.name.clone(), p.arch.clone());
        let mut o: BTreeMap<_, Vec<&LockedPackage>> = BTreeMap::new();
        for p in old {
            o.entry(key(p)).or_default().push(p);
        }
        let mut n: BTreeMap<_, Vec<&LockedPackage>> = BTreeMap::new();
        for p in new {
            n.entry(key(p)).or_default().push(p);
        }
        let mut d = PackageDiff::default();
        for (k, ov) in &o {
            match n.get(k) {
                None => d.removed.extend(ov.iter().map(|p| (*p).clone())),
                Some(nv) if ov.len() == 1 && nv.len() == 1 => {
                    if ov[0] != nv[0] {
                        d.changed.push((ov[0].clone(), nv[0].clone()));
                    }
                }
                Some(nv) => {
                    d.removed
                        .extend(ov.iter().filter(|p| !nv.contains(p)).map(|p| (*p).clone()));
                    d.added
                        .extend(nv.iter().filter(|p| !ov.contains(p)).map(|p| (*p).clone()));
                }
            }
        }
        for (k, nv) in &n {
            if !o.contains_key(k) {
                d.added.extend(nv.iter().map(|p| (*p).clone()));
            }
        }
        d
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// Human lines: `+ name evr arch`, `- ...`, `~ name old -> new`.
    pub fn lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        for p in &self.removed {
            v.push(format!("- {} {} {}", p.name, p.evr, p.arch));
        }
        for p in &self.added {
            v.push(format!("+ {} {} {}", p.name, p.evr, p.arch));
        }
        for (a, b) in &self.changed {
            if a.evr == b.evr {
                v.push(format!(
                    "~ {} {} {} (repository, location or checksum changed)",
                    a.name, a.evr, a.arch
                ));
            } else {
                v.push(format!("~ {} {} -> {} {}", a.name, a.evr, b.evr, a.arch));
            }
        }
        v
    }
}
