//! The RPM fixture root (fixtures/rpm/root), built with rpmbuild, installed with rpm.

use crate::common::{differences, mounts_under, output_ok, require, scratch, snapshot, workspace};
use cairn_install::{
    Format, InstallError, InstallOptions, InstallPackage, NoReport, finalize_for_reproducibility,
    install, installed,
};
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const TOOLS: &[&str] = &["rpm", "rpmbuild", "createrepo_c", "unshare", "busybox"];
const EPOCH: u64 = 1_700_000_000;
const DBPATH: &str = "/usr/lib/sysimage/rpm";

/// The fixture packages, built once per test run with scripts/fixtures/rpm-repo.sh.
fn fixture_rpms() -> &'static [InstallPackage] {
    static RPMS: OnceLock<Vec<InstallPackage>> = OnceLock::new();
    RPMS.get_or_init(|| {
        // a fixed place, rebuilt on every run (rpm-repo.sh replaces what is there)
        let ws = workspace();
        let out = ws.join("target/cairn-install-tests/rpm-fixtures");
        let status = Command::new(ws.join("scripts/fixtures/rpm-repo.sh"))
            .arg(ws.join("fixtures/rpm/root"))
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "rpm-repo.sh fixtures/rpm/root failed");
        let mut pkgs = Vec::new();
        for e in fs_err::read_dir(&out).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "rpm") {
                continue;
            }
            let q = Command::new("rpm")
                .args([
                    "-qp",
                    "--qf",
                    "%{NAME}\t%{ARCH}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}",
                ])
                .arg(&path)
                .output()
                .unwrap();
            assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
            let text = String::from_utf8(q.stdout).unwrap();
            let f: Vec<&str> = text.split('\t').collect();
            pkgs.push(InstallPackage {
                name: f[0].into(),
                arch: f[1].into(),
                version: f[2].into(),
                path,
            });
        }
        pkgs.sort_by(|a, b| a.name.cmp(&b.name));
        pkgs
    })
}

fn set(with_badpost: bool) -> Vec<InstallPackage> {
    let pkgs: Vec<InstallPackage> = fixture_rpms()
        .iter()
        // fixture-slowpost is for cairn-cli's interrupt test only
        .filter(|p| p.name != "fixture-slowpost")
        .filter(|p| with_badpost || p.name != "fixture-badpost")
        .cloned()
        .collect();
    assert_eq!(pkgs.len(), if with_badpost { 5 } else { 4 }, "{pkgs:?}");
    pkgs
}

/// `rpm --root ROOT --dbpath … -qa` as (name, arch, version) plus install times.
fn rpm_qa(root: &Path) -> (BTreeSet<(String, String, String)>, Vec<u64>) {
    let out = output_ok(
        Command::new("rpm")
            .arg("--root")
            .arg(root)
            .args(["--dbpath", DBPATH, "-qa", "--qf"])
            .arg("%{NAME} %{ARCH} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{INSTALLTIME}\n"),
    );
    let mut set = BTreeSet::new();
    let mut times = Vec::new();
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Vec<&str> = l.split(' ').collect();
        set.insert((f[0].to_owned(), f[1].to_owned(), f[2].to_owned()));
        times.push(f[3].parse().unwrap());
    }
    times.sort();
    (set, times)
}

fn new_root(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = scratch(name);
    let root = dir.path().join("root");
    fs_err::create_dir(&root).unwrap();
    (dir, root)
}

