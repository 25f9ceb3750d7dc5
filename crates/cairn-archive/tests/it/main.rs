//! Integration tests for cairn-archive.
