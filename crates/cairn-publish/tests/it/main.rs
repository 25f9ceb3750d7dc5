//! Integration tests of the publisher against real RPMs (rpmbuild, fixtures/rpm/publish)
//! and the real createrepo_c; the dnf end-to-end tests live in cairn-cli's tests.

use cairn_openpgp::KeyAlgo;
use cairn_publish::{
    Compression, KeyStatus, KeyStore, NoReport, PublishOptions, PublishSummary, Signing, publish,
};
use cairn_rpmmd::updateinfo::{Advisory, AdvisoryKind, AdvisoryPackage, Severity};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn rpmbuild(work: &Path, spec: &str, defines: &[(&str, &str)]) -> Vec<PathBuf> {
    let top = work.join(format!("top-{spec}-{}", defines.len()));
    let mut c = Command::new("rpmbuild");
    c.args(["-bb", "--nodeps", "--define"])
        .arg(format!("_topdir {}", top.display()))
        .arg("--define")
        .arg(format!("_dbpath {}", top.join("db").display()));
    for (k, v) in defines {
        c.arg("--define").arg(format!("{k} {v}"));
    }
    let o = c
        .arg(root().join(format!("fixtures/rpm/publish/{spec}.spec")))
        .output()
        .expect("rpmbuild (scripts/setup-host.sh installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(top.join("RPMS"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rpm"))
        .map(|e| e.path().to_path_buf())
        .collect();
    v.sort();
    v
}

fn fixture_rpms(work: &Path) -> Vec<PathBuf> {
    let mut v = rpmbuild(work, "pub-hello", &[("ver", "1.0")]);
    v.extend(rpmbuild(work, "pub-tool", &[("rel", "1")]));
    v.extend(rpmbuild(work, "pub-data", &[]));
    v
}

fn opts(repo: &Path) -> PublishOptions {
    PublishOptions {
        repo: repo.to_path_buf(),
        add: vec![],
        signing: None,
        advisories: vec![],
        compression: Compression::Gz,
        keep_old: Duration::from_secs(3600),
        now: at(1_795_000_000),
        jobs: 2,
        full: false,
    }
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(fs_err::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// The decompressed metadata document of `kind` that repomd.xml names.
fn document(repo: &Path, kind: &str) -> String {
    let md = cairn_rpmmd::parse_repomd(
        &fs_err::read(repo.join("repodata/repomd.xml")).unwrap(),
        "repomd.xml",
    )
    .unwrap();
    let loc = &md.get(kind).unwrap().location;
    let path = repo.join(loc);
    if loc.ends_with(".gz") {
        gunzip(&path)
    } else {
        String::from_utf8(zstd::decode_all(fs_err::File::open(&path).unwrap()).unwrap()).unwrap()
    }
}

#[test]
fn metadata_is_what_createrepo_c_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = fixture_rpms(tmp.path());
    let ours = tmp.path().join("ours");
    let theirs = tmp.path().join("theirs");
    for dir in [&ours, &theirs] {
        fs_err::create_dir_all(dir.join("Packages")).unwrap();
        for r in &rpms {
            let dest = dir.join("Packages").join(r.file_name().unwrap());
            fs_err::copy(r, &dest).unwrap();
            // same mtime in both trees: `time file` is the file's mtime
            filetime::set_file_mtime(&dest, filetime::FileTime::from_unix_time(1_790_000_000, 0))
                .unwrap();
        }
    }
    let summary = publish(&opts(&ours), &NoReport).unwrap();
    assert_eq!(summary.packages, 3);
    let o = Command::new("createrepo_c")
        .args(["--no-database", "--simple-md-filenames"])
        .arg(&theirs)
        .output()
        .expect("createrepo_c");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for kind in ["primary", "filelists", "other"] {
        let a = document(&ours, kind);
        let b = gunzip(&theirs.join(format!("repodata/{kind}.xml.gz")));
        if a != b {
            let diff = similar::TextDiff::from_lines(&b, &a)
                .unified_diff()
                .header("createrepo_c", "cairn")
                .to_string();
            panic!("{kind}.xml differs from createrepo_c's:\n{diff}");
        }
    }
}

#[test]
fn incremental_publish_reuses_unchanged_packages_and_survives_a_broken_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = fixture_rpms(tmp.path());
    let repo = tmp.path().join("repo");
    let mut o = opts(&repo);
    o.add = rpms[..2].to_vec();
    let first = publish(&o, &NoReport).unwrap();
    assert_eq!((first.read, first.reused), (2, 0));
    assert_eq!(first.added.len(), 2);
    let mut o = opts(&repo);
    o.add = rpms[2..].to_vec();
    let second = publish(&o, &NoReport).unwrap();
    assert_eq!((second.packages, second.read, second.reused), (3, 1, 2));
    // a cold publish of the same tree gives the same documents
    let primary = document(&repo, "primary");
    let filelists = document(&repo, "filelists");
    let mut o = opts(&repo);
    o.full = true;
    let cold = publish(&o, &NoReport).unwrap();
    assert_eq!((cold.read, cold.reused), (3, 0));
    assert_eq!(document(&repo, "primary"), primary);
    assert_eq!(document(&repo, "filelists"), filelists);
    // a truncated cache is ignored, not trusted
    let cache = repo.join(".cairn/publish-cache");
    let bytes = fs_err::read(&cache).unwrap();
    fs_err::write(&cache, &bytes[..bytes.len() / 2]).unwrap();
    let again = publish(&opts(&repo), &NoReport).unwrap();
    assert_eq!(again.read, 3);
    assert_eq!(document(&repo, "primary"), primary);
    // touching a file (new mtime, same bytes) reuses its entry by checksum
    let f = repo.join(&first.added[0]);
    filetime::set_file_mtime(&f, filetime::FileTime::from_unix_time(1_790_000_123, 0)).unwrap();
    let touched = publish(&opts(&repo), &NoReport).unwrap();
    assert_eq!(touched.read, 1);
}

