//! The isolated package-build runner behind `cairn comp build`: build one rendered
//! component (a directory holding `NAME.spec` and its Source/Patch files) into binary RPMs
//! and a source RPM with `rpmbuild -ba`, in a fresh build root, reproducibly.
//!
//! Every build (and every [`query_spec`]) runs in new mount, PID, UTS, IPC and network
//! namespaces, over an overlayfs whose lower layer is the base root (never modified) and
//! whose upper layer lives in a temporary work directory (a `cp -a --reflink=auto` copy of
//! the base when overlayfs cannot be mounted; [`BuildOutput::isolation`] says which). The
//! root gets its own `/proc`, `/dev`, `/dev/shm`, `/tmp`, `/var/tmp`, `/run`, hostname
//! `localhost`, and no network but a down loopback. The BuildRequires packages the caller
//! resolved are installed with the base's `rpm` (database `/usr/lib/sysimage/rpm`), then
//! rpmbuild runs as the unprivileged user `builder` (home `/builddir`, `%_topdir`
//! `/builddir/build`) with a clean environment.
//!
//! Reproducibility: the build path, build host, and (through `SOURCE_DATE_EPOCH`, by
//! default from the spec's `%changelog`) the build time, cookie and file mtimes are fixed,
//! so building the same inputs twice with the same options gives byte-identical unsigned
//! RPMs, debuginfo packages included (build-ids and `/usr/src/debug` paths only depend on
//! the fixed build path). All options count, `jobs` too: rpmbuild stores the expanded spec
//! (`make -j4`) in the source RPM, and every binary RPM carries the source RPM's id.
//!
//! The orchestration (which components, their order, resolving BuildRequires, caching)
//! belongs to the caller. Building needs root (for the namespaces and mounts).

mod base;
mod build;
mod elf;
mod error;
mod ns;

pub use base::{base_capabilities, base_has_path};
pub use build::{build, query_spec};
pub use error::RpmbuildError;

use std::path::PathBuf;
use std::time::Duration;

/// The root file system builds start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootLayout {
    /// A directory holding a complete root file system with rpm, rpmbuild, a compiler…
    /// (`/` is fine: the host itself). Never modified.
    pub base: PathBuf,
    /// The base's packages are not in an rpm database (e.g. a Debian root): the caller
    /// checked the BuildRequires already, so package installs and rpmbuild get `--nodeps`.
    /// When false, nothing gets `--nodeps`.
    pub foreign: bool,
}

/// How to build: the macros every package of a distribution shares, and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// `%dist`, e.g. `.cn1`; empty: the base's own (if any).
    pub dist: String,
    /// `%vendor`; empty: not set.
    pub vendor: String,
    /// `%distribution`; empty: not set.
    pub distribution: String,
    /// `%packager`; empty: not set.
    pub packager: String,
    /// `%_buildhost` (default `cairn-build`).
    pub buildhost: String,
    /// Parallel jobs: `%_smp_build_ncpus` and `%_smp_mflags -jN` (default: the machine's
    /// CPU count). Part of the result (see the crate docs): fix it for reproducible builds
    /// across machines.
    pub jobs: usize,
    /// More macros, passed as `--define "NAME VALUE"` after the ones above (so they
    /// win); bconds come in as `_with_x`/`_without_x` here. An empty value is `%{nil}`.
    pub defines: Vec<(String, String)>,
    /// `SOURCE_DATE_EPOCH` for the build; `None`: rpmbuild takes it from the time of the
    /// spec's first `%changelog` entry (`%source_date_epoch_from_changelog`).
    pub source_date_epoch: Option<u64>,
    /// Kill the build (the whole namespace) after this long.
    pub timeout: Option<Duration>,
    /// Where the temporary work directory goes; `None`: `out_dir`'s parent for builds,
    /// the system temp directory for queries. Its file system must take an overlayfs
    /// upper layer (ext4, xfs, btrfs, tmpfs…), else the base is copied.
    pub work_dir: Option<PathBuf>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            dist: String::new(),
            vendor: String::new(),
            distribution: String::new(),
            packager: String::new(),
            buildhost: "cairn-build".into(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            defines: Vec::new(),
            source_date_epoch: None,
            timeout: None,
            work_dir: None,
        }
    }
}

/// What [`query_spec`] learns from a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecInfo {
    /// `rpmspec -q --buildrequires`: one relation per entry, e.g. `foo-devel >= 1.0`.
    pub build_requires: Vec<String>,
    /// The binary packages' names, in spec order.
    pub packages: Vec<String>,
    /// `rpmspec -q --provides` of all binary packages (including `NAME = EVR`).
    pub provides: Vec<String>,
    /// The `SOURCE_DATE_EPOCH` the build will use: the options', else the time of the
    /// first `%changelog` entry; `None` when neither exists.
    pub source_date_epoch: Option<u64>,
}

/// How the build root was isolated from the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// overlayfs, lower layer = the base.
    Overlay,
    /// overlayfs could not be mounted: the base was copied (`cp -a --reflink=auto`).
    Copy,
}

/// What [`build`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutput {
    /// The binary RPMs, in `out_dir`, sorted by file name.
    pub rpms: Vec<PathBuf>,
    /// The source RPM, in `out_dir`.
    pub srpm: PathBuf,
    /// The full log.
    pub log: PathBuf,
    pub isolation: Isolation,
    /// Wall time of the whole build, setup and cleanup included.
    pub duration: Duration,
}

/// What a foreign base offers to BuildRequires resolution (see [`base_capabilities`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BaseCaps {
    /// Installed packages, `(name, version)`, sorted.
    pub packages: Vec<(String, String)>,
    /// Soname provides such as `libz.so.1()(64bit)`, sorted.
    pub sonames: Vec<String>,
    /// `pkgconfig(NAME)` modules with their versions, sorted by name.
    pub pkgconfig: Vec<(String, Option<String>)>,
    /// How many distinct paths the base's package database lists.
    pub files_count: usize,
}
