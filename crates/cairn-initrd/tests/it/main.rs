//! cairn-initrd against real tools: a small merged-/usr root made of this machine's own
//! ELF programs and C library, indexed by the real `depmod`, unpacked by the real `cpio`
//! and run with `chroot`.

use cairn_initrd::{InitrdError, Spec, build};
use std::path::Path;
use std::process::Command;

const V: &str = "6.1.0-99-amd64";
const LIBDIR: &str = "usr/lib/x86_64-linux-gnu";

fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    fs_err::create_dir_all(p.parent().unwrap()).unwrap();
    fs_err::write(&p, data).unwrap();
}

fn copy(root: &Path, rel: &str, from: &str) {
    write(root, rel, &fs_err::read(from).unwrap());
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::set_permissions(root.join(rel), std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A root whose programs are copies of this machine's dash and true (dynamically
/// linked against its libc), with Debian's merged-/usr links and library config, the
/// unit files initrd.target needs, and a kernel module tree of three modules.
fn sample_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for (link, to) in [
        ("bin", "usr/bin"),
        ("sbin", "usr/sbin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        fs_err::create_dir_all(r.join(to)).unwrap();
        std::os::unix::fs::symlink(to, r.join(link)).unwrap();
    }
    write(r, "etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n");
    write(
        r,
        "etc/ld.so.conf.d/x86_64-linux-gnu.conf",
        format!("/lib/x86_64-linux-gnu\n/{LIBDIR}\n").as_bytes(),
    );
    let libc = fs_err::canonicalize("/lib/x86_64-linux-gnu/libc.so.6").unwrap();
    let ld = fs_err::canonicalize("/lib64/ld-linux-x86-64.so.2").unwrap();
    copy(r, &format!("{LIBDIR}/libc.so.6"), libc.to_str().unwrap());
    copy(
        r,
        &format!("{LIBDIR}/ld-linux-x86-64.so.2"),
        ld.to_str().unwrap(),
    );
    std::os::unix::fs::symlink(
        "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        r.join("usr/lib64/ld-linux-x86-64.so.2"),
    )
    .unwrap();
    copy(r, "usr/bin/dash", "/bin/dash");
    std::os::unix::fs::symlink("dash", r.join("usr/bin/sh")).unwrap();
    for p in [
        "usr/lib/systemd/systemd",
        "usr/lib/systemd/systemd-journald",
        "usr/bin/udevadm",
        "usr/bin/systemctl",
        "usr/lib/systemd/system-generators/systemd-fstab-generator",
        "usr/bin/mount",
        "usr/bin/umount",
        "usr/bin/kmod",
    ] {
        copy(r, p, "/bin/true");
    }
    std::os::unix::fs::symlink("../../bin/udevadm", r.join("usr/lib/systemd/systemd-udevd"))
        .unwrap();
    std::os::unix::fs::symlink("../bin/kmod", r.join("usr/sbin/modprobe")).unwrap();
    for u in cairn_initrd::UNITS {
        write(r, &format!("usr/lib/systemd/system/{u}"), b"[Unit]\n");
    }
    fs_err::create_dir_all(r.join("usr/lib/systemd/system/sysinit.target.wants")).unwrap();
    std::os::unix::fs::symlink(
        "../systemd-journald.service",
        r.join("usr/lib/systemd/system/sysinit.target.wants/systemd-journald.service"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../not-in-the-initrd.service",
        r.join("usr/lib/systemd/system/sysinit.target.wants/not-in-the-initrd.service"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "graphical.target",
        r.join("usr/lib/systemd/system/default.target"),
    )
    .unwrap();
    write(r, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n");
    write(r, "etc/group", b"root:x:0:\n");
    write(r, "etc/shadow", b"root:secret:1::::::\n");
    let m = format!("usr/lib/modules/{V}");
    write(
        r,
        &format!("{m}/modules.dep"),
        b"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio.ko:\nkernel/sound/snd.ko:\n",
    );
    for k in [
        "kernel/drivers/block/virtio_blk.ko",
        "kernel/drivers/virtio/virtio.ko",
        "kernel/sound/snd.ko",
    ] {
        write(r, &format!("{m}/{k}"), b"not really a module");
    }
    write(r, &format!("boot/config-{V}"), b"CONFIG_RD_ZSTD=y\n");
    dir
}

/// The real depmod, run on the host against the staging directory inside the root.
fn host_depmod(root: &Path) -> impl Fn(&str, &str) -> Result<(), InitrdError> + '_ {
    move |base: &str, version: &str| {
        let o = Command::new("depmod")
            .arg("-b")
            .arg(root.join(base.trim_start_matches('/')))
            .arg(version)
            .output()
            .map_err(|e| InitrdError::Depmod(e.to_string()))?;
        match o.status.success() {
            true => Ok(()),
            false => Err(InitrdError::Depmod(
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )),
        }
    }
}

fn spec(root: &Path) -> Spec<'_> {
    Spec {
        root,
        kernel_version: V,
        source_date_epoch: 1_700_000_000,
        name: "Sample 1",
    }
}

fn unpack(data: &[u8], into: &Path) {
    let cpio = zstd::decode_all(data).unwrap();
    let mut child = Command::new("cpio")
        .args(["-idm", "--quiet", "--no-absolute-filenames"])
        .current_dir(into)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(&cpio).unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_initrd_runs_its_programs_and_holds_what_systemd_needs() {
    let root = sample_root();
    let built = build(&spec(root.path()), &host_depmod(root.path())).unwrap();
    assert_eq!(built.compression, "zstd");
    assert_eq!(
        built.modules, 2,
        "virtio_blk and what it depends on, not snd"
    );
    // nothing left behind in the root
    assert_eq!(
        fs_err::read_dir(root.path().join("var/tmp"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );

    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    unpack(&built.data, o);
    // the programs run: their interpreter and libraries came along
    let run = Command::new("chroot")
        .arg(o)
        .args(["/bin/sh", "-c", "/usr/lib/systemd/systemd && echo ran"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout), "ran\n");
    assert_eq!(
        fs_err::read_link(o.join("init")).unwrap(),
        Path::new("/usr/lib/systemd/systemd")
    );
    assert_eq!(
        fs_err::read_link(o.join("lib")).unwrap(),
        Path::new("usr/lib")
    );
    assert_eq!(
        fs_err::read_link(o.join("usr/lib/systemd/systemd-udevd")).unwrap(),
        Path::new("../../bin/udevadm")
    );
    // the initrd's default target; only links whose both ends are there
    let units = o.join("usr/lib/systemd/system");
    assert_eq!(
        fs_err::read_link(units.join("default.target")).unwrap(),
        Path::new("initrd.target")
    );
    assert!(
        units
            .join("sysinit.target.wants/systemd-journald.service")
            .exists()
    );
    assert!(
        fs_err::symlink_metadata(units.join("sysinit.target.wants/not-in-the-initrd.service"))
            .is_err()
    );
    assert!(
        fs_err::read_to_string(o.join("etc/initrd-release"))
            .unwrap()
            .contains("PRETTY_NAME=\"Sample 1 initrd\"")
    );
    assert!(o.join("etc/passwd").is_file());
    assert!(!o.join("etc/shadow").exists(), "no secrets in the initrd");
    // the modules, indexed by depmod
    let m = o.join(format!("usr/lib/modules/{V}"));
    assert!(m.join("kernel/drivers/block/virtio_blk.ko").is_file());
    assert!(m.join("kernel/drivers/virtio/virtio.ko").is_file());
    assert!(!m.join("kernel/sound/snd.ko").exists());
    assert!(m.join("modules.dep.bin").is_file());

    // the same root gives the same bytes
    let again = build(&spec(root.path()), &host_depmod(root.path())).unwrap();
    assert_eq!(again.data, built.data);
}

#[test]
fn missing_programs_and_libraries_are_named() {
    let root = sample_root();
    fs_err::remove_file(root.path().join(format!("{LIBDIR}/libc.so.6"))).unwrap();
    let e = build(&spec(root.path()), &host_depmod(root.path())).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, InitrdError::MissingLibrary { .. }), "{text}");
    assert!(
        text.contains("`/usr/lib/systemd/systemd` needs the library libc.so.6"),
        "{text}"
    );

    let root = sample_root();
    fs_err::remove_file(root.path().join("usr/lib/systemd/systemd")).unwrap();
    let text = build(&spec(root.path()), &host_depmod(root.path()))
        .unwrap_err()
        .to_string();
    assert!(text.contains("`/usr/lib/systemd/systemd`"), "{text}");

    let root = sample_root();
    fs_err::write(
        root.path().join(format!("boot/config-{V}")),
        "CONFIG_RD_XZ=y\n",
    )
    .unwrap();
    let text = build(&spec(root.path()), &host_depmod(root.path()))
        .unwrap_err()
        .to_string();
    assert!(text.contains("CONFIG_RD_ZSTD"), "{text}");
}

#[test]
fn a_kernel_without_zstd_gets_a_gzip_initrd() {
    let root = sample_root();
    fs_err::write(
        root.path().join(format!("boot/config-{V}")),
        "CONFIG_RD_GZIP=y\n# CONFIG_RD_ZSTD is not set\n",
    )
    .unwrap();
    let built = build(&spec(root.path()), &host_depmod(root.path())).unwrap();
    assert_eq!(built.compression, "gzip");
    let mut cpio = Vec::new();
    use std::io::Read as _;
    flate2::read::GzDecoder::new(&built.data[..])
        .read_to_end(&mut cpio)
        .unwrap();
    assert_eq!(cpio.len() as u64, built.uncompressed);
    assert!(cpio.starts_with(b"070701"));
}
