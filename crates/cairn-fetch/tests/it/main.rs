//! Fetcher tests against real HTTP and HTTPS servers on 127.0.0.1, real files, and the real
//! gzip/xz/zstd tools.

use cairn_cache::{Cache, hash_bytes};
use cairn_fetch::{
    FetchError, FetchOptions, Fetcher, NoReporter, Reporter, open_decompressed, parse_location,
};
use cairn_package::{Checksum, ChecksumAlgo};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

fn sha256(data: &[u8]) -> Checksum {
    hash_bytes(ChecksumAlgo::Sha256, data)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A real HTTP(S) server serving files of a directory, plus `/status/<code>` and `/flaky/<n>/<file>`
/// (503 for the first n requests of that path, then the file).
struct TestServer {
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    base: Url,
    hits: Arc<AtomicUsize>,
}

impl TestServer {
    fn start(dir: &Path, ssl: Option<tiny_http::SslConfig>) -> TestServer {
        let https = ssl.is_some();
        let server = Arc::new(match ssl {
            Some(ssl) => tiny_http::Server::https("127.0.0.1:0", ssl).unwrap(),
            None => tiny_http::Server::http("127.0.0.1:0").unwrap(),
        });
        let port = server.server_addr().to_ip().unwrap().port();
        let scheme = if https { "https" } else { "http" };
        let base = Url::parse(&format!("{scheme}://127.0.0.1:{port}/repo/")).unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let dir = dir.to_owned();
        let (srv, h) = (server.clone(), hits.clone());
        let flaky: Arc<Mutex<std::collections::HashMap<String, usize>>> = Default::default();
        let thread = std::thread::spawn(move || {
            for req in srv.incoming_requests() {
                h.fetch_add(1, Ordering::SeqCst);
                let path = req.url().trim_start_matches("/repo/").to_owned();
                if let Some(code) = path.strip_prefix("status/") {
                    let code: u16 = code.parse().unwrap();
                    let _ = req.respond(tiny_http::Response::empty(code));
                    continue;
                }
                let mut file_rel = path.clone();
                if let Some(rest) = path.strip_prefix("flaky/") {
                    let (n, file) = rest.split_once('/').unwrap();
                    let mut seen = flaky.lock().unwrap();
                    let count = seen.entry(path.clone()).or_default();
                    *count += 1;
                    if *count <= n.parse().unwrap() {
                        let _ = req.respond(tiny_http::Response::empty(503));
                        continue;
                    }
                    file_rel = file.to_owned();
                }
                match fs_err::File::open(dir.join(&file_rel)).map(fs_err::File::into_file) {
                    Ok(f) => {
                        let _ = req.respond(tiny_http::Response::from_file(f));
                    }
                    Err(_) => {
                        let _ = req.respond(tiny_http::Response::empty(404));
                    }
                }
            }
        });
        TestServer {
            server,
            thread: Some(thread),
            base,
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Env {
    _tmp: tempfile::TempDir,
    files: PathBuf,
    cache_dir: PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    let cache_dir = tmp.path().join("cache");
    fs_err::create_dir_all(files.join("Packages")).unwrap();
    Env {
        files,
        cache_dir,
        _tmp: tmp,
    }
}

fn fetcher(env: &Env, opts: FetchOptions) -> Fetcher {
    Fetcher::new(Cache::open(&env.cache_dir).unwrap(), opts).unwrap()
}

fn opts() -> FetchOptions {
    FetchOptions {
        offline: false,
        extra_ca_certs: vec![],
        retries: 0,
        timeout: Duration::from_secs(10),
    }
}

fn offline() -> FetchOptions {
    FetchOptions {
        offline: true,
        ..opts()
    }
}

/// A URL on which nothing listens: connection refused.
fn dead_base() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    Url::parse(&format!("http://127.0.0.1:{port}/repo")).unwrap()
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl Reporter for Recorder {
    fn on_start(&self, url: &Url, total: Option<u64>) {
        self.events
            .lock()
            .unwrap()
            .push(format!("start {url} {total:?}"));
    }
    fn on_progress(&self, _url: &Url, bytes: u64) {
        self.events
            .lock()
            .unwrap()
            .push(format!("progress {bytes}"));
    }
    fn on_done(&self, url: &Url) {
        self.events.lock().unwrap().push(format!("done {url}"));
    }
}

#[test]
fn http_fetch_then_served_from_cache() {
    let env = env();
    // Under tiny_http's 32 KiB chunked-encoding threshold, so Content-Length is sent.
    let data = b"an rpm, pretend\n".repeat(1_000);
    fs_err::write(env.files.join("Packages/a.rpm"), &data).unwrap();
    let server = TestServer::start(&env.files, None);
    let f = fetcher(&env, opts());
    let rec = Recorder::default();
    let path = f
        .fetch(
            std::slice::from_ref(&server.base),
            "Packages/a.rpm",
            &sha256(&data),
            &rec,
        )
        .unwrap();
    assert_eq!(fs_err::read(&path).unwrap(), data);
    assert_eq!(path, f.cache().blob_path(&sha256(&data)));
    let events = rec.events.lock().unwrap().clone();
    let url = format!("{}Packages/a.rpm", server.base);
    assert_eq!(events[0], format!("start {url} Some({})", data.len()));
    assert_eq!(events[events.len() - 2], format!("progress {}", data.len()));
    assert_eq!(events[events.len() - 1], format!("done {url}"));
    assert_eq!(server.hits(), 1);
    // Second time: from the cache, no request.
    let again = f
        .fetch(
            std::slice::from_ref(&server.base),
            "Packages/a.rpm",
            &sha256(&data),
            &NoReporter,
        )
        .unwrap();
    assert_eq!(again, path);
    assert_eq!(server.hits(), 1);
}

#[test]
fn https_with_self_signed_ca_given_as_extra_cert() {
    let env = env();
    fs_err::write(env.files.join("repomd.xml"), b"<repomd/>").unwrap();
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = ck.cert.pem();
    let ca_file = env.files.join("ca.pem");
    fs_err::write(&ca_file, &cert_pem).unwrap();
    let server = TestServer::start(
        &env.files,
        Some(tiny_http::SslConfig {
            certificate: cert_pem.into_bytes(),
            private_key: ck.key_pair.serialize_pem().into_bytes(),
        }),
    );
    assert_eq!(server.base.scheme(), "https");

    // Without the CA, the certificate is refused.
    let f = fetcher(&env, opts());
    let err = f
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repomd.xml",
            &NoReporter,
        )
        .unwrap_err();
    assert!(matches!(err, FetchError::Unreachable { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(server.base.as_str()), "{msg}");
    assert!(
        msg.to_lowercase().contains("certificate") || msg.contains("UnknownIssuer"),
        "{msg}"
    );

    // With it, the download works.
    let f = fetcher(
        &env,
        FetchOptions {
            extra_ca_certs: vec![ca_file],
            ..opts()
        },
    );
    let (path, c, url) = f
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repomd.xml",
            &NoReporter,
        )
        .unwrap();
    assert_eq!(fs_err::read(&path).unwrap(), b"<repomd/>");
    assert_eq!(c, sha256(b"<repomd/>"));
    assert_eq!(url.as_str(), format!("{}repomd.xml", server.base));

    // A CA file without certificates is a clear error naming it.
    let bogus = env.files.join("bogus.pem");
    fs_err::write(&bogus, b"not a pem").unwrap();
    let err = Fetcher::new(
        Cache::open(&env.cache_dir).unwrap(),
        FetchOptions {
            extra_ca_certs: vec![bogus.clone()],
            ..opts()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(&bogus.display().to_string()),
        "{err}"
    );
}

#[test]
fn checksum_mismatch_is_refused_and_nothing_cached() {
    let env = env();
    fs_err::write(env.files.join("Packages/a.rpm"), b"tampered").unwrap();
    let server = TestServer::start(&env.files, None);
    let f = fetcher(&env, opts());
    let want = sha256(b"original");
    let err = f
        .fetch(
            std::slice::from_ref(&server.base),
            "Packages/a.rpm",
            &want,
            &NoReporter,
        )
        .unwrap_err();
    let msg = err.to_string();
    match &err {
        FetchError::ChecksumMismatch {
            url,
            expected,
            actual,
        } => {
            assert_eq!(url.as_str(), format!("{}Packages/a.rpm", server.base));
            assert_eq!(expected, &want);
            assert_eq!(actual, &sha256(b"tampered"));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        msg.contains(&want.hex) && msg.contains(&sha256(b"tampered").hex),
        "{msg}"
    );
    assert!(
        files_under(&env.cache_dir).is_empty(),
        "{:?}",
        files_under(&env.cache_dir)
    );
}

#[test]
fn not_found_and_optional_files() {
    let env = env();
    let server = TestServer::start(&env.files, None);
    let f = fetcher(&env, opts());
    let err = f
        .fetch(
            std::slice::from_ref(&server.base),
            "Packages/missing.rpm",
            &sha256(b"x"),
            &NoReporter,
        )
        .unwrap_err();
    assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("Packages/missing.rpm"), "{err}");
    assert!(err.to_string().contains("404"), "{err}");

    let asc = f
        .fetch_mutable_optional(
            std::slice::from_ref(&server.base),
            "repodata/repomd.xml.asc",
            &NoReporter,
        )
        .unwrap();
    assert!(asc.is_none());
    let err = f
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repodata/repomd.xml.asc",
            &NoReporter,
        )
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // The absence is remembered for offline runs; an unknown file offline is an error.
    let off = fetcher(&env, offline());
    assert!(
        off.fetch_mutable_optional(
            std::slice::from_ref(&server.base),
            "repodata/repomd.xml.asc",
            &NoReporter
        )
        .unwrap()
        .is_none()
    );
    let err = off
        .fetch_mutable_optional(
            std::slice::from_ref(&server.base),
            "never-asked",
            &NoReporter,
        )
        .unwrap_err();
    assert!(matches!(err, FetchError::NotInCache { .. }), "{err}");

    // Other statuses are errors naming URL and status.
    let err = f
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "status/403",
            &NoReporter,
        )
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 403, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("status/403") && err.to_string().contains("403"));
}

#[test]
fn unreachable_port_names_url_and_os_error() {
    let env = env();
    let f = fetcher(&env, opts());
    let dead = dead_base();
    let err = f
        .fetch(
            std::slice::from_ref(&dead),
            "Packages/a.rpm",
            &sha256(b"a"),
            &NoReporter,
        )
        .unwrap_err();
    assert!(matches!(err, FetchError::Unreachable { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{dead}/Packages/a.rpm")), "{msg}");
    assert!(msg.to_lowercase().contains("connection refused"), "{msg}");
}

#[test]
fn mirror_fallback_and_all_mirrors_failing() {
    let env = env();
    fs_err::write(env.files.join("Packages/b.rpm"), b"bee").unwrap();
    let server = TestServer::start(&env.files, None);
    let f = fetcher(&env, opts());
    let dead = dead_base();
    let path = f
        .fetch(
            &[dead.clone(), server.base.clone()],
            "Packages/b.rpm",
            &sha256(b"bee"),
            &NoReporter,
        )
        .unwrap();
    assert_eq!(fs_err::read(path).unwrap(), b"bee");

    let (_, _, used) = f
        .fetch_mutable(
            &[dead.clone(), server.base.clone()],
            "Packages/b.rpm",
            &NoReporter,
        )
        .unwrap();
    assert!(used.as_str().starts_with(server.base.as_str()), "{used}");

    let err = f
        .fetch(
            &[dead.clone(), server.base.clone()],
            "Packages/c.rpm",
            &sha256(b"c"),
            &NoReporter,
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, FetchError::AllMirrorsFailed { .. }), "{msg}");
    assert!(msg.contains(&format!("{dead}/Packages/c.rpm")), "{msg}");
    assert!(
        msg.contains(&format!("{}Packages/c.rpm", server.base)),
        "{msg}"
    );
    assert!(
        msg.contains("refused") && msg.contains("not found"),
        "{msg}"
    );
}

#[test]
fn retries_transient_server_errors() {
    let env = env();
    fs_err::write(env.files.join("f"), b"eventually").unwrap();
    let server = TestServer::start(&env.files, None);
    let f = fetcher(&env, opts());
    let err = f
        .fetch(
            std::slice::from_ref(&server.base),
            "flaky/1/f",
            &sha256(b"eventually"),
            &NoReporter,
        )
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 503, .. }),
        "{err}"
    );
    let f = fetcher(
        &env,
        FetchOptions {
            retries: 2,
            ..opts()
        },
    );
    let path = f
        .fetch(
            std::slice::from_ref(&server.base),
            "flaky/2/f",
            &sha256(b"eventually"),
            &NoReporter,
        )
        .unwrap();
    assert_eq!(fs_err::read(path).unwrap(), b"eventually");
}

#[test]
fn offline_hit_and_miss() {
    let env = env();
    fs_err::write(env.files.join("Packages/a.rpm"), b"cached").unwrap();
    fs_err::write(env.files.join("repomd.xml"), b"v1").unwrap();
    let server = TestServer::start(&env.files, None);
    let online = fetcher(&env, opts());
    online
        .fetch(
            std::slice::from_ref(&server.base),
            "Packages/a.rpm",
            &sha256(b"cached"),
            &NoReporter,
        )
        .unwrap();
    online
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repomd.xml",
            &NoReporter,
        )
        .unwrap();
    let hits = server.hits();

    let off = fetcher(&env, offline());
    let path = off
        .fetch(
            std::slice::from_ref(&server.base),
            "Packages/a.rpm",
            &sha256(b"cached"),
            &NoReporter,
        )
        .unwrap();
    assert_eq!(fs_err::read(path).unwrap(), b"cached");
    let (path, c, _) = off
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repomd.xml",
            &NoReporter,
        )
        .unwrap();
    assert_eq!(fs_err::read(path).unwrap(), b"v1");
    assert_eq!(c, sha256(b"v1"));

    let missing = sha256(b"never downloaded");
    let err = off
        .fetch(
            std::slice::from_ref(&server.base),
            "Packages/z.rpm",
            &missing,
            &NoReporter,
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, FetchError::NotInCache { .. }), "{msg}");
    assert!(
        msg.contains("Packages/z.rpm") && msg.contains(&missing.hex),
        "{msg}"
    );
    assert!(msg.contains("offline"), "{msg}");
    let err = off
        .fetch_mutable(std::slice::from_ref(&server.base), "other.xml", &NoReporter)
        .unwrap_err();
    assert!(matches!(err, FetchError::NotInCache { .. }), "{err}");
    assert!(err.to_string().contains("other.xml"), "{err}");
    assert_eq!(server.hits(), hits, "offline made requests");
}

