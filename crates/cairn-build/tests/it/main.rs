//! Integration tests for cairn-build.

mod customize;
