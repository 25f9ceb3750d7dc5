//! Package version semantics: RPM `[epoch:]version[-release]` (EVR) ordered by `rpmvercmp`,
//! and Debian `[epoch:]upstream[-revision]` ordered as dpkg orders them.
//!
//! This crate is pure: no I/O, no global state. It must not know about repositories,
//! dependencies or solving; those crates build on the types here.

mod deb;
mod rpm;

pub use deb::{DebVersion, debvercmp};
pub use rpm::{Evr, rpmvercmp};

use std::cmp::Ordering;
use std::fmt;

/// A version of either packaging flavour. Values of different flavours never meet in one
/// package universe; ordering across flavours is arbitrary but total (RPM < Debian).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "flavor", content = "version", rename_all = "lowercase")]
pub enum Version {
    Rpm(Evr),
    Deb(DebVersion),
}

impl Version {
    /// Compare two versions of the same flavour; RPM sorts before Debian otherwise.
    pub fn compare(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            (Version::Deb(a), Version::Deb(b)) => a.cmp(b),
            (Version::Rpm(_), Version::Deb(_)) => Ordering::Less,
            (Version::Deb(_), Version::Rpm(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.compare(other)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Rpm(v) => v.fmt(f),
            Version::Deb(v) => v.fmt(f),
        }
    }
}

/// Error parsing a version string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    #[error("version {input:?}: epoch {epoch:?} is not a non-negative integer")]
    BadEpoch { input: String, epoch: String },
    #[error("version {input:?}: {what} is empty")]
    Empty { input: String, what: &'static str },
    #[error("version {input:?}: character {ch:?} is not allowed in {what}")]
    BadChar {
        input: String,
        ch: char,
        what: &'static str,
    },
}
