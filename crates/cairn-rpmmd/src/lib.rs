//! rpm-md repository metadata: `repomd.xml`, `primary.xml`, `filelists.xml`, `other.xml` and
//! `updateinfo.xml` as createrepo_c writes them, parsed into [`cairn_package`] types and
//! written from [`RpmRecord`]s and [`Advisory`]s.
//!
//! The primary and filelists parsers stream (repositories hold 60,000+ packages): they read
//! from any [`std::io::BufRead`] and never build a document tree. The writers ([`mod@write`])
//! produce one string per package entry so that a publisher can cache them.
//!
//! Pure: this crate must not fetch, compress, decompress, verify signatures or touch the
//! file system. Callers (`cairn-repo`, the publisher) hand it already decompressed bytes and
//! an `origin` string (URL or file name) that every error repeats, and compress, hash and
//! store what the writers return.

mod error;
mod filelists;
mod primary;
mod record;
mod repomd;
pub mod updateinfo;
pub mod write;
mod xml;

pub use error::RpmMdError;
pub use filelists::parse_filelists;
pub use primary::{parse_primary, parse_primary_each, parse_primary_sized};
pub use record::{RpmChangelog, RpmDep, RpmFile, RpmFileKind, RpmRecord};
pub use repomd::{RepoMd, RepoMdData, parse_repomd};
pub use updateinfo::{
    Advisory, AdvisoryKind, AdvisoryPackage, RefKind, Reference, Severity, UpdateInfoError,
    parse_updateinfo, validate_all, write_updateinfo,
};
pub use write::{
    MetaKind, PackageEntries, RepoMdEntry, document, document_header, filelists_entry, other_entry,
    other_entry_with, primary_entry, write_repomd,
};
