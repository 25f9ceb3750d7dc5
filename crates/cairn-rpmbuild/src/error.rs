//! The error type of isolated package builds, spec queries and base scans.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong. Build failures name the component (its directory and spec), the log
/// that was kept, and carry the log's last lines.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpmbuildError {
    #[error(
        "building packages in an isolated root needs root privileges (effective uid is {euid}); run cairn as root"
    )]
    NotRoot { euid: u32 },

    /// An I/O error (its message names the path).
    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error("{tool} is needed on the host but could not be run ({source})")]
    ToolMissing {
        tool: String,
        source: std::io::Error,
    },

    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },

    #[error(
        "component {srcdir}/{spec}: the base {base} has no rpmbuild (it needs rpm-build); see {log}; last lines of the log:\n{tail}"
    )]
    RpmbuildMissing {
        srcdir: PathBuf,
        spec: String,
        base: PathBuf,
        log: PathBuf,
        tail: String,
    },

    #[error(
        "component {srcdir}/{spec}: setting up the isolated root over {base} failed; see {log}; last lines of the log:\n{tail}"
    )]
    Setup {
        srcdir: PathBuf,
        spec: String,
        base: PathBuf,
        log: PathBuf,
        tail: String,
    },

    #[error(
        "component {srcdir}/{spec}: installing the BuildRequires packages {packages} into the build root failed; see {log}; last lines of the log:\n{tail}"
    )]
    InstallFailed {
        srcdir: PathBuf,
        spec: String,
        /// The RPM file names, comma-separated.
        packages: String,
        log: PathBuf,
        tail: String,
    },

    #[error(
        "component {srcdir}/{spec}: rpmbuild failed{}; see {log}; last lines of the log:\n{tail}",
        stage.as_ref().map(|s| format!(" in {s}")).unwrap_or_default()
    )]
    BuildFailed {
        srcdir: PathBuf,
        spec: String,
        /// The spec section that failed (`%prep`, `%build`, `%install`, `%check`, `%files`…)
        /// when the log says so.
        stage: Option<String>,
        log: PathBuf,
        tail: String,
    },

    #[error(
        "component {srcdir}/{spec}: the build did not finish within {}s and was killed; see {log}; last lines of the log:\n{tail}",
        after.as_secs()
    )]
    Timeout {
        srcdir: PathBuf,
        spec: String,
        after: Duration,
        log: PathBuf,
        tail: String,
    },

    #[error("component {srcdir}/{spec}: rpmbuild succeeded but left {found}; see {log}")]
    NoOutput {
        srcdir: PathBuf,
        spec: String,
        found: String,
        log: PathBuf,
    },

    #[error("component {srcdir}/{spec}: rpmspec could not parse the spec; output:\n{tail}")]
    Query {
        srcdir: PathBuf,
        spec: String,
        tail: String,
    },

    #[error("{path}: {message}")]
    BaseScan { path: PathBuf, message: String },
}
