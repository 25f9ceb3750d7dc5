//! Error messages name what is wrong: the missing boot file, the failing command with its
//! stderr, the spec field.

use crate::common::*;
use anyhow::{Result, ensure};
use cairn_disk::{DiskError, DiskIds, build_raw, convert_qcow2};
use std::path::PathBuf;

fn small_root(dir: &std::path::Path) -> Result<PathBuf> {
    let root = dir.join("root");
    fs_err::create_dir_all(root.join("boot"))?;
    fs_err::write(root.join(KERNEL), b"kernel")?;
    fs_err::write(root.join(INITRD), b"initrd")?;
    Ok(root)
}

#[test]
fn missing_kernel_or_initrd_names_the_path() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/errors");
    let root = small_root(dir.path())?;
    let out = dir.path().join("disk.raw");

    let mut s = spec(&ids, &root);
    s.kernel = "boot/vmlinuz-missing".into();
    let e = build_raw(&s, &out).unwrap_err();
    let msg = e.to_string();
    ensure!(
        matches!(e, DiskError::MissingBootFile { what: "kernel", .. }),
        "{msg}"
    );
    ensure!(msg.contains("boot/vmlinuz-missing"), "{msg}");
    ensure!(
        msg.contains(&root.canonicalize()?.display().to_string()),
        "{msg}"
    );

    let mut s = spec(&ids, &root);
    s.initrd = Some("boot/initrd.img-missing".into());
    let msg = build_raw(&s, &out).unwrap_err().to_string();
    ensure!(
        msg.contains("initrd") && msg.contains("boot/initrd.img-missing"),
        "{msg}"
    );
    ensure!(
        !out.exists(),
        "nothing is written before the inputs are checked"
    );
    Ok(())
}

#[test]
fn failing_grub_mkimage_names_the_command_and_its_stderr() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/errors-grub");
    let root = small_root(dir.path())?;
    // A GRUB library directory that looks installed but holds no modules.
    let lib = dir.path().join("grub");
    for p in ["i386-pc", "x86_64-efi"] {
        fs_err::create_dir_all(lib.join(p))?;
        fs_err::write(lib.join(p).join("moddep.lst"), "")?;
    }
    let mut s = spec(&ids, &root);
    s.grub_lib_dir = lib.clone();
    let e = build_raw(&s, &dir.path().join("disk.raw")).unwrap_err();
    let msg = e.to_string();
    ensure!(matches!(e, DiskError::ToolFailed { .. }), "{msg}");
    ensure!(msg.contains("grub-mkimage -O i386-pc"), "{msg}");
    ensure!(msg.contains(&lib.display().to_string()), "{msg}");
    // grub-mkimage's own complaint about the missing module files.
    ensure!(msg.contains("grub-mkimage: error"), "{msg}");

    // Without the module directory at all, the package to install is named.
    let mut s = spec(&ids, &root);
    s.grub_lib_dir = dir.path().join("nowhere");
    let msg = build_raw(&s, &dir.path().join("disk.raw"))
        .unwrap_err()
        .to_string();
    ensure!(msg.contains("grub-pc-bin"), "{msg}");
    s.boot.bios = false;
    let msg = build_raw(&s, &dir.path().join("disk.raw"))
        .unwrap_err()
        .to_string();
    ensure!(msg.contains("grub-efi-amd64-bin"), "{msg}");
    Ok(())
}

#[test]
fn too_small_root_names_the_remedy() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/errors-small");
    let root = small_root(dir.path())?;
    // 40 MiB of content that cannot fit in a 32 MiB filesystem.
    let mut big = Vec::with_capacity(40 << 20);
    for i in 0u32..(10 << 20) {
        big.extend_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
    }
    fs_err::write(root.join("big"), big)?;
    let mut s = spec(&ids, &root);
    s.sizes.root = cairn_disk::RootSize::Exact(32 << 20);
    let msg = build_raw(&s, &dir.path().join("disk.raw"))
        .unwrap_err()
        .to_string();
    ensure!(msg.contains("debugfs"), "{msg}");
    ensure!(msg.contains("too small"), "{msg}");
    Ok(())
}

#[test]
fn bad_spec_fields_are_named() -> Result<()> {
    let dir = scratch()?;
    let ids = DiskIds::derive("cairn-it/errors-spec");
    let root = small_root(dir.path())?;
    let out = dir.path().join("disk.raw");
    let mut s = spec(&ids, &root);
    s.boot.bios = false;
    s.boot.uefi = false;
    ensure!(
        build_raw(&s, &out)
            .unwrap_err()
            .to_string()
            .contains("boot")
    );
    let mut s = spec(&ids, &root);
    s.sizes.esp = 8 << 20;
    ensure!(
        build_raw(&s, &out)
            .unwrap_err()
            .to_string()
            .contains("sizes.esp")
    );
    let mut s = spec(&ids, &root);
    s.cmdline = "quiet\nrescue".into();
    ensure!(
        build_raw(&s, &out)
            .unwrap_err()
            .to_string()
            .contains("cmdline")
    );
    // A socket in the root is refused by name.
    let sock = root.join("run.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock)?;
    let msg = build_raw(&spec(&ids, &root), &out).unwrap_err().to_string();
    ensure!(msg.contains("run.sock") && msg.contains("socket"), "{msg}");
    Ok(())
}

#[test]
fn failing_qemu_img_names_the_command_and_its_stderr() -> Result<()> {
    let dir = scratch()?;
    let raw = dir.path().join("in.raw");
    fs_err::write(&raw, vec![0u8; 1 << 20])?;
    let out = dir.path().join("no-such-dir").join("out.qcow2");
    let e = convert_qcow2(&raw, &out).unwrap_err();
    let msg = e.to_string();
    ensure!(matches!(e, DiskError::ToolFailed { .. }), "{msg}");
    ensure!(msg.contains("qemu-img convert"), "{msg}");
    ensure!(msg.contains("No such file or directory"), "{msg}");
    let msg = convert_qcow2(dir.path(), &out).unwrap_err().to_string();
    ensure!(msg.contains("not a regular file"), "{msg}");
    Ok(())
}
