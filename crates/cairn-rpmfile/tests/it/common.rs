//! Fixtures built by the real rpmbuild, and helpers to run rpm, createrepo_c and gpg.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A binary package exercising every field createrepo_c reads: epoch, a config file,
/// `%dir`, `%ghost`, versioned and rich dependencies of every kind, scriptlet requires,
/// repeated `libc.so.6` requires, requires on its own files and provides, a changelog with
/// two entries on the same day. A file-less noarch subpackage comes along.
pub const HELLO_SPEC: &str = r#"Name: hello
Epoch: 3
Version: 1.2.3
Release: 4.test
Summary: A greeting program — for tests
License: MIT AND (Apache-2.0 OR BSD-3-Clause)
Vendor: Cairn Tests
Group: Applications/Text
URL: https://example.invalid/hello
Packager: Test Packager <packager@example.invalid>
Provides: greeting = 2:5.0-1
Provides: hello-compat
Requires: bash >= 4.0
Requires: coreutils
Requires: (foo if bar)
Requires: glibc-common < 1:2.40-1
Requires: zlib <= 1.3
Requires: tzdata > 2020a
Requires: sed = 4.9
Requires(pre): shadow-utils
Requires(post): systemd >= 250
Requires(pre,post): setup
Requires(preun): grep
Requires(postun): gawk
Requires(pretrans): pretrans-helper
Requires(posttrans): posttrans-helper
Requires: /usr/bin/hello
Requires: /usr/share/hello/data.txt
Requires: hello-compat
Requires: libc.so.6(GLIBC_2.2.5)(64bit)
Requires: libc.so.6(GLIBC_2.34)(64bit)
Requires: libc.so.6()(64bit)
Recommends: hello-docs >= 1.0
Suggests: hello-extras
Supplements: (hello-lang and langpacks-de)
Enhances: shell
Conflicts: hello-old < 1.0
Obsoletes: hello-legacy <= 1:0.9-2

%description
Hello prints a greeting.
It is only used to test cairn.

%package -n hello-empty
Summary: A package without files
BuildArch: noarch

%description -n hello-empty
Nothing inside.

%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc/hello %{buildroot}/usr/share/hello %{buildroot}/var/lib/hello %{buildroot}/var/log/hello
printf '#!/bin/sh\necho hello\n' > %{buildroot}/usr/bin/hello
chmod 755 %{buildroot}/usr/bin/hello
echo greeting=hi > %{buildroot}/etc/hello/hello.conf
echo data > %{buildroot}/usr/share/hello/data.txt

%pre
true
%post
true

%files
/usr/bin/hello
%dir /etc/hello
%config(noreplace) /etc/hello/hello.conf
%dir /var/lib/hello
/usr/share/hello
%ghost /var/log/hello/hello.log

%files -n hello-empty

%changelog
* Tue Mar 05 2024 Second Person <two@example.invalid> - 3:1.2.3-4.test
- Newest entry
* Tue Mar 05 2024 Second Person <two@example.invalid> - 3:1.2.3-3
- Same day as the newest
* Mon Jan 01 2024 First Person <one@example.invalid> - 1.0-1
- First entry
  with a second line
"#;

pub struct Fixtures {
    pub binary: PathBuf,
    pub empty: PathBuf,
    pub source: PathBuf,
}

/// A fresh directory under the target's temporary directory, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cairn-rpmfile-it")
        .join(name);
    let _ = fs_err::remove_dir_all(&dir);
    fs_err::create_dir_all(&dir).unwrap();
    dir
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} runs (install it with scripts/setup-host.sh): {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Exit status and combined output, without asserting.
pub fn try_run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} runs: {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Build `spec` with rpmbuild (`-ba`: binary and source packages) under `top`.
pub fn rpmbuild(top: &Path, spec_name: &str, spec: &str) -> Vec<PathBuf> {
    let spec_path = top.join(spec_name);
    fs_err::write(&spec_path, spec).unwrap();
    run(Command::new("rpmbuild")
        .arg("-ba")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "debug_package %{nil}"])
        .args(["--define", "_build_id_links none"])
        .arg(&spec_path));
    walk(&top.join("RPMS"))
        .into_iter()
        .chain(walk(&top.join("SRPMS")))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs_err::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rpm") {
            out.push(p);
        }
    }
    out.sort();
    out
}

pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let top = scratch("build");
        let built = rpmbuild(&top, "hello.spec", HELLO_SPEC);
        let dir = top.join("repo");
        fs_err::create_dir_all(&dir).unwrap();
        for p in &built {
            fs_err::copy(p, dir.join(p.file_name().unwrap())).unwrap();
        }
        let name = |n: &str| dir.join(n);
        let f = Fixtures {
            binary: name("hello-1.2.3-4.test.x86_64.rpm"),
            empty: name("hello-empty-1.2.3-4.test.noarch.rpm"),
            source: name("hello-1.2.3-4.test.src.rpm"),
        };
        for p in [&f.binary, &f.empty, &f.source] {
            assert!(p.is_file(), "rpmbuild made {built:?}, not {}", p.display());
        }
        f
    })
}

/// Copy a fixture into `dir` (tests that modify packages work on copies).
pub fn copy_to(src: &Path, dir: &Path) -> PathBuf {
    let dest = dir.join(src.file_name().unwrap());
    fs_err::copy(src, &dest).unwrap();
    dest
}

/// `rpm -qp --qf FORMAT FILE` with a throwaway database.
pub fn rpm_query(file: &Path, format: &str) -> String {
    let db = scratch_db();
    run(Command::new("rpm")
        .arg("--dbpath")
        .arg(&db)
        .args(["-qp", "--qf", format])
        .arg(file))
}

fn scratch_db() -> PathBuf {
    let db = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cairn-rpmfile-it-emptydb");
    fs_err::create_dir_all(&db).unwrap();
    db
}

/// A minimal XML tree, enough to read createrepo_c's output.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

pub fn parse_xml(text: &str) -> Node {
    use quick_xml::events::{BytesStart, Event};
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack = vec![Node::default()];
    let start = |e: &BytesStart<'_>| Node {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.unescape_value().unwrap().into_owned(),
                )
            })
            .collect(),
        ..Node::default()
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(start(&e)),
            Event::Empty(e) => {
                let n = start(&e);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.unescape().unwrap()),
            Event::CData(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(std::str::from_utf8(&t).unwrap()),
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap()
}

/// The primary, filelists and other documents createrepo_c writes for `dir`.
pub struct Createrepo {
    pub primary: Node,
    pub filelists: Node,
    pub other: Node,
}

pub fn createrepo(dir: &Path) -> Createrepo {
    run(Command::new("createrepo_c")
        .args(["--no-database", "--quiet"])
        .arg(dir));
    let read = |kind: &str| {
        let repodata = dir.join("repodata");
        let file = fs_err::read_dir(&repodata)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .ends_with(&format!("-{kind}.xml.gz"))
            })
            .unwrap_or_else(|| panic!("no {kind}.xml.gz in {}", repodata.display()));
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(fs_err::File::open(file).unwrap()),
            &mut text,
        )
        .unwrap();
        parse_xml(&text)
    };
    Createrepo {
        primary: read("primary").child("metadata").unwrap().clone(),
        filelists: read("filelists").child("filelists").unwrap().clone(),
        other: read("other").child("otherdata").unwrap().clone(),
    }
}

/// A throwaway GnuPG home (short path: gpg-agent's socket path has a length limit).
pub struct Gpg {
    pub home: tempfile::TempDir,
}

impl Gpg {
    pub fn new() -> Gpg {
        Gpg {
            home: tempfile::Builder::new()
                .prefix("gpg")
                .tempdir_in("/tmp")
                .unwrap(),
        }
    }

    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("GNUPGHOME", self.home.path());
        c
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}
