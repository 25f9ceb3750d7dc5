//! write_wsl and validate_wsl: a good distribution passes, each rule flags a broken tree.

use std::os::unix::fs::{PermissionsExt, lchown, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use cairn_archive::{
    Finding, Severity, TarOptions, WslConfig, WslRule, validate_wsl, write_tar, write_tar_gz,
    write_wsl,
};

use crate::common::*;

/// A 1×1 32-bit Windows icon.
pub fn ico() -> Vec<u8> {
    let mut v = vec![0, 0, 1, 0, 1, 0]; // ICONDIR: reserved, type 1 (icon), 1 image
    v.extend_from_slice(&[1, 1, 0, 0, 1, 0, 32, 0]); // 1×1, no palette, 1 plane, 32 bpp
    v.extend_from_slice(&48u32.to_le_bytes()); // image size
    v.extend_from_slice(&22u32.to_le_bytes()); // image offset
    v.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
    v.extend_from_slice(&1i32.to_le_bytes());
    v.extend_from_slice(&2i32.to_le_bytes()); // height counts XOR + AND masks
    v.extend_from_slice(&[1, 0, 32, 0]);
    v.extend_from_slice(&[0; 24]);
    v.extend_from_slice(&[0x20, 0x80, 0xe0, 0xff]); // one BGRA pixel
    v.extend_from_slice(&[0; 4]); // AND mask row
    v
}

/// A small root as a distribution would hand it over: busybox, systemd unit files with
/// discouraged units enabled, a kernel, an initramfs, modules, resolv.conf and an SELinux label.
pub fn distro_root(root: &Path) {
    mkdir(root, 0o755);
    for d in [
        "bin",
        "sbin",
        "etc",
        "root",
        "home",
        "tmp",
        "usr/lib/systemd/system",
    ] {
        mkdir(&root.join(d), if d == "tmp" { 0o1777 } else { 0o755 });
    }
    fs_err::copy(tool("busybox"), root.join("bin/busybox")).unwrap();
    fs_err::set_permissions(
        root.join("bin/busybox"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    for applet in [
        "sh", "grep", "tr", "adduser", "addgroup", "passwd", "cat", "echo", "mkdir",
    ] {
        symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    symlink("../bin/busybox", root.join("sbin/init")).unwrap();
    write(
        &root.join("etc/passwd"),
        b"root:x:0:0:root:/root:/bin/sh\n",
        0o644,
    );
    write(
        &root.join("etc/group"),
        b"root:x:0:\nadm:x:4:\nsudo:x:27:\n",
        0o644,
    );
    write(
        &root.join("etc/shadow"),
        b"root:*:19000:0:99999:7:::\n",
        0o640,
    );
    write(
        &root.join("etc/resolv.conf"),
        b"nameserver 192.0.2.1\n",
        0o644,
    );
    write(
        &root.join("etc/fstab"),
        b"UUID=0000 / ext4 defaults 0 1\n",
        0o644,
    );
    write(&root.join("boot/vmlinuz-6.1.0"), b"kernel", 0o644);
    write(&root.join("boot/initrd.img-6.1.0"), b"initrd", 0o644);
    write(&root.join("boot/grub/grub.cfg"), b"menuentry", 0o644);
    write(
        &root.join("usr/lib/modules/6.1.0/vmlinuz"),
        b"kernel",
        0o644,
    );
    write(
        &root.join("usr/lib/modules/6.1.0/kernel/fs/x.ko"),
        b"module",
        0o644,
    );
    let units = root.join("usr/lib/systemd/system");
    for unit in [
        "systemd-resolved.service",
        "systemd-tmpfiles-setup.service",
        "ssh.service",
    ] {
        write(&units.join(unit), b"[Unit]\n", 0o644);
    }
    mkdir(&units.join("sysinit.target.wants"), 0o755);
    symlink(
        "../systemd-tmpfiles-setup.service",
        units.join("sysinit.target.wants/systemd-tmpfiles-setup.service"),
    )
    .unwrap();
    mkdir(
        &root.join("etc/systemd/system/multi-user.target.wants"),
        0o755,
    );
    for unit in ["systemd-resolved.service", "ssh.service"] {
        symlink(
            format!("/usr/lib/systemd/system/{unit}"),
            root.join("etc/systemd/system/multi-user.target.wants")
                .join(unit),
        )
        .unwrap();
    }
    xattr::set(
        root.join("bin/busybox"),
        "security.selinux",
        b"system_u:object_r:bin_t:s0\0",
    )
    .unwrap();
}

pub fn wsl_config() -> WslConfig {
    let mut cfg = WslConfig::new("cairn-test", EPOCH);
    cfg.icon = Some(ico());
    cfg.terminal_profile = Some(r#"{"profiles":[{"colorScheme":"Campbell"}]}"#.into());
    cfg
}

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn written_distribution_passes_every_rule_and_has_the_wsl_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    distro_root(&root);
    let before = snapshot(&root, u64::MAX, true);
    let out = tmp.path().join("cairn.wsl");
    let summary = write_wsl(&root, &out, &wsl_config()).unwrap();
    assert_same_tree(&before, &snapshot(&root, u64::MAX, true));
    assert_eq!(
        summary.masked_units,
        vec!["systemd-resolved.service", "systemd-tmpfiles-setup.service"]
    );
    assert_eq!(summary.bytes, fs_err::metadata(&out).unwrap().len());

    let findings = validate_wsl(&out).unwrap();
    assert!(findings.is_empty(), "{}", describe(&findings));

    let x = tmp.path().join("x");
    fs_err::create_dir(&x).unwrap();
    run(Command::new(tool("tar"))
        .args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpzf"])
        .arg(&out)
        .arg("-C")
        .arg(&x));
    let dist = fs_err::read_to_string(x.join("etc/wsl-distribution.conf")).unwrap();
    for needle in [
        "[oobe]",
        "command = /usr/lib/wsl/oobe.sh",
        "defaultUid = 1000",
        "defaultName = cairn-test",
        "[shortcut]",
        "icon = /usr/lib/wsl/shortcut.ico",
        "[windowsterminal]",
        "ProfileTemplate = /usr/lib/wsl/terminal-profile.json",
    ] {
        assert!(dist.contains(needle), "{needle} missing from\n{dist}");
    }
    assert!(
        fs_err::read_to_string(x.join("etc/wsl.conf"))
            .unwrap()
            .contains("[boot]\nsystemd = true\n")
    );
    assert_eq!(
        fs_err::read(x.join("usr/lib/wsl/shortcut.ico")).unwrap(),
        ico()
    );
    let got = snapshot(&x, u64::MAX, false);
    assert_eq!(got["usr/lib/wsl/oobe.sh"].mode, 0o755);
    assert_eq!(got["usr/lib/wsl/terminal-profile.json"].mode, 0o640);
    assert_eq!(
        got["etc/systemd/system/systemd-resolved.service"].detail,
        "/dev/null"
    );
    assert_eq!(
        got["etc/systemd/system/systemd-tmpfiles-setup.service"].detail,
        "/dev/null"
    );
    assert!(!got.contains_key("etc/systemd/system/ssh.service"));
    for gone in [
        "boot/vmlinuz-6.1.0",
        "boot/grub",
        "usr/lib/modules/6.1.0",
        "etc/resolv.conf",
    ] {
        assert!(!got.contains_key(gone), "{gone} should be left out");
    }
    assert!(got.contains_key("boot") && got.contains_key("usr/lib/modules"));
    assert!(
        got["bin/busybox"].xattrs.is_empty(),
        "security.selinux must be dropped"
    );
    assert!(
        !fs_err::read_to_string(x.join("etc/fstab"))
            .unwrap()
            .contains("UUID")
    );

    // The same tree packed by GNU tar (its own member names and headers) also passes.
    let gnu = tmp.path().join("gnu.wsl");
    run(Command::new(tool("tar"))
        .args(["--numeric-owner", "-czf"])
        .arg(&gnu)
        .arg("-C")
        .arg(&x)
        .arg("."));
    let findings = validate_wsl(&gnu).unwrap();
    assert!(findings.is_empty(), "{}", describe(&findings));
}

#[test]
fn oobe_script_creates_the_default_user() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    distro_root(&root);
    let out = tmp.path().join("cairn.wsl");
    write_wsl(&root, &out, &wsl_config()).unwrap();
    let x = tmp.path().join("x");
    fs_err::create_dir(&x).unwrap();
    run(Command::new(tool("tar"))
        .args(["--numeric-owner", "-xpzf"])
        .arg(&out)
        .arg("-C")
        .arg(&x));
    // What WSL provides at run time (/dev) and what a real distribution has (shadow's useradd;
    // Debian's static busybox has no adduser): the host's useradd with its libraries.
    mkdir(&x.join("dev"), 0o755);
    run(Command::new(tool("mknod"))
        .arg("-m")
        .arg("0666")
        .arg(x.join("dev/null"))
        .args(["c", "1", "3"]));
    install_host_binary(&x, &tool("useradd"));
    let mut child = Command::new(tool("chroot"))
        .arg(&x)
        .arg("/usr/lib/wsl/oobe.sh")
        .env("PATH", "/bin:/sbin:/usr/bin:/usr/sbin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Bad Name\nalice\nsecret-pw\nsecret-pw\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "oobe failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Use lowercase letters"), "{stdout}");
    let passwd = fs_err::read_to_string(x.join("etc/passwd")).unwrap();
    let alice = passwd
        .lines()
        .find(|l| l.starts_with("alice:"))
        .unwrap_or_else(|| panic!("{passwd}"));
    assert_eq!(alice.split(':').nth(2), Some("1000"), "{alice}");
    let group = fs_err::read_to_string(x.join("etc/group")).unwrap();
    for g in ["adm", "sudo"] {
        let line = group
            .lines()
            .find(|l| l.starts_with(&format!("{g}:")))
            .unwrap();
        assert!(line.ends_with("alice"), "{g}: {line}");
    }
    assert!(
        !group.lines().any(|l| l.starts_with("wheel:")),
        "wheel does not exist in this root and must not be created"
    );
    let shadow = fs_err::read_to_string(x.join("etc/shadow")).unwrap();
    let hash = shadow
        .lines()
        .find(|l| l.starts_with("alice:"))
        .unwrap()
        .split(':')
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(hash.starts_with('$'), "password was not set: {hash}");
    // A second start finds the user and does nothing.
    let again = run(Command::new(tool("chroot"))
        .arg(&x)
        .arg("/usr/lib/wsl/oobe.sh")
        .env("PATH", "/bin")
        .stdin(std::process::Stdio::null()));
    assert!(again.contains("exists already"), "{again}");
}

/// Copies a host binary and the shared libraries `ldd` names into `root` at the same paths.
fn install_host_binary(root: &Path, binary: &Path) {
    let ldd = run(Command::new(tool("ldd")).arg(binary));
    let mut files = vec![binary.to_owned()];
    for word in ldd.split_whitespace() {
        if word.starts_with('/') {
            files.push(PathBuf::from(word));
        }
    }
    for file in files {
        let dest = root.join(file.strip_prefix("/").unwrap());
        fs_err::create_dir_all(dest.parent().unwrap()).unwrap();
        fs_err::copy(&file, &dest).unwrap();
    }
}

/// A good distribution extracted to a directory, ready to be broken and packed again.
struct Broken {
    tmp: tempfile::TempDir,
    x: PathBuf,
}

impl Broken {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        distro_root(&root);
        let out = tmp.path().join("good.wsl");
        write_wsl(&root, &out, &wsl_config()).unwrap();
        let x = tmp.path().join("nest/rootfs");
        fs_err::create_dir_all(&x).unwrap();
        run(Command::new(tool("tar"))
            .args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpzf"])
            .arg(&out)
            .arg("-C")
            .arg(&x));
        Broken { tmp, x }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.x.join(rel)
    }

    fn edit(&self, rel: &str, f: impl FnOnce(String) -> String) {
        let path = self.path(rel);
        let text = fs_err::read_to_string(&path).unwrap();
        fs_err::write(&path, f(text)).unwrap();
    }

    /// Packs the tree with write_tar_gz (no WSL additions) and validates it.
    fn findings(&self) -> Vec<Finding> {
        let out = self.tmp.path().join("broken.wsl");
        let mut file = fs_err::File::create(&out).unwrap();
        write_tar_gz(&self.x, &mut file, &TarOptions::new(EPOCH), 1).unwrap();
        drop(file);
        validate_wsl(&out).unwrap()
    }
}

#[track_caller]
fn assert_flags(findings: &[Finding], rule: WslRule, severity: Severity, path: &str) {
    assert!(
        findings
            .iter()
            .any(|f| f.rule == rule && f.severity == severity && f.path == path),
        "expected {severity:?} [{rule}] at {path}, got:\n{}",
        describe(findings)
    );
}

#[test]
fn repacked_good_tree_stays_clean() {
    let b = Broken::new();
    let findings = b.findings();
    assert!(findings.is_empty(), "{}", describe(&findings));
    // xz is the other compression WSL installs.
    let plain = b.tmp.path().join("good.tar");
    let mut file = fs_err::File::create(&plain).unwrap();
    write_tar(&b.x, &mut file, &TarOptions::new(EPOCH)).unwrap();
    drop(file);
    run(Command::new(tool("xz")).args(["-T1", "-0"]).arg(&plain));
    let findings = validate_wsl(&b.tmp.path().join("good.tar.xz")).unwrap();
    assert!(findings.is_empty(), "{}", describe(&findings));
}

#[test]
fn rule_tar_format() {
    let b = Broken::new();
    let out = b.tmp.path().join("plain.wsl");
    let mut file = fs_err::File::create(&out).unwrap();
    write_tar(&b.x, &mut file, &TarOptions::new(EPOCH)).unwrap();
    drop(file);
    assert_flags(
        &validate_wsl(&out).unwrap(),
        WslRule::TarFormat,
        Severity::Error,
        &out.display().to_string(),
    );
    let junk = b.tmp.path().join("junk.wsl");
    fs_err::write(&junk, b"PK\x03\x04 not a tar").unwrap();
    assert_flags(
        &validate_wsl(&junk).unwrap(),
        WslRule::TarFormat,
        Severity::Error,
        &junk.display().to_string(),
    );
}

#[test]
fn rule_tar_readable() {
    let b = Broken::new();
    let good = b.tmp.path().join("good.wsl");
    let data = fs_err::read(&good).unwrap();
    let cut = b.tmp.path().join("cut.wsl");
    fs_err::write(&cut, &data[..data.len() / 2]).unwrap();
    assert_flags(
        &validate_wsl(&cut).unwrap(),
        WslRule::TarReadable,
        Severity::Error,
        &cut.display().to_string(),
    );
}

#[test]
fn rule_tar_unsafe_path() {
    let b = Broken::new();
    write(&b.tmp.path().join("nest/evil"), b"evil", 0o644);
    let out = b.tmp.path().join("evil.wsl");
    run(Command::new(tool("tar"))
        .args(["--numeric-owner", "-czPf"])
        .arg(&out)
        .arg("-C")
        .arg(&b.x)
        .args([".", "../evil"]));
    assert_flags(
        &validate_wsl(&out).unwrap(),
        WslRule::TarUnsafePath,
        Severity::Error,
        "../evil",
    );
}

#[test]
fn rule_tar_duplicate() {
    let b = Broken::new();
    let plain = b.tmp.path().join("dup.tar");
    run(Command::new(tool("tar"))
        .args(["--numeric-owner", "-cf"])
        .arg(&plain)
        .arg("-C")
        .arg(&b.x)
        .arg("."));
    run(Command::new(tool("tar"))
        .args(["--numeric-owner", "-rf"])
        .arg(&plain)
        .arg("-C")
        .arg(&b.x)
        .arg("./etc/passwd"));
    run(Command::new(tool("gzip")).arg("-n").arg(&plain));
    let findings = validate_wsl(&b.tmp.path().join("dup.tar.gz")).unwrap();
    assert_flags(
        &findings,
        WslRule::TarDuplicate,
        Severity::Warning,
        "/etc/passwd",
    );
}

#[test]
fn rule_tar_not_rootfs() {
    let b = Broken::new();
    let out = b.tmp.path().join("nested.wsl");
    let mut file = fs_err::File::create(&out).unwrap();
    write_tar_gz(
        &b.tmp.path().join("nest"),
        &mut file,
        &TarOptions::new(EPOCH),
        1,
    )
    .unwrap();
    drop(file);
    assert_flags(
        &validate_wsl(&out).unwrap(),
        WslRule::TarNotRootfs,
        Severity::Error,
        "/rootfs",
    );
}

#[test]
fn rule_file_missing() {
    let b = Broken::new();
    fs_err::remove_file(b.path("etc/shadow")).unwrap();
    fs_err::remove_file(b.path("bin/sh")).unwrap();
    let f = b.findings();
    assert_flags(&f, WslRule::FileMissing, Severity::Error, "/etc/shadow");
    assert_flags(&f, WslRule::FileMissing, Severity::Error, "/bin/sh");
}

#[test]
fn rule_file_type() {
    let b = Broken::new();
    fs_err::remove_file(b.path("usr/lib/wsl/oobe.sh")).unwrap();
    mkdir(&b.path("usr/lib/wsl/oobe.sh"), 0o755);
    assert_flags(
        &b.findings(),
        WslRule::FileType,
        Severity::Error,
        "/usr/lib/wsl/oobe.sh",
    );
}

#[test]
fn rule_file_owner_mode() {
    let b = Broken::new();
    fs_err::set_permissions(
        b.path("etc/wsl-distribution.conf"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    lchown(b.path("etc/passwd"), Some(1000), None).unwrap();
    fs_err::set_permissions(
        b.path("usr/lib/wsl/oobe.sh"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let f = b.findings();
    assert_flags(
        &f,
        WslRule::FileOwnerMode,
        Severity::Warning,
        "/etc/wsl-distribution.conf",
    );
    assert_flags(&f, WslRule::FileOwnerMode, Severity::Warning, "/etc/passwd");
    assert_flags(
        &f,
        WslRule::FileOwnerMode,
        Severity::Warning,
        "/usr/lib/wsl/oobe.sh",
    );
}

#[test]
fn rule_file_too_big() {
    let b = Broken::new();
    let mut big = ico();
    big.resize(2 * 1024 * 1024, 0);
    write(&b.path("usr/lib/wsl/shortcut.ico"), &big, 0o644);
    assert_flags(
        &b.findings(),
        WslRule::FileTooBig,
        Severity::Error,
        "/usr/lib/wsl/shortcut.ico",
    );
}

#[test]
fn rule_elf_arch() {
    let b = Broken::new();
    fs_err::remove_file(b.path("sbin/init")).unwrap();
    write(&b.path("sbin/init"), b"#!/bin/sh\nexec /bin/sh\n", 0o755);
    // An aarch64 ELF header as /bin/sh's target.
    fs_err::remove_file(b.path("bin/sh")).unwrap();
    let mut arm = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
    arm.resize(64, 0);
    arm[18] = 0xb7;
    write(&b.path("bin/sh"), &arm, 0o755);
    let f = b.findings();
    assert_flags(&f, WslRule::ElfArch, Severity::Error, "/sbin/init");
    assert_flags(&f, WslRule::ElfArch, Severity::Error, "/bin/sh");
}

#[test]
fn rule_config_syntax() {
    let b = Broken::new();
    b.edit("etc/wsl.conf", |t| format!("{t}systemd\n"));
    b.edit("etc/wsl-distribution.conf", |t| {
        format!("command = /x\n{t}")
    });
    let f = b.findings();
    assert_flags(&f, WslRule::ConfigSyntax, Severity::Error, "/etc/wsl.conf");
    assert_flags(
        &f,
        WslRule::ConfigSyntax,
        Severity::Error,
        "/etc/wsl-distribution.conf",
    );
}

#[test]
fn rule_config_keys() {
    let b = Broken::new();
    b.edit("etc/wsl-distribution.conf", |t| {
        format!("{t}\n[extra]\nfoo = 1\n")
    });
    b.edit("etc/wsl.conf", |t| format!("{t}\n[network]\nbogus = 1\n"));
    let f = b.findings();
    assert_flags(
        &f,
        WslRule::ConfigKeys,
        Severity::Error,
        "/etc/wsl-distribution.conf",
    );
    assert_flags(&f, WslRule::ConfigKeys, Severity::Error, "/etc/wsl.conf");
}

#[test]
fn rule_oobe_command_location() {
    let b = Broken::new();
    fs_err::rename(b.path("usr/lib/wsl/oobe.sh"), b.path("etc/oobe.sh")).unwrap();
    b.edit("etc/wsl-distribution.conf", |t| {
        t.replace("/usr/lib/wsl/oobe.sh", "/etc/oobe.sh")
    });
    let f = b.findings();
    assert_flags(
        &f,
        WslRule::OobeCommandLocation,
        Severity::Warning,
        "/etc/oobe.sh",
    );
    assert!(
        !f.iter().any(|x| x.rule == WslRule::FileMissing),
        "{}",
        describe(&f)
    );
}

#[test]
fn rule_oobe_command_interpreter() {
    let b = Broken::new();
    b.edit("usr/lib/wsl/oobe.sh", |t| {
        t.replacen("#!/bin/sh", "#!/bin/bash", 1)
    });
    assert_flags(
        &b.findings(),
        WslRule::OobeCommandInterpreter,
        Severity::Error,
        "/usr/lib/wsl/oobe.sh",
    );
}

#[test]
fn rule_default_uid() {
    let b = Broken::new();
    b.edit("etc/wsl-distribution.conf", |t| {
        t.replace("defaultUid = 1000", "defaultUid = 1001")
    });
    assert_flags(
        &b.findings(),
        WslRule::DefaultUid,
        Severity::Warning,
        "/etc/wsl-distribution.conf",
    );
    b.edit("etc/wsl-distribution.conf", |t| {
        t.replace("defaultUid = 1001", "defaultUid = alice")
    });
    assert_flags(
        &b.findings(),
        WslRule::DefaultUid,
        Severity::Error,
        "/etc/wsl-distribution.conf",
    );
}

#[test]
fn rule_default_uid_user() {
    let b = Broken::new();
    b.edit("etc/passwd", |t| {
        format!("{t}bob:x:1000:1000::/home/bob:/bin/sh\n")
    });
    assert_flags(
        &b.findings(),
        WslRule::DefaultUidUser,
        Severity::Warning,
        "/etc/passwd",
    );
    b.edit("etc/passwd", |t| {
        t.replace("bob:x:1000:1000::/home/bob:/bin/sh\n", "")
    });
    b.edit("etc/wsl-distribution.conf", |t| {
        t.replace("command = /usr/lib/wsl/oobe.sh\n", "")
    });
    assert_flags(
        &b.findings(),
        WslRule::DefaultUidUser,
        Severity::Error,
        "/etc/passwd",
    );
}

#[test]
fn rule_default_name() {
    let b = Broken::new();
    b.edit("etc/wsl-distribution.conf", |t| {
        t.replace("defaultName = cairn-test\n", "")
    });
    assert_flags(
        &b.findings(),
        WslRule::DefaultName,
        Severity::Warning,
        "/etc/wsl-distribution.conf",
    );
}

#[test]
fn rule_shortcut_icon() {
    let b = Broken::new();
    write(
        &b.path("usr/lib/wsl/shortcut.ico"),
        b"\x89PNG\r\n\x1a\n",
        0o644,
    );
    assert_flags(
        &b.findings(),
        WslRule::ShortcutIcon,
        Severity::Warning,
        "/usr/lib/wsl/shortcut.ico",
    );
    b.edit("etc/wsl-distribution.conf", |t| {
        t.replace("icon = /usr/lib/wsl/shortcut.ico\n", "")
    });
    assert_flags(
        &b.findings(),
        WslRule::ShortcutIcon,
        Severity::Warning,
        "/etc/wsl-distribution.conf",
    );
    fs_err::copy(b.path("usr/lib/wsl/shortcut.ico"), b.path("etc/icon.ico")).unwrap();
    b.edit("etc/wsl-distribution.conf", |t| {
        t.replace("[shortcut]\n", "[shortcut]\nicon = /etc/icon.ico\n")
    });
    assert_flags(
        &b.findings(),
        WslRule::ShortcutIcon,
        Severity::Warning,
        "/etc/icon.ico",
    );
}

#[test]
fn rule_terminal_profile() {
    let b = Broken::new();
    b.edit("usr/lib/wsl/terminal-profile.json", |t| t.replace('}', ""));
    assert_flags(
        &b.findings(),
        WslRule::TerminalProfile,
        Severity::Error,
        "/usr/lib/wsl/terminal-profile.json",
    );
}

#[test]
fn rule_wsl_conf_missing() {
    let b = Broken::new();
    fs_err::remove_file(b.path("etc/wsl.conf")).unwrap();
    assert_flags(
        &b.findings(),
        WslRule::WslConfMissing,
        Severity::Warning,
        "/etc/wsl.conf",
    );
}

#[test]
fn rule_wsl_conf_default_user() {
    let b = Broken::new();
    b.edit("etc/wsl.conf", |t| {
        format!("{t}\n[user]\ndefault = alice\n")
    });
    assert_flags(
        &b.findings(),
        WslRule::WslConfDefaultUser,
        Severity::Warning,
        "/etc/wsl.conf",
    );
}

#[test]
fn rule_passwd() {
    let b = Broken::new();
    b.edit("etc/passwd", |t| {
        t.replace("root:", "toor:") + "daemon:x:1:1\nbin:x:0:0:bin:/bin:/bin/sh\n"
    });
    let f = b.findings();
    let messages: Vec<&str> = f
        .iter()
        .filter(|x| x.rule == WslRule::Passwd)
        .map(|x| x.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("invalid entry")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("more than once")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("expected root")),
        "{messages:?}"
    );
    assert_flags(&f, WslRule::Passwd, Severity::Error, "/etc/passwd");
}

#[test]
fn rule_shadow_password_hash() {
    let b = Broken::new();
    b.edit("etc/shadow", |t| {
        t.replace("root:*:", "root:$6$salt$0123456789abcdef:")
    });
    assert_flags(
        &b.findings(),
        WslRule::ShadowPasswordHash,
        Severity::Warning,
        "/etc/shadow",
    );
}

#[test]
fn rule_discouraged_unit() {
    let b = Broken::new();
    fs_err::remove_file(b.path("etc/systemd/system/systemd-resolved.service")).unwrap();
    fs_err::remove_file(b.path("etc/systemd/system/systemd-tmpfiles-setup.service")).unwrap();
    let f = b.findings();
    assert_flags(
        &f,
        WslRule::DiscouragedUnit,
        Severity::Warning,
        "/etc/systemd/system/multi-user.target.wants/systemd-resolved.service",
    );
    assert_flags(
        &f,
        WslRule::DiscouragedUnit,
        Severity::Warning,
        "/usr/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service",
    );
    assert!(
        !f.iter().any(|x| x.path.contains("ssh.service")),
        "{}",
        describe(&f)
    );
}

#[test]
fn rule_wsl1_xattr() {
    let b = Broken::new();
    xattr::set(b.path("etc/passwd"), "security.ima", b"\x03\x02").unwrap();
    assert_flags(
        &b.findings(),
        WslRule::Wsl1Xattr,
        Severity::Warning,
        "/etc/passwd",
    );
}

#[test]
fn rule_resolv_conf() {
    let b = Broken::new();
    write(&b.path("etc/resolv.conf"), b"nameserver 192.0.2.1\n", 0o644);
    assert_flags(
        &b.findings(),
        WslRule::ResolvConf,
        Severity::Warning,
        "/etc/resolv.conf",
    );
}

#[test]
fn rule_kernel() {
    let b = Broken::new();
    write(&b.path("boot/vmlinuz-6.1.0"), b"kernel", 0o644);
    write(&b.path("boot/initramfs-6.1.0.img"), b"initrd", 0o644);
    let f = b.findings();
    assert_flags(
        &f,
        WslRule::Kernel,
        Severity::Warning,
        "/boot/vmlinuz-6.1.0",
    );
    assert_flags(
        &f,
        WslRule::Kernel,
        Severity::Warning,
        "/boot/initramfs-6.1.0.img",
    );
}

#[test]
fn invalid_wsl_config_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    distro_root(&root);
    let out = tmp.path().join("x.wsl");
    let mut cfg = wsl_config();
    cfg.default_name = "has space".into();
    assert!(
        write_wsl(&root, &out, &cfg)
            .unwrap_err()
            .to_string()
            .contains("has space")
    );
    assert!(!out.exists(), "nothing is left at the output path");
    let mut cfg = wsl_config();
    cfg.icon = Some(b"\x89PNG".to_vec());
    assert!(
        write_wsl(&root, &out, &cfg)
            .unwrap_err()
            .to_string()
            .contains(".ico")
    );
    let mut cfg = wsl_config();
    cfg.wsl_conf.insert("user.default".into(), "alice".into());
    assert!(
        write_wsl(&root, &out, &cfg)
            .unwrap_err()
            .to_string()
            .contains("user.default")
    );
    let mut cfg = wsl_config();
    cfg.wsl_conf
        .insert("network.generateResolvConf".into(), "true".into());
    write_wsl(&root, &out, &cfg).unwrap();
    assert!(validate_wsl(&out).unwrap().is_empty());
}
