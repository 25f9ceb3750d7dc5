//! Downloads over `http://`, `https://` and `file://` into the shared [`Cache`], with mirror
//! fallback, retries, offline mode, and transparent decompression of what was fetched.
//!
//! Immutable content (named by a digest in signed metadata) is fetched once and verified;
//! mutable content (`repomd.xml`, `InRelease`) is re-downloaded unless offline and recorded
//! under a cache ref so offline runs can reuse the last good copy.
//!
//! This crate must not parse repository formats or decide what is trusted, and it never
//! prints: progress goes through [`Reporter`].

mod decompress;

pub use decompress::{Compression, open_decompressed};

use cairn_cache::{Cache, CacheError};
use cairn_package::Checksum;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// CA bundles of the host, tried in order when extra CA certificates are configured (the
/// extra certificates then come on top of the first bundle found).
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// What can go wrong fetching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("unsupported URL scheme in {url} (cairn fetches http, https and file URLs)")]
    UnsupportedScheme { url: Url },
    #[error("no mirror given to fetch {rel} from")]
    NoMirrors { rel: String },
    /// Connection refused, DNS failure, timeout, TLS failure...
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: Url, reason: String },
    #[error("{url}: HTTP protocol error: {reason}")]
    Protocol { url: Url, reason: String },
    #[error("{url}: not found (HTTP 404 or missing file)")]
    NotFound { url: Url },
    #[error("{url}: server answered HTTP {status}")]
    Status { url: Url, status: u16 },
    #[error("{url}: truncated download: got {got} of {expected} bytes")]
    Truncated { url: Url, expected: u64, got: u64 },
    #[error("{url}: download failed: {source}")]
    Read {
        url: Url,
        #[source]
        source: io::Error,
    },
    #[error("{url}: checksum mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// Boxed to keep the error small.
        url: Box<Url>,
        expected: Checksum,
        actual: Checksum,
    },
    #[error(
        "{url} ({what}) is not in the cache and cairn is offline; run once without --offline to download it"
    )]
    NotInCache { url: Url, what: String },
    #[error("could not fetch {rel} from any of {} mirrors:{}", failures.len(), list_failures(failures))]
    AllMirrorsFailed {
        rel: String,
        failures: Vec<(Url, FetchError)>,
    },
    #[error("CA certificate file {path}: {reason}")]
    CaCert { path: PathBuf, reason: String },
    #[error("{path}: {format} data: {reason}")]
    Decompress {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn list_failures(failures: &[(Url, FetchError)]) -> String {
    failures.iter().map(|(_, e)| format!("\n  - {e}")).collect()
}

impl FetchError {
    /// The server or file system said the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            FetchError::NotFound { .. } => true,
            FetchError::AllMirrorsFailed { failures, .. } => {
                failures.iter().all(|(_, e)| e.is_not_found())
            }
            _ => false,
        }
    }

    /// Worth trying the same URL again.
    fn is_transient(&self) -> bool {
        match self {
            FetchError::Unreachable { .. }
            | FetchError::Protocol { .. }
            | FetchError::Truncated { .. }
            | FetchError::Read { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// Progress of downloads, for every crate that downloads (this one, cairn-repo,
/// cairn-apt). Libraries never print; the binary draws bars from these calls. All methods
/// default to doing nothing.
pub trait Reporter: Send + Sync {
    /// A source's indices start updating (`apt-get update`).
    fn update_started(&self, source: &str) {
        let _ = source;
    }
    /// A source's indices are loaded and verified.
    fn update_finished(&self, source: &str, packages: usize) {
        let _ = (source, packages);
    }
    /// `count` packages not yet cached are about to be downloaded from `source`.
    fn download_started(&self, source: &str, count: usize) {
        let _ = (source, count);
    }
    /// One package is in the cache (downloaded now, or `cached` already).
    fn package_ready(&self, source: &str, name: &str, cached: bool) {
        let _ = (source, name, cached);
    }
    /// A download of `url` starts; `total` is its size when the server says.
    fn on_start(&self, url: &Url, total: Option<u64>) {
        let _ = (url, total);
    }
    /// `bytes` received so far for `url` (cumulative, not a delta).
    fn on_progress(&self, url: &Url, bytes: u64) {
        let _ = (url, bytes);
    }
    /// The download of `url` ended (successfully or not).
    fn on_done(&self, url: &Url) {
        let _ = url;
    }
}

/// A [`Reporter`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReporter;

impl Reporter for NoReporter {}

/// How a [`Fetcher`] behaves.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Never touch the network or `file://` sources: serve from the cache or fail.
    pub offline: bool,
    /// PEM files of extra CA certificates (dnf's `sslcacert`), trusted on top of the host's
    /// CA bundle.
    pub extra_ca_certs: Vec<PathBuf>,
    /// Extra attempts per mirror after a transient failure (connection, 5xx, truncation).
    pub retries: u32,
    /// Connect timeout, and the longest silence tolerated while receiving.
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            offline: false,
            extra_ca_certs: Vec::new(),
            retries: 2,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Downloads into a [`Cache`].
#[derive(Debug)]
pub struct Fetcher {
    cache: Cache,
    opts: FetchOptions,
    agent: ureq::Agent,
}

/// Join a mirror base URL and a path relative to it. The base may or may not end with `/`;
/// a leading `/` on `rel` is ignored (it stays relative to the base); an empty `rel` is the
/// base itself.
pub fn join_mirror(base: &Url, rel: &str) -> Result<Url, FetchError> {
    if rel.is_empty() {
        return Ok(base.clone());
    }
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(rel.trim_start_matches('/'))
        .map_err(|e| FetchError::InvalidUrl {
            url: format!("{base} + {rel}"),
            reason: e.to_string(),
        })
}

/// Parse a mirror location: a URL, or an absolute path (taken as a `file://` URL).
pub fn parse_location(s: &str) -> Result<Url, FetchError> {
    if s.starts_with('/') {
        return Url::from_file_path(s).map_err(|()| FetchError::InvalidUrl {
            url: s.to_owned(),
            reason: "not an absolute path".to_owned(),
        });
    }
    let url = Url::parse(s).map_err(|e| FetchError::InvalidUrl {
        url: s.to_owned(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" | "file" => Ok(url),
        _ => Err(FetchError::UnsupportedScheme { url }),
    }
}

fn mutable_ref_key(url: &Url) -> String {
    format!("url:{url}")
}

fn absent_ref_key(url: &Url) -> String {
    format!("url-absent:{url}")
}

/// Marks an io::Error raised because a body ended before its Content-Length.
#[derive(Debug)]
struct ShortBody {
    expected: u64,
    got: u64,
}

impl fmt::Display for ShortBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "body ended after {} of {} bytes",
            self.got, self.expected
        )
    }
}

impl std::error::Error for ShortBody {}

/// Counts bytes, reports progress, and turns an early end into a [`ShortBody`] error.
struct Counting<'a, R> {
    inner: R,
    url: &'a Url,
    reporter: &'a dyn Reporter,
    got: u64,
    expected: Option<u64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let short = |got| {
            self.expected.filter(|&e| got < e).map(|expected| {
                io::Error::new(io::ErrorKind::UnexpectedEof, ShortBody { expected, got })
            })
        };
        match self.inner.read(buf) {
            Ok(0) => match short(self.got) {
                Some(e) => Err(e),
                None => Ok(0),
            },
            Ok(n) => {
                self.got += n as u64;
                self.reporter.on_progress(self.url, self.got);
                Ok(n)
            }
            Err(e) => Err(short(self.got).unwrap_or(e)),
        }
    }
}

