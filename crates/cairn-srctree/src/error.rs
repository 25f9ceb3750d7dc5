//! The one error type of this crate: every variant names the tree or archive, the file or glob
//! involved and what was expected, so a message is useful without more context.

use std::io;
use std::path::PathBuf;

/// Why a file edit or an archive edit failed. Nothing was changed when one of these is returned
/// (see [`crate::Tree::apply`] and [`crate::edit_archive`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SrcTreeError {
    /// The glob does not parse.
    #[error("glob `{glob}` is invalid: {message}")]
    InvalidGlob { glob: String, message: String },

    /// The regular expression of a search-and-replace does not parse.
    #[error("regex `{regex}` is invalid: {message}")]
    InvalidRegex { regex: String, message: String },

    /// A glob matched no regular file. `protected` lists protected files it would have matched.
    #[error("no file in {within} matches `{glob}`{}", protected_note(.protected))]
    NoMatch {
        within: String,
        glob: String,
        protected: Vec<String>,
    },

    /// A search-and-replace found no match in any of the files its glob selected.
    #[error("regex `{regex}` matched nothing in {within}; searched {}", backticked(.searched))]
    NothingReplaced {
        within: String,
        regex: String,
        searched: Vec<String>,
    },

    /// A text edit selected a file that is not UTF-8.
    #[error(
        "`{file}` in {within} is not valid UTF-8 (first bad byte at offset {offset}); {edit} only edits text files"
    )]
    NotUtf8 {
        within: String,
        file: String,
        edit: &'static str,
        offset: usize,
    },

    /// A line given to `PrependLines` contains a line break; each entry must be one line.
    #[error("line {index} of the lines to prepend contains a line break: {line:?}")]
    LineBreakInLine { index: usize, line: String },

    /// The destination of an `Add` or `Rename` already exists.
    #[error("`{file}` already exists in {within}")]
    AlreadyExists { within: String, file: String },

    /// The source of a `Rename` does not exist.
    #[error("`{file}` does not exist in {within}")]
    NotFound { within: String, file: String },

    /// The source of a `Rename` is a directory, symlink or other non-regular file.
    #[error("`{file}` in {within} is not a regular file")]
    NotAFile { within: String, file: String },

    /// The edit would touch a protected path (such as the spec file).
    #[error("`{file}` in {within} is protected: file edits may not touch it")]
    Protected { within: String, file: String },

    /// A path given to an edit is not a plain relative path inside the tree.
    #[error("path `{path}` cannot be used in {within}: {reason}")]
    InvalidPath {
        within: String,
        path: String,
        reason: String,
    },

    /// The target of a `Rename` is not a plain file name.
    #[error("rename target `{to}` must be a file name in the same directory: {reason}")]
    InvalidRenameTarget { to: String, reason: &'static str },

    /// A filesystem operation failed; the message (from `fs-err`) names the path.
    #[error(transparent)]
    Fs(io::Error),

    /// Reading or writing a file failed.
    #[error("cannot {action} `{}`: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The archive is not a tar archive in one of the supported compressions.
    #[error(
        "{} is not a tar archive in a supported compression (none, gzip, xz, bzip2, zstd): {found}",
        .archive.display()
    )]
    UnsupportedArchive { archive: PathBuf, found: String },

    /// The archive could not be decompressed or its tar structure is damaged.
    #[error("{} is not a valid tar archive: {message}", .archive.display())]
    CorruptArchive { archive: PathBuf, message: String },

    /// An archive entry has an absolute path or a `..` component; the archive is refused.
    #[error("{} holds entry `{entry}` with {reason}; refusing to edit it", .archive.display())]
    UnsafeEntry {
        archive: PathBuf,
        entry: String,
        reason: &'static str,
    },

    /// Two regular-file entries of the archive have the same path.
    #[error("{} holds `{entry}` twice as a regular file; cannot tell which one to edit", .archive.display())]
    DuplicateEntry { archive: PathBuf, entry: String },

    /// Removing or renaming this archive member would leave a hardlink entry dangling.
    #[error("cannot {action} `{file}` in {}: hardlink `{link}` refers to it", .archive.display())]
    HardlinkTarget {
        archive: PathBuf,
        action: &'static str,
        file: String,
        link: String,
    },
}

impl SrcTreeError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        SrcTreeError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

fn protected_note(protected: &[String]) -> String {
    if protected.is_empty() {
        String::new()
    } else {
        format!(" (it only matches protected {})", backticked(protected))
    }
}

fn backticked(files: &[String]) -> String {
    files
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
