//! Install a locked, already-downloaded package set into an empty root directory, the
//! core of `cairn build`, and make the installed root reproducible afterwards.
//!
//! * Debian (`.deb`), mmdebstrap-style: skeleton and merged-/usr symlinks, extract the
//!   Essential set, `dpkg --install --force-depends` it inside the root, then install the
//!   rest with dpkg in batches that respect Pre-Depends and Depends.
//! * RPM (`.rpm`): one `rpm --root ROOT -i` transaction, its database under
//!   `ROOT/usr/lib/sysimage/rpm`.
//!
//! Maintainer scripts and chrooted commands run through `unshare` in private mount, PID,
//! UTS, IPC and network namespaces: `/proc`, `/sys` and a minimal `/dev` are mounted
//! there only, so nothing can leak onto the host and nothing stays mounted (nor running)
//! once a step ends, even when cairn is killed. The hostname there is `localhost`, so no
//! script records the build host's name, and there is no network.
//!
//! This crate must not download, resolve or choose packages (the set comes from the
//! lock, already verified in the cache), must not print (progress goes through
//! [`InstallReporter`]), and must not touch anything outside the root it is given
//! besides running the host's `dpkg-deb`, `tar`, `dpkg-query`, `rpm`, `setpriv`, `unshare`,
//! `chroot` and, inside the namespace, `mount` and `mknod`.

mod deb;
mod debfile;
mod error;
mod finalize;
mod initramfs;
mod order;
mod query;
mod rpm;
mod run;

use std::path::{Path, PathBuf};

pub use error::InstallError;
pub use finalize::{FinalizeReport, finalize_for_reproducibility};
pub use query::{InstalledPackage, installed};

/// The package format of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    Deb,
    Rpm,
}

/// One package of the set, as the lock pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallPackage {
    pub name: String,
    pub arch: String,
    /// The version as locked (`2.36-9+deb12u4`, `1:2.3-4.fc41`).
    pub version: String,
    /// The verified package file (usually a cache blob; its file name does not matter).
    pub path: PathBuf,
}

/// Options of an install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallOptions {
    /// Exported as `SOURCE_DATE_EPOCH` to every maintainer script (initramfs-tools,
    /// rpm's install times and others honour it).
    pub source_date_epoch: u64,
    /// Extra environment for maintainer scripts, after the defaults (which are `PATH`,
    /// `LANG=C.UTF-8`, `TZ=UTC`, `HOME=/root`, `DEBIAN_FRONTEND=noninteractive`,
    /// `DEBCONF_NONINTERACTIVE_SEEN=true`, `SOURCE_DATE_EPOCH`). Nothing is inherited
    /// from cairn's own environment.
    pub env: Vec<(String, String)>,
    /// Debian with initramfs-tools: when the initramfs the packages ask for is built.
    pub initramfs: Initramfs,
}

/// When the distribution's initramfs is built (Debian: `update-initramfs`, diverted while
/// packages are installed; see the `initramfs` module). RPM sets ignore this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Initramfs {
    /// Once, right after every package is configured.
    #[default]
    AtEnd,
    /// Later: [`install`] leaves the requests recorded and `update-initramfs` diverted,
    /// and the caller runs [`build_deferred_initramfs`] (after customizing the root, so
    /// its changes to initramfs configuration and `modprobe.d` are in the initramfs). The
    /// root must not be used before that: its `update-initramfs` is a stand-in.
    Deferred,
    /// Never: the caller builds the initrd itself. The requests are dropped.
    Skip,
}

impl InstallOptions {
    pub fn new(source_date_epoch: u64) -> Self {
        InstallOptions {
            source_date_epoch,
            env: Vec::new(),
            initramfs: Initramfs::AtEnd,
        }
    }
}

/// Builds the initramfs [`install`] deferred ([`Initramfs::Deferred`]; `report` says
/// whether it did): removes the stand-in and the diversion of `update-initramfs`, then
/// runs the recorded requests once. Nothing to do when nothing was deferred.
pub fn build_deferred_initramfs(
    root: &Path,
    report: &InstallReport,
    opts: &InstallOptions,
    rep: &dyn InstallReporter,
) -> Result<(), InstallError> {
    if !report.initramfs_deferred {
        return Ok(());
    }
    run::require_root()?;
    let root = fs_err::canonicalize(root)?;
    initramfs::replay(&root, &script_env(opts), &mut |what| {
        rep.step(&format!("building the initramfs once ({what})"));
    })?;
    Ok(())
}

