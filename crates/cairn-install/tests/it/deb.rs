//! Debian sets from the host's apt sources, installed with the real dpkg.

use crate::common::{
    Recorder, deb_project, debian_set, differences, differing_paths, mounts_under, output_ok,
    require, scratch, snapshot,
};
use cairn_install::{
    Format, Initramfs, InstallError, InstallOptions, InstallPackage, NoReport,
    finalize_for_reproducibility, install, installed,
};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const TOOLS: &[&str] = &[
    "dpkg",
    "dpkg-deb",
    "dpkg-query",
    "tar",
    "unshare",
    "chroot",
    "apt-get",
];
const EPOCH: u64 = 1_700_000_000;

/// `dpkg-query --admindir ROOT/var/lib/dpkg -W` as (name, arch, version).
fn dpkg_query(root: &Path) -> BTreeSet<(String, String, String)> {
    let out = output_ok(
        Command::new("dpkg-query")
            .arg("--admindir")
            .arg(root.join("var/lib/dpkg"))
            .args([
                "-W",
                "-f",
                "${db:Status-Abbrev} ${Package} ${Architecture} ${Version}\n",
            ]),
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f[0], "ii", "{l}");
            (f[1].to_owned(), f[2].to_owned(), f[3].to_owned())
        })
        .collect()
}

fn as_set(pkgs: &[InstallPackage]) -> BTreeSet<(String, String, String)> {
    pkgs.iter()
        .map(|p| (p.name.clone(), p.arch.clone(), p.version.clone()))
        .collect()
}

/// What every successful install must leave: the exact set, no mounts, no helpers.
fn check_clean_install(root: &Path, pkgs: &[InstallPackage]) {
    assert_eq!(dpkg_query(root), as_set(pkgs));
    assert_eq!(mounts_under(root), Vec::<String>::new());
    assert!(
        !root.join("usr/sbin/policy-rc.d").exists(),
        "policy-rc.d left behind"
    );
    assert!(
        !root.join(".cairn-install-debs").exists(),
        "staged packages left behind"
    );
    // nothing leaked into the tmpfs mount points
    for d in ["dev", "proc", "sys", "run", "tmp"] {
        let n = fs_err::read_dir(root.join(d)).unwrap().count();
        assert_eq!(n, 0, "/{d} is not empty after the install");
    }
    let status = Command::new("chroot")
        .arg(root)
        .arg("/bin/true")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "chroot {} /bin/true: {status}",
        root.display()
    );
}

