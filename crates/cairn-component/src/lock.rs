//! Component locks (`locks/<name>.lock`): the resolved upstream commit and the input
//! fingerprint of one component, plus a manual bump counter, and (written by `cairn comp
//! build`) the packages its build root was resolved to. Versioned TOML, one file per
//! component so a change to one component touches one file in review.
//!
//! Versions: 1 has no `[build-root]` table; 2 adds it. A lock is written with the lowest
//! version that can hold it (see [`ComponentLock::format_version`]), so locks without
//! build-root pins stay byte-identical to what version 1 wrote.

use serde::{Deserialize, Serialize};

/// The newest lock format this version of cairn reads and writes.
pub const LOCK_VERSION: u32 = 2;

/// One component's lock.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComponentLock {
    /// Format version.
    pub version: u32,
    /// Upstream dist-git state (absent for local specs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<UpstreamLock>,
    /// `local:sha256:<hex>` over a local spec's directory (absent for upstream specs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_content: Option<String>,
    /// `v1:sha256:<hex>`; see `fingerprint`.
    pub input_fingerprint: String,
    /// Raised by `cairn comp update --bump` to force a rebuild of unchanged inputs.
    #[serde(default)]
    pub manual_bump: u32,
    /// The packages `cairn comp build` installed into the build root (format version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_root: Option<BuildRootLock>,
}

/// What a component's build root was resolved to: the base it starts from, the
/// BuildRequires that were resolved, and every package installed on top of the base.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildRootLock {
    /// Identity of the base root (`host:sha256:…` or `image:<project>/<image>/<hash>`).
    pub base: String,
    /// The spec's BuildRequires as rpmspec printed them, sorted.
    #[serde(default)]
    pub build_requires: Vec<String>,
    /// Packages installed into the root, sorted by name, evr, arch.
    #[serde(default)]
    pub packages: Vec<PinnedPackage>,
}

/// One package of a build root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedPackage {
    pub name: String,
    pub evr: String,
    pub arch: String,
    /// Repository id (`cairn-local` for packages this project built).
    pub repo: String,
    /// `sha256:<hex>` of the package file.
    pub checksum: String,
}

impl PinnedPackage {
    /// `name-evr.arch`.
    pub fn nevra(&self) -> String {
        format!("{}-{}.{}", self.name, self.evr, self.arch)
    }
}

/// Where an upstream spec came from, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UpstreamLock {
    /// The dist-git repository URL the commit was resolved from.
    pub url: String,
    /// The branch followed (absent when a commit is pinned in the configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Full 40-digit commit id.
    pub commit: String,
}

/// A lock that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    #[error("{file}: not a component lock: {message}")]
    Syntax { file: String, message: String },
    #[error(
        "{file}: lock format version {found} is newer than this cairn understands ({LOCK_VERSION}); upgrade cairn"
    )]
    TooNew { file: String, found: u32 },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

impl ComponentLock {
    pub fn parse(text: &str, file: &str) -> Result<ComponentLock, LockError> {
        let lock: ComponentLock = toml::from_str(text).map_err(|e| LockError::Syntax {
            file: file.to_owned(),
            message: e.message().trim().to_owned(),
        })?;
        if lock.version > LOCK_VERSION {
            return Err(LockError::TooNew {
                file: file.to_owned(),
                found: lock.version,
            });
        }
        if let Some(u) = &lock.upstream
            && (u.commit.len() != 40 || !u.commit.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(LockError::Invalid {
                file: file.to_owned(),
                message: format!("upstream.commit `{}` is not a full git commit id", u.commit),
            });
        }
        if lock.build_root.is_some() && lock.version < 2 {
            return Err(LockError::Invalid {
                file: file.to_owned(),
                message: format!(
                    "a [build-root] table needs lock format version 2, but the file says version = {}",
                    lock.version
                ),
            });
        }
        if !lock.input_fingerprint.starts_with("v1:sha256:") {
            return Err(LockError::Invalid {
                file: file.to_owned(),
                message: format!(
                    "input-fingerprint `{}` is not `v1:sha256:<hex>`",
                    lock.input_fingerprint
                ),
            });
        }
        Ok(lock)
    }

    /// The lowest format version that holds this lock: 2 with build-root pins, else 1.
    pub fn format_version(&self) -> u32 {
        if self.build_root.is_some() { 2 } else { 1 }
    }

