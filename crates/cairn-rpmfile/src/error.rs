//! The error type of this crate: every variant names the package file and says what was
//! expected.

use std::io;
use std::path::PathBuf;

/// What can go wrong reading, signing or verifying an RPM file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpmFileError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Not an RPM file, truncated, or a header that does not follow the RPM format.
    #[error("{}: not a valid RPM package: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    #[error(
        "{}: the package is not signed (no OpenPGP signature in its signature header); sign it with `rpmsign --addsign` or cairn",
        path.display()
    )]
    NotSigned { path: PathBuf },
    #[error(
        "{}: signed by unknown key {}; the keyring holds {}: import the key that signs these packages",
        path.display(),
        issuers.join(", "),
        list_or_none(ring)
    )]
    UnknownKey {
        path: PathBuf,
        /// Issuer key ids (or fingerprints) the signatures name, uppercase hex.
        issuers: Vec<String>,
        /// Fingerprints of the keys that were tried.
        ring: Vec<String>,
    },
    #[error(
        "{}: BAD signature by key {fingerprint}: the header does not match what was signed ({reason})",
        path.display()
    )]
    BadSignature {
        path: PathBuf,
        fingerprint: String,
        reason: String,
    },
    /// A digest or size recorded in the package does not match its content: the header or
    /// payload was changed after the package was built (or signed).
    #[error(
        "{}: {what} mismatch: the package records {expected} but its content gives {actual} (modified or damaged after it was built)",
        path.display()
    )]
    DigestMismatch {
        path: PathBuf,
        /// What was compared, e.g. `payload SHA256 digest`, `header SHA256 digest`.
        what: String,
        expected: String,
        actual: String,
    },
    /// Other OpenPGP failures: an expired or revoked signing key, a key that cannot sign.
    #[error("{}: {source}", path.display())]
    OpenPgp {
        path: PathBuf,
        #[source]
        source: cairn_openpgp::PgpError,
    },
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "no keys".to_owned()
    } else {
        v.join(", ")
    }
}

impl RpmFileError {
    pub(crate) fn io(path: &std::path::Path, source: io::Error) -> Self {
        RpmFileError::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn malformed(path: &std::path::Path, reason: impl Into<String>) -> Self {
        RpmFileError::Malformed {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    /// The package file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            RpmFileError::Io { path, .. }
            | RpmFileError::Malformed { path, .. }
            | RpmFileError::NotSigned { path }
            | RpmFileError::UnknownKey { path, .. }
            | RpmFileError::BadSignature { path, .. }
            | RpmFileError::DigestMismatch { path, .. }
            | RpmFileError::OpenPgp { path, .. } => path,
        }
    }
}
