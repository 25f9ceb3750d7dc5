//! Integration tests for cairn-disk.
