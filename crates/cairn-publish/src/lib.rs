//! Publishing: turn a directory of RPMs into a signed rpm-md repository that dnf trusts,
//! with security advisories in `updateinfo.xml`; and the stores behind it — signing keys
//! ([`KeyStore`]) and advisory records ([`load_advisories`]).
//!
//! It never prints: steps and progress go through [`PublishReporter`]; results come back
//! as data ([`PublishSummary`]). Metadata formats live in `cairn-rpmmd`, RPM header
//! reading and signing in `cairn-rpmfile`, OpenPGP in `cairn-openpgp`.

mod advisories;
mod atomic;
mod cache;
mod chunks;
mod keys;
mod publish;

pub use advisories::{
    advisory_path, load_advisories, next_advisory_id, read_advisory, write_new_advisory,
};
pub use keys::{KeyEntry, KeyStatus, KeyStore};
pub use publish::{
    Compression, MetaFile, NoReport, PublishOptions, PublishReporter, PublishSummary, publish,
};

use std::path::PathBuf;

/// The key that signs, and what clients should trust.
#[derive(Debug)]
pub struct Signing {
    pub key: cairn_openpgp::SigningKey,
    /// Fingerprints of every key whose package signatures are accepted as already signed
    /// (the active key and retired ones still in the store).
    pub trusted_fingerprints: Vec<String>,
    /// Armored public keys written beside the repository for clients to import.
    pub public_keys: String,
    /// File name for [`Signing::public_keys`] in the repository root (`RPM-GPG-KEY-cairn`).
    pub public_key_file: String,
}

impl Signing {
    /// The store's active key, trusting every key in the store.
    pub fn from_store(store: &KeyStore, public_key_file: &str) -> Result<Self, PublishError> {
        Ok(Signing {
            key: store.active_key()?,
            trusted_fingerprints: store
                .entries()
                .iter()
                .map(|k| k.fingerprint.clone())
                .collect(),
            public_keys: store.public_keys_armored()?,
            public_key_file: public_key_file.to_owned(),
        })
    }
}

/// What can go wrong publishing. Messages name the file, package or advisory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error(transparent)]
    Rpm(cairn_rpmfile::RpmFileError),
    #[error("{what}: {source}")]
    Pgp {
        what: String,
        source: cairn_openpgp::PgpError,
    },
    #[error("{}: {message}", path.display())]
    Keys { path: PathBuf, message: String },
    #[error(
        "no signing key in {}: create one with `cairn key generate --keys {}`, or publish unsigned with --no-sign",
        dir.display(), dir.display()
    )]
    NoSigningKey { dir: PathBuf },
    #[error("{}: {message}", path.display())]
    Advisory { path: PathBuf, message: String },
    #[error("advisory {id}: {message}")]
    AdvisoryInvalid { id: String, message: String },
    #[error(
        "security advisory {id} names {nevra}, which is not in the repository {}: publish the fixed package with it, or correct the advisory",
        repo.display()
    )]
    AdvisoryPackage {
        id: String,
        nevra: String,
        repo: PathBuf,
    },
    #[error(
        "another publish holds {}; wait for it to finish (a killed publish releases the lock when its process ends)",
        lock.display()
    )]
    Busy { lock: PathBuf },
}