/// Runs `argv` inside `root` (chrooted, in private namespaces, with the maintainer
/// scripts' environment) after an install; `what` names it in an error, which carries
/// the command's output.
pub fn run_in_root(
    root: &Path,
    argv: &[&str],
    opts: &InstallOptions,
    what: &str,
) -> Result<(), InstallError> {
    run::require_root()?;
    let root = fs_err::canonicalize(root)?;
    run::chroot(&root, argv, &script_env(opts), what, None)
}

/// Progress of an install; every method has a no-op default.
pub trait InstallReporter {
    /// A named step starts (`extracting the Essential set`, `dpkg --install (batch 2/3)`).
    fn step(&self, what: &str) {
        let _ = what;
    }
    /// `done` of `total` packages are through the current step; `name` is the latest.
    fn package(&self, done: usize, total: usize, name: &str) {
        let _ = (done, total, name);
    }
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReport;
impl InstallReporter for NoReport {}

/// What an install did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstallReport {
    /// Packages installed (the whole set).
    pub packages: usize,
    /// Debian: the packages of the first phase (Essential and what they depend on), in
    /// the order given to dpkg. Empty for RPM.
    pub essential: Vec<String>,
    /// Debian: the later dpkg batches, each in the order given to dpkg. RPM: one batch
    /// holding the whole transaction.
    pub batches: Vec<Vec<String>>,
    /// Debian: `update-initramfs` is still diverted, its requests recorded, for
    /// [`build_deferred_initramfs`] ([`Initramfs::Deferred`]).
    pub initramfs_deferred: bool,
}

/// Install `pkgs` into `root`, which must be an existing, empty directory. Needs root.
///
/// Afterwards the package database inside `root` lists exactly `pkgs` (checked; a
/// difference is an error). On failure the root is left as it is (for inspection; the
/// caller owns it and removes it), but nothing is left mounted or running.
///
/// A failing maintainer script is an error naming the package and the script, with the
/// tail of the installer's output. For RPM this includes `%post` and `%posttrans`: rpm
/// keeps such a package installed and only warns, but an image whose scripts failed is
/// not what the lock describes, so the build fails (as dnf does).
pub fn install(
    format: Format,
    root: &Path,
    pkgs: &[InstallPackage],
    opts: &InstallOptions,
    rep: &dyn InstallReporter,
) -> Result<InstallReport, InstallError> {
    run::require_root()?;
    check_empty_root(root)?;
    if pkgs.is_empty() {
        return Err(InstallError::EmptySet);
    }
    let root = fs_err::canonicalize(root)?;
    match format {
        Format::Deb => deb::install(&root, pkgs, opts, rep),
        Format::Rpm => rpm::install(&root, pkgs, opts, rep),
    }
}

fn check_empty_root(root: &Path) -> Result<(), InstallError> {
    let meta = fs_err::symlink_metadata(root)?;
    if !meta.is_dir() {
        return Err(InstallError::RootNotEmpty {
            root: root.to_path_buf(),
            found: "it is not a directory".into(),
        });
    }
    if let Some(entry) = fs_err::read_dir(root)?.next() {
        let entry = entry?;
        return Err(InstallError::RootNotEmpty {
            root: root.to_path_buf(),
            found: format!("it holds {}", entry.file_name().to_string_lossy()),
        });
    }
    Ok(())
}

/// The environment every chrooted command and maintainer script gets.
pub(crate) fn script_env(opts: &InstallOptions) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ),
        ("LANG", "C.UTF-8"),
        ("TZ", "UTC"),
        ("HOME", "/root"),
        ("SHELL", "/bin/sh"),
        ("USER", "root"),
        ("LOGNAME", "root"),
        ("DEBIAN_FRONTEND", "noninteractive"),
        ("DEBCONF_NONINTERACTIVE_SEEN", "true"),
        ("DEBCONF_NOWARNINGS", "yes"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.push((
        "SOURCE_DATE_EPOCH".into(),
        opts.source_date_epoch.to_string(),
    ));
    for (k, v) in &opts.env {
        env.retain(|(k2, _)| k2 != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

/// Finish a database-versus-set check: packages of the set that are still `want`ed were
/// never installed; any problem makes the install fail with [`InstallError::Mismatch`].
fn mismatch<N, A, V>(
    root: &Path,
    mut problems: Vec<String>,
    want: impl IntoIterator<Item = ((N, A), V)>,
) -> Result<(), InstallError>
where
    N: std::fmt::Display,
    A: std::fmt::Display,
    V: std::fmt::Display,
{
    for ((n, a), v) in want {
        problems.push(format!("  {n} {v} {a} is in the set but not installed"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InstallError::Mismatch {
            root: root.to_path_buf(),
            problems: problems.join("\n"),
        })
    }
}
