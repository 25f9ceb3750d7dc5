//! `cairn comp build`: build the distribution's components into binary and source RPMs,
//! in dependency order, each in a fresh isolated build root.
//!
//! For every selected component, [`prepare`] writes its rendered spec and all its source
//! files to `<out-dir>/.sources/<name>/` (through `cairn-comp`, hash-verified) and asks
//! rpmspec, inside the base root, for its BuildRequires, binary packages and Provides. The
//! build graph ([`graph`]) orders components by what their BuildRequires name and what the
//! others' packages provide; a cycle is an error naming it.
//!
//! [`build`] then works through the graph on `jobs` threads. For each component:
//!
//! 1. **Build root.** BuildRequires the base satisfies (see [`base`]) are left alone; the
//!    rest are resolved with cairn's solver against the local repository (what this
//!    project built, `<out-dir>/repo/`), then the `[package-build] repos`, then the
//!    base's virtual package, weak dependencies off. The chosen packages are pinned in
//!    the component lock's `[build-root]` table (rewritten only when they changed);
//!    with `locked`, the pins are used instead and must all still exist.
//! 2. **Cache.** The cache key ([`record::cache_key`]) covers the component's input
//!    fingerprint, the base identity, every pinned package and the build options. A
//!    result record with that key whose files are intact means: cached, not rebuilt.
//! 3. **Build.** `cairn-rpmbuild` builds in an overlay over the base with the pinned
//!    packages installed, no network, `SOURCE_DATE_EPOCH` from the changelog: the same
//!    inputs give byte-identical RPMs. The log goes to `<out-dir>/logs/<name>.log`.
//! 4. **Commit.** The packages replace `<out-dir>/repo/<name>/` by rename (a failed
//!    build leaves the previous ones), the result record is written to
//!    `<out-dir>/results/<name>.json`, and the repository metadata is published again,
//!    so dependents resolve against the new packages.
//!
//! A failure stops the components depending on it (reported as skipped, naming the
//! failed dependency); without `keep_going` no further build starts after the first
//! failure. Building needs root (namespaces and mounts).

pub mod base;
pub mod graph;
pub mod record;
pub mod repo;
mod run;
mod sched;

pub use base::{BUILD_ROOT_PACKAGE, Base, BaseMatcher};
pub use repo::{LOCAL_REPO, LocalRepo};
pub use run::{Plan, Prepared, build, prepare};

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Errors of `cairn comp build`. Each names the component, file or repository at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkgBuildError {
    #[error(
        "building packages needs root privileges (namespaces and overlay mounts; effective uid is {euid}); run cairn as root"
    )]
    NotRoot { euid: u32 },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("component `{component}`: {source}")]
    Comp {
        component: String,
        source: Box<cairn_comp::CompError>,
    },
    #[error("{0}")]
    Project(Box<cairn_project::ProjectError>),
    #[error("component `{component}`: {}", without_component_prefix(source))]
    Rpmbuild {
        component: String,
        source: Box<cairn_rpmbuild::RpmbuildError>,
    },
    #[error("component `{component}`: {message}")]
    Component { component: String, message: String },
    #[error("component `{component}`: --locked: {message}")]
    Locked { component: String, message: String },
    #[error("the components' BuildRequires form a cycle: {cycle}")]
    Cycle { cycle: String },
    #[error("build root base {}: {message}", path.display())]
    Base { path: PathBuf, message: String },
    #[error("{message}")]
    Config { message: String },
    #[error("publishing the local repository {}: {message}", repo.display())]
    Publish { repo: PathBuf, message: String },
}

impl From<cairn_project::ProjectError> for PkgBuildError {
    fn from(e: cairn_project::ProjectError) -> Self {
        PkgBuildError::Project(Box::new(e))
    }
}

/// cairn-rpmbuild's messages name the component by its directory and spec
/// (`component /path/x.spec: …`); ours name it already.
fn without_component_prefix(e: &cairn_rpmbuild::RpmbuildError) -> String {
    let msg = e.to_string();
    match msg
        .strip_prefix("component ")
        .and_then(|r| r.split_once(": "))
    {
        Some((spec, rest)) if spec.ends_with(".spec") => rest.to_owned(),
        _ => msg,
    }
}

