//! Debian archives as a package source, with the host's `apt-get` as the download client.
//!
//! The machines cairn runs on reach Debian's archive only through apt as configured there
//! (registry and proxy settings live in `/etc/apt/apt.conf.d`), so this crate never speaks
//! HTTP itself: it runs `apt-get update` / `apt-get download` with a private state, cache
//! and sources list under the cairn cache, keeping the host's configuration parts. It then
//! checks what apt fetched on its own (InRelease signature with `cairn-openpgp`, every
//! `Packages` index against the InRelease SHA256 list, every `.deb` against its index
//! entry) and hands [`cairn_package::RepoPackages`] to the solver.
//!
//! It must never touch the host's apt state (`/var/lib/apt`, `/var/cache/apt`, the host's
//! sources), never run dpkg, and never print: progress goes through [`Reporter`].

mod client;
mod host;

pub use client::AptClient;
pub use host::{host_sources, host_sources_in};

use cairn_package::Checksum;
use std::path::PathBuf;

/// One Debian source as cairn uses it: one or more suites of one archive, signed by the
/// given keyrings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSourceConfig {
    /// Repository id recorded in locks and named in errors.
    pub id: String,
    pub uris: Vec<String>,
    pub suites: Vec<String>,
    pub components: Vec<String>,
    /// Keyring files (armored or binary) that must sign the suites' InRelease.
    pub signed_by: Vec<PathBuf>,
    /// Debian architecture, e.g. `amd64`. Packages of this architecture and `all` are loaded.
    pub arch: String,
    /// Lower is preferred (dnf semantics); default 99.
    pub priority: i32,
}

impl AptSourceConfig {
    /// `bookworm bookworm-updates main` for messages.
    pub fn describe(&self) -> String {
        let mut words = self.suites.clone();
        words.extend(self.components.iter().cloned());
        words.join(" ")
    }
}

/// A `.deb` wanted from a source, as the lock or the solver names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebRef {
    pub name: String,
    /// Debian version as written in the index (`1:2.3-4`).
    pub version: String,
    pub arch: String,
    /// SHA256 from the `Packages` index.
    pub checksum: Checksum,
}

impl DebRef {
    /// `name:arch=version`, as `apt-get download` takes it.
    pub fn spec(&self) -> String {
        format!("{}:{}={}", self.name, self.arch, self.version)
    }
}

/// Progress goes through the download reporter every fetching crate shares.
pub use cairn_fetch::{NoReporter, Reporter};

/// What can go wrong reading host sources, running apt or checking its results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AptError {
    #[error("cannot run apt-get ({reason}): install apt (scripts/setup-host.sh installs it)")]
    AptMissing { reason: String },
    #[error("`{command}` failed ({status}); apt said:\n{stderr_tail}")]
    AptGet {
        command: String,
        status: String,
        stderr_tail: String,
    },
    #[error(
        "source {source_id}: signature check failed for {what}: {reason}\n\
         check that the source's Signed-By keyrings are the archive's signing keys"
    )]
    Signature {
        source_id: String,
        what: String,
        reason: String,
    },
    #[error("{} is not in source {source_id} ({suites})", missing.join(", "))]
    NotInSource {
        source_id: String,
        suites: String,
        missing: Vec<String>,
    },
    #[error("source {source_id}: {package}: SHA256 mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        source_id: String,
        package: String,
        expected: String,
        actual: String,
    },
    #[error(
        "source {source_id} ({suites}): offline, and not in the cache: {}; run once without --offline",
        missing.join(", ")
    )]
    OfflineMissing {
        source_id: String,
        suites: String,
        missing: Vec<String>,
    },
    #[error("source {source_id}: index {index}: {reason}")]
    Index {
        source_id: String,
        index: String,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error(transparent)]
    Deb822(#[from] cairn_deb822::Deb822Error),
    #[error(transparent)]
    Cache(#[from] cairn_cache::CacheError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
