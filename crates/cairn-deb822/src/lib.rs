//! Debian's deb822 text formats: the paragraph syntax, binary `Packages` indices (into
//! [`cairn_package::Package`]), `Release`/`InRelease` bodies, and apt source lists (deb822
//! `.sources` and one-line `sources.list`).
//!
//! Pure: it parses text a caller hands it (a reader or a string) and must not open files,
//! fetch anything, decompress, or verify signatures; `cairn-apt` does those.

mod packages;
mod paragraph;
mod release;
mod sources;

pub use packages::{package_from_paragraph, parse_packages};
pub use paragraph::{Paragraph, ParagraphReader, fold, parse_paragraphs};
pub use release::{Release, ReleaseFile, parse_release};
pub use sources::{
    AptSourceEntry, parse_deb822_sources, parse_one_line_sources, parse_sources_file,
};

/// Error parsing deb822 text. Every variant names the input (`origin`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Deb822Error {
    #[error("{origin}: reading line {line}: {source}")]
    Io {
        origin: String,
        line: usize,
        source: std::io::Error,
    },
    #[error("{origin}: line {line}: {reason}")]
    Syntax {
        origin: String,
        line: usize,
        reason: String,
    },
    #[error("{origin}: package {package}: required field {field} is missing")]
    MissingField {
        origin: String,
        package: String,
        field: &'static str,
    },
    #[error("{origin}: package {package}: field {field} {value:?}: {reason}")]
    BadField {
        origin: String,
        package: String,
        field: &'static str,
        value: String,
        reason: String,
    },
}
