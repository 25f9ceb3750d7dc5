//! Integration tests for cairn-sbom.