/// Install `pkgs` into a new `DIR/root` with the default options, check the install is
/// clean, and return the root.
fn install_clean(dir: &Path, pkgs: &[InstallPackage]) -> std::path::PathBuf {
    let root = dir.join("root");
    fs_err::create_dir(&root).unwrap();
    install(
        Format::Deb,
        &root,
        pkgs,
        &InstallOptions::new(EPOCH),
        &NoReport,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    check_clean_install(&root, pkgs);
    root
}

#[test]
fn minbase_installs_exactly_and_two_installs_are_identical_after_finalize() {
    require(TOOLS);
    let toml = deb_project("minbase", &["apt"], true);
    let pkgs = debian_set(Some(&toml), "minbase");
    assert!(
        pkgs.iter().any(|p| p.name == "apt") && pkgs.len() > 50,
        "{}",
        pkgs.len()
    );

    let mut snaps = Vec::new();
    let mut dirs = Vec::new();
    let mut touched = BTreeSet::new();
    for round in 0..2 {
        let dir = scratch("minbase");
        let root = dir.path().join("root");
        fs_err::create_dir(&root).unwrap();
        let rec = Recorder::default();
        // the second install gets the set in reverse order: the result must not care
        let mut set = pkgs.clone();
        if round == 1 {
            set.reverse();
        }
        let report = install(Format::Deb, &root, &set, &InstallOptions::new(EPOCH), &rec)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.packages, pkgs.len());
        assert!(report.essential.iter().any(|n| n == "dpkg"));
        assert!(report.batches.iter().flatten().any(|n| n == "apt"));
        assert!(!rec.steps.lock().unwrap().is_empty());
        assert!(*rec.packages.lock().unwrap() >= pkgs.len());
        check_clean_install(&root, &pkgs);
        // merged /usr, as the packages expect
        assert_eq!(
            fs_err::read_link(root.join("bin")).unwrap(),
            Path::new("usr/bin")
        );

        let before = snapshot(&root);
        let fin = finalize_for_reproducibility(Format::Deb, &root, EPOCH).unwrap();
        assert!(
            fin.removed.iter().any(|p| p == "var/log/dpkg.log"),
            "{fin:?}"
        );
        let shadow = fs_err::read_to_string(root.join("etc/shadow")).unwrap();
        let day = (EPOCH / 86400).to_string();
        assert!(
            shadow.lines().all(|l| {
                let f: Vec<&str> = l.split(':').collect();
                f[2].is_empty() || f[2] == day
            }),
            "{shadow}"
        );
        touched.extend(fin.removed.iter().chain(&fin.rewritten).cloned());
        snaps.push((before, snapshot(&root)));
        dirs.push(dir);
    }
    // the installs differed (logs carry times), and only where finalize worked
    let raw = differing_paths(&snaps[0].0, &snaps[1].0);
    assert!(!raw.is_empty());
    let unexplained: Vec<&String> = raw.iter().filter(|p| !touched.contains(*p)).collect();
    assert!(
        unexplained.is_empty(),
        "before finalize the installs differ in {raw:?}; finalize did not touch {unexplained:?}"
    );
    let diff = differences(&snaps[0].1, &snaps[1].1);
    assert!(
        diff.is_empty(),
        "after finalize the installs still differ:\n{}",
        diff.join("\n")
    );

    // installed() reads the same set back, with sources, sizes and some licenses
    let got = installed(Format::Deb, &dirs[0].path().join("root")).unwrap();
    let got_set: BTreeSet<_> = got
        .iter()
        .map(|p| (p.name.clone(), p.arch.clone(), p.version.clone()))
        .collect();
    assert_eq!(got_set, as_set(&pkgs));
    let libc = got.iter().find(|p| p.name == "libc6").unwrap();
    assert_eq!(libc.source, "glibc");
    assert!(libc.installed_size > 1_000_000, "{libc:?}");
    let dpkg = got.iter().find(|p| p.name == "dpkg").unwrap();
    assert_eq!(dpkg.source, "dpkg");
    assert!(
        dpkg.license
            .as_deref()
            .is_some_and(|l| l.contains("GPL-2+")),
        "{dpkg:?}"
    );
}

#[test]
fn minimal_vm_installs_a_kernel_and_a_reproducible_initramfs() {
    require(TOOLS);
    let pkgs = debian_set(None, "minimal-vm");
    assert!(pkgs.iter().any(|p| p.name.starts_with("linux-image-")));
    let mut snaps = Vec::new();
    let mut dirs = Vec::new();
    let mut touched = BTreeSet::new();
    for _ in 0..2 {
        let dir = scratch("minimal-vm");
        let root = install_clean(dir.path(), &pkgs);
        let boot: Vec<String> = fs_err::read_dir(root.join("boot"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let kernel = boot
            .iter()
            .find(|n| n.starts_with("vmlinuz-"))
            .expect("a kernel in /boot");
        let version = kernel.trim_start_matches("vmlinuz-");
        let initrd = root.join(format!("boot/initrd.img-{version}"));
        assert!(
            fs_err::metadata(&initrd).unwrap().len() > 1_000_000,
            "{} is missing or tiny; /boot has {boot:?}",
            initrd.display()
        );
        assert!(
            root.join("etc/ssh/ssh_host_ed25519_key").exists(),
            "openssh-server made keys"
        );
        let before = snapshot(&root);
        let fin = finalize_for_reproducibility(Format::Deb, &root, EPOCH).unwrap();
        touched.extend(fin.removed.iter().chain(&fin.rewritten).cloned());
        assert!(fs_err::read_dir(root.join("etc/ssh")).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("ssh_host_")
        }));
        assert!(
            fin.added
                .iter()
                .any(|p| p.ends_with("cairn-ssh-keygen.service")),
            "{fin:?}"
        );
        assert_eq!(fs_err::read(root.join("etc/machine-id")).unwrap(), b"");
        snaps.push((before, snapshot(&root)));
        dirs.push(dir);
    }
    let raw = differing_paths(&snaps[0].0, &snaps[1].0);
    let unexplained: Vec<&String> = raw.iter().filter(|p| !touched.contains(*p)).collect();
    assert!(
        unexplained.is_empty(),
        "before finalize the installs differ in {raw:?}; finalize did not touch {unexplained:?}"
    );
    let diff = differences(&snaps[0].1, &snaps[1].1);
    assert!(
        diff.is_empty(),
        "two installs of minimal-vm differ after finalize:\n{}",
        diff.join("\n")
    );
}

