//! rpm-md repository metadata: `repomd.xml`, `primary.xml` and `filelists.xml` as
//! createrepo_c writes them, parsed into [`cairn_package`] types.
//!
//! The primary and filelists parsers stream (repositories hold 60,000+ packages): they read
//! from any [`std::io::BufRead`] and never build a document tree.
//!
//! Pure: this crate must not fetch, decompress, verify signatures or touch the file system.
//! Callers (`cairn-repo`) hand it already decompressed bytes and an `origin` string (URL or
//! file name) that every error repeats. It does not write metadata.

mod error;
mod filelists;
mod primary;
mod repomd;
mod xml;

pub use error::RpmMdError;
pub use filelists::parse_filelists;
pub use primary::{parse_primary, parse_primary_each, parse_primary_sized};
pub use repomd::{RepoMd, RepoMdData, parse_repomd};