/// Settings shared by every build of a run: `[package-build]` with paths resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Absolute output directory.
    pub out_dir: PathBuf,
    /// rpm-md sources satisfying BuildRequires after the local repository.
    pub repos: Vec<String>,
    /// `%_smp_mflags -jN` of every build.
    pub smp_jobs: usize,
    pub vendor: String,
    pub distribution: String,
    pub packager: String,
    /// `%dist` unless a component defines its own.
    pub dist: String,
    pub timeout: Option<Duration>,
    /// The rpm architecture built for.
    pub arch: String,
}

impl Settings {
    /// The project's `[package-build]`, its output directory made absolute (`out_dir`
    /// overrides it).
    pub fn from_project(project: &cairn_config::Project, out_dir: Option<&Path>) -> Settings {
        let pb = &project.package_build;
        let out = out_dir.map_or_else(|| project.dir.join(&pb.out_dir), Path::to_path_buf);
        let out = if out.is_absolute() {
            out
        } else {
            std::env::current_dir().map_or(out.clone(), |d| d.join(&out))
        };
        Settings {
            out_dir: out,
            repos: pb.repos.clone(),
            smp_jobs: pb.smp_jobs.max(1) as usize,
            vendor: pb.vendor.clone().unwrap_or_default(),
            distribution: pb.distribution.clone().unwrap_or_default(),
            packager: pb.packager.clone().unwrap_or_default(),
            dist: pb.dist.clone().unwrap_or_default(),
            timeout: pb.timeout_secs.map(Duration::from_secs),
            arch: project
                .arch
                .clone()
                .unwrap_or_else(|| cairn_project::host_arch(false)),
        }
    }
}

/// How to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Builds at once (each uses `smp_jobs` itself).
    pub jobs: usize,
    /// Keep starting builds that do not depend on a failed one.
    pub keep_going: bool,
    /// Use the component locks' build-root pins as they are (and refuse stale locks).
    pub locked: bool,
}

/// What happened to a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Built,
    Cached,
    Failed,
    Skipped,
}

/// One component's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Outcome {
    pub component: String,
    pub status: Status,
    /// Binary RPMs (built or cached), absolute paths.
    pub rpms: Vec<PathBuf>,
    pub srpm: Option<PathBuf>,
    pub log: Option<PathBuf>,
    /// Seconds the build took (0 when cached or skipped).
    pub duration: f64,
    /// Seconds since the run started when work on it began and ended.
    pub started: Option<f64>,
    pub finished: Option<f64>,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    pub cache_key: Option<String>,
    /// NEVRAs installed on top of the base, with their repository.
    pub build_root: Vec<String>,
    /// The lock's build-root pins were (re)written by this run.
    pub pins_written: bool,
}

impl Outcome {
    pub(crate) fn new(component: &str, status: Status) -> Outcome {
        Outcome {
            component: component.to_owned(),
            status,
            rpms: vec![],
            srpm: None,
            log: None,
            duration: 0.0,
            started: None,
            finished: None,
            reason: None,
            cache_key: None,
            build_root: vec![],
            pins_written: false,
        }
    }
}

/// What [`build`] reports while it works. Every method has a default that does nothing.
pub trait Reporter: Sync {
    /// A component's sources are in place and its spec was queried.
    fn prepared(&self, _component: &str, _done: usize, _total: usize) {}
    /// Work on a component starts (resolution, cache check, build).
    fn started(&self, _component: &str) {}
    /// A component ended (built, cached, failed or skipped).
    fn finished(&self, _outcome: &Outcome) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReport;
impl Reporter for NoReport {}

/// What a run did, in the order components finished.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    pub out_dir: PathBuf,
    pub base: String,
    /// The build order: waves of components that can build at the same time.
    pub waves: Vec<Vec<String>>,
    pub components: Vec<Outcome>,
}

impl Summary {
    /// Whether any component failed or was skipped.
    pub fn failed(&self) -> bool {
        self.components
            .iter()
            .any(|o| matches!(o.status, Status::Failed | Status::Skipped))
    }
}

/// Fail unless running as root.
pub fn require_root() -> Result<(), PkgBuildError> {
    let status = fs_err::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().nth(1))
        .and_then(|u| u.parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    if euid == 0 {
        Ok(())
    } else {
        Err(PkgBuildError::NotRoot { euid })
    }
}