impl Fetcher {
    pub fn new(cache: Cache, opts: FetchOptions) -> Result<Fetcher, FetchError> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if !opts.extra_ca_certs.is_empty() {
            tls = tls.root_certs(load_roots(&opts.extra_ca_certs)?.into());
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(opts.timeout))
            .timeout_recv_response(Some(opts.timeout))
            .timeout_per_read(Some(opts.timeout))
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            // Hash what the server stores, never a transfer-encoded copy of it.
            .accept_encoding("identity")
            .tls_config(tls.build())
            .build();
        Ok(Fetcher {
            cache,
            opts,
            agent: ureq::Agent::new_with_config(config),
        })
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    /// Immutable content: the cached blob when present (re-verified), else the first mirror
    /// (`base` joined with `rel`) that serves content matching `expected`.
    pub fn fetch(
        &self,
        mirrors: &[Url],
        rel: &str,
        expected: &Checksum,
        reporter: &dyn Reporter,
    ) -> Result<PathBuf, FetchError> {
        if let Some(path) = self.cache.get(expected, true)? {
            return Ok(path);
        }
        if self.opts.offline {
            let url = join_mirror(first_mirror(mirrors, rel)?, rel)?;
            return Err(FetchError::NotInCache {
                url,
                what: expected.to_string(),
            });
        }
        self.try_mirrors(mirrors, rel, |url| {
            self.download_retrying(url, Some(expected), reporter)
                .map(|(_, path)| path)
        })
    }

    /// Mutable content (`repomd.xml`, its `.asc`): downloaded fresh unless offline and
    /// recorded under the ref `url:<url>`; offline, the last recorded copy. Returns the blob,
    /// its sha256 and the URL it came from.
    pub fn fetch_mutable(
        &self,
        mirrors: &[Url],
        rel: &str,
        reporter: &dyn Reporter,
    ) -> Result<(PathBuf, Checksum, Url), FetchError> {
        match self.fetch_mutable_inner(mirrors, rel, reporter)? {
            Some(found) => Ok(found),
            None => Err(FetchError::NotFound {
                url: join_mirror(first_mirror(mirrors, rel)?, rel)?,
            }),
        }
    }