fn summary_files(s: &PublishSummary) -> Vec<String> {
    s.metadata.iter().map(|m| m.location.clone()).collect()
}

#[test]
fn superseded_metadata_is_kept_for_the_retention_time() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = fixture_rpms(tmp.path());
    let repo = tmp.path().join("repo");
    let mut o = opts(&repo);
    o.add = rpms[..1].to_vec();
    let first = publish(&o, &NoReport).unwrap();
    let mut o = opts(&repo);
    o.add = rpms[1..].to_vec();
    o.now = at(1_795_000_100);
    let second = publish(&o, &NoReport).unwrap();
    assert!(second.pruned.is_empty());
    for f in summary_files(&first) {
        assert!(
            repo.join(&f).exists(),
            "{f} removed within the retention time"
        );
    }
    // an hour after it was superseded (not after it was written) it goes
    let mut o = opts(&repo);
    o.now = at(1_795_000_100 + 3599);
    assert!(publish(&o, &NoReport).unwrap().pruned.is_empty());
    let mut o = opts(&repo);
    o.now = at(1_795_000_100 + 3600);
    let pruned = publish(&o, &NoReport).unwrap().pruned;
    let mut want = summary_files(&first);
    want.sort();
    let mut got = pruned.clone();
    got.sort();
    assert_eq!(got, want);
    for f in summary_files(&second) {
        assert!(
            repo.join(&f).exists(),
            "{f}: the current metadata was pruned"
        );
    }
}

