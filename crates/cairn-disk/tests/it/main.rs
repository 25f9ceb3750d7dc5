//! Integration tests for cairn-disk, against the real tools: sfdisk, mtools, dosfstools,
//! e2fsprogs, grub-mkimage, qemu-img, and QEMU booting the disks (SeaBIOS and OVMF).
//! They need root (the test trees hold devices and foreign owners) and fail, naming the
//! tool, when something is missing.

mod boot;
mod common;
mod convert;
mod disk;
mod errors;
mod repro;