/// Build a .deb whose postinst fails.
fn failing_deb(dir: &Path) -> InstallPackage {
    test_deb(
        dir,
        "cairn-bad",
        "dpkg",
        &[("/usr/share/cairn-bad/README", "bad\n", 0o644)],
        &[(
            "postinst",
            "#!/bin/sh\necho 'cairn-bad: failing on purpose'\nexit 7\n",
        )],
    )
}

#[test]
fn a_failing_postinst_names_the_package_and_leaves_nothing_mounted() {
    require(TOOLS);
    let toml = deb_project("essential", &[], false);
    let mut pkgs = debian_set(Some(&toml), "essential");
    let dir = scratch("badpost");
    pkgs.push(failing_deb(dir.path()));
    let root = dir.path().join("root");
    fs_err::create_dir(&root).unwrap();
    let err = install(
        Format::Deb,
        &root,
        &pkgs,
        &InstallOptions::new(EPOCH),
        &NoReport,
    )
    .expect_err("the postinst fails");
    let msg = err.to_string();
    match &err {
        InstallError::Script {
            package, script, ..
        } => {
            assert_eq!(
                (package.as_str(), script.as_str()),
                ("cairn-bad", "postinst"),
                "{msg}"
            );
        }
        other => panic!("expected a script error, got: {other}"),
    }
    assert!(msg.contains("cairn-bad: failing on purpose"), "{msg}");
    assert!(msg.contains("exit status 7"), "{msg}");
    assert_eq!(mounts_under(&root), Vec::<String>::new());
    assert!(!root.join("usr/sbin/policy-rc.d").exists());
    assert!(!root.join(".cairn-install-debs").exists());
}

/// Build a test .deb: `files` are (path, content, mode), `scripts` (name, body).
fn test_deb(
    dir: &Path,
    name: &str,
    depends: &str,
    files: &[(&str, &str, u32)],
    scripts: &[(&str, &str)],
) -> InstallPackage {
    use std::os::unix::fs::PermissionsExt as _;
    let src = dir.join(format!("{name}-src"));
    fs_err::create_dir_all(src.join("DEBIAN")).unwrap();
    for (path, content, mode) in files {
        let p = src.join(path.trim_start_matches('/'));
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        fs_err::write(&p, content).unwrap();
        fs_err::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    fs_err::write(
        src.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: 1.0-1\nArchitecture: all\n\
             Maintainer: cairn tests <t@example.invalid>\nDepends: {depends}\n\
             Description: cairn-install test package\n"
        ),
    )
    .unwrap();
    for (script, body) in scripts {
        let p = src.join("DEBIAN").join(script);
        fs_err::write(&p, body).unwrap();
        fs_err::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let deb = dir.join(format!("{name}.deb"));
    output_ok(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&src)
            .arg(&deb),
    );
    InstallPackage {
        name: name.into(),
        arch: "all".into(),
        version: "1.0-1".into(),
        path: deb,
    }
}

