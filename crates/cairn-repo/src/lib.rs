//! The rpm-md repository client: fetch `repodata/repomd.xml` from a repository's mirrors,
//! verify its detached signature when asked (`repo_gpgcheck`), fetch and verify `primary`
//! (and, only on demand, `filelists`) by the digests it lists, parse them with
//! [`cairn_rpmmd`], and apply the repository's excludes and architecture filter.
//!
//! It must not solve, install or print: downloads go through [`cairn_fetch::Fetcher`] (and
//! so through the shared cache and its offline mode), progress through a
//! [`cairn_fetch::Reporter`]. Per-package signatures (`gpgcheck`) are checked at install
//! time; this crate only carries the setting.

use cairn_fetch::{FetchError, Fetcher, Reporter, join_mirror, open_decompressed};
use cairn_openpgp::{Keyring, PgpError};
use cairn_package::{Checksum, Package, RepoId, RepoPackages};
use cairn_rpmmd::{
    RepoMd, RepoMdData, RpmMdError, parse_filelists, parse_primary_sized, parse_repomd,
};
use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;
use url::Url;

const REPOMD: &str = "repodata/repomd.xml";
const REPOMD_ASC: &str = "repodata/repomd.xml.asc";

/// One rpm-md repository as configured (a dnf `.repo` section, roughly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmMdRepoConfig {
    pub id: String,
    /// Base URLs of the repository's mirrors, in order of preference (`http`, `https`,
    /// `file`).
    pub base_urls: Vec<Url>,
    /// Verify each package's signature at install time (carried, enforced by the
    /// installer). Needs at least one `gpgkeys` entry.
    pub gpgcheck: bool,
    /// Verify `repodata/repomd.xml.asc` against `gpgkeys` before trusting the metadata.
    pub repo_gpgcheck: bool,
    /// OpenPGP public key files (armored or binary).
    pub gpgkeys: Vec<PathBuf>,
    /// Lower is preferred (dnf semantics); dnf's default is 99.
    pub priority: i32,
    /// Glob patterns on package names; matching packages are dropped.
    pub excludes: Vec<String>,
    /// Architectures kept (e.g. `["x86_64", "noarch"]`); empty keeps every architecture.
    pub arches: Vec<String>,
}

impl RpmMdRepoConfig {
    /// A repository with checks off, priority 99, no excludes and every architecture.
    pub fn new(id: impl Into<String>, base_urls: Vec<Url>) -> Self {
        RpmMdRepoConfig {
            id: id.into(),
            base_urls,
            gpgcheck: false,
            repo_gpgcheck: false,
            gpgkeys: Vec::new(),
            priority: 99,
            excludes: Vec::new(),
            arches: Vec::new(),
        }
    }
}

/// A repository whose `repomd.xml` and `primary` have been fetched, verified and parsed.
#[derive(Debug, Clone)]
pub struct LoadedRepo {
    pub config: RpmMdRepoConfig,
    pub repomd: RepoMd,
    /// sha256 of the `repomd.xml` that was loaded.
    pub revision: Checksum,
    /// The packages left after excludes and the architecture filter.
    pub packages: RepoPackages,
    /// The mirror that served `repomd.xml` (and its signature); metadata files are fetched
    /// from it first.
    pub mirror: Url,
    /// `repomd.xml` carried a good signature by one of `config.gpgkeys`.
    pub signature_verified: bool,
    /// `packages[*].files` hold every file (filelists loaded), not just primary's subset.
    pub filelists_loaded: bool,
}

