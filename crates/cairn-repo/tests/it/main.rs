//! cairn-repo against real fixture repositories: fixtures/rpm/basic built with rpmbuild and
//! createrepo_c by scripts/fixtures/rpm-repo.sh at test time, served over file:// and over
//! http:// from a local tiny_http server, signed with a throwaway gpg key.

use anyhow::{Context, Result, ensure};
use cairn_cache::{Cache, hash_bytes};
use cairn_fetch::{FetchOptions, Fetcher, NoReporter};
use cairn_package::{ChecksumAlgo, Package};
use cairn_repo::{LoadedRepo, RepoError, RpmMdRepoConfig, fetch_package, load_repo};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tempfile::TempDir;
use url::Url;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    ensure!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// A throwaway key: (GNUPGHOME, fingerprint).
fn gen_key(dir: &Path) -> Result<(PathBuf, String)> {
    let home = dir.join("gnupg");
    let fpr = run(Command::new("bash")
        .arg(workspace_root().join("scripts/fixtures/gen-key.sh"))
        .arg(&home))?;
    Ok((home, fpr.trim().to_owned()))
}

fn build_repo(out: &Path, extra: &[&str]) -> Result<()> {
    let root = workspace_root();
    run(Command::new("bash")
        .arg(root.join("scripts/fixtures/rpm-repo.sh"))
        .arg(root.join("fixtures/rpm/basic"))
        .arg(out)
        .args(extra))?;
    Ok(())
}

/// Fixture repositories built once per test run; each test copies the one it needs.
struct Built {
    _dir: TempDir,
    gz: PathBuf,
    xz: PathBuf,
    zstd: PathBuf,
    signed: PathBuf,
    other_key_signed: PathBuf,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let build = || -> Result<Built> {
            let dir = tempfile::tempdir()?;
            let p = |n: &str| dir.path().join(n);
            build_repo(&p("gz"), &[])?;
            build_repo(&p("xz"), &["--xz"])?;
            build_repo(&p("zstd"), &["--zstd"])?;
            let (home, key) = gen_key(&p("key-a"))?;
            build_repo(&p("signed"), &["--sign", home.to_str().unwrap(), &key])?;
            // Signed by key B, but carrying key A's public key file for the test to trust.
            let (home_b, key_b) = gen_key(&p("key-b"))?;
            build_repo(&p("other"), &["--sign", home_b.to_str().unwrap(), &key_b])?;
            fs_err::copy(p("signed/RPM-GPG-KEY-fixture"), p("other/RPM-GPG-KEY-fixture"))?;
            Ok(Built {
                gz: p("gz"),
                xz: p("xz"),
                zstd: p("zstd"),
                signed: p("signed"),
                other_key_signed: p("other"),
                _dir: dir,
            })
        };
        build().expect("building fixture repositories (needs rpmbuild, createrepo_c, gpg, zstd: scripts/setup-host.sh)")
    })
}

/// A private copy of a built repository plus an empty cache.
struct Env {
    dir: TempDir,
    repo: PathBuf,
}

impl Env {
    fn new(from: &Path) -> Result<Env> {
        let dir = tempfile::tempdir()?;
        let repo = dir.path().join("repo");
        run(Command::new("cp").arg("-a").arg(from).arg(&repo))?;
        Ok(Env { dir, repo })
    }
    fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
    fn fetcher(&self, offline: bool) -> Fetcher {
        let cache = Cache::open(self.cache_dir()).unwrap();
        let opts = FetchOptions {
            offline,
            retries: 0,
            timeout: Duration::from_secs(10),
            ..Default::default()
        };
        Fetcher::new(cache, opts).unwrap()
    }
    fn file_url(&self) -> Url {
        Url::from_directory_path(&self.repo).unwrap()
    }
    fn config(&self, base: Url) -> RpmMdRepoConfig {
        RpmMdRepoConfig::new("fixture", vec![base])
    }
    fn repomd(&self) -> String {
        fs_err::read_to_string(self.repo.join("repodata/repomd.xml")).unwrap()
    }
    fn set_repomd(&self, s: &str) {
        fs_err::write(self.repo.join("repodata/repomd.xml"), s).unwrap();
    }
    /// Path of the metadata file of `kind` as repomd.xml lists it.
    fn md_path(&self, kind: &str) -> PathBuf {
        let md = cairn_rpmmd::parse_repomd(self.repomd().as_bytes(), "t").unwrap();
        self.repo.join(&md.get(kind).unwrap().location)
    }
}

