//! cairn-apt against the real Debian archive, reached through the host's apt configuration.

use cairn_apt::{AptClient, AptError, AptSourceConfig, DebRef, NoReporter, Reporter, host_sources};
use cairn_cache::{Cache, hash_reader};
use cairn_package::{ChecksumAlgo, RepoPackages};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

fn bookworm() -> AptSourceConfig {
    let all = host_sources("amd64").unwrap();
    all.iter()
        .find(|c| c.id.ends_with("/bookworm") && c.components.contains(&"main".to_owned()))
        .unwrap_or_else(|| panic!("no bookworm main source in the host's apt sources: {all:?}"))
        .clone()
}

fn scratch(name: &str) -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cairn-apt");
    fs_err::create_dir_all(&base).unwrap();
    tempfile::Builder::new()
        .prefix(name)
        .tempdir_in(base)
        .unwrap()
}

/// Every file under `dir` with its size and mtime.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs_err::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            }
            out.insert(e.path(), (meta.len(), meta.modified().unwrap()));
        }
    }
    out
}

struct Loaded {
    cache: Cache,
    src: AptSourceConfig,
    repo: RepoPackages,
}

/// One update shared by the tests that need it (apt locks its private state).
fn loaded() -> &'static Loaded {
    static CELL: OnceLock<Loaded> = OnceLock::new();
    CELL.get_or_init(|| {
        // A static is never dropped: use a fixed directory, emptied at the start of each run
        // so the first fetch really downloads.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cairn-apt/shared");
        if dir.exists() {
            fs_err::remove_dir_all(&dir).unwrap();
        }
        let cache = Cache::open(&dir).unwrap();
        let src = bookworm();
        let host_before = (
            snapshot(Path::new("/var/lib/apt/lists")),
            snapshot(Path::new("/var/cache/apt")),
        );
        let repo = AptClient::new(cache.clone(), false)
            .update_and_load(&src, &NoReporter)
            .unwrap();
        let host_after = (
            snapshot(Path::new("/var/lib/apt/lists")),
            snapshot(Path::new("/var/cache/apt")),
        );
        assert!(
            host_before == host_after,
            "the host's apt lists or cache changed during update_and_load"
        );
        Loaded { cache, src, repo }
    })
}

#[test]
fn update_and_load_bookworm_main() {
    let l = loaded();
    assert!(l.repo.packages.len() > 50_000, "{}", l.repo.packages.len());
    for name in ["bash", "libc6"] {
        assert!(
            l.repo.packages.iter().any(|p| p.name == name),
            "{name} missing"
        );
    }
    assert!(
        l.repo
            .packages
            .iter()
            .all(|p| p.arch == "amd64" || p.arch == "all")
    );
    assert_eq!(l.repo.base_urls, l.src.uris);
    assert_eq!(l.repo.repo.0, l.src.id);

    // The revision is the digest of the InRelease apt fetched into the private state.
    let inrelease: Vec<PathBuf> = snapshot(&l.cache.root().join("apt"))
        .into_keys()
        .filter(|p| p.to_string_lossy().ends_with("_bookworm_InRelease"))
        .collect();
    assert_eq!(inrelease.len(), 1, "{inrelease:?}");
    let digest = hash_reader(
        ChecksumAlgo::Sha256,
        fs_err::File::open(&inrelease[0]).unwrap(),
    )
    .unwrap();
    assert_eq!(l.repo.revision, digest);

    // Offline, the same private lists load again without apt touching the network.
    let again = AptClient::new(l.cache.clone(), true)
        .update_and_load(&l.src, &NoReporter)
        .unwrap();
    assert_eq!(again.packages.len(), l.repo.packages.len());
    assert_eq!(again.revision, l.repo.revision);
}

#[derive(Default)]
struct Counting {
    cached: AtomicUsize,
    downloaded: AtomicUsize,
}
impl Reporter for Counting {
    fn package_ready(&self, _source: &str, _name: &str, cached: bool) {
        let c = if cached {
            &self.cached
        } else {
            &self.downloaded
        };
        c.fetch_add(1, Ordering::SeqCst);
    }
}

fn deb_ref(repo: &RepoPackages, name: &str) -> DebRef {
    let p = repo.packages.iter().find(|p| p.name == name).unwrap();
    DebRef {
        name: p.name.clone(),
        version: p.version.to_string(),
        arch: p.arch.clone(),
        checksum: p.checksum.clone(),
    }
}

#[test]
fn fetch_debs_verifies_and_caches() {
    let l = loaded();
    let wanted = [
        deb_ref(&l.repo, "hostname"),
        deb_ref(&l.repo, "debianutils"),
    ];
    let rep = Counting::default();
    let paths = AptClient::new(l.cache.clone(), false)
        .fetch_debs(&l.src, &wanted, &rep)
        .unwrap();
    assert_eq!(paths.len(), 2);
    for (p, w) in paths.iter().zip(&wanted) {
        let sum = hash_reader(ChecksumAlgo::Sha256, fs_err::File::open(p).unwrap()).unwrap();
        assert_eq!(sum, w.checksum, "{}", p.display());
        // dpkg agrees it is the package we asked for.
        let out = Command::new("dpkg-deb")
            .args(["-f", &p.to_string_lossy(), "Package", "Version"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&w.name) && text.contains(&w.version),
            "{text}"
        );
    }
    assert_eq!(rep.downloaded.load(Ordering::SeqCst), 2);

    // Second call: offline, so it can only succeed from the cache.
    let rep = Counting::default();
    let again = AptClient::new(l.cache.clone(), true)
        .fetch_debs(&l.src, &wanted, &rep)
        .unwrap();
    assert_eq!(again, paths);
    assert_eq!(rep.cached.load(Ordering::SeqCst), 2);
}

