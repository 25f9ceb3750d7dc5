//! Components: the distribution defined as specs taken from an upstream distribution's
//! dist-git plus small, declared overlays — never forked specs.
//!
//! This crate loads the definition (`cairn.toml` and its includes), resolves each
//! component's configuration through its layers, fetches upstream dist-git commits with
//! `git` and lookaside tarballs by hash into the shared cache, renders specs with their
//! overlays into `specs/<letter>/<name>/` (into a temp dir, then renamed), checks committed
//! renders, keeps per-component locks (`locks/<name>.lock`) and reports deviations from
//! upstream. It never prints: results are returned as data for the binary to show.

mod deviations;
mod git;
mod load;
mod lookaside;
mod render;
mod resolve;

pub use deviations::{ComponentDeviation, DeviationReport, OverlayDeviation, deviations};
pub use git::DistGit;
pub use load::{Declared, Distribution, load};
pub use lookaside::{SourceEntry, parse_sources_file};
pub use render::{
    CheckResult, Engine, EngineOptions, LockMode, Rendered, Staleness, UpdateResult, list_files,
    macro_env,
};
pub use resolve::{PlacedOverlay, Resolved, SpecOrigin, Target, resolve, target};

use std::path::PathBuf;

/// What can go wrong with components. Messages name the component, the file and the
/// overlay, and say what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompError {
    #[error("{0}")]
    Fragment(Box<cairn_component::FragmentError>),
    #[error("{}: {message}", file.display())]
    Config { file: PathBuf, message: String },
    #[error("{}: {what} `{pattern}` does not exist (looked for {})", file.display(), path.display())]
    MissingInclude {
        file: PathBuf,
        pattern: String,
        what: String,
        path: PathBuf,
    },
    #[error("{}: bad pattern `{pattern}`: {message}", file.display())]
    BadPattern {
        file: PathBuf,
        pattern: String,
        message: String,
    },
    #[error("{}: includes nest more than 32 deep (a loop?)", file.display())]
    IncludeLoop { file: PathBuf },
    #[error("{what} `{name}` is defined twice: in {} and in {}", first.display(), second.display())]
    Duplicate {
        what: &'static str,
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "no target distribution: set `[project] default-distro = {{ name = \"…\", version = \"…\" }}` naming a `[distros.NAME.versions.VERSION]`"
    )]
    NoDistro,
    #[error("{context}: unknown distro `{name}` (define it under [distros])")]
    UnknownDistro { name: String, context: String },
    #[error(
        "no component named `{name}` ({known} components are defined; `cairn comp list` shows them)"
    )]
    UnknownComponent { name: String, known: usize },
    #[error("component `{component}`: {overlay}: {message}")]
    Overlay {
        component: String,
        overlay: String,
        message: String,
    },
    #[error("component `{component}`: {message}")]
    Component { component: String, message: String },
    #[error("{tool} failed to {what}: {message}")]
    Tool {
        tool: String,
        what: String,
        message: String,
    },
    #[error("{url}: branch `{branch}` does not exist{}", if *offline { " in the cached mirror (offline)" } else { "" })]
    NoBranch {
        url: String,
        branch: String,
        offline: bool,
    },
    #[error(
        "{url}: upstream commit {commit} does not exist (was the branch rewritten? pin another commit or run `cairn comp update`)"
    )]
    NoCommit { url: String, commit: String },
    #[error("offline, and {what} is not in the cache; run once without --offline")]
    Offline { what: String },
    /// `detail`: "SHA512 mismatch: expected …, got … (from …)".
    #[error("component `{component}`: {file}: {detail}")]
    HashMismatch {
        component: String,
        file: String,
        detail: String,
    },
    #[error("component `{component}`: no lock ({path}); run `cairn comp update {component}`", path = path.display())]
    NoLock { component: String, path: PathBuf },
    #[error("component `{component}`: the lock ({path}) no longer matches the configuration: {why}; run `cairn comp update {component}`", path = path.display())]
    StaleLock {
        component: String,
        path: PathBuf,
        why: String,
    },
    #[error("{}", source_display(path, source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Lock(#[from] cairn_component::LockError),
    #[error(transparent)]
    Fetch(Box<cairn_fetch::FetchError>),
}

impl From<cairn_fetch::FetchError> for CompError {
    fn from(e: cairn_fetch::FetchError) -> Self {
        CompError::Fetch(Box::new(e))
    }
}

impl From<cairn_component::FragmentError> for CompError {
    fn from(e: cairn_component::FragmentError) -> Self {
        CompError::Fragment(Box::new(e))
    }
}

fn source_display(path: &std::path::Path, e: &std::io::Error) -> String {
    let s = e.to_string();
    if s.contains(&*path.to_string_lossy()) {
        s
    } else {
        format!("{}: {s}", path.display())
    }
}

/// Write a file inside a render's temp dir (the dir itself is renamed into place).
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), CompError> {
    if let Some(d) = path.parent() {
        fs_err::create_dir_all(d).map_err(|e| CompError::Io {
            path: d.to_path_buf(),
            source: e,
        })?;
    }
    fs_err::write(path, bytes).map_err(|e| CompError::Io {
        path: path.to_path_buf(),
        source: e,
    })
}