/// A kernel's postinst creates an initramfs and a hook package's postinst asks for an
/// update: with the real initramfs-tools both would run mkinitramfs (about 20 s each).
/// cairn diverts update-initramfs while installing and runs the creation once, at the
/// end of the install (the default), when the caller asks after customizing
/// (`Initramfs::Deferred`), or never (`Initramfs::Skip`, cairn's own initrd), leaving
/// dpkg's database as if nothing had been diverted. Maintainer scripts also learn that
/// they run in a chroot (`ischroot`, which libc6's postinst asks before `telinit u;
/// sleep 1`).
#[test]
fn update_initramfs_runs_once_when_asked_and_scripts_see_a_chroot() {
    require(TOOLS);
    let toml = deb_project("essential", &[], false);
    let mut pkgs = debian_set(Some(&toml), "essential");
    let dir = scratch("initramfs");
    let tool = "#!/bin/sh\n# the test's update-initramfs\n\
                mkdir -p /var/lib/cairn-test\n\
                echo \"$*\" >>/var/lib/cairn-test/initramfs-runs\n";
    pkgs.push(test_deb(
        dir.path(),
        "initramfs-tools",
        "dpkg",
        &[("/usr/sbin/update-initramfs", tool, 0o755)],
        &[],
    ));
    pkgs.push(test_deb(
        dir.path(),
        "linux-image-cairn-test",
        "initramfs-tools",
        &[("/boot/vmlinuz-9.9.9-test", "not a kernel\n", 0o644)],
        &[(
            "postinst",
            "#!/bin/sh\nset -e\n[ \"$1\" = configure ] || exit 0\n\
             update-initramfs -c -k 9.9.9-test -b /boot\n",
        )],
    ));
    pkgs.push(test_deb(
        dir.path(),
        "cairn-initramfs-hook",
        "initramfs-tools",
        &[(
            "/usr/share/initramfs-tools/hooks/cairn-test",
            "#!/bin/sh\n",
            0o755,
        )],
        &[(
            "postinst",
            "#!/bin/sh\nset -e\nupdate-initramfs -u\n\
             if ischroot; then echo yes; else echo \"no ($?)\"; fi >/var/lib/cairn-ischroot\n",
        )],
    ));
    let runs =
        |root: &Path| fs_err::read_to_string(root.join("var/lib/cairn-test/initramfs-runs")).ok();
    let once = Some("-c -k 9.9.9-test -b /boot\n".to_owned());

    // at the end of the install
    let root = install_clean(dir.path(), &pkgs);
    assert_eq!(
        runs(&root),
        once,
        "update-initramfs ran other than once, with the kernel's request"
    );
    undiverted(&root, tool);
    assert_eq!(
        fs_err::read_to_string(root.join("var/lib/cairn-ischroot")).unwrap(),
        "yes\n"
    );

    // deferred: nothing until the caller asks, then once
    for (mode, name) in [(Initramfs::Deferred, "deferred"), (Initramfs::Skip, "skip")] {
        let root = dir.path().join(name);
        fs_err::create_dir(&root).unwrap();
        let mut opts = InstallOptions::new(EPOCH);
        opts.initramfs = mode;
        let report =
            install(Format::Deb, &root, &pkgs, &opts, &NoReport).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs(&root), None, "{name}");
        assert_eq!(report.initramfs_deferred, mode == Initramfs::Deferred);
        if mode == Initramfs::Deferred {
            assert_ne!(
                fs_err::read_to_string(root.join("usr/sbin/update-initramfs")).unwrap(),
                tool
            );
            cairn_install::build_deferred_initramfs(&root, &report, &opts, &NoReport).unwrap();
            assert_eq!(runs(&root), once);
        }
        undiverted(&root, tool);
    }
}

/// update-initramfs is initramfs-tools' own again, with no diversion and no record left.
fn undiverted(root: &Path, tool: &str) {
    assert_eq!(
        fs_err::read_to_string(root.join("usr/sbin/update-initramfs")).unwrap(),
        tool
    );
    assert!(
        !root
            .join("usr/sbin/update-initramfs.cairn-deferred")
            .exists()
    );
    assert!(
        !root
            .join("var/lib/cairn-install.update-initramfs.requests")
            .exists()
    );
    let diversions = Command::new("dpkg-divert")
        .arg("--admindir")
        .arg(root.join("var/lib/dpkg"))
        .arg("--list")
        .output()
        .unwrap();
    assert!(diversions.status.success());
    let list = String::from_utf8_lossy(&diversions.stdout);
    assert!(!list.contains("update-initramfs"), "{list}");
    let owner = Command::new("dpkg-query")
        .arg("--admindir")
        .arg(root.join("var/lib/dpkg"))
        .args(["-S", "/usr/sbin/update-initramfs"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&owner.stdout).trim(),
        "initramfs-tools: /usr/sbin/update-initramfs"
    );
}

#[test]
fn a_root_that_is_not_empty_is_refused() {
    require(&[]);
    let dir = scratch("notempty");
    fs_err::write(dir.path().join("file"), "x").unwrap();
    let pkgs = [InstallPackage {
        name: "x".into(),
        arch: "all".into(),
        version: "1".into(),
        path: dir.path().join("x.deb"),
    }];
    let err = install(
        Format::Deb,
        dir.path(),
        &pkgs,
        &InstallOptions::new(EPOCH),
        &NoReport,
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::RootNotEmpty { .. }), "{err}");
    assert!(err.to_string().contains("file"), "{err}");
}

/// Processes whose root directory is `root`.
fn processes_in(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in fs_err::read_dir("/proc").unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if std::fs::read_link(e.path().join("root")).is_ok_and(|r| r == root) {
            let cmd = fs_err::read(e.path().join("cmdline")).unwrap_or_default();
            out.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&cmd).replace('\0', " ")
            ));
        }
    }
    out
}