#[test]
fn unknown_version_is_a_clear_error() {
    let l = loaded();
    let mut bad = deb_ref(&l.repo, "hostname");
    bad.version = "9.9-nonexistent".into();
    bad.checksum = cairn_package::Checksum::new(ChecksumAlgo::Sha256, "1".repeat(64));
    let err = AptClient::new(l.cache.clone(), false)
        .fetch_debs(&l.src, &[bad], &NoReporter)
        .unwrap_err();
    assert!(matches!(err, AptError::NotInSource { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("hostname=9.9-nonexistent")
            && msg.contains(&l.src.id)
            && msg.contains("bookworm main"),
        "{msg}"
    );
}

#[test]
fn wrong_keyring_fails_the_signature_check() {
    let dir = scratch("gpg-");
    let home = dir.path().join("gnupg");
    fs_err::create_dir_all(&home).unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(&home)
            .args(["--batch", "--quiet"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        "cairn test <test@example.invalid>",
        "ed25519",
        "sign",
        "never",
    ]);
    let keyring = dir.path().join("throwaway.gpg");
    fs_err::write(&keyring, gpg(&["--export"])).unwrap();

    let mut src = bookworm();
    src.signed_by = vec![keyring];
    let cache = Cache::open(dir.path().join("cache")).unwrap();
    let err = AptClient::new(cache, false)
        .update_and_load(&src, &NoReporter)
        .unwrap_err();
    assert!(matches!(err, AptError::Signature { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&src.id) && msg.contains("signature"), "{msg}");
}

#[test]
fn offline_with_empty_cache_names_what_is_missing() {
    let dir = scratch("offline-");
    let cache = Cache::open(dir.path()).unwrap();
    let src = bookworm();
    let client = AptClient::new(cache, true);
    let err = client.update_and_load(&src, &NoReporter).unwrap_err();
    assert!(matches!(err, AptError::OfflineMissing { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&src.id) && msg.contains("main/binary-amd64/Packages"),
        "{msg}"
    );

    let wanted = [DebRef {
        name: "hostname".into(),
        version: "3.23+nmu1".into(),
        arch: "amd64".into(),
        checksum: cairn_package::Checksum::new(ChecksumAlgo::Sha256, "2".repeat(64)),
    }];
    let msg = client
        .fetch_debs(&src, &wanted, &NoReporter)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("hostname:amd64=3.23+nmu1") && msg.contains("offline"),
        "{msg}"
    );
}

#[test]
fn missing_apt_get_says_install_apt() {
    let dir = scratch("noapt-");
    let cache = Cache::open(dir.path()).unwrap();
    let err = AptClient::new(cache, false)
        .with_apt_get("/nonexistent/apt-get")
        .update_and_load(&bookworm(), &NoReporter)
        .unwrap_err();
    assert!(matches!(err, AptError::AptMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("install apt"), "{err}");
}

/// Defence in depth: offline loads re-check what apt left (apt is not involved offline).
#[test]
fn tampered_private_lists_are_caught() {
    let dir = scratch("tamper-");
    let cache = Cache::open(dir.path()).unwrap();
    let src = bookworm();
    AptClient::new(cache.clone(), false)
        .update_and_load(&src, &NoReporter)
        .unwrap();
    let files: Vec<PathBuf> = snapshot(&cache.root().join("apt")).into_keys().collect();
    let find = |suffix: &str| {
        files
            .iter()
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap()
            .clone()
    };
    let offline = AptClient::new(cache.clone(), true);

    let inrelease = find("_bookworm_InRelease");
    let original = fs_err::read_to_string(&inrelease).unwrap();
    fs_err::write(
        &inrelease,
        original.replacen("Codename: bookworm", "Codename: bookwörm", 1),
    )
    .unwrap();
    let err = offline.update_and_load(&src, &NoReporter).unwrap_err();
    assert!(matches!(err, AptError::Signature { .. }), "{err:?}");
    assert!(err.to_string().contains("InRelease"), "{err}");
    fs_err::write(&inrelease, &original).unwrap();

    let packages = find("_main_binary-amd64_Packages");
    let mut f = fs_err::OpenOptions::new()
        .append(true)
        .open(&packages)
        .unwrap();
    std::io::Write::write_all(&mut f, b"\nPackage: intruder\n").unwrap();
    let err = offline.update_and_load(&src, &NoReporter).unwrap_err();
    assert!(matches!(err, AptError::ChecksumMismatch { .. }), "{err:?}");
    assert!(
        err.to_string().contains("main/binary-amd64/Packages"),
        "{err}"
    );
}
