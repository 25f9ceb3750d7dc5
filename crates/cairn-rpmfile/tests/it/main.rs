//! cairn-rpmfile against the real rpm tools: packages built by rpmbuild, compared with
//! `rpm -qp` and createrepo_c, signed and checked with `rpmkeys`, signed by `rpmsign`.

mod common;
mod errors;
mod generated;
mod read;
mod sign;

/// The generator of `examples/gen-rpms.rs`.
#[path = "../../examples/support/generate.rs"]
mod generate;
