//! End-to-end tests of the `cairn` binary against fixture repositories built at test time
//! with the real rpmbuild, createrepo_c and gpg (scripts/fixtures/).

mod build;
mod comp;
mod compbuild;
mod publish;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn run_script(args: &[&str]) -> String {
    let out = Command::new("bash")
        .args(args)
        .current_dir(root())
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{:?} failed (run scripts/setup-host.sh if a tool is missing):\n{}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A signed fixture repository (built once per test run) and its key.
struct Fixture {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    gnupg: PathBuf,
    keyid: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let gnupg = dir.path().join("gnupg");
        let keyid = run_script(&["scripts/fixtures/gen-key.sh", gnupg.to_str().unwrap()])
            .trim()
            .to_owned();
        let repo = dir.path().join("repo");
        run_script(&[
            "scripts/fixtures/rpm-repo.sh",
            "fixtures/rpm/basic",
            repo.to_str().unwrap(),
            "--sign",
            gnupg.to_str().unwrap(),
            &keyid,
        ]);
        Fixture {
            _dir: dir,
            repo,
            gnupg,
            keyid,
        }
    })
}

struct Project {
    dir: tempfile::TempDir,
    cache: PathBuf,
}

impl Project {
    fn new(toml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("cairn.toml"), toml).unwrap();
        let cache = dir.path().join("cache");
        Project { dir, cache }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn cairn(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("-C")
            .arg(self.dir.path())
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .output()
            .unwrap()
    }
}