    /// Like [`Fetcher::fetch_mutable`], but `Ok(None)` when every mirror says the file does
    /// not exist (HTTP 404/410, missing file), e.g. an absent `repomd.xml.asc`. Pass only the
    /// mirror that served the companion file when the two must match.
    pub fn fetch_mutable_optional(
        &self,
        mirrors: &[Url],
        rel: &str,
        reporter: &dyn Reporter,
    ) -> Result<Option<(PathBuf, Checksum, Url)>, FetchError> {
        self.fetch_mutable_inner(mirrors, rel, reporter)
    }

    fn fetch_mutable_inner(
        &self,
        mirrors: &[Url],
        rel: &str,
        reporter: &dyn Reporter,
    ) -> Result<Option<(PathBuf, Checksum, Url)>, FetchError> {
        first_mirror(mirrors, rel)?;
        let urls = mirrors
            .iter()
            .map(|m| join_mirror(m, rel))
            .collect::<Result<Vec<_>, _>>()?;
        if self.opts.offline {
            for url in &urls {
                if let Some(c) = self.cache.get_ref(&mutable_ref_key(url))?
                    && let Some(path) = self.cache.get(&c, true)?
                {
                    return Ok(Some((path, c, url.clone())));
                }
            }
            for url in &urls {
                if self.cache.get_ref(&absent_ref_key(url))?.is_some() {
                    return Ok(None);
                }
            }
            return Err(FetchError::NotInCache {
                url: urls[0].clone(),
                what: "no earlier download recorded".to_owned(),
            });
        }
        let result = self.try_mirrors(mirrors, rel, |url| {
            let (c, path) = self.download_retrying(url, None, reporter)?;
            self.cache.set_ref(&mutable_ref_key(url), &c)?;
            self.cache.remove_ref(&absent_ref_key(url))?;
            Ok((path, c, url.clone()))
        });
        match result {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is_not_found() => {
                for url in &urls {
                    let (empty, _) = self.cache.insert(io::empty(), None, url.as_str())?;
                    self.cache.set_ref(&absent_ref_key(url), &empty)?;
                    self.cache.remove_ref(&mutable_ref_key(url))?;
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Run `attempt` on each mirror's URL in order until one succeeds.
    fn try_mirrors<T>(
        &self,
        mirrors: &[Url],
        rel: &str,
        mut attempt: impl FnMut(&Url) -> Result<T, FetchError>,
    ) -> Result<T, FetchError> {
        first_mirror(mirrors, rel)?;
        let mut failures = Vec::new();
        for mirror in mirrors {
            let url = join_mirror(mirror, rel)?;
            match attempt(&url) {
                Ok(v) => return Ok(v),
                Err(e) => failures.push((url, e)),
            }
        }
        if failures.len() == 1 {
            return Err(failures.pop().expect("one failure").1);
        }
        Err(FetchError::AllMirrorsFailed {
            rel: rel.to_owned(),
            failures,
        })
    }

    fn download_retrying(
        &self,
        url: &Url,
        expected: Option<&Checksum>,
        reporter: &dyn Reporter,
    ) -> Result<(Checksum, PathBuf), FetchError> {
        let mut attempt = 0;
        loop {
            match self.download(url, expected, reporter) {
                Err(e) if e.is_transient() && attempt < self.opts.retries => {
                    std::thread::sleep(Duration::from_millis(250 << attempt.min(4)));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One attempt at one URL, into the cache.
    fn download(
        &self,
        url: &Url,
        expected: Option<&Checksum>,
        reporter: &dyn Reporter,
    ) -> Result<(Checksum, PathBuf), FetchError> {
        match url.scheme() {
            "file" => {
                let path = url.to_file_path().map_err(|()| FetchError::InvalidUrl {
                    url: url.to_string(),
                    reason: "not a local file path".to_owned(),
                })?;
                let file = match fs_err::File::open(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Err(FetchError::NotFound { url: url.clone() });
                    }
                    Err(e) => return Err(e.into()),
                };
                let total = file.metadata().ok().map(|m| m.len());
                self.stream_into_cache(url, file, total, expected, reporter)
            }
            "http" | "https" => {
                let response = self
                    .agent
                    .get(url.as_str())
                    .call()
                    .map_err(|e| http_error(url, e))?;
                let status = response.status().as_u16();
                if status == 404 || status == 410 {
                    return Err(FetchError::NotFound { url: url.clone() });
                }
                if !response.status().is_success() {
                    return Err(FetchError::Status {
                        url: url.clone(),
                        status,
                    });
                }
                let total = response
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                let body = response.into_body().into_reader();
                self.stream_into_cache(url, body, total, expected, reporter)
            }
            _ => Err(FetchError::UnsupportedScheme { url: url.clone() }),
        }
    }

    fn stream_into_cache(
        &self,
        url: &Url,
        reader: impl Read,
        total: Option<u64>,
        expected: Option<&Checksum>,
        reporter: &dyn Reporter,
    ) -> Result<(Checksum, PathBuf), FetchError> {
        reporter.on_start(url, total);
        let counting = Counting {
            inner: reader,
            url,
            reporter,
            got: 0,
            expected: total,
        };
        let result = self.cache.insert(counting, expected, url.as_str());
        reporter.on_done(url);
        result.map_err(|e| match e {
            CacheError::ChecksumMismatch {
                expected, actual, ..
            } => FetchError::ChecksumMismatch {
                url: Box::new(url.clone()),
                expected,
                actual,
            },
            CacheError::Read { source, .. } => {
                match source.get_ref().and_then(|e| e.downcast_ref::<ShortBody>()) {
                    Some(short) => FetchError::Truncated {
                        url: url.clone(),
                        expected: short.expected,
                        got: short.got,
                    },
                    None => FetchError::Read {
                        url: url.clone(),
                        source,
                    },
                }
            }
            other => FetchError::Cache(other),
        })
    }
}

fn first_mirror<'a>(mirrors: &'a [Url], rel: &str) -> Result<&'a Url, FetchError> {
    mirrors.first().ok_or_else(|| FetchError::NoMirrors {
        rel: rel.to_owned(),
    })
}

fn http_error(url: &Url, e: ureq::Error) -> FetchError {
    let url = url.clone();
    match e {
        ureq::Error::Io(e) => FetchError::Unreachable {
            url,
            reason: e.to_string(),
        },
        ureq::Error::HostNotFound => FetchError::Unreachable {
            url,
            reason: "host not found (DNS lookup failed)".to_owned(),
        },
        ureq::Error::Timeout(t) => FetchError::Unreachable {
            url,
            reason: format!("timed out ({t})"),
        },
        ureq::Error::ConnectionFailed | ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            FetchError::Unreachable {
                url,
                reason: e.to_string(),
            }
        }
        ureq::Error::BadUri(reason) => FetchError::InvalidUrl {
            url: url.to_string(),
            reason,
        },
        other => FetchError::Protocol {
            url,
            reason: other.to_string(),
        },
    }
}

/// The host's CA bundle (first found) plus the given PEM files.
fn load_roots(extra: &[PathBuf]) -> Result<Vec<ureq::tls::Certificate<'static>>, FetchError> {
    let mut roots = Vec::new();
    if let Some(bundle) = SYSTEM_CA_BUNDLES
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
    {
        roots.extend(read_pem_certs(bundle)?);
    }
    for path in extra {
        let certs = read_pem_certs(path)?;
        if certs.is_empty() {
            return Err(FetchError::CaCert {
                path: path.clone(),
                reason: "no PEM certificate (-----BEGIN CERTIFICATE-----) found".to_owned(),
            });
        }
        roots.extend(certs);
    }
    Ok(roots)
}

fn read_pem_certs(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, FetchError> {
    let pem = fs_err::read(path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(FetchError::CaCert {
                    path: path.to_owned(),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_join_with_and_without_slash() {
        for base in ["http://m.example/fedora/42", "http://m.example/fedora/42/"] {
            let base = Url::parse(base).unwrap();
            assert_eq!(
                join_mirror(&base, "repodata/repomd.xml").unwrap().as_str(),
                "http://m.example/fedora/42/repodata/repomd.xml"
            );
            assert_eq!(
                join_mirror(&base, "/Packages/a/a.rpm").unwrap().as_str(),
                "http://m.example/fedora/42/Packages/a/a.rpm"
            );
            assert_eq!(
                join_mirror(&base, "../41/x.rpm").unwrap().as_str(),
                "http://m.example/fedora/41/x.rpm"
            );
        }
        let file = Url::parse("http://m.example/dists/bookworm/InRelease").unwrap();
        assert_eq!(join_mirror(&file, "").unwrap(), file);
    }

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("/srv/repo").unwrap().as_str(),
            "file:///srv/repo"
        );
        assert_eq!(
            parse_location("https://x.example/r").unwrap().as_str(),
            "https://x.example/r"
        );
        assert!(matches!(
            parse_location("ftp://x.example/r"),
            Err(FetchError::UnsupportedScheme { .. })
        ));
        let err = parse_location("not a url").unwrap_err();
        assert!(err.to_string().contains("not a url"), "{err}");
    }
}
