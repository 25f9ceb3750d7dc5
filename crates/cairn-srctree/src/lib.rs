//! Edits to a component's source tree: the directory holding an RPM spec and its sidecar files
//! (patches, config files, source tarballs). cairn's component renderer uses it for file
//! overlays.
//!
//! * [`Tree::apply`] runs one [`FileEdit`] on the loose files of a directory, all-or-nothing,
//!   never touching protected paths such as the spec file.
//! * [`edit_archive`] runs [`FileEdit`]s on the files inside a tar archive in the tree and
//!   repacks it with its original compression, keeping every other member byte for byte.

mod archive;
mod compress;
mod error;
mod tar_raw;
mod text;
mod tree;

pub use archive::{ArchiveEdited, edit_archive};
pub use compress::Compression;
pub use error::SrcTreeError;
pub use tree::{FileEdit, Tree};