#[test]
fn key_store_generate_rotate_remove_and_permissions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let mut store = KeyStore::open(&dir).unwrap();
    assert!(store.active_key().is_err());
    let first = store
        .generate(
            "Cairn Test <t@cairn.invalid>",
            KeyAlgo::Ed25519,
            at(1_790_000_000),
        )
        .unwrap();
    assert_eq!(
        fs_err::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let secret = dir.join(format!("{}.secret.asc", first.fingerprint));
    assert_eq!(
        fs_err::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        store
            .generate("again", KeyAlgo::Ed25519, at(1_790_000_000))
            .unwrap_err()
            .to_string()
            .contains("cairn key rotate")
    );
    let (second, retired) = store
        .rotate(None, KeyAlgo::Ed25519, at(1_790_000_000))
        .unwrap();
    assert_eq!(retired.unwrap().status, KeyStatus::Retired);
    assert_ne!(second.fingerprint, first.fingerprint);
    // reopened from disk: one active key, the new one
    let store = KeyStore::open(&dir).unwrap();
    assert_eq!(
        store.active_entry().unwrap().fingerprint,
        second.fingerprint
    );
    assert_eq!(
        store.active_key().unwrap().fingerprint(),
        second.fingerprint
    );
    let exported = store.public_keys_armored().unwrap();
    let mut ring = cairn_openpgp::Keyring::new();
    assert_eq!(ring.add_bytes(exported.as_bytes(), "export").unwrap(), 2);
    // a signature by the active key verifies against the exported file
    let sig = store
        .active_key()
        .unwrap()
        .sign_detached_armored(b"data", at(1_790_000_001))
        .unwrap();
    cairn_openpgp::verify_detached(&ring, b"data", sig.as_bytes(), "data").unwrap();
    // world-readable secrets are refused
    let s2 = dir.join(format!("{}.secret.asc", second.fingerprint));
    fs_err::set_permissions(&s2, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = store.active_key().unwrap_err().to_string();
    assert!(err.contains("mode 0640"), "{err}");
    fs_err::set_permissions(&s2, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut store = KeyStore::open(&dir).unwrap();
    assert!(store.remove(&second.fingerprint).is_err());
    store.remove(&first.fingerprint).unwrap();
    assert!(
        !dir.join(format!("{}.secret.asc", first.fingerprint))
            .exists()
    );
    assert_eq!(KeyStore::open(&dir).unwrap().entries().len(), 1);
}

#[test]
fn signed_publish_signs_new_packages_and_repomd() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = fixture_rpms(tmp.path());
    let dir = tmp.path().join("keys");
    let mut store = KeyStore::open(&dir).unwrap();
    let key = store
        .generate(
            "Cairn Test <t@cairn.invalid>",
            KeyAlgo::Ed25519,
            at(1_790_000_000),
        )
        .unwrap();
    let repo = tmp.path().join("repo");
    // one package dropped in by hand, unsigned, and two added
    fs_err::create_dir_all(repo.join("extra")).unwrap();
    fs_err::copy(
        &rpms[2],
        repo.join("extra").join(rpms[2].file_name().unwrap()),
    )
    .unwrap();
    let mut o = opts(&repo);
    o.add = rpms[..2].to_vec();
    o.signing = Some(Signing::from_store(&store, "RPM-GPG-KEY-test").unwrap());
    let s = publish(&o, &NoReport).unwrap();
    assert_eq!(s.signed.len(), 1, "{:?}", s.signed);
    assert_eq!(s.signed_by.as_deref(), Some(key.fingerprint.as_str()));
    let mut ring = cairn_openpgp::Keyring::new();
    ring.add_file(&repo.join("RPM-GPG-KEY-test")).unwrap();
    let repomd = fs_err::read(repo.join("repodata/repomd.xml")).unwrap();
    let asc = fs_err::read(repo.join("repodata/repomd.xml.asc")).unwrap();
    cairn_openpgp::verify_detached(&ring, &repomd, &asc, "repomd.xml").unwrap();
    for e in walkdir::WalkDir::new(&repo) {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "rpm") {
            cairn_rpmfile::verify(e.path(), &ring).unwrap();
        }
    }
    // the source RPMs given to --add are untouched
    assert!(cairn_rpmfile::signer_key_ids(&rpms[0]).unwrap().is_empty());
    // publishing again unsigned drops the stale signature file
    let s = publish(&opts(&repo), &NoReport).unwrap();
    assert!(s.signed_by.is_none());
    assert!(!repo.join("repodata/repomd.xml.asc").exists());
}

fn advisory(id: &str, kind: AdvisoryKind, nevra: (&str, &str, &str, &str)) -> Advisory {
    Advisory {
        id: id.into(),
        kind,
        severity: (kind == AdvisoryKind::Security).then_some(Severity::Important),
        title: format!("{id} title"),
        issued: 1_795_000_000,
        updated: None,
        description: "Fixes things.".into(),
        solution: None,
        release: None,
        from: "security@cairn.invalid".into(),
        status: "stable".into(),
        references: vec![],
        packages: vec![AdvisoryPackage {
            name: nevra.0.into(),
            epoch: 0,
            version: nevra.1.into(),
            release: nevra.2.into(),
            arch: nevra.3.into(),
            src: String::new(),
            filename: "whatever.rpm".into(),
        }],
        reboot_suggested: false,
    }
}

