//! Integration tests for cairn-spec: fixtures, edits (snapshotted), round-trip properties,
//! a generated corpus and a comparison with the real `rpmspec`.

mod corpus;
mod edits;
mod fixtures;
mod queries;
mod roundtrip;
mod rpmspec;