#[test]
fn mutable_content_is_refreshed_online() {
    let env = env();
    fs_err::write(env.files.join("repomd.xml"), b"v1").unwrap();
    let server = TestServer::start(&env.files, None);
    let f = fetcher(&env, opts());
    let (_, c1, _) = f
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repomd.xml",
            &NoReporter,
        )
        .unwrap();
    fs_err::write(env.files.join("repomd.xml"), b"v2").unwrap();
    let (p2, c2, _) = f
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repomd.xml",
            &NoReporter,
        )
        .unwrap();
    assert_eq!(c1, sha256(b"v1"));
    assert_eq!(c2, sha256(b"v2"));
    assert_eq!(fs_err::read(p2).unwrap(), b"v2");
    let off = fetcher(&env, offline());
    let (_, c, _) = off
        .fetch_mutable(
            std::slice::from_ref(&server.base),
            "repomd.xml",
            &NoReporter,
        )
        .unwrap();
    assert_eq!(c, c2);
}

#[test]
fn file_urls_and_plain_paths() {
    let env = env();
    fs_err::write(env.files.join("Packages/a.rpm"), b"local").unwrap();
    let f = fetcher(&env, opts());
    for base in [
        parse_location(env.files.to_str().unwrap()).unwrap(),
        Url::from_directory_path(&env.files).unwrap(),
    ] {
        assert_eq!(base.scheme(), "file");
        let path = f
            .fetch(
                std::slice::from_ref(&base),
                "Packages/a.rpm",
                &sha256(b"local"),
                &NoReporter,
            )
            .unwrap();
        assert_eq!(fs_err::read(path).unwrap(), b"local");
        let err = f
            .fetch(
                std::slice::from_ref(&base),
                "Packages/b.rpm",
                &sha256(b"b"),
                &NoReporter,
            )
            .unwrap_err();
        assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
        assert!(
            f.fetch_mutable_optional(&[base], "missing.asc", &NoReporter)
                .unwrap()
                .is_none()
        );
    }
}