    /// The file's text: a header comment, then sorted keys; the build-root packages one
    /// per line, so a diff reads like a changelog. The `version` written is
    /// [`ComponentLock::format_version`], whatever `self.version` says.
    pub fn render(&self, component: &str) -> String {
        let mut head = self.clone();
        head.version = self.format_version();
        head.build_root = None;
        let mut body = toml::to_string(&head).unwrap_or_default();
        if let Some(b) = &self.build_root {
            let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
            if !body.ends_with("\n\n") {
                body.push('\n');
            }
            body.push_str("[build-root]\n");
            body.push_str(&format!("base = {}\n", q(&b.base)));
            body.push_str("build-requires = [");
            for r in &b.build_requires {
                body.push_str("\n    ");
                body.push_str(&q(r));
                body.push(',');
            }
            body.push_str(if b.build_requires.is_empty() {
                "]\n"
            } else {
                "\n]\n"
            });
            body.push_str("packages = [");
            for p in &b.packages {
                body.push_str(&format!(
                    "\n    {{ name = {}, evr = {}, arch = {}, repo = {}, checksum = {} }},",
                    q(&p.name),
                    q(&p.evr),
                    q(&p.arch),
                    q(&p.repo),
                    q(&p.checksum)
                ));
            }
            body.push_str(if b.packages.is_empty() {
                "]\n"
            } else {
                "\n]\n"
            });
        }
        let writers = if self.build_root.is_some() {
            "`cairn comp update` and `cairn comp build`"
        } else {
            "`cairn comp update`"
        };
        format!("# Component lock for `{component}`, written by {writers}. Do not edit.\n{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let l = ComponentLock {
            version: 1,
            upstream: Some(UpstreamLock {
                url: "file:///m/curl.git".into(),
                branch: Some("f43".into()),
                commit: "a".repeat(40),
            }),
            local_content: None,
            input_fingerprint: format!("v1:sha256:{}", "0".repeat(64)),
            manual_bump: 2,
            build_root: None,
        };
        let text = l.render("curl");
        assert_eq!(ComponentLock::parse(&text, "x").unwrap(), l);
        assert!(text.starts_with("# Component lock for `curl`"));
    }

    #[test]
    fn build_root_pins_round_trip_as_version_2() {
        let mut l = ComponentLock {
            version: 1,
            upstream: None,
            local_content: Some(format!("local:sha256:{}", "1".repeat(64))),
            input_fingerprint: format!("v1:sha256:{}", "0".repeat(64)),
            manual_bump: 0,
            build_root: None,
        };
        let v1 = l.render("greet");
        assert!(v1.contains("version = 1\n"), "{v1}");
        assert!(!v1.contains("build-root"), "{v1}");
        l.build_root = Some(BuildRootLock {
            base: "host:sha256:abc".into(),
            build_requires: vec!["gcc".into(), "libgreet-devel >= 1.0".into()],
            packages: vec![PinnedPackage {
                name: "libgreet-devel".into(),
                evr: "1.0-1.cn1".into(),
                arch: "x86_64".into(),
                repo: "cairn-local".into(),
                checksum: format!("sha256:{}", "2".repeat(64)),
            }],
        });
        let v2 = l.render("greet");
        assert!(v2.contains("version = 2\n"), "{v2}");
        assert!(
            v2.contains("\n    { name = \"libgreet-devel\", evr = \"1.0-1.cn1\", arch = \"x86_64\", repo = \"cairn-local\", checksum = \"sha256:"),
            "{v2}"
        );
        let back = ComponentLock::parse(&v2, "x").unwrap();
        assert_eq!(back.version, 2);
        assert_eq!(back.build_root, l.build_root);
        assert_eq!(back.render("greet"), v2);
        // an empty pin list still reads back
        l.build_root = Some(BuildRootLock {
            base: "host:x".into(),
            build_requires: vec![],
            packages: vec![],
        });
        let empty = l.render("greet");
        assert_eq!(
            ComponentLock::parse(&empty, "x").unwrap().build_root,
            l.build_root
        );
        // pins in a file claiming version 1 are refused
        let bad = v2.replace("version = 2", "version = 1");
        let e = ComponentLock::parse(&bad, "l").unwrap_err().to_string();
        assert!(e.contains("needs lock format version 2"), "{e}");
    }

    #[test]
    fn rejects_newer_and_bad() {
        let e = ComponentLock::parse("version = 9\ninput-fingerprint = \"v1:sha256:0\"\n", "l")
            .unwrap_err();
        assert!(e.to_string().contains("newer"), "{e}");
        let e =
            ComponentLock::parse("version = 1\ninput-fingerprint = \"abc\"\n", "l").unwrap_err();
        assert!(e.to_string().contains("v1:sha256"), "{e}");
        let e = ComponentLock::parse("version = 1\nbogus = 1\n", "l").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }
}