/// Serves a directory over http on 127.0.0.1, counting requests per path.
struct Server {
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    base: Url,
    hits: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let base = Url::parse(&format!("http://127.0.0.1:{port}/repo/")).unwrap();
        let hits: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        let (srv, h, dir) = (server.clone(), hits.clone(), dir.to_owned());
        let thread = std::thread::spawn(move || {
            for req in srv.incoming_requests() {
                let path = req.url().trim_start_matches("/repo/").to_owned();
                *h.lock().unwrap().entry(path.clone()).or_default() += 1;
                let file = (!path.contains(".."))
                    .then(|| fs_err::File::open(dir.join(&path)).ok())
                    .flatten();
                let _ = match file {
                    Some(f) => req.respond(tiny_http::Response::from_file(f.into_parts().0)),
                    None => req.respond(tiny_http::Response::empty(404)),
                };
            }
        });
        Server {
            server,
            thread: Some(thread),
            base,
            hits,
        }
    }
    fn hits_matching(&self, needle: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.contains(needle))
            .map(|(_, v)| v)
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn nevras(r: &LoadedRepo) -> Vec<String> {
    r.packages.packages.iter().map(Package::nevra).collect()
}

fn pkg<'a>(r: &'a LoadedRepo, name: &str) -> &'a Package {
    r.packages.packages.iter().find(|p| p.name == name).unwrap()
}

const ALL: [&str; 6] = [
    "epochal-3:0.5-2.x86_64",
    "fixture-shell-1.0-1.x86_64",
    "hello-2.0-1.x86_64",
    "hello-data-1.0-3.noarch",
    "libhello-1.0-1.x86_64",
    "libhello-1.1-1.x86_64",
];

#[test]
fn loads_over_file_and_http_with_lazy_filelists() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let server = Server::start(&env.repo);
    for (i, base) in [env.file_url(), server.base.clone()]
        .into_iter()
        .enumerate()
    {
        // a fresh cache per transport
        let cache = Cache::open(env.dir.path().join(format!("cache{i}")))?;
        let f = Fetcher::new(cache, FetchOptions::default())?;
        let cfg = env.config(base.clone());
        let mut r = load_repo(&f, &cfg, &NoReporter)?;
        assert_eq!(nevras(&r), ALL, "{base}");
        assert_eq!(
            r.revision,
            hash_bytes(ChecksumAlgo::Sha256, env.repomd().as_bytes())
        );
        assert_eq!(r.packages.revision, r.revision);
        assert_eq!(r.packages.priority, 99);
        assert_eq!(r.packages.repo.0, "fixture");
        assert_eq!(r.packages.base_urls, vec![base.to_string()]);
        assert!(!r.signature_verified);
        // primary's file subset only
        assert_eq!(pkg(&r, "hello").files, ["/usr/bin/hello"]);
        assert_eq!(pkg(&r, "fixture-shell").files, ["/bin/sh", "/etc/shells"]);
        // filelists not downloaded yet
        let fl = r.repomd.get("filelists").unwrap().checksum.clone();
        assert!(
            f.cache().get(&fl, false)?.is_none(),
            "filelists fetched before load_filelists"
        );
        if i == 1 {
            assert_eq!(server.hits_matching("filelists"), 0);
            assert_eq!(server.hits_matching("primary"), 1);
        }
        r.load_filelists(&f, &NoReporter)?;
        assert!(r.filelists_loaded);
        assert!(f.cache().get(&fl, false)?.is_some());
        assert_eq!(
            pkg(&r, "hello").files,
            ["/usr/bin/hello", "/usr/share/doc/hello/README"]
        );
        assert_eq!(
            pkg(&r, "hello-data").files,
            ["/usr/share/hello/greeting.txt"]
        );
        // once only
        r.load_filelists(&f, &NoReporter)?;
        if i == 1 {
            assert_eq!(server.hits_matching("filelists"), 1);
        }
    }
    Ok(())
}