const CHILD_ROOT: &str = "CAIRN_INSTALL_TEST_CHILD_ROOT";
const CHILD_SET: &str = "CAIRN_INSTALL_TEST_CHILD_SET";

/// Not a test by itself: the process that `killing_cairn_mid_install_…` starts and kills.
#[test]
#[ignore = "run by killing_cairn_mid_install_leaves_no_process_and_no_mount"]
fn child_install() {
    let (Some(root), Some(set)) = (std::env::var_os(CHILD_ROOT), std::env::var_os(CHILD_SET))
    else {
        panic!("only run by killing_cairn_mid_install_leaves_no_process_and_no_mount");
    };
    let pkgs: Vec<InstallPackage> = fs_err::read_to_string(set)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            InstallPackage {
                name: f[0].into(),
                arch: f[1].into(),
                version: f[2].into(),
                path: f[3].into(),
            }
        })
        .collect();
    let _ = install(
        Format::Deb,
        Path::new(&root),
        &pkgs,
        &InstallOptions::new(EPOCH),
        &NoReport,
    );
}

#[test]
fn killing_cairn_mid_install_leaves_no_process_and_no_mount() {
    require(TOOLS);
    let toml = deb_project("essential", &[], false);
    let pkgs = debian_set(Some(&toml), "essential");
    let dir = scratch("killed");
    let root = dir.path().join("root");
    fs_err::create_dir(&root).unwrap();
    let set = dir.path().join("set.tsv");
    let lines: Vec<String> = pkgs
        .iter()
        .map(|p| {
            format!(
                "{}\t{}\t{}\t{}",
                p.name,
                p.arch,
                p.version,
                p.path.display()
            )
        })
        .collect();
    fs_err::write(&set, lines.join("\n")).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "deb::child_install", "--ignored", "--nocapture"])
        .env(CHILD_ROOT, &root)
        .env(CHILD_SET, &set)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until dpkg runs chrooted in the root, then kill the installer with SIGKILL
    let mut seen = Vec::new();
    for _ in 0..600 {
        seen = processes_in(&root);
        if !seen.is_empty() || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(
        !seen.is_empty(),
        "the install never ran anything inside the root"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // everything inside dies with it (SIGKILL travels through setpriv and unshare)
    let mut left = Vec::new();
    for _ in 0..120 {
        left = processes_in(&root);
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(left.is_empty(), "still running in the root: {left:?}");
    assert_eq!(mounts_under(&root), Vec::<String>::new());
    // dpkg was stopped, not left to finish: the Essential set is not all installed
    let out = Command::new("dpkg-query")
        .arg("--admindir")
        .arg(root.join("var/lib/dpkg"))
        .args(["-W", "-f", "${db:Status-Abbrev}\n"])
        .output()
        .unwrap();
    let installed = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim() == "ii")
        .count();
    assert!(
        installed < pkgs.len(),
        "all {installed} packages got installed: the kill did not reach dpkg"
    );
}

const CHILD_NOT_ROOT: &str = "CAIRN_INSTALL_TEST_CHILD_NOT_ROOT";

/// Not a test by itself: run as an unprivileged user by `an_unprivileged_caller_…`.
#[test]
#[ignore = "run by an_unprivileged_caller_gets_a_clear_error"]
fn child_not_root() {
    assert!(
        std::env::var_os(CHILD_NOT_ROOT).is_some(),
        "only run by an_unprivileged_caller_gets_a_clear_error"
    );
    let pkgs = [InstallPackage {
        name: "x".into(),
        arch: "all".into(),
        version: "1".into(),
        path: "/nonexistent/x.deb".into(),
    }];
    let err = install(
        Format::Deb,
        Path::new("/nonexistent"),
        &pkgs,
        &InstallOptions::new(EPOCH),
        &NoReport,
    )
    .unwrap_err();
    assert!(
        matches!(err, InstallError::NotRoot { euid: 65534 }),
        "{err}"
    );
    assert!(err.to_string().contains("run cairn as root"), "{err}");
}

#[test]
fn an_unprivileged_caller_gets_a_clear_error() {
    require(&["setpriv"]);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "deb::child_not_root", "--ignored"])
        .env(CHILD_NOT_ROOT, "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 passed"), "{text}");
}
