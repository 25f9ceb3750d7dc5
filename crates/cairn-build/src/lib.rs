//! `cairn build`: from a locked, fetched package set to images on disk.
//!
//! The path one image takes: install the set into a fresh root (cairn-install) → apply the
//! customizations of `cairn.toml` ([`customize`]) → finalize for reproducibility → write each
//! output (cairn-archive, cairn-disk) with SBOMs (cairn-sbom) into a staging directory →
//! replace `out/IMAGE/` in one rename. A failed or interrupted build never replaces good
//! outputs, and removes its own temporary files.
//!
//! This crate never prints: progress goes through [`BuildReporter`].

pub mod customize;

use std::path::PathBuf;

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error(transparent)]
    Fs(#[from] std::io::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("customization: {0}")]
    Customize(String),
}