#[test]
fn xz_and_zstd_metadata_load_the_same_packages() -> Result<()> {
    let gz = Env::new(&built().gz)?;
    let reference = load_repo(&gz.fetcher(false), &gz.config(gz.file_url()), &NoReporter)?;
    for (from, ext) in [(&built().xz, ".xml.xz"), (&built().zstd, ".xml.zst")] {
        let env = Env::new(from)?;
        assert!(env.md_path("primary").to_str().unwrap().ends_with(ext));
        let server = Server::start(&env.repo);
        let f = env.fetcher(false);
        let mut r = load_repo(&f, &env.config(server.base.clone()), &NoReporter)?;
        assert_eq!(r.packages.packages, reference.packages.packages, "{ext}");
        r.load_filelists(&f, &NoReporter)?;
        assert_eq!(pkg(&r, "hello").files.len(), 2, "{ext}");
    }
    Ok(())
}

fn signed_config(env: &Env, base: Url) -> RpmMdRepoConfig {
    let mut cfg = env.config(base);
    cfg.repo_gpgcheck = true;
    cfg.gpgcheck = true;
    cfg.gpgkeys = vec![env.repo.join("RPM-GPG-KEY-fixture")];
    cfg
}

#[test]
fn signed_repository_is_verified() -> Result<()> {
    let env = Env::new(&built().signed)?;
    let server = Server::start(&env.repo);
    for base in [env.file_url(), server.base.clone()] {
        let r = load_repo(&env.fetcher(false), &signed_config(&env, base), &NoReporter)?;
        assert!(r.signature_verified);
        assert!(r.config.gpgcheck);
        assert_eq!(nevras(&r), ALL);
    }
    Ok(())
}

#[test]
fn unsigned_repository_is_refused_with_repo_gpgcheck() -> Result<()> {
    let env = Env::new(&built().signed)?;
    fs_err::remove_file(env.repo.join("repodata/repomd.xml.asc"))?;
    let server = Server::start(&env.repo);
    for base in [env.file_url(), server.base.clone()] {
        let e = load_repo(
            &env.fetcher(false),
            &signed_config(&env, base.clone()),
            &NoReporter,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, RepoError::NotSigned { .. }), "{msg}");
        assert!(
            msg.starts_with(&format!(
                "repository fixture ({base}repodata/repomd.xml) is not signed"
            )),
            "{msg}"
        );
    }
    Ok(())
}

