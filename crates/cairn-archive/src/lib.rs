//! cairn-archive: reproducible archives of a prepared root directory.
//!
//! - [`write_tar`] / [`write_tar_gz`]: a tar whose bytes depend only on the tree and the
//!   options (sorted members, clamped mtimes, numeric owners, xattrs as PAX records, hard
//!   links, devices, fifos), with excludes and overlay entries that never touch the root.
//! - [`write_wsl`] / [`validate_wsl`]: modern WSL distribution files (`.wsl`) and an offline
//!   implementation of Microsoft's distribution validator rules.
//! - [`write_oci`]: an OCI image layout (one gzip layer) and a docker-archive tarball.
//!
//! This crate reads the root and writes only the outputs it is given. It must not change the
//! root, run programs, use the network, read the clock or the environment (times come from
//! `source_date_epoch`), or print (it returns summaries and findings).

mod error;
mod gzip;
mod hashing;
mod header;
mod ini;
mod json;
mod oci;
mod tarball;
mod validate;
mod wsl;

pub use error::ArchiveError;
pub use gzip::{GzipWriter, TarGzSummary, write_tar_gz};
pub use json::rfc3339;
pub use oci::{
    MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_LAYER, MEDIA_TYPE_MANIFEST, OciConfig,
    OciSummary, write_oci,
};
pub use tarball::{OverlayEntry, OverlayKind, Skipped, TarOptions, TarSummary, write_tar};
pub use validate::{Finding, Severity, WslRule, validate_wsl};
pub use wsl::{
    DISCOURAGED_UNITS, MAX_WSL_ASSET_SIZE, OOBE_COMMAND, SHORTCUT_ICON, TERMINAL_PROFILE,
    WSL_CONF_KEYS, WSL_EXCLUDES, WSL1_UNSUPPORTED_XATTRS, WslConfig, WslSummary, write_wsl,
};
