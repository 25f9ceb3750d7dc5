//! Integration tests for cairn-archive, against GNU tar, getcap, skopeo, umoci and podman.
//! They need root (devices, owners, capabilities, chroot).

mod common;
mod oci;
mod repro;
mod tar;
mod wsl;
