//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// A file system operation failed; the message (from `fs-err`) names the path.
    #[error(transparent)]
    Io(#[from] io::Error),

    /// The root to archive is missing or not a directory.
    #[error("root {path} is not a directory: expected the prepared root file system of an image")]
    RootNotDirectory { path: PathBuf },

    /// Listing or reading the extended attributes of a file failed.
    #[error("cannot read extended attribute {name:?} of {path}: {source}")]
    Xattr {
        path: PathBuf,
        name: String,
        #[source]
        source: io::Error,
    },

    /// A regular file's content changed length between listing and reading it.
    #[error(
        "{path} changed while being archived: expected {expected} bytes, read {found}; archive a root that nothing else is writing to"
    )]
    FileChanged {
        path: PathBuf,
        expected: u64,
        found: u64,
    },

    /// A device number too large for a ustar header.
    #[error(
        "{path}: device number {major}:{minor} does not fit a tar header (at most 2097151 each)"
    )]
    DeviceNumberTooLarge {
        path: PathBuf,
        major: u64,
        minor: u64,
    },

    /// An exclude pattern is not a valid glob.
    #[error("exclude pattern {pattern:?} is not a valid glob: {source}")]
    BadExclude {
        pattern: String,
        #[source]
        source: globset::Error,
    },

    /// An overlay entry cannot be added.
    #[error("overlay entry {path:?}: {reason}")]
    BadOverlay { path: String, reason: String },

    /// A configuration value is out of its domain.
    #[error("invalid {field} {value:?}: expected {expected}")]
    InvalidConfig {
        field: &'static str,
        value: String,
        expected: &'static str,
    },

    /// Writing to the caller's output stream failed.
    #[error("writing {what} failed: {source}")]
    Output {
        what: &'static str,
        #[source]
        source: io::Error,
    },

    /// An OCI layout directory that is not empty.
    #[error("OCI layout directory {path} already has content: expected a new or empty directory")]
    LayoutNotEmpty { path: PathBuf },

    /// An archive this crate wrote could not be read back (internal consistency check).
    #[error("{path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

impl ArchiveError {
    pub(crate) fn output(what: &'static str) -> impl FnOnce(io::Error) -> ArchiveError {
        move |source| ArchiveError::Output { what, source }
    }
}