#[test]
fn the_fixture_root_installs_with_scriptlets_caps_and_owners() {
    require(TOOLS);
    let pkgs = set(false);
    let mut finals = Vec::new();
    let mut keep = Vec::new();
    for round in 0..2 {
        let (dir, root) = new_root("rpm-root");
        let mut given = pkgs.clone();
        if round == 1 {
            given.reverse();
        }
        let report = install(
            Format::Rpm,
            &root,
            &given,
            &InstallOptions::new(EPOCH),
            &NoReport,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.packages, 4);
        assert_eq!(mounts_under(&root), Vec::<String>::new());

        // the database is where it belongs and lists exactly the set
        assert!(root.join("usr/lib/sysimage/rpm/rpmdb.sqlite").is_file());
        let (qa, times) = rpm_qa(&root);
        let want: BTreeSet<_> = pkgs
            .iter()
            .map(|p| (p.name.clone(), p.arch.clone(), p.version.clone()))
            .collect();
        assert_eq!(qa, want);
        // install times come from SOURCE_DATE_EPOCH, one tick per package
        assert_eq!(times, (0..4).map(|i| EPOCH + i).collect::<Vec<_>>());

        // %post ran inside the root, with the busybox shell of the root
        let ran = fs_err::read_to_string(root.join("var/lib/fixture-hello/post-ran")).unwrap();
        assert_eq!(ran, "post ran in the root, count 1\n");
        assert!(!Path::new("/var/lib/fixture-hello").exists());
        assert_eq!(
            fs_err::read_link(root.join("bin")).unwrap(),
            Path::new("usr/bin")
        );

        // %caps became a file capability; %attr owners are numeric ids from the root's passwd
        let ping = root.join("usr/bin/fixture-ping");
        let cap = xattr::get(&ping, "security.capability").unwrap();
        assert!(cap.is_some(), "{} has no capability", ping.display());
        let data = fs_err::metadata(root.join("var/lib/fixture/data")).unwrap();
        assert_eq!(
            (data.uid(), data.gid(), data.mode() & 0o7777),
            (4242, 4242, 0o640)
        );
        let dirm = fs_err::metadata(root.join("var/lib/fixture")).unwrap();
        assert_eq!((dirm.uid(), dirm.mode() & 0o7777), (4242, 0o750));

        let got = installed(Format::Rpm, &root).unwrap();
        let caps = got.iter().find(|p| p.name == "fixture-caps").unwrap();
        assert_eq!(caps.version, "1:2.1-3");
        assert_eq!(caps.license.as_deref(), Some("Apache-2.0"));
        assert_eq!(caps.source, "fixture-caps");
        assert_eq!(got.len(), 4);
        let bb = got.iter().find(|p| p.name == "fixture-busybox").unwrap();
        assert!(bb.installed_size > 100_000, "{bb:?}");

        let fin = finalize_for_reproducibility(Format::Rpm, &root, EPOCH).unwrap();
        assert!(
            !root.join("usr/lib/sysimage/rpm/rpmdb.sqlite-shm").exists(),
            "{fin:?}"
        );
        assert!(
            !root.join("usr/lib/sysimage/rpm/rpmdb.sqlite-wal").exists(),
            "{fin:?}"
        );
        // the database still answers after finalize, and installed() leaves no trace
        assert_eq!(installed(Format::Rpm, &root).unwrap().len(), 4);
        assert!(!root.join("usr/lib/sysimage/rpm/rpmdb.sqlite-shm").exists());
        finals.push(snapshot(&root));
        keep.push(dir);
    }
    let diff = differences(&finals[0], &finals[1]);
    assert!(
        diff.is_empty(),
        "two RPM installs differ:\n{}",
        diff.join("\n")
    );
}

#[test]
fn a_failing_post_scriptlet_fails_the_install_and_names_the_package() {
    require(TOOLS);
    let (_dir, root) = new_root("rpm-badpost");
    let err = install(
        Format::Rpm,
        &root,
        &set(true),
        &InstallOptions::new(EPOCH),
        &NoReport,
    )
    .expect_err("fixture-badpost's %post exits 1");
    let msg = err.to_string();
    match &err {
        InstallError::Script {
            package, script, ..
        } => assert_eq!(
            (package.as_str(), script.as_str()),
            ("fixture-badpost", "%post"),
            "{msg}"
        ),
        other => panic!("expected a scriptlet error, got: {other}"),
    }
    assert!(msg.contains("fixture-badpost: failing on purpose"), "{msg}");
    assert_eq!(mounts_under(&root), Vec::<String>::new());
}

#[test]
fn a_missing_package_file_is_named() {
    require(&[]);
    let (_dir, root) = new_root("rpm-missing");
    let pkgs = [InstallPackage {
        name: "ghost".into(),
        arch: "noarch".into(),
        version: "1-1".into(),
        path: root.with_file_name("ghost-1-1.noarch.rpm"),
    }];
    let err = install(
        Format::Rpm,
        &root,
        &pkgs,
        &InstallOptions::new(EPOCH),
        &NoReport,
    )
    .unwrap_err();
    assert!(err.to_string().contains("ghost-1-1.noarch.rpm"), "{err}");
}