/// Serve one response with a Content-Length larger than the body, then hang up.
#[test]
fn truncated_body_is_an_error_and_nothing_cached() {
    let env = env();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf);
        let body = [b'x'; 100];
        sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n")
            .unwrap();
        sock.write_all(&body).unwrap();
    });
    let f = fetcher(&env, opts());
    let base = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let err = f
        .fetch(&[base], "big.rpm", &sha256(&[b'x'; 1000]), &NoReporter)
        .unwrap_err();
    thread.join().unwrap();
    match &err {
        FetchError::Truncated { expected, got, .. } => {
            assert_eq!((*expected, *got), (1000, 100));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("big.rpm"), "{err}");
    assert!(files_under(&env.cache_dir).is_empty());
}

fn compress_with(tool: &str, args: &[&str], input: &Path, output: &Path) {
    let out = Command::new(tool)
        .args(args)
        .arg(input)
        .output()
        .unwrap_or_else(|e| panic!("running {tool} (install it with scripts/setup-host.sh): {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs_err::write(output, out.stdout).unwrap();
}

#[test]
fn decompression_by_magic_bytes_with_real_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("primary.xml");
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("<package n=\"{i}\"/>\n").into_bytes())
        .collect();
    fs_err::write(&plain, &text).unwrap();
    let variants = [
        ("gzip", vec!["-c", "-9"], "gz"),
        ("xz", vec!["-c"], "xz"),
        ("zstd", vec!["-q", "-c"], "zst"),
    ];
    let read_all = |p: &Path| -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        open_decompressed(p).unwrap().read_to_end(&mut out)?;
        Ok(out)
    };
    assert_eq!(read_all(&plain).unwrap(), text);
    for (tool, args, ext) in variants {
        let packed = tmp.path().join(format!("primary.xml.{ext}"));
        compress_with(tool, &args, &plain, &packed);
        assert_eq!(read_all(&packed).unwrap(), text, "{tool}");

        // Cut the compressed file in half: a clear error naming format and file.
        let bytes = fs_err::read(&packed).unwrap();
        let cut = tmp.path().join(format!("cut.xml.{ext}"));
        fs_err::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_all(&cut).unwrap_err().to_string();
        let format = if tool == "gzip" { "gzip" } else { tool };
        assert!(
            err.contains(&format!("truncated {format} stream in {}", cut.display())),
            "{tool}: {err}"
        );
    }
    // Corrupt data (not truncation) also names file and format.
    let packed = tmp.path().join("primary.xml.xz");
    let mut bytes = fs_err::read(&packed).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x55;
    }
    let bad = tmp.path().join("bad.xml.xz");
    fs_err::write(&bad, &bytes).unwrap();
    let err = read_all(&bad).unwrap_err().to_string();
    assert!(
        err.contains("xz") && err.contains(&bad.display().to_string()),
        "{err}"
    );
}
