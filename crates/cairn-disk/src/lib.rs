//! cairn-disk: bootable disk images from a prepared root directory.
//!
//! It turns an installed root tree into a raw GPT disk (BIOS boot partition, EFI System
//! Partition, ext4 root per the Discoverable Partitions Specification) with GRUB installed
//! for legacy BIOS and UEFI, and converts raw disks into Azure fixed VHDs and qcow2.
//!
//! What it must not do:
//! - mount anything, or use loop or device-mapper devices: filesystems are written into
//!   the image file with userspace tools (`mkfs.ext4` + `debugfs`, mtools, `grub-mkimage`,
//!   `qemu-img`), and the GPT, the protective MBR, GRUB's sector pointers and the VHD
//!   footer are written by this crate;
//! - read the clock or the environment for anything that ends up in an image: times come
//!   from an explicit `source_date_epoch`, identifiers (GUIDs, UUIDs, FAT serials) are
//!   derived from an explicit identity string with SHA-256 (see [`DiskIds`]);
//! - print: progress goes through [`Progress`].
//!
//! Outputs are written exactly to the path the caller gives; temporary files live in a
//! private directory beside it and are removed on return.

mod esp;
mod ext4;
mod gpt;
mod grub;
mod ids;
mod raw;
mod tools;
mod vhd;

pub use ids::{DiskIds, Guid, ParseGuidError, fstab};
pub use raw::{
    BootFlags, NoProgress, PartitionInfo, Progress, RawInfo, RawSpec, RootSize, Sizes, build_raw,
    build_raw_with_progress,
};
pub use vhd::{VhdFooter, VhdGeometry, VhdInfo, vhd_geometry, vhd_virtual_size, write_vhd_fixed};

use std::path::{Path, PathBuf};

/// Partition type GUID of the BIOS boot partition (GRUB's core.img lives there).
pub const TYPE_BIOS_BOOT: Guid = Guid::from_str_const("21686148-6449-6E6F-744E-656564454649");
/// Partition type GUID of the EFI System Partition.
pub const TYPE_ESP: Guid = Guid::from_str_const("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
/// Partition type GUID "Linux root (x86-64)" of the Discoverable Partitions Specification.
pub const TYPE_LINUX_ROOT_X86_64: Guid =
    Guid::from_str_const("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");

/// Everything that can go wrong while building or converting a disk image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiskError {
    /// A file operation failed (the message names the path).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The kernel or initrd named in the spec is not a regular file inside the root.
    #[error(
        "the {what} `{}` is not in the root directory: {} is missing or not a regular file \
         (install the kernel package into the root, or fix the {what} path)",
        rel.display(),
        path.display()
    )]
    MissingBootFile {
        /// "kernel" or "initrd".
        what: &'static str,
        /// The path as given, relative to the root.
        rel: PathBuf,
        /// Where it was looked for on the host.
        path: PathBuf,
    },
    /// A field of the spec has a value this crate cannot use.
    #[error("invalid disk spec: {field}: {reason}")]
    InvalidSpec {
        /// The field, e.g. `sizes.esp`.
        field: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A host tool (or GRUB's module directory) is not installed.
    #[error(
        "`{tool}` is not installed on this host (looked in PATH, /usr/sbin and /sbin): \
         install the Debian package `{package}`"
    )]
    ToolMissing {
        /// The program or directory that was looked for.
        tool: String,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// A host tool ran and failed.
    #[error("command failed ({status}): {command}\n{stderr}")]
    ToolFailed {
        /// The command line, shell-quoted.
        command: String,
        /// How it ended, e.g. `exit status: 1`.
        status: String,
        /// Its standard error (and, for debugfs, the error lines it printed).
        stderr: String,
    },
    /// The root tree holds something an ext4 image built this way cannot represent.
    #[error("cannot store {} in the root filesystem: {reason}", path.display())]
    Unsupported {
        /// The offending host path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// GRUB's core image does not fit where it has to go.
    #[error("GRUB core image {} is {size} bytes, more than the {limit} bytes it may occupy", path.display())]
    CoreImageTooLarge {
        /// The core.img that grub-mkimage wrote.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit (BIOS boot partition size or GRUB's load limit).
        limit: u64,
    },
    /// A raw disk given to a converter is not usable.
    #[error("{}: {reason}", path.display())]
    BadInput {
        /// The input file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Converts a raw disk into a qcow2 image with `qemu-img convert -f raw -O qcow2`.
pub fn convert_qcow2(raw: &Path, out: &Path) -> Result<(), DiskError> {
    let meta = fs_err::metadata(raw)?;
    if !meta.is_file() {
        return Err(DiskError::BadInput {
            path: raw.to_path_buf(),
            reason: "not a regular file".into(),
        });
    }
    let qemu_img = tools::find(&tools::QEMU_IMG)?;
    let mut cmd = std::process::Command::new(qemu_img);
    cmd.arg("convert")
        .arg("-q")
        .args(["-f", "raw", "-O", "qcow2"])
        .arg(raw)
        .arg(out);
    tools::run(&mut cmd)?;
    Ok(())
}
