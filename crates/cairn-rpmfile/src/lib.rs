//! RPM package files on disk: read one into the [`cairn_rpmmd::RpmRecord`] a repository
//! publisher writes into rpm-md metadata ([`read_record`]), sign it in place with an
//! OpenPGP key ([`sign_in_place`], [`sign_to`]), and verify its digests and signature
//! against a keyring ([`verify`], [`signer_key_ids`]).
//!
//! Sits above `cairn-rpmmd` (pure metadata) and `cairn-openpgp` (keys and signatures) and
//! does the file I/O: each function reads a package once, streaming the payload (never
//! holding it in memory), and spawns no processes. Headers are parsed with the `rpm` crate
//! after their structure has been checked here, so damaged files give errors naming the
//! file and what was expected.

mod check;
mod error;
mod raw;
mod read;
mod sign;
mod verify;

pub use error::RpmFileError;
pub use read::read_record;
pub use sign::{sign_in_place, sign_to};
pub use verify::{Verified, signer_key_ids, verify};
