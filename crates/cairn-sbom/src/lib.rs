//! cairn-sbom (being written).
