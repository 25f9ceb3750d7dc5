//! `cairn build`: from a locked, fetched package set to images on disk.
//!
//! The path one image takes: install the set into a fresh root (cairn-install) → apply the
//! customizations of `cairn.toml` ([`customize`]) → finalize for reproducibility (package
//! manager leftovers, removals, fstab, clamped times) → SBOMs (cairn-sbom) → each output
//! (cairn-archive for tar/WSL/OCI, cairn-disk for raw/VHD/qcow2) into a staging directory
//! → replace `out/IMAGE/` in one rename ([`staging`]). A failed or interrupted build never
//! replaces good outputs, and removes its own temporary files.
//!
//! This crate never prints: progress goes through [`BuildReporter`].

pub mod customize;
mod disk;
mod host_tools;
pub mod image_root;
mod oci;
mod pipeline;
mod sbom;
pub mod staging;
mod wsl;

pub use image_root::ImageRoot;
pub use pipeline::{BuildInput, BuildPackage, BuildSummary, OutputFile, build_image, identity};

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Ask running builds to stop at the next step (the binary calls this on Ctrl-C). The
/// build then fails with [`BuildError::Interrupted`], removing its temporary files.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// True once [`request_stop`] was called.
pub fn interrupted() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Progress of a build; every method has a no-op default.
pub trait BuildReporter {
    /// A phase of `image` starts (`install`, `write raw`, …).
    fn phase(&self, image: &str, phase: &str) {
        let _ = (image, phase);
    }
    /// Progress within a phase (`done` of `total` items; `item` names the latest).
    fn progress(&self, image: &str, done: u64, total: u64, item: &str) {
        let _ = (image, done, total, item);
    }
    /// Something the user should know that is not an error (where the root is assembled
    /// and why, …).
    fn note(&self, image: &str, text: &str) {
        let _ = (image, text);
    }
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReport;
impl BuildReporter for NoReport {}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("{}", fs_message(.0))]
    Fs(#[from] std::io::Error),
    #[error("{}: {}", path.display(), fs_message(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("customization: {0}")]
    Customize(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "cairn build must run as root (it installs packages with dpkg/rpm into a root and sets file owners); run it with sudo"
    )]
    NotRoot,
    #[error(
        "{tool} is not installed (Debian package {package}); it is needed for {why}. Run scripts/setup-host.sh or apt-get install {package}"
    )]
    MissingTool {
        tool: String,
        package: String,
        why: String,
    },
    #[error("interrupted; the previous outputs are untouched and temporary files were removed")]
    Interrupted,
    #[error(transparent)]
    Install(#[from] cairn_install::InstallError),
    #[error(transparent)]
    Initrd(#[from] cairn_initrd::InitrdError),
    #[error(transparent)]
    Archive(#[from] cairn_archive::ArchiveError),
    #[error(transparent)]
    Disk(#[from] cairn_disk::DiskError),
    #[error("SBOM: {0}")]
    Sbom(#[from] cairn_sbom::SbomError),
}

/// I/O error text; a full disk says so plainly.
fn fs_message(e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(28) {
        format!("{e} — the disk is full; free space (or point --out-dir elsewhere) and build again")
    } else {
        e.to_string()
    }
}

pub(crate) fn require_root() -> Result<(), BuildError> {
    let status = fs_err::read_to_string("/proc/self/status")?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u32>().ok());
    if euid == Some(0) {
        Ok(())
    } else {
        Err(BuildError::NotRoot)
    }
}
