//! Integration tests for cairn-install.