/// What can go wrong loading a repository.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    #[error("repository {repo}: no baseurl configured")]
    NoBaseUrl { repo: String },
    #[error(
        "repository {repo}: {setting} is on but no gpgkey is configured; add the repository's public key file to gpgkeys, or turn {setting} off"
    )]
    NoGpgKey { repo: String, setting: &'static str },
    #[error("repository {repo}: cannot use exclude pattern {pattern:?}: {reason}")]
    BadExclude {
        repo: String,
        pattern: String,
        reason: String,
    },
    #[error("repository {repo}: cannot load gpgkey {}: {source}", path.display())]
    Key {
        repo: String,
        path: PathBuf,
        #[source]
        source: Box<PgpError>,
    },
    #[error(
        "repository {repo} ({url}) is not signed but repo_gpgcheck is on: {url}.asc does not exist; turn repo_gpgcheck off only if you trust this repository's transport"
    )]
    NotSigned { repo: String, url: String },
    #[error(
        "repository {repo}: signature {url}.asc does not verify {url} with the configured gpgkeys: {source}"
    )]
    BadSignature {
        repo: String,
        url: String,
        #[source]
        source: Box<PgpError>,
    },
    #[error("repository {repo}: fetching {what}: {source}")]
    Fetch {
        repo: String,
        what: String,
        #[source]
        source: Box<FetchError>,
    },
    #[error("repository {repo}: {source}")]
    Metadata {
        repo: String,
        #[source]
        source: Box<RpmMdError>,
    },
    #[error("repository {repo}: {url} lists no {kind} metadata")]
    MissingMetadata {
        repo: String,
        url: String,
        kind: &'static str,
    },
    #[error(
        "repository {repo}: {url}: decompressed content does not match repomd.xml's open-checksum: expected {expected}, got {actual}"
    )]
    OpenChecksum {
        repo: String,
        url: String,
        expected: Checksum,
        actual: Checksum,
    },
    #[error(
        "repository {repo}: {url}: decompressed size {actual} does not match repomd.xml's open-size {expected}"
    )]
    OpenSize {
        repo: String,
        url: String,
        expected: u64,
        actual: u64,
    },
    #[error("{url}: package file is {actual} bytes but the repository metadata says {expected}")]
    PackageSize {
        url: String,
        expected: u64,
        actual: u64,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Fetch, verify and parse one repository's `repomd.xml` and `primary` metadata.
///
/// With `repo_gpgcheck`, `repomd.xml.asc` must come from the same mirror and verify with
/// one of `gpgkeys`. `primary` is fetched by the digest `repomd.xml` gives (a mismatch names
/// the URL and both digests) and its open-checksum is checked after decompression (gzip,
/// xz or zstd). Filelists are not fetched: see [`LoadedRepo::load_filelists`].
pub fn load_repo(
    fetcher: &Fetcher,
    cfg: &RpmMdRepoConfig,
    reporter: &dyn Reporter,
) -> Result<LoadedRepo, RepoError> {
    let repo = || cfg.id.clone();
    if cfg.base_urls.is_empty() {
        return Err(RepoError::NoBaseUrl { repo: repo() });
    }
    for (on, setting) in [
        (cfg.gpgcheck, "gpgcheck"),
        (cfg.repo_gpgcheck, "repo_gpgcheck"),
    ] {
        if on && cfg.gpgkeys.is_empty() {
            return Err(RepoError::NoGpgKey {
                repo: repo(),
                setting,
            });
        }
    }
    let excludes = build_excludes(cfg)?;

    let (path, revision, url) = fetcher
        .fetch_mutable(&cfg.base_urls, REPOMD, reporter)
        .map_err(|source| RepoError::Fetch {
            repo: repo(),
            what: REPOMD.into(),
            source: Box::new(source),
        })?;
    let mirror = mirror_of(&cfg.base_urls, REPOMD, &url);
    let bytes = fs_err::read(&path).map_err(|source| RepoError::Io {
        path: path.clone(),
        source,
    })?;

    let signature_verified = if cfg.repo_gpgcheck {
        verify_repomd(fetcher, cfg, &mirror, &url, &bytes, reporter)?;
        true
    } else {
        false
    };

    let repomd = parse_repomd(&bytes, url.as_str()).map_err(|source| RepoError::Metadata {
        repo: repo(),
        source: Box::new(source),
    })?;
    let primary = repomd
        .get("primary")
        .ok_or_else(|| RepoError::MissingMetadata {
            repo: repo(),
            url: url.to_string(),
            kind: "primary",
        })?
        .clone();

    let mirrors = mirrors_from(&cfg.base_urls, &mirror);
    let arches = &cfg.arches;
    let mut packages = Vec::new();
    read_metadata(
        fetcher,
        cfg,
        &mirrors,
        &primary,
        reporter,
        |input, origin| {
            // the declared count arrives before the first package: reserve once
            let reserve = std::cell::Cell::new(0usize);
            let n = parse_primary_sized(
                input,
                origin,
                |n| reserve.set(usize::try_from(n).unwrap_or(0).min(1 << 20)),
                |p| {
                    if packages.capacity() == 0 && reserve.get() > 0 {
                        packages.reserve_exact(reserve.get());
                    }
                    if (arches.is_empty() || arches.contains(&p.arch))
                        && !excludes.as_ref().is_some_and(|g| g.is_match(&p.name))
                    {
                        packages.push(p);
                    }
                },
            )?;
            Ok(n)
        },
    )?;

    Ok(LoadedRepo {
        packages: RepoPackages {
            repo: RepoId(cfg.id.clone()),
            priority: cfg.priority,
            revision: revision.clone(),
            base_urls: mirrors.iter().map(Url::to_string).collect(),
            packages,
        },
        config: cfg.clone(),
        repomd,
        revision,
        mirror,
        signature_verified,
        filelists_loaded: false,
    })
}

impl LoadedRepo {
    /// Download and parse `filelists` (once), replacing each package's `files` (primary's
    /// subset) with its full list. Packages that filelists does not mention keep theirs.
    pub fn load_filelists(
        &mut self,
        fetcher: &Fetcher,
        reporter: &dyn Reporter,
    ) -> Result<(), RepoError> {
        if self.filelists_loaded {
            return Ok(());
        }
        let cfg = &self.config;
        let data = self
            .repomd
            .get("filelists")
            .ok_or_else(|| RepoError::MissingMetadata {
                repo: cfg.id.clone(),
                url: join_mirror(&self.mirror, REPOMD)
                    .map_or_else(|_| self.mirror.to_string(), |u| u.to_string()),
                kind: "filelists",
            })?
            .clone();
        let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(self.packages.packages.len());
        for (i, p) in self.packages.packages.iter().enumerate() {
            by_id.insert(p.checksum.hex.as_str(), i);
        }
        let mut found: Vec<(usize, Vec<String>)> = Vec::new();
        let mirrors = mirrors_from(&cfg.base_urls, &self.mirror);
        read_metadata(fetcher, cfg, &mirrors, &data, reporter, |input, origin| {
            parse_filelists(input, origin, |pkgid, _name, _arch, files| {
                if let Some(&i) = by_id.get(pkgid.to_ascii_lowercase().as_str()) {
                    found.push((i, files));
                }
            })
        })?;
        for (i, files) in found {
            self.packages.packages[i].files = files;
        }
        self.filelists_loaded = true;
        Ok(())
    }

    /// The packages, for the solver.
    pub fn packages(&self) -> &[Package] {
        &self.packages.packages
    }
}

/// Download one package file by its recorded location and checksum (mirrors in order)
/// into the cache, and check its size. Returns the cached path.
pub fn fetch_package(
    fetcher: &Fetcher,
    base_urls: &[Url],
    location: &str,
    checksum: &Checksum,
    size: u64,
    reporter: &dyn Reporter,
) -> Result<PathBuf, RepoError> {
    let path = fetcher
        .fetch(base_urls, location, checksum, reporter)
        .map_err(|source| RepoError::Fetch {
            repo: repo_of(base_urls),
            what: location.to_owned(),
            source: Box::new(source),
        })?;
    let actual = fs_err::metadata(&path)
        .map_err(|source| RepoError::Io {
            path: path.clone(),
            source,
        })?
        .len();
    if size != 0 && actual != size {
        let url = base_urls
            .first()
            .and_then(|b| join_mirror(b, location).ok())
            .unwrap_or_else(|| Url::parse("file:///").expect("static URL"));
        return Err(RepoError::PackageSize {
            url: url.to_string(),
            expected: size,
            actual,
        });
    }
    Ok(path)
}

fn repo_of(base_urls: &[Url]) -> String {
    base_urls
        .first()
        .map_or_else(|| "(no mirror)".to_owned(), Url::to_string)
}

fn build_excludes(cfg: &RpmMdRepoConfig) -> Result<Option<globset::GlobSet>, RepoError> {
    if cfg.excludes.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for pattern in &cfg.excludes {
        let g = globset::Glob::new(pattern).map_err(|e| RepoError::BadExclude {
            repo: cfg.id.clone(),
            pattern: pattern.clone(),
            reason: e.to_string(),
        })?;
        b.add(g);
    }
    b.build().map(Some).map_err(|e| RepoError::BadExclude {
        repo: cfg.id.clone(),
        pattern: cfg.excludes.join(" "),
        reason: e.to_string(),
    })
}

/// The configured base URL that `url` (= base + `rel`) was fetched from.
fn mirror_of(base_urls: &[Url], rel: &str, url: &Url) -> Url {
    base_urls
        .iter()
        .find(|b| join_mirror(b, rel).is_ok_and(|u| u == *url))
        .unwrap_or(&base_urls[0])
        .clone()
}

/// `first`, then the other mirrors in their configured order.
fn mirrors_from(base_urls: &[Url], first: &Url) -> Vec<Url> {
    std::iter::once(first.clone())
        .chain(base_urls.iter().filter(|u| *u != first).cloned())
        .collect()
}

fn verify_repomd(
    fetcher: &Fetcher,
    cfg: &RpmMdRepoConfig,
    mirror: &Url,
    url: &Url,
    bytes: &[u8],
    reporter: &dyn Reporter,
) -> Result<(), RepoError> {
    let repo = || cfg.id.clone();
    let mut ring = Keyring::new();
    for key in &cfg.gpgkeys {
        ring.add_file(key).map_err(|source| RepoError::Key {
            repo: repo(),
            path: key.clone(),
            source: Box::new(source),
        })?;
    }
    // The signature must come from the mirror that served this repomd.xml.
    let asc = fetcher
        .fetch_mutable_optional(std::slice::from_ref(mirror), REPOMD_ASC, reporter)
        .map_err(|source| RepoError::Fetch {
            repo: repo(),
            what: REPOMD_ASC.into(),
            source: Box::new(source),
        })?;
    let Some((asc_path, _, _)) = asc else {
        return Err(RepoError::NotSigned {
            repo: repo(),
            url: url.to_string(),
        });
    };
    let sig = fs_err::read(&asc_path).map_err(|source| RepoError::Io {
        path: asc_path.clone(),
        source,
    })?;
    cairn_openpgp::verify_detached(&ring, bytes, &sig, url.as_str()).map_err(|source| {
        RepoError::BadSignature {
            repo: repo(),
            url: url.to_string(),
            source: Box::new(source),
        }
    })?;
    Ok(())
}

/// Fetch one metadata file by digest, decompress it, hand it to `parse`, then check the
/// open-checksum and open-size of what was read.
fn read_metadata<T>(
    fetcher: &Fetcher,
    cfg: &RpmMdRepoConfig,
    mirrors: &[Url],
    data: &RepoMdData,
    reporter: &dyn Reporter,
    parse: impl FnOnce(&mut BufReader<ChannelReader>, &str) -> Result<T, RpmMdError>,
) -> Result<T, RepoError> {
    let repo = || cfg.id.clone();
    let url = join_mirror(&mirrors[0], &data.location).map_err(|source| RepoError::Fetch {
        repo: repo(),
        what: data.location.clone(),
        source: Box::new(source),
    })?;
    let path = fetcher
        .fetch(mirrors, &data.location, &data.checksum, reporter)
        .map_err(|source| RepoError::Fetch {
            repo: repo(),
            what: format!("{} metadata", data.kind),
            source: Box::new(source),
        })?;
    let decoded = open_decompressed(&path).map_err(|source| RepoError::Fetch {
        repo: repo(),
        what: format!("{} metadata", data.kind),
        source: Box::new(source),
    })?;
    let open_algo = data
        .open_checksum
        .as_ref()
        .map_or(cairn_package::ChecksumAlgo::Sha256, |c| c.algo);
    // Decompression and the open-checksum run on a second thread while this one parses.
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(8);
    let worker = std::thread::spawn(move || decode_and_hash(decoded, open_algo, &tx));
    let mut input = BufReader::with_capacity(
        64 * 1024,
        ChannelReader {
            rx,
            cur: Vec::new(),
            pos: 0,
        },
    );
    let origin = format!("{} metadata from {url}", data.kind);
    let parsed = parse(&mut input, &origin);
    // Whatever follows the document still belongs to the file the checksum covers.
    let rest = match &parsed {
        Ok(_) => io::copy(&mut input, &mut io::sink()).map(drop),
        Err(_) => Ok(()),
    };
    drop(input); // lets the worker stop early after a parse error
    let (actual, count) = worker.join().map_err(|_| RepoError::Io {
        path: path.clone(),
        source: io::Error::other("the decompression thread panicked"),
    })?;
    let out = parsed.map_err(|source| RepoError::Metadata {
        repo: repo(),
        source: Box::new(source),
    })?;
    rest.map_err(|source| RepoError::Io {
        path: path.clone(),
        source,
    })?;
    let hr = HashedCount { count, actual };
    if let Some(expected) = data.open_size
        && expected != hr.count
    {
        return Err(RepoError::OpenSize {
            repo: repo(),
            url: url.to_string(),
            expected,
            actual: hr.count,
        });
    }
    let actual = hr.actual;
    if let Some(expected) = &data.open_checksum
        && expected.hex != actual.hex
    {
        return Err(RepoError::OpenChecksum {
            repo: repo(),
            url: url.to_string(),
            expected: expected.clone(),
            actual,
        });
    }
    Ok(out)
}

/// Hashes and counts what passes through.
/// What the decompression thread saw: size and digest of the decompressed data.
struct HashedCount {
    count: u64,
    actual: cairn_package::Checksum,
}

/// Decompress `r` in chunks, hashing them and handing them to the parser through `tx`.
/// Stops early when the parser hangs up.
fn decode_and_hash(
    mut r: Box<dyn Read + Send>,
    algo: cairn_package::ChecksumAlgo,
    tx: &std::sync::mpsc::SyncSender<io::Result<Vec<u8>>>,
) -> (cairn_package::Checksum, u64) {
    let mut hasher = cairn_cache::Hasher::new(algo);
    let mut count = 0u64;
    loop {
        let mut chunk = vec![0u8; 256 * 1024];
        let mut n = 0;
        let res = loop {
            match r.read(&mut chunk[n..]) {
                Ok(0) => break Ok(()),
                Ok(k) => {
                    n += k;
                    if n == chunk.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        chunk.truncate(n);
        hasher.update(&chunk);
        count += n as u64;
        let last = n == 0 || res.is_err();
        if n > 0 && tx.send(Ok(chunk)).is_err() {
            break;
        }
        if let Err(e) = res {
            let _ = tx.send(Err(e));
            break;
        }
        if last {
            break;
        }
    }
    (hasher.finish(), count)
}

/// Reads the chunks the decompression thread sends.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.cur = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0), // the sender finished: end of data
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn mirror_bookkeeping() {
        let bases = vec![u("http://a/x"), u("http://b/y/")];
        assert_eq!(
            mirror_of(&bases, REPOMD, &u("http://b/y/repodata/repomd.xml")),
            bases[1]
        );
        assert_eq!(
            mirrors_from(&bases, &bases[1]),
            vec![bases[1].clone(), bases[0].clone()]
        );
    }

    #[test]
    fn config_checks_come_first() {
        let mut cfg = RpmMdRepoConfig::new("fedora", vec![]);
        let dir = tempfile::tempdir().unwrap();
        let cache = cairn_cache::Cache::open(dir.path()).unwrap();
        let f = Fetcher::new(cache, Default::default()).unwrap();
        let e = load_repo(&f, &cfg, &cairn_fetch::NoReporter).unwrap_err();
        assert_eq!(e.to_string(), "repository fedora: no baseurl configured");
        cfg.base_urls = vec![u("file:///nonexistent")];
        cfg.gpgcheck = true;
        let e = load_repo(&f, &cfg, &cairn_fetch::NoReporter).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("repository fedora: gpgcheck is on but no gpgkey"),
            "{e}"
        );
        cfg.gpgcheck = false;
        cfg.excludes = vec!["a[".into()];
        let e = load_repo(&f, &cfg, &cairn_fetch::NoReporter).unwrap_err();
        assert!(matches!(e, RepoError::BadExclude { .. }), "{e}");
    }
}
