//! `cairn repo publish`, `cairn key` and `cairn advisory` against the real dnf, rpmkeys
//! and gpg: packages built with rpmbuild from fixtures/rpm/publish, published signed,
//! installed with gpgcheck=1 and repo_gpgcheck=1, upgraded with `--security`.

use super::{root, stderr, stdout};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cairn(args: &[&str]) -> Output {
    cairn_env(args, &[])
}

fn cairn_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("CAIRN_KEYS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\nstdout: {}",
        stderr(o),
        stdout(o)
    );
    stdout(o)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Build a fixture spec with rpmbuild; returns the RPM files it made.
fn rpmbuild(work: &Path, spec: &str, defines: &[(&str, &str)]) -> Vec<PathBuf> {
    let top = work.join(format!("top-{spec}-{}", defines.len()));
    let mut c = Command::new("rpmbuild");
    c.arg("-bb")
        .arg("--nodeps")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("--define")
        .arg(format!("_dbpath {}", top.join("db").display()));
    for (k, v) in defines {
        c.arg("--define").arg(format!("{k} {v}"));
    }
    let specfile = root()
        .join("fixtures/rpm/publish")
        .join(format!("{spec}.spec"));
    let o = c
        .arg(&specfile)
        .output()
        .expect("rpmbuild (run scripts/setup-host.sh)");
    assert!(o.status.success(), "rpmbuild {spec}: {}", stderr(&o));
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(top.join("RPMS"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rpm"))
        .map(|e| e.path().to_path_buf())
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

struct Rpms {
    v1: Vec<PathBuf>,
    v2: Vec<PathBuf>,
}

fn build_fixture_rpms(work: &Path) -> Rpms {
    let mut v1 = rpmbuild(work, "pub-hello", &[("ver", "1.0")]);
    v1.extend(rpmbuild(work, "pub-tool", &[("rel", "1")]));
    v1.extend(rpmbuild(work, "pub-data", &[]));
    let mut v2 = rpmbuild(work, "pub-hello", &[("ver", "1.1"), ("_v", "2")]);
    v2.extend(rpmbuild(work, "pub-tool", &[("rel", "2"), ("_v", "2")]));
    Rpms { v1, v2 }
}

pub(crate) struct Dnf {
    root: PathBuf,
    cache: PathBuf,
    repo: PathBuf,
}

impl Dnf {
    pub(crate) fn new(work: &Path, name: &str, repo: &Path) -> Dnf {
        Dnf {
            root: work.join(format!("{name}-root")),
            cache: work.join(format!("{name}-cache")),
            repo: repo.to_path_buf(),
        }
    }
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let _ = fs_err::remove_dir_all(&self.cache);
        Command::new("dnf")
            .arg("-y")
            .arg("--installroot")
            .arg(&self.root)
            .args(["--releasever", "1", "--setopt=reposdir=/nonexistent"])
            .arg(format!("--setopt=cachedir={}", self.cache.display()))
            .arg(format!(
                "--repofrompath=cairn,file://{}",
                self.repo.display()
            ))
            .args([
                "--repo=cairn",
                "--setopt=cairn.gpgcheck=1",
                "--setopt=cairn.repo_gpgcheck=1",
                "--setopt=cairn.metadata_expire=0",
                "--setopt=install_weak_deps=False",
            ])
            .arg(format!(
                "--setopt=cairn.gpgkey=file://{}",
                self.repo.join("RPM-GPG-KEY-cairn").display()
            ))
            .args(args)
            .output()
            .expect("dnf (run scripts/setup-host.sh)")
    }
    /// Installed packages as name-version-release.arch, sorted.
    pub(crate) fn installed(&self) -> Vec<String> {
        let o = Command::new("rpm")
            .arg("--root")
            .arg(&self.root)
            .args(["--dbpath", "/root/.rpmdb", "-qa", "--qf", "%{NEVRA}\n"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let mut v: Vec<String> = stdout(&o)
            .lines()
            .filter(|l| !l.starts_with("gpg-pubkey-"))
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    }
    /// Key ids (8 hex digits) dnf imported into the root's rpmdb for gpgcheck.
    pub(crate) fn imported_keys(&self) -> Vec<String> {
        let o = Command::new("rpm")
            .arg("--root")
            .arg(&self.root)
            .args([
                "--dbpath",
                "/root/.rpmdb",
                "-q",
                "gpg-pubkey",
                "--qf",
                "%{VERSION}\n",
            ])
            .output()
            .unwrap();
        stdout(&o).lines().map(str::to_owned).collect()
    }
}

pub(crate) fn checksig(rpm: &Path, keyfile: &Path, work: &Path) -> Output {
    let db = work.join("checksig-db");
    let _ = fs_err::remove_dir_all(&db);
    fs_err::create_dir_all(&db).unwrap();
    let o = Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(&db)
        .arg("--import")
        .arg(keyfile)
        .output()
        .unwrap();
    assert!(o.status.success(), "rpmkeys --import: {}", stderr(&o));
    Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(&db)
        .args(["--checksig", "-v"])
        .arg(rpm)
        .output()
        .unwrap()
}

pub(crate) fn published_rpms(repo: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(repo.join("Packages"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rpm"))
        .map(|e| e.path().to_path_buf())
        .collect();
    v.sort();
    v
}

fn add_args<'a>(base: &mut Vec<&'a str>, rpms: &'a [PathBuf]) {
    for r in rpms {
        base.push("--add");
        base.push(s(r));
    }
}

#[test]
fn publish_sign_install_with_dnf_and_apply_security_advisory() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let rpms = build_fixture_rpms(work);
    let keys = work.join("keys");
    let repo = work.join("repo");
    let advisories = work.join("advisories");

    // keys: secret 0600 in a 0700 directory
    let out = ok(&cairn(&[
        "key",
        "generate",
        "--keys",
        s(&keys),
        "--user-id",
        "Cairn Test <security@cairn.invalid>",
    ]));
    let fpr = out.split_whitespace().next().unwrap().to_owned();
    assert_eq!(fpr.len(), 40, "{out}");
    let secret = keys.join(format!("{fpr}.secret.asc"));
    assert_eq!(
        fs_err::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs_err::metadata(&keys).unwrap().permissions().mode() & 0o777,
        0o700
    );

    // first publish
    let mut args = vec![
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&keys),
        "--advisories",
        s(&advisories),
    ];
    add_args(&mut args, &rpms.v1);
    let out = ok(&cairn(&args));
    assert!(out.contains("3 packages"), "{out}");
    assert!(repo.join("repodata/repomd.xml.asc").exists());
    let keyfile = repo.join("RPM-GPG-KEY-cairn");
    for r in published_rpms(&repo) {
        let o = checksig(&r, &keyfile, work);
        assert!(
            o.status.success(),
            "rpmkeys --checksig {}: {}{}",
            r.display(),
            stdout(&o),
            stderr(&o)
        );
        let text = stdout(&o);
        assert!(
            text.contains("Header V4") && text.contains(&fpr[32..].to_ascii_lowercase()),
            "{text}"
        );
    }
    // gpgv accepts repomd.xml.asc with the exported key
    let ring = work.join("ring.gpg");
    let o = Command::new("gpg")
        .args(["--batch", "--dearmor", "-o"])
        .arg(&ring)
        .arg(&keyfile)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::new("gpgv")
        .arg("--keyring")
        .arg(&ring)
        .arg(repo.join("repodata/repomd.xml.asc"))
        .arg(repo.join("repodata/repomd.xml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "gpgv: {}", stderr(&o));

    // dnf installs with gpgcheck=1 and repo_gpgcheck=1
    let dnf = Dnf::new(work, "dnf", &repo);
    let o = dnf.run(&["install", "pub-hello", "pub-tool"]);
    assert!(
        o.status.success(),
        "dnf install: {}{}",
        stdout(&o),
        stderr(&o)
    );
    assert_eq!(
        dnf.installed(),
        [
            "pub-data-2026.1-1.noarch",
            "pub-hello-1.0-1.x86_64",
            "pub-tool-1.0-1.x86_64"
        ]
    );
    // gpgcheck made dnf import our key into the root's rpmdb
    assert_eq!(dnf.imported_keys(), [fpr[32..].to_ascii_lowercase()]);

    // two advisories: a security fix for pub-hello and a bugfix for pub-tool
    let o = ok(&cairn(&[
        "advisory",
        "new",
        "--dir",
        s(&advisories),
        "--prefix",
        "CAIRN",
        "--issued",
        "1795000000",
        "--type",
        "security",
        "--severity",
        "important",
        "--title",
        "pub-hello: greeting overflow",
        "--description",
        "A long greeting overflowed a buffer.",
        "--cve",
        "CVE-2026-12345",
        "--package",
        "pub-hello-1.1-1.x86_64",
        "--reboot-suggested",
    ]));
    assert!(o.starts_with("CAIRN-2026-0001 "), "{o}");
    let o = ok(&cairn(&[
        "advisory",
        "new",
        "--dir",
        s(&advisories),
        "--prefix",
        "CAIRN",
        "--issued",
        "1795000000",
        "--type",
        "bugfix",
        "--title",
        "pub-tool: prints the right release",
        "--description",
        "Bug fix.",
        "--package",
        "pub-tool-1.0-2.x86_64",
    ]));
    assert!(o.starts_with("CAIRN-2026-0002 "), "{o}");
    let list = ok(&cairn(&["advisory", "list", "--dir", s(&advisories)]));
    assert!(
        list.contains("CAIRN-2026-0001") && list.contains("security"),
        "{list}"
    );

    // second publish: the two new packages are read, the three old ones come from cache
    let mut args = vec![
        "-O",
        "json",
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&keys),
        "--advisories",
        s(&advisories),
    ];
    add_args(&mut args, &rpms.v2);
    let summary: serde_json::Value = serde_json::from_str(&ok(&cairn(&args))).unwrap();
    assert_eq!(summary["packages"], 5, "{summary}");
    assert_eq!(summary["read"], 2, "{summary}");
    assert_eq!(summary["reused"], 3, "{summary}");
    assert_eq!(summary["advisories"], 2, "{summary}");

    let o = dnf.run(&["updateinfo", "list", "--security"]);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}{}", stderr(&o));
    assert!(
        text.contains("CAIRN-2026-0001") && text.contains("pub-hello-1.1-1.x86_64"),
        "{text}"
    );
    assert!(!text.contains("CAIRN-2026-0002"), "{text}");
    let o = dnf.run(&["updateinfo", "info", "CAIRN-2026-0001"]);
    let text = stdout(&o);
    assert!(
        text.contains("CVE-2026-12345") && text.contains("Important"),
        "{text}"
    );

    // --security applies exactly the security advisory
    let o = dnf.run(&["upgrade", "--security"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        dnf.installed(),
        [
            "pub-data-2026.1-1.noarch",
            "pub-hello-1.1-1.x86_64",
            "pub-tool-1.0-1.x86_64"
        ]
    );
    // --advisory applies the bugfix
    let o = dnf.run(&["upgrade", "--advisory=CAIRN-2026-0002"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        dnf.installed(),
        [
            "pub-data-2026.1-1.noarch",
            "pub-hello-1.1-1.x86_64",
            "pub-tool-1.0-2.x86_64"
        ]
    );

    // a security advisory naming a package the repository lacks is an error; nothing changes
    let repomd_before = fs_err::read(repo.join("repodata/repomd.xml")).unwrap();
    ok(&cairn(&[
        "advisory",
        "new",
        "--dir",
        s(&advisories),
        "--id",
        "CAIRN-2026-0099",
        "--issued",
        "1795000000",
        "--type",
        "security",
        "--severity",
        "critical",
        "--title",
        "missing",
        "--description",
        "x",
        "--package",
        "pub-hello-9.9-1.x86_64",
    ]));
    let o = cairn(&[
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&keys),
        "--advisories",
        s(&advisories),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("security advisory CAIRN-2026-0099 names pub-hello-9.9-1.x86_64, which is not in the repository"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs_err::read(repo.join("repodata/repomd.xml")).unwrap(),
        repomd_before
    );
}

/// A fresh signed repository with the v1 packages.
fn signed_repo(work: &Path, rpms: &Rpms) -> (PathBuf, PathBuf) {
    let keys = work.join("keys");
    let repo = work.join("repo");
    ok(&cairn(&[
        "key",
        "generate",
        "--keys",
        s(&keys),
        "--user-id",
        "T <t@cairn.invalid>",
    ]));
    // gzip here (the other tests use the zstd default): dnf reads both chunked forms
    let mut args = vec![
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&keys),
        "--compress",
        "gz",
    ];
    add_args(&mut args, &rpms.v1);
    ok(&cairn(&args));
    assert!(
        fs_err::read_to_string(repo.join("repodata/repomd.xml"))
            .unwrap()
            .contains("-primary.xml.gz")
    );
    (repo, keys)
}

fn copy_dir(from: &Path, to: &Path) {
    let o = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn tampered_packages_and_metadata_are_refused_by_dnf_and_cairn() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let rpms = build_fixture_rpms(work);
    let (repo, _keys) = signed_repo(work, &rpms);

    // a tampered package: one payload byte flipped
    let bad_pkg = work.join("bad-pkg");
    copy_dir(&repo, &bad_pkg);
    let victim = published_rpms(&bad_pkg)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("pub-hello"))
        .unwrap();
    let mut bytes = fs_err::read(&victim).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0x55;
    fs_err::write(&victim, &bytes).unwrap();
    let o = Dnf::new(work, "dnf-bad-pkg", &bad_pkg).run(&["install", "pub-hello"]);
    assert!(!o.status.success(), "dnf installed a tampered package");
    // cairn's own reader: the project locks against the repo, then fetch verifies
    let project = work.join("proj");
    fs_err::create_dir_all(&project).unwrap();
    fs_err::write(
        project.join("cairn.toml"),
        format!(
            "[project]\narch = \"x86_64\"\n[sources.pub]\nkind = \"rpm-md\"\nbaseurl = \"file://{}\"\ngpgkey = \"{}\"\n[images.base]\npackages = [\"pub-hello\"]\n",
            bad_pkg.display(),
            bad_pkg.join("RPM-GPG-KEY-cairn").display()
        ),
    )
    .unwrap();
    let cache = work.join("cache");
    let pc = |args: &[&str]| {
        let mut all = vec!["-C", s(&project), "--cache-dir", s(&cache)];
        all.extend_from_slice(args);
        cairn(&all)
    };
    ok(&pc(&["lock"]));
    let o = pc(&["fetch"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("pub-hello"), "{}", stderr(&o));

    // a tampered repomd.xml: the signature no longer matches
    let bad_md = work.join("bad-md");
    copy_dir(&repo, &bad_md);
    let md = bad_md.join("repodata/repomd.xml");
    let text = fs_err::read_to_string(&md).unwrap();
    fs_err::write(&md, text.replacen("<revision>", "<revision>9", 1)).unwrap();
    let o = Dnf::new(work, "dnf-bad-md", &bad_md).run(&["install", "pub-hello"]);
    assert!(!o.status.success(), "dnf accepted a tampered repomd.xml");
    fs_err::write(
        project.join("cairn.toml"),
        format!(
            "[project]\narch = \"x86_64\"\n[sources.pub]\nkind = \"rpm-md\"\nbaseurl = \"file://{}\"\ngpgkey = \"{}\"\n[images.base]\npackages = [\"pub-hello\"]\n",
            bad_md.display(),
            bad_md.join("RPM-GPG-KEY-cairn").display()
        ),
    )
    .unwrap();
    let o = pc(&["resolve"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("BAD signature"), "{}", stderr(&o));
}

#[test]
fn interrupted_publish_leaves_the_previous_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let rpms = build_fixture_rpms(work);
    let (repo, keys) = signed_repo(work, &rpms);
    let dnf = Dnf::new(work, "dnf", &repo);
    let available = |dnf: &Dnf| {
        let o = dnf.run(&["repoquery", "--qf", "%{name}-%{version}-%{release}.%{arch}"]);
        assert!(
            o.status.success(),
            "dnf repoquery: {}{}",
            stdout(&o),
            stderr(&o)
        );
        let mut v: Vec<String> = stdout(&o)
            .lines()
            .filter(|l| l.starts_with("pub-"))
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    let before = available(&dnf);
    assert_eq!(before.len(), 3, "{before:?}");
    for step in [
        "locked",
        "imported",
        "read",
        "metadata-written",
        "signature-written",
    ] {
        let mut args = vec!["repo", "publish", s(&repo), "--keys", s(&keys)];
        add_args(&mut args, &rpms.v2);
        let o = cairn_env(&args, &[("CAIRN_TEST_ABORT_AT", step)]);
        assert_eq!(
            o.status.signal(),
            Some(6),
            "publish did not die at {step}: {}",
            stderr(&o)
        );
        assert_eq!(available(&dnf), before, "after a publish killed at {step}");
        // the installed-from state is consistent too: a signed install works
        let o = Dnf::new(work, &format!("inst-{step}"), &repo).run(&["install", "pub-hello"]);
        assert!(
            o.status.success(),
            "after {step}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        // files the killed run added are not served yet: undo them for the next round
        for r in &rpms.v2 {
            let name = r.file_name().unwrap().to_string_lossy().into_owned();
            let letter = &name[..1];
            let _ = fs_err::remove_file(repo.join("Packages").join(letter).join(&name));
        }
    }
    // killed after the switch: the new repository is complete
    let mut args = vec!["repo", "publish", s(&repo), "--keys", s(&keys)];
    add_args(&mut args, &rpms.v2);
    let o = cairn_env(&args, &[("CAIRN_TEST_ABORT_AT", "repomd-written")]);
    assert_eq!(o.status.signal(), Some(6));
    assert_eq!(available(&dnf).len(), 5);
    // and the next publish cleans up after the killed ones
    ok(&cairn(&["repo", "publish", s(&repo), "--keys", s(&keys)]));
    let leftovers: Vec<String> = walkdir::WalkDir::new(&repo)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".cairn-tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_input_leaves_the_repository_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let rpms = build_fixture_rpms(work);
    let (repo, keys) = signed_repo(work, &rpms);
    let repomd = || fs_err::read(repo.join("repodata/repomd.xml")).unwrap();
    let before = repomd();

    // a corrupt RPM dropped into the repository
    let junk = repo.join("Packages/j/junk-1-1.x86_64.rpm");
    fs_err::create_dir_all(junk.parent().unwrap()).unwrap();
    fs_err::write(&junk, b"this is not an rpm at all, just text").unwrap();
    let o = cairn(&["repo", "publish", s(&repo), "--keys", s(&keys)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("junk-1-1.x86_64.rpm"), "{}", stderr(&o));
    assert_eq!(repomd(), before);
    fs_err::remove_file(&junk).unwrap();

    // no key given, an empty key store, an unreadable-by-others rule
    let o = cairn(&["repo", "publish", s(&repo)]);
    assert!(stderr(&o).contains("no signing key"), "{}", stderr(&o));
    let o = cairn(&[
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&work.join("nokeys")),
    ]);
    assert!(stderr(&o).contains("cairn key generate"), "{}", stderr(&o));
    let secret = fs_err::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".secret.asc"))
        .unwrap();
    fs_err::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = cairn(&["repo", "publish", s(&repo), "--keys", s(&keys)]);
    assert!(
        stderr(&o).contains("group or others can read it"),
        "{}",
        stderr(&o)
    );
    fs_err::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    // replacing a published file with other bytes under the same name
    let other = work.join("other");
    fs_err::create_dir_all(&other).unwrap();
    let same_name = other.join(rpms.v1[0].file_name().unwrap());
    fs_err::copy(&rpms.v2[0], &same_name).unwrap();
    let o = cairn(&[
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&keys),
        "--add",
        s(&same_name),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("already published with different content"),
        "{}",
        stderr(&o)
    );
    assert_eq!(repomd(), before);
    ok(&cairn(&["repo", "publish", s(&repo), "--keys", s(&keys)]));
}

#[test]
fn key_rotation_keeps_old_packages_trusted_and_retention_keeps_old_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let rpms = build_fixture_rpms(work);
    let (repo, keys) = signed_repo(work, &rpms);
    let list = ok(&cairn(&["-O", "json", "key", "list", "--keys", s(&keys)]));
    let old: serde_json::Value = serde_json::from_str(&list).unwrap();
    let old_fpr = old[0]["fingerprint"].as_str().unwrap().to_owned();
    let old_md: Vec<String> = fs_err::read_dir(repo.join("repodata"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("-primary.xml"))
        .collect();

    let out = ok(&cairn(&["key", "rotate", "--keys", s(&keys)]));
    let new_fpr = out.split_whitespace().next().unwrap().to_owned();
    assert_ne!(new_fpr, old_fpr);
    let mut args = vec![
        "-O",
        "json",
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&keys),
    ];
    add_args(&mut args, &rpms.v2);
    let summary: serde_json::Value = serde_json::from_str(&ok(&cairn(&args))).unwrap();
    assert_eq!(summary["signed_by"], new_fpr.as_str());
    // old metadata is still there (24 h retention by default)
    for f in &old_md {
        assert!(
            repo.join("repodata").join(f).exists(),
            "{f} pruned too early"
        );
    }
    let exported = ok(&cairn(&["key", "export", "--keys", s(&keys)]));
    assert_eq!(exported.matches("BEGIN PGP PUBLIC KEY BLOCK").count(), 2);
    // packages signed before and after the rotation verify with the exported file
    let keyfile = repo.join("RPM-GPG-KEY-cairn");
    for r in published_rpms(&repo) {
        let o = checksig(&r, &keyfile, work);
        assert!(o.status.success(), "{}: {}", r.display(), stdout(&o));
    }
    let dnf = Dnf::new(work, "dnf", &repo);
    let o = dnf.run(&["install", "pub-hello", "pub-tool"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        dnf.installed(),
        [
            "pub-data-2026.1-1.noarch",
            "pub-hello-1.1-1.x86_64",
            "pub-tool-1.0-2.x86_64"
        ]
    );
    // --keep-old 0 drops superseded metadata at once
    ok(&cairn(&[
        "repo",
        "publish",
        s(&repo),
        "--keys",
        s(&keys),
        "--keep-old",
        "0",
        "--full",
    ]));
    for f in &old_md {
        assert!(!repo.join("repodata").join(f).exists(), "{f} kept");
    }
    // an active key cannot be removed; a retired one can
    let o = cairn(&["key", "remove", "--keys", s(&keys), &new_fpr]);
    assert!(stderr(&o).contains("is the active key"), "{}", stderr(&o));
    ok(&cairn(&["key", "remove", "--keys", s(&keys), &old_fpr]));
    let exported = ok(&cairn(&["key", "export", "--keys", s(&keys)]));
    assert_eq!(exported.matches("BEGIN PGP PUBLIC KEY BLOCK").count(), 1);
}