#[test]
fn advisories_land_in_updateinfo_with_the_repository_file_names() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = fixture_rpms(tmp.path());
    let repo = tmp.path().join("repo");
    let adir = tmp.path().join("advisories");
    let sec = advisory(
        "TEST-2026-0001",
        AdvisoryKind::Security,
        ("pub-hello", "1.0", "1", "x86_64"),
    );
    let bug = advisory(
        "TEST-2026-0002",
        AdvisoryKind::Bugfix,
        ("pub-gone", "1.0", "1", "x86_64"),
    );
    cairn_publish::write_new_advisory(&adir, &sec).unwrap();
    cairn_publish::write_new_advisory(&adir, &bug).unwrap();
    assert!(cairn_publish::write_new_advisory(&adir, &sec).is_err());
    assert_eq!(
        cairn_publish::next_advisory_id(&adir, "TEST", 2026).unwrap(),
        "TEST-2026-0003"
    );
    let loaded = cairn_publish::load_advisories(&adir).unwrap();
    assert_eq!(loaded, vec![sec.clone(), bug.clone()]);
    let mut o = opts(&repo);
    o.add = rpms.clone();
    o.advisories = loaded;
    let s = publish(&o, &NoReport).unwrap();
    // the bugfix names a package the repository lacks: left out with a note
    assert_eq!(s.advisories, 1);
    assert_eq!(
        s.advisory_packages_missing,
        ["TEST-2026-0002: pub-gone-1.0-1.x86_64"]
    );
    let ui =
        cairn_rpmmd::updateinfo::parse_updateinfo(document(&repo, "updateinfo").as_bytes(), "u")
            .unwrap();
    assert_eq!(ui.len(), 1);
    assert_eq!(ui[0].packages[0].filename, "pub-hello-1.0-1.x86_64.rpm");
    assert_eq!(ui[0].packages[0].src, "pub-hello-1.0-1.src.rpm");
    // a malformed advisory file names its file and field
    fs_err::write(
        adir.join("TEST-2026-0009.toml"),
        "format = 1\nid = \"TEST-2026-0009\"\nkind = \"securty\"\n",
    )
    .unwrap();
    let err = cairn_publish::load_advisories(&adir)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("TEST-2026-0009.toml") && err.contains("securty"),
        "{err}"
    );
}

#[test]
fn zstd_metadata_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = fixture_rpms(tmp.path());
    let repo = tmp.path().join("repo");
    let mut o = opts(&repo);
    o.add = rpms;
    o.compression = Compression::Zstd;
    let s = publish(&o, &NoReport).unwrap();
    assert!(s.metadata.iter().all(|m| m.location.ends_with(".xml.zst")));
    let pkgs =
        cairn_rpmmd::parse_primary(document(&repo, "primary").as_bytes(), "primary").unwrap();
    let mut names: Vec<_> = pkgs.iter().map(|p| p.nevra()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "pub-data-2026.1-1.noarch",
            "pub-hello-1.0-1.x86_64",
            "pub-tool-1.0-1.x86_64"
        ]
    );
}

#[test]
fn a_second_publisher_is_refused_while_one_holds_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = fixture_rpms(tmp.path());
    let repo = tmp.path().join("repo");
    let mut o = opts(&repo);
    o.add = rpms;
    publish(&o, &NoReport).unwrap();
    let before = fs_err::read(repo.join("repodata/repomd.xml")).unwrap();
    let lock = fs_err::File::open(repo.join(".cairn/publish.lock")).unwrap();
    fs4::fs_std::FileExt::lock_exclusive(lock.file()).unwrap();
    let err = publish(&opts(&repo), &NoReport).unwrap_err().to_string();
    assert!(err.contains("another publish holds"), "{err}");
    assert_eq!(
        fs_err::read(repo.join("repodata/repomd.xml")).unwrap(),
        before
    );
    drop(lock);
    publish(&opts(&repo), &NoReport).unwrap();
}
