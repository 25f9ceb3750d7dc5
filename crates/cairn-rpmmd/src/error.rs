//! The one error type of this crate. Every variant names the origin (URL or file) and the
//! byte position in the (decompressed) XML where the problem was seen.

/// Error parsing rpm-md metadata.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpmMdError {
    /// The bytes are not well-formed XML.
    #[error("{origin}: malformed XML at byte {pos}: {message}")]
    Xml {
        origin: String,
        pos: u64,
        message: String,
    },
    /// Reading the input failed (for example a decompression error below the parser).
    #[error("{origin}: reading failed at byte {pos}: {source}")]
    Io {
        origin: String,
        pos: u64,
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
    /// The document ended before it was complete.
    #[error("{origin}: the XML ends at byte {pos} before {expected} (truncated file?)")]
    Truncated {
        origin: String,
        pos: u64,
        expected: String,
    },
    /// The document is XML but not the expected kind of document.
    #[error("{origin}: expected {expected} as the root element, found <{found}>")]
    WrongRoot {
        origin: String,
        expected: &'static str,
        found: String,
    },
    /// A required element or attribute is missing.
    #[error("{origin}: {context} has no {what} (near byte {pos})")]
    Missing {
        origin: String,
        pos: u64,
        context: String,
        what: &'static str,
    },
    /// A value is present but unusable.
    #[error("{origin}: {context}: {message} (near byte {pos})")]
    Invalid {
        origin: String,
        pos: u64,
        context: String,
        message: String,
    },
    /// A checksum type this crate does not know.
    #[error(
        "{origin}: {context} uses unknown checksum type {algo:?} (expected sha256, sha512, sha384, sha224, sha1 or md5)"
    )]
    UnknownChecksum {
        origin: String,
        context: String,
        algo: String,
    },
    /// A rich (boolean) dependency that does not parse.
    #[error("{origin}: package '{package}': {source}")]
    Dep {
        origin: String,
        package: String,
        #[source]
        source: Box<cairn_deps::DepError>,
    },
}
