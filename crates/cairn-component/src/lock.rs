//! Component locks (`locks/<name>.lock`): the resolved upstream commit and the input
//! fingerprint of one component, plus a manual bump counter. Versioned TOML, one file per
//! component so a change to one component touches one file in review.

use serde::{Deserialize, Serialize};

/// The lock format written by this version of cairn.
pub const LOCK_VERSION: u32 = 1;

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

    /// The file's text: a header comment, then sorted keys.
    pub fn render(&self, component: &str) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Component lock for `{component}`, written by `cairn comp update`. Do not edit.\n{body}"
        )
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
        };
        let text = l.render("curl");
        assert_eq!(ComponentLock::parse(&text, "x").unwrap(), l);
        assert!(text.starts_with("# Component lock for `curl`"));
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