/// Replace `from` by `to` in the file at `path`; `from` must be there, so a test never
/// edits nothing and passes for the wrong reason.
fn edit(path: &Path, from: &str, to: &str) {
    let text = fs_err::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs_err::write(path, text.replace(from, to)).unwrap();
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn signed_project(extra_image: &str) -> Project {
    let f = fixture();
    Project::new(&format!(
        r#"
[project]
arch = "x86_64"

[sources.fx]
kind = "rpm-md"
baseurl = "file://{repo}"
gpgkey = "{key}"

[images.base]
packages = ["hello"]
{extra_image}
"#,
        repo = f.repo.display(),
        key = f.repo.join("RPM-GPG-KEY-fixture").display(),
    ))
}

#[test]
fn lock_writes_a_sorted_lock_and_check_passes() {
    let p = signed_project("");
    let o = p.cairn(&["lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lock = fs_err::read_to_string(p.path("cairn.lock")).unwrap();
    assert!(lock.starts_with("# cairn.lock"), "{lock}");
    assert!(lock.contains("version = 1"));
    // hello requires libhello = 1.0 (not the newer 1.1), /bin/sh and, since fixture-shell
    // is in, hello-data
    for want in [
        "name = \"hello\", evr = \"2.0-1\"",
        "name = \"libhello\", evr = \"1.0-1\"",
        "name = \"fixture-shell\"",
        "name = \"hello-data\"",
    ] {
        assert!(lock.contains(want), "missing {want} in\n{lock}");
    }
    assert!(!lock.contains("evr = \"1.1-1\""), "{lock}");
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.split('"').nth(1).filter(|_| l.starts_with("  {")))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "packages are not sorted");
    // stdout is the package set
    assert!(
        stdout(&o).contains("# image base (x86_64): 4 packages"),
        "{}",
        stdout(&o)
    );

    let o = p.cairn(&["lock", "--check"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // a second lock changes nothing
    p.cairn(&["lock"]);
    assert_eq!(fs_err::read_to_string(p.path("cairn.lock")).unwrap(), lock);
}

#[test]
fn check_fails_when_the_project_changes() {
    let p = signed_project("");
    assert!(p.cairn(&["lock"]).status.success());
    edit(
        &p.path("cairn.toml"),
        "[\"hello\"]",
        "[\"hello\", \"epochal\"]",
    );
    let o = p.cairn(&["lock", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("image `base`: its definition or its sources changed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_fails_when_the_lock_is_edited_and_json_reports_it() {
    let p = signed_project("");
    assert!(p.cairn(&["lock"]).status.success());
    edit(&p.path("cairn.lock"), "evr = \"1.0-1\"", "evr = \"0.9-1\"");
    let o = p.cairn(&["-O", "json", "lock", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["current"], false);
    let problems = v["problems"].to_string();
    assert!(problems.contains("libhello 0.9-1 -> 1.0-1"), "{problems}");
}

#[test]
fn resolve_json_is_data_and_weak_deps_can_be_turned_off() {
    let p = signed_project("");
    let o = p.cairn(&["-O", "json", "resolve"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON");
    let names: Vec<&str> = v[0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fixture-shell", "hello", "hello-data", "libhello"]);
    // why each package is in
    let reasons = &v[0]["reasons"];
    assert_eq!(reasons["hello-2.0-1.x86_64"], "requested", "{reasons}");
    assert_eq!(
        reasons["libhello-1.0-1.x86_64"], "required by hello-2.0-1.x86_64",
        "{reasons}"
    );
    assert!(
        !p.path("cairn.lock").exists(),
        "resolve must not write the lock"
    );
}

#[test]
fn offline_works_from_the_cache_and_names_what_is_missing() {
    let p = signed_project("");
    let o = p.cairn(&["--offline", "resolve"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("repomd.xml"),
        "offline error must name the missing metadata: {e}"
    );
    assert!(p.cairn(&["resolve"]).status.success());
    let o = p.cairn(&["--offline", "resolve"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn unsigned_or_wrongly_signed_repositories_are_refused() {
    let f = fixture();
    // the right repository, but a key that did not sign it
    let other = tempfile::tempdir().unwrap();
    let gnupg = other.path().join("gnupg");
    run_script(&["scripts/fixtures/gen-key.sh", gnupg.to_str().unwrap()]);
    let key = other.path().join("other.asc");
    let out = Command::new("gpg")
        .args(["--homedir", gnupg.to_str().unwrap(), "--armor", "--export"])
        .output()
        .unwrap();
    fs_err::write(&key, out.stdout).unwrap();
    let p = Project::new(&format!(
        "[sources.fx]\nkind = \"rpm-md\"\nbaseurl = \"file://{}\"\ngpgkey = \"{}\"\n[images.base]\npackages = [\"hello\"]\n",
        f.repo.display(),
        key.display()
    ));
    let o = p.cairn(&["resolve"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("source `fx`"), "{}", stderr(&o));
    let _ = (&f.gnupg, &f.keyid);
}

#[test]
fn bad_project_files_are_located() {
    let p = Project::new(
        "[sources.fx]\nkind = \"rpm-md\"\nbaseurl = \"file:///x\"\ngpgcheck = false\nrepo-gpgcheck = false\nmirrorlist = \"x\"\n[images.a]\npackages = [\"a\"]\n",
    );
    let o = p.cairn(&["resolve"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("cairn.toml:6:1"), "{e}");
    assert!(e.contains("unknown field `mirrorlist`"), "{e}");
}

#[test]
fn unknown_package_is_named() {
    let p = signed_project("");
    edit(&p.path("cairn.toml"), "[\"hello\"]", "[\"helo\"]");
    let o = p.cairn(&["resolve"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("image `base`") && e.contains("helo"), "{e}");
}

#[test]
fn builtin_default_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("-C")
        .arg(dir.path())
        .arg("config")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("using the built-in default project"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["builtin"], true);
    assert_eq!(v["sources"]["host"]["kind"], "host-apt");
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("schema")
        .output()
        .unwrap();
    let committed = fs_err::read_to_string(root().join("docs/cairn.schema.json")).unwrap();
    assert_eq!(stdout(&o), committed);
}

#[test]
fn check_fails_when_the_repository_moves_on() {
    // an unsigned copy of the basic fixture that we can change
    let work = tempfile::tempdir().unwrap();
    let specs = work.path().join("specs");
    fs_err::create_dir_all(&specs).unwrap();
    for e in fs_err::read_dir(root().join("fixtures/rpm/basic")).unwrap() {
        let e = e.unwrap();
        fs_err::copy(e.path(), specs.join(e.file_name())).unwrap();
    }
    let repo = work.path().join("repo");
    run_script(&[
        "scripts/fixtures/rpm-repo.sh",
        specs.to_str().unwrap(),
        repo.to_str().unwrap(),
    ]);
    let p = Project::new(&format!(
        "[project]\narch = \"x86_64\"\n[sources.fx]\nkind = \"rpm-md\"\nbaseurl = \"file://{}\"\n\
         gpgcheck = false\nrepo-gpgcheck = false\n[images.base]\npackages = [\"hello\"]\n",
        repo.display()
    ));
    assert!(p.cairn(&["lock"]).status.success());
    assert!(p.cairn(&["lock", "--check"]).status.success());

    // upstream publishes a new release of hello-data
    edit(
        &specs.join("hello-data.spec"),
        "Release:        3",
        "Release:        4",
    );
    run_script(&[
        "scripts/fixtures/rpm-repo.sh",
        specs.to_str().unwrap(),
        repo.to_str().unwrap(),
    ]);

    let o = p.cairn(&["lock", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("~ hello-data 1.0-3 -> 1.0-4 noarch"),
        "{}",
        stderr(&o)
    );
    // the lock itself was not touched by --check
    assert!(
        fs_err::read_to_string(p.path("cairn.lock"))
            .unwrap()
            .contains("evr = \"1.0-3\"")
    );
    // re-locking reports the change like a changelog
    let o = p.cairn(&["lock"]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("~ hello-data 1.0-3 -> 1.0-4 noarch"),
        "{}",
        stderr(&o)
    );
    assert!(p.cairn(&["lock", "--check"]).status.success());
}

#[test]
fn file_requests_load_filelists_on_demand() {
    // /usr/share/hello/greeting.txt is only in filelists.xml, not in primary's file subset
    let p = signed_project("");
    edit(
        &p.path("cairn.toml"),
        "[\"hello\"]",
        "[\"/usr/share/hello/greeting.txt\"]",
    );
    let o = p.cairn(&["-O", "json", "resolve", "--timings"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = v[0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hello-data"]);
    assert!(stderr(&o).contains("\"timings\""), "{}", stderr(&o));
}

#[test]
fn fetch_downloads_exactly_what_the_lock_pins_and_verifies_it() {
    // a private copy of the signed fixture repository, so it can be tampered with
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let o = Command::new("cp")
        .arg("-a")
        .arg(&f.repo)
        .arg(&repo)
        .output()
        .unwrap();
    assert!(o.status.success());
    let p = Project::new(&format!(
        "[project]\narch = \"x86_64\"\n[sources.fx]\nkind = \"rpm-md\"\nbaseurl = \"file://{}\"\ngpgkey = \"{}\"\n\
         [images.base]\npackages = [\"hello\"]\n",
        repo.display(),
        repo.join("RPM-GPG-KEY-fixture").display()
    ));
    let o = p.cairn(&["fetch"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("run `cairn lock` first"),
        "{}",
        stderr(&o)
    );
    assert!(p.cairn(&["lock"]).status.success());

    let o = p.cairn(&["-O", "json", "fetch"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let got = v.as_array().unwrap();
    assert_eq!(got.len(), 4);
    for g in got {
        // the cached file is the RPM the lock pins: rpm reads it and its digest matches
        let path = g["path"].as_str().unwrap();
        let q = Command::new("rpm")
            .args(["-qp", "--qf", "%{NAME}", path])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&q.stdout),
            g["name"].as_str().unwrap()
        );
        let sha = Command::new("sha256sum").arg(path).output().unwrap();
        let hex = String::from_utf8_lossy(&sha.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(format!("sha256:{hex}"), g["checksum"].as_str().unwrap());
    }
    // offline: everything is already there
    let o = p.cairn(&["--offline", "fetch"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // a fresh cache, and an RPM replaced on the mirror after locking: refused, named
    let lock = fs_err::read_to_string(p.path("cairn.lock")).unwrap();
    let libhello = fs_err::read_dir(&repo)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("libhello-1.0")
        })
        .unwrap();
    let mut bytes = fs_err::read(&libhello).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0xff;
    fs_err::write(&libhello, bytes).unwrap();
    fs_err::remove_dir_all(&p.cache).unwrap();
    let o = p.cairn(&["fetch"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("libhello 1.0-1 x86_64"), "{e}");
    assert!(e.contains("sha256"), "{e}");
    assert_eq!(fs_err::read_to_string(p.path("cairn.lock")).unwrap(), lock);
}

#[test]
fn builtin_default_locks_and_fetches_debian_packages_through_apt() {
    // the main job's data path on the built-in default, into a private cache
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let cairn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("-C")
            .arg(dir.path())
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .output()
            .unwrap()
    };
    let o = cairn(&["lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("# image minimal-vm (amd64): "), "{out}");
    for pkg in [
        "linux-image-amd64",
        "systemd-sysv",
        "openssh-server",
        "base-files",
        "dpkg",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{pkg} "))),
            "{pkg} missing:\n{out}"
        );
    }
    let o = cairn(&["--offline", "lock", "--check"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // fetching a few of the pinned .debs: restrict the lock to them
    let lock = fs_err::read_to_string(dir.path().join("cairn.lock")).unwrap();
    let keep = ["\"hostname\"", "\"debianutils\"", "\"base-passwd\""];
    let small: String = lock
        .lines()
        .filter(|l| {
            !l.starts_with("  { ") || keep.iter().any(|k| l.contains(&format!("name = {k}")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    fs_err::write(dir.path().join("cairn.lock"), &small).unwrap();
    let o = cairn(&["-O", "json", "fetch"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
    for g in v.as_array().unwrap() {
        let q = Command::new("dpkg-deb")
            .args(["-f", g["path"].as_str().unwrap(), "Package", "Version"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&q.stdout);
        assert!(
            text.contains(g["name"].as_str().unwrap()) && text.contains(g["evr"].as_str().unwrap()),
            "{text}"
        );
    }
    let o = cairn(&["--offline", "fetch"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Serve `dir` over HTTP on 127.0.0.1; while `stall` is set, `.rpm` responses send half
/// the file and then hang (a download cut off mid-way).
fn serve(
    dir: PathBuf,
    stall: std::sync::Arc<std::sync::atomic::AtomicBool>,
    rpm_requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> String {
    use std::sync::atomic::Ordering;
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = format!("http://{}/", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let path = dir.join(req.url().trim_start_matches('/'));
            let Ok(bytes) = fs_err::read(&path) else {
                let _ = req.respond(tiny_http::Response::empty(404));
                continue;
            };
            if req.url().ends_with(".rpm") {
                rpm_requests.fetch_add(1, Ordering::SeqCst);
                if stall.load(Ordering::SeqCst) {
                    // promise the whole file, send half, then hold the connection
                    std::thread::spawn(move || {
                        let half = bytes[..bytes.len() / 2].to_vec();
                        let body = StallingReader { data: half, pos: 0 };
                        let resp = tiny_http::Response::new(
                            tiny_http::StatusCode(200),
                            vec![],
                            body,
                            Some(bytes.len()),
                            None,
                        );
                        let _ = req.respond(resp);
                    });
                    continue;
                }
            }
            let _ = req.respond(tiny_http::Response::from_data(bytes));
        }
    });
    addr
}

struct StallingReader {
    data: Vec<u8>,
    pos: usize,
}

impl std::io::Read for StallingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.data.len() {
            std::thread::sleep(std::time::Duration::from_secs(120));
            return Ok(0);
        }
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Every blob file under the cache, by its digest (the file name).
fn cached_digests(cache: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![cache.join("blobs")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs_err::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn a_killed_download_leaves_no_partial_blob_and_concurrent_fetches_share_the_cache() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let f = fixture();
    let stall = Arc::new(AtomicBool::new(false));
    let rpm_requests = Arc::new(AtomicUsize::new(0));
    let url = serve(f.repo.clone(), stall.clone(), rpm_requests.clone());
    let p = Project::new(&format!(
        "[project]\narch = \"x86_64\"\n[sources.fx]\nkind = \"rpm-md\"\nbaseurl = \"{url}\"\ngpgkey = \"{}\"\n\
         [images.base]\npackages = [\"hello\"]\n",
        f.repo.join("RPM-GPG-KEY-fixture").display()
    ));
    let o = p.cairn(&["lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lock = fs_err::read_to_string(p.path("cairn.lock")).unwrap();
    let pinned: Vec<String> = lock
        .lines()
        .filter_map(|l| l.split("checksum = \"sha256:").nth(1))
        .map(|rest| rest[..64].to_owned())
        .collect();
    assert_eq!(pinned.len(), 4);

    // kill -9 a fetch while a package download is half done
    stall.store(true, Ordering::SeqCst);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("-C")
        .arg(p.dir.path())
        .arg("--cache-dir")
        .arg(&p.cache)
        .arg("fetch")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while rpm_requests.load(Ordering::SeqCst) == 0 {
        assert!(
            t0.elapsed().as_secs() < 60,
            "cairn fetch never asked for a package"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    // the download was under way: its bytes sit in a temp file, not under blobs/
    let partial = fs_err::read_dir(p.cache.join("tmp")).unwrap().count();
    assert!(
        partial > 0,
        "no download was in progress when cairn was killed"
    );
    let blobs = cached_digests(&p.cache);
    for d in &pinned {
        assert!(
            !blobs.contains(d),
            "a package blob {d} appeared although its download was killed"
        );
    }

    // four fetches at once into the same cache, all from the server
    stall.store(false, Ordering::SeqCst);
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_cairn"))
                .arg("-C")
                .arg(p.dir.path())
                .arg("--cache-dir")
                .arg(&p.cache)
                .args(["-q", "fetch"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let blobs = cached_digests(&p.cache);
    for d in &pinned {
        assert!(blobs.contains(d), "{d} missing from the cache");
    }
    // and what is there is whole: an offline fetch verifies every blob
    let o = p.cairn(&["--offline", "fetch"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