#[test]
fn gpgcheck_without_key_is_refused() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let mut cfg = env.config(env.file_url());
    cfg.gpgcheck = true;
    let e = load_repo(&env.fetcher(false), &cfg, &NoReporter).unwrap_err();
    assert!(matches!(e, RepoError::NoGpgKey { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("repository fixture: gpgcheck is on but no gpgkey"),
        "{e}"
    );
    Ok(())
}

#[test]
fn tampered_repomd_is_refused() -> Result<()> {
    let env = Env::new(&built().signed)?;
    let md = env.repomd();
    let tampered = md.replacen(
        "<revision>1700000000</revision>",
        "<revision>1700000001</revision>",
        1,
    );
    assert_ne!(md, tampered);
    env.set_repomd(&tampered);
    let e = load_repo(
        &env.fetcher(false),
        &signed_config(&env, env.file_url()),
        &NoReporter,
    )
    .unwrap_err();
    assert!(matches!(e, RepoError::BadSignature { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("repodata/repomd.xml.asc does not verify"),
        "{e}"
    );
    Ok(())
}

#[test]
fn signature_by_another_key_is_refused() -> Result<()> {
    let env = Env::new(&built().other_key_signed)?;
    let e = load_repo(
        &env.fetcher(false),
        &signed_config(&env, env.file_url()),
        &NoReporter,
    )
    .unwrap_err();
    assert!(matches!(e, RepoError::BadSignature { .. }), "{e}");
    Ok(())
}

#[test]
fn corrupt_primary_is_refused_naming_url_and_digests() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let server = Server::start(&env.repo);
    let primary = env.md_path("primary");
    let mut bytes = fs_err::read(&primary)?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs_err::write(&primary, &bytes)?;
    let expected = cairn_rpmmd::parse_repomd(env.repomd().as_bytes(), "t")?
        .get("primary")
        .unwrap()
        .checksum
        .clone();
    let actual = hash_bytes(ChecksumAlgo::Sha256, &bytes);
    for base in [env.file_url(), server.base.clone()] {
        let e = load_repo(&env.fetcher(false), &env.config(base.clone()), &NoReporter).unwrap_err();
        let msg = e.to_string();
        let rel = primary
            .strip_prefix(&env.repo)?
            .to_str()
            .unwrap()
            .to_owned();
        assert!(msg.contains(&format!("{base}{rel}")), "{msg}");
        assert!(
            msg.contains(&expected.to_string()) && msg.contains(&actual.to_string()),
            "{msg}"
        );
    }
    Ok(())
}

/// Replace a metadata file's content and make repomd.xml's `<checksum>`/`<size>` match,
/// leaving open-checksum/open-size alone (the repository is unsigned).
fn replace_metadata(env: &Env, kind: &str, new: &[u8]) -> Result<()> {
    let path = env.md_path(kind);
    let old = fs_err::read(&path)?;
    let (old_ck, new_ck) = (
        hash_bytes(ChecksumAlgo::Sha256, &old),
        hash_bytes(ChecksumAlgo::Sha256, new),
    );
    fs_err::write(&path, new)?;
    let md = env.repomd().replacen(&old_ck.hex, &new_ck.hex, 1).replacen(
        &format!("<size>{}</size>", old.len()),
        &format!("<size>{}</size>", new.len()),
        1,
    );
    env.set_repomd(&md);
    Ok(())
}

#[test]
fn truncated_primary_is_refused() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let primary = env.md_path("primary");
    let bytes = fs_err::read(&primary)?;
    // Plainly truncated: the digest catches it.
    fs_err::write(&primary, &bytes[..bytes.len() / 2])?;
    let e = load_repo(
        &env.fetcher(false),
        &env.config(env.file_url()),
        &NoReporter,
    )
    .unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    // Truncated with a repomd.xml that agrees: decompression must fail, not yield fewer packages.
    fs_err::write(&primary, &bytes)?;
    replace_metadata(&env, "primary", &bytes[..bytes.len() / 2])?;
    let e = load_repo(
        &env.fetcher(false),
        &env.config(env.file_url()),
        &NoReporter,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("truncated"), "{msg}");
    assert!(msg.contains("repository fixture"), "{msg}");
    Ok(())
}

#[test]
fn open_checksum_is_verified() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let primary = env.md_path("primary");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(fs_err::File::open(&primary)?),
        &mut xml,
    )?;
    // Valid XML, same length, different content: only the open-checksum can tell.
    let changed = xml.replacen("Prints a greeting", "Prints a greetinG", 1);
    assert_eq!(changed.len(), xml.len());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(changed.as_bytes())?;
    replace_metadata(&env, "primary", &gz.finish()?)?;
    let e = load_repo(
        &env.fetcher(false),
        &env.config(env.file_url()),
        &NoReporter,
    )
    .unwrap_err();
    assert!(matches!(e, RepoError::OpenChecksum { .. }), "{e}");
    assert!(e.to_string().contains("open-checksum"), "{e}");
    Ok(())
}

#[test]
fn excludes_and_arches_filter_packages() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let f = env.fetcher(false);
    let mut cfg = env.config(env.file_url());
    cfg.excludes = vec!["libhello*".into(), "epoch?l".into()];
    cfg.priority = 10;
    let r = load_repo(&f, &cfg, &NoReporter)?;
    assert_eq!(
        nevras(&r),
        [
            "fixture-shell-1.0-1.x86_64",
            "hello-2.0-1.x86_64",
            "hello-data-1.0-3.noarch"
        ]
    );
    assert_eq!(r.packages.priority, 10);
    let mut cfg = env.config(env.file_url());
    cfg.arches = vec!["noarch".into()];
    let mut r = load_repo(&f, &cfg, &NoReporter)?;
    assert_eq!(nevras(&r), ["hello-data-1.0-3.noarch"]);
    r.load_filelists(&f, &NoReporter)?;
    assert_eq!(r.packages.packages.len(), 1);
    Ok(())
}

#[test]
fn offline_reuses_the_last_load_and_fails_clearly_without_one() -> Result<()> {
    let env = Env::new(&built().signed)?;
    let server = Server::start(&env.repo);
    let cfg = signed_config(&env, server.base.clone());
    // Nothing cached yet.
    let e = load_repo(&env.fetcher(true), &cfg, &NoReporter).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("offline") && msg.contains("repodata/repomd.xml"),
        "{msg}"
    );
    assert_eq!(server.hits_matching(""), 0);

    let online = load_repo(&env.fetcher(false), &cfg, &NoReporter)?;
    let before = server.hits_matching("");
    let mut offline = load_repo(&env.fetcher(true), &cfg, &NoReporter)?;
    assert_eq!(offline.revision, online.revision);
    assert_eq!(offline.packages.packages, online.packages.packages);
    assert!(offline.signature_verified);
    assert_eq!(
        server.hits_matching(""),
        before,
        "offline load touched the network"
    );
    // Filelists were never fetched online: offline cannot have them.
    let e = offline
        .load_filelists(&env.fetcher(true), &NoReporter)
        .unwrap_err();
    assert!(e.to_string().contains("offline"), "{e}");
    Ok(())
}

#[test]
fn package_fetch_verifies_checksum_and_size() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let server = Server::start(&env.repo);
    let f = env.fetcher(false);
    let r = load_repo(&f, &env.config(server.base.clone()), &NoReporter)?;
    let hello = pkg(&r, "hello");
    let bases = [server.base.clone()];
    let path = fetch_package(
        &f,
        &bases,
        &hello.location,
        &hello.checksum,
        hello.size,
        &NoReporter,
    )?;
    assert_eq!(
        hash_bytes(ChecksumAlgo::Sha256, &fs_err::read(&path)?),
        hello.checksum
    );

    // A checksum that is not this file's: refused, naming the URL.
    let other = pkg(&r, "hello-data");
    let e = fetch_package(
        &f,
        &bases,
        &hello.location,
        &other.checksum,
        hello.size,
        &NoReporter,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("{}{}", server.base, hello.location))
            && msg.contains("checksum mismatch"),
        "{msg}"
    );

    // A tampered file on the mirror: refused.
    let lib = pkg(&r, "libhello");
    let file = env.repo.join(&lib.location);
    let mut bytes = fs_err::read(&file)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs_err::write(&file, &bytes)?;
    let e = fetch_package(
        &f,
        &bases,
        &lib.location,
        &lib.checksum,
        lib.size,
        &NoReporter,
    )
    .unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");

    // A second mirror serves it when the first one does not have it.
    let dead = Url::parse("file:///nonexistent-mirror/")?;
    let p = fetch_package(
        &env.fetcher(false),
        &[dead, env.file_url()],
        &other.location,
        &other.checksum,
        other.size,
        &NoReporter,
    )?;
    assert!(p.exists());
    Ok(())
}

#[test]
fn unreachable_mirror_falls_back_to_the_next() -> Result<()> {
    let env = Env::new(&built().gz)?;
    let dead = Url::parse("file:///nonexistent-mirror/")?;
    let mut cfg = env.config(dead);
    cfg.base_urls.push(env.file_url());
    let r = load_repo(&env.fetcher(false), &cfg, &NoReporter)?;
    assert_eq!(r.mirror, env.file_url());
    assert_eq!(r.packages.base_urls[0], env.file_url().to_string());
    Ok(())
}
