//! `cairn comp build` end to end, with the real rpmbuild in isolated roots (these tests
//! run as root): a C library with a -devel subpackage, a program built against it from
//! the local repository, a noarch data package; build order, pins in the locks, the
//! result cache, reproducibility, failures, unresolvable BuildRequires, and a build root
//! made from a Debian image.

use crate::{Project, edit, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CHANGELOG: &str = "%changelog
* Tue Jan 02 2024 Cairn Tester <test@example.invalid> - 1.0-1
- First build.
";

fn write(path: &Path, text: &str) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The libgreet sources as a reproducible tarball in the component's directory.
fn libgreet_tarball(comp: &Path, work: &Path) {
    fs_err::create_dir_all(comp).unwrap();
    let src = work.join("libgreet-1.0");
    write(&src.join("greet.h"), "const char *greet_message(void);\n");
    write(
        &src.join("greet.c"),
        "#include \"greet.h\"\nconst char *greet_message(void) { return \"Hello from libgreet\"; }\n",
    );
    write(
        &src.join("test.c"),
        "#include <stdio.h>\n#include <string.h>\n#include \"greet.h\"\nint main(void) { puts(greet_message()); return strcmp(greet_message(), \"Hello from libgreet\") != 0; }\n",
    );
    write(
        &src.join("Makefile"),
        "all: libgreet.so\n\
         libgreet.so.1.0: greet.c greet.h\n\t$(CC) $(CFLAGS) -fPIC -shared -Wl,-soname,libgreet.so.1 -o $@ greet.c\n\
         libgreet.so: libgreet.so.1.0\n\tln -sf libgreet.so.1.0 libgreet.so.1\n\tln -sf libgreet.so.1 $@\n\
         check: libgreet.so\n\t$(CC) $(CFLAGS) -o greet-test test.c -L. -lgreet\n\tLD_LIBRARY_PATH=. ./greet-test\n\
         install: all\n\
         \tinstall -D -m 0755 libgreet.so.1.0 $(DESTDIR)$(LIBDIR)/libgreet.so.1.0\n\
         \tln -sf libgreet.so.1.0 $(DESTDIR)$(LIBDIR)/libgreet.so.1\n\
         \tln -sf libgreet.so.1 $(DESTDIR)$(LIBDIR)/libgreet.so\n\
         \tinstall -D -m 0644 greet.h $(DESTDIR)$(INCLUDEDIR)/greet.h\n",
    );
    run(Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=2024-01-01 00:00Z",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-czf",
        ])
        .arg(comp.join("libgreet-1.0.tar.gz"))
        .arg("-C")
        .arg(work)
        .arg("libgreet-1.0"));
}

const LIBGREET_SPEC: &str = "Name: libgreet
Version: 1.0
Release: 1%{?dist}
Summary: The greeting library
License: MIT
Source0: libgreet-1.0.tar.gz
BuildRequires: gcc
BuildRequires: make

%description
A library that greets.

%package devel
Summary: Headers and link library for libgreet
Requires: libgreet = %{version}-%{release}

%description devel
Headers and link library for libgreet.

%prep
%setup -q

%build
make %{?_smp_mflags} CFLAGS=\"%{optflags}\"

%check
make check CFLAGS=\"%{optflags}\"

%install
make install DESTDIR=%{buildroot} LIBDIR=%{_libdir} INCLUDEDIR=%{_includedir}

%files
%{_libdir}/libgreet.so.1
%{_libdir}/libgreet.so.1.0

%files devel
%{_includedir}/greet.h
%{_libdir}/libgreet.so

";

const GREET_SPEC: &str = "Name: greet
Version: 1.0
Release: 1%{?dist}
Summary: Prints a greeting
License: MIT
Source0: greet.c
BuildRequires: gcc
BuildRequires: libgreet-devel >= 1.0

%description
Prints the greeting of libgreet.

%prep
%setup -q -c -T
cp %{SOURCE0} .

%build
gcc %{optflags} -o greet greet.c -lgreet

%check
# libgreet came from the local repository into %{_libdir}, which a Debian base's
# dynamic loader does not search
LD_LIBRARY_PATH=%{_libdir} ./greet | grep -qx 'Hello from libgreet'

%install
install -D -m 0755 greet %{buildroot}%{_bindir}/greet

%files
%{_bindir}/greet

";

const GREET_DATA_SPEC: &str = "Name: greet-data
Version: 1.0
Release: 1%{?dist}
Summary: Greetings in several languages
License: MIT
BuildArch: noarch
Source0: greetings.txt

%description
Greeting texts.

%prep
%setup -q -c -T

%build

%install
install -D -m 0644 %{SOURCE0} %{buildroot}%{_datadir}/greet/greetings.txt

%files
%{_datadir}/greet/greetings.txt

";

/// A project with local-spec components `libgreet`, `greet` and `greet-data` (plus
/// `extra` TOML at the end of cairn.toml).
fn greet_project(extra: &str) -> Project {
    let p = Project::new(&format!(
        r#"[project]
default-distro = {{ name = "cn", version = "1" }}

[distros.cn.versions.'1']
release-ver = "1"
[distros.cn.versions.'1'.default-component-config]
build.defines = {{ dist = ".cn1" }}

[components.libgreet]
spec = {{ type = "local", path = "comps/libgreet/libgreet.spec" }}
[components.greet]
spec = {{ type = "local", path = "comps/greet/greet.spec" }}
[components.greet-data]
spec = {{ type = "local", path = "comps/greet-data/greet-data.spec" }}

[package-build]
vendor = "Cairn Test"
packager = "Cairn Tests <test@example.invalid>"
smp-jobs = 2
timeout = "10m"
{extra}
"#
    ));
    let comps = p.path("comps");
    libgreet_tarball(&comps.join("libgreet"), &p.path("work"));
    write(
        &comps.join("libgreet/libgreet.spec"),
        &format!("{LIBGREET_SPEC}{CHANGELOG}"),
    );
    write(
        &comps.join("greet/greet.c"),
        "#include <stdio.h>\n#include <greet.h>\nint main(void) { puts(greet_message()); return 0; }\n",
    );
    write(
        &comps.join("greet/greet.spec"),
        &format!("{GREET_SPEC}{CHANGELOG}"),
    );
    write(
        &comps.join("greet-data/greetings.txt"),
        "hello\nbonjour\nhallo\n",
    );
    write(
        &comps.join("greet-data/greet-data.spec"),
        &format!("{GREET_DATA_SPEC}{CHANGELOG}"),
    );
    p
}

/// Run `cairn -O json comp build ARGS`; the parsed summary (or error object).
fn comp_build(p: &Project, args: &[&str]) -> (Output, serde_json::Value) {
    let mut all = vec!["-O", "json", "comp", "build"];
    all.extend_from_slice(args);
    let o = p.cairn(&all);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?}\nstderr {}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        )
    });
    (o, v)
}

fn outcome<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == name)
        .unwrap_or_else(|| panic!("no {name} in {v:#}"))
}

fn status<'a>(v: &'a serde_json::Value, name: &str) -> &'a str {
    outcome(v, name)["status"].as_str().unwrap()
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(fs_err::read(p).unwrap()))
}

/// Every RPM under `dir`, by file name, with its digest.
fn rpm_digests(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".rpm"))
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                sha256(e.path()),
            )
        })
        .collect();
    out.sort();
    out
}

fn rpm_query(rpm: &Path, args: &[&str]) -> String {
    run(Command::new("rpm")
        .args(["--dbpath", "/nonexistent-cairn-test-db", "-qp"])
        .args(args)
        .arg(rpm))
}

fn find_rpm(dir: &Path, prefix: &str) -> PathBuf {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(prefix) && n.ends_with(".rpm") && !n.ends_with(".src.rpm")
        })
        .unwrap_or_else(|| panic!("no {prefix}*.rpm under {}", dir.display()))
}

/// Unpack RPMs into `dest` (rpm2cpio | cpio).
fn unpack(rpms: &[PathBuf], dest: &Path) {
    fs_err::create_dir_all(dest).unwrap();
    for r in rpms {
        run(Command::new("sh")
            .arg("-c")
            .arg("rpm2cpio \"$0\" | cpio -idm --quiet")
            .arg(r)
            .current_dir(dest));
    }
}

#[test]
fn host_root_builds_in_order_pins_caches_and_rebuilds_reproducibly() {
    let p = greet_project("");
    let out = p.path("build");

    // the plan: libgreet and greet-data first, greet after libgreet
    let (o, plan) = comp_build(&p, &["--all", "--plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        plan["waves"],
        serde_json::json!([["greet-data", "libgreet"], ["greet"]]),
        "{plan:#}"
    );
    assert!(!out.join("repo").exists(), "--plan builds nothing");

    // first build, two at a time
    let (o, v) = comp_build(&p, &["--all", "-j", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for c in ["libgreet", "greet", "greet-data"] {
        assert_eq!(status(&v, c), "built", "{v:#}");
    }
    let lib = outcome(&v, "libgreet");
    let greet = outcome(&v, "greet");
    assert!(
        greet["started"].as_f64().unwrap() >= lib["finished"].as_f64().unwrap(),
        "greet started before libgreet was done: {v:#}"
    );
    let err = stderr(&o);
    let line = |needle: &str| err.lines().position(|l| l.contains(needle));
    assert!(
        line("] libgreet: built").unwrap() < line("] greet: started").unwrap(),
        "{err}"
    );
    // greet's build root had libgreet-devel (and libgreet) from the local repository
    let root: Vec<String> = greet["build-root"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        root,
        [
            "libgreet-1.0-1.cn1.x86_64 (cairn-local)",
            "libgreet-devel-1.0-1.cn1.x86_64 (cairn-local)"
        ],
        "{v:#}"
    );
    // the program links the library and prints its greeting
    let greet_rpm = find_rpm(&out.join("repo/greet"), "greet-1.0");
    let lib_rpm = find_rpm(&out.join("repo/libgreet"), "libgreet-1.0");
    assert!(rpm_query(&greet_rpm, &["-R"]).contains("libgreet.so.1()(64bit)"));
    assert_eq!(rpm_query(&greet_rpm, &["--qf", "%{VENDOR}"]), "Cairn Test");
    let unpacked = p.path("unpacked");
    unpack(&[greet_rpm.clone(), lib_rpm.clone()], &unpacked);
    let hello = run(Command::new(unpacked.join("usr/bin/greet"))
        .env("LD_LIBRARY_PATH", unpacked.join("usr/lib64")));
    assert_eq!(hello, "Hello from libgreet\n");
    // noarch data package, source RPMs beside the binary ones, logs and records
    assert!(find_rpm(&out.join("repo/greet-data"), "greet-data-1.0-1.cn1.noarch").is_file());
    assert!(
        outcome(&v, "greet")["srpm"]
            .as_str()
            .unwrap()
            .ends_with("repo/greet/greet-1.0-1.cn1.src.rpm")
    );
    assert!(out.join("repo/repodata/repomd.xml").is_file());
    assert!(
        fs_err::read_to_string(out.join("logs/libgreet.log"))
            .unwrap()
            .contains("greet-test")
    );
    let record: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(out.join("results/greet.json")).unwrap())
            .unwrap();
    assert_eq!(record["format"], 1);
    assert_eq!(record["cache-key"], greet["cache-key"]);
    assert_eq!(record["isolation"], "overlay");
    assert_eq!(record["source-date-epoch"], 1_704_153_600);
    assert!(
        record["files"].as_array().unwrap().iter().any(|f| f["path"]
            == format!(
                "repo/greet/{}",
                greet_rpm.file_name().unwrap().to_string_lossy()
            )
            && f["sha256"] == sha256(&greet_rpm)),
        "{record:#}"
    );
    // pins in the component lock (format version 2)
    let lock = fs_err::read_to_string(p.path("locks/greet.lock")).unwrap();
    assert!(
        lock.contains("version = 2\n") && lock.contains("[build-root]"),
        "{lock}"
    );
    assert!(
        lock.contains(&format!(
            "{{ name = \"libgreet-devel\", evr = \"1.0-1.cn1\", arch = \"x86_64\", repo = \"cairn-local\", checksum = \"sha256:{}\" }}",
            sha256(&find_rpm(&out.join("repo/libgreet"), "libgreet-devel"))
        )),
        "{lock}"
    );
    assert!(lock.contains("\"libgreet-devel >= 1.0\""), "{lock}");
    // rendering keeps the pins, and a render check does not call pinned locks stale
    let o = p.cairn(&["comp", "render", "--all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs_err::read_to_string(p.path("locks/greet.lock")).unwrap(),
        lock
    );
    let o = p.cairn(&["comp", "render", "--check", "--all"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // second run: nothing changed, everything cached, also with --locked, offline
    let digests = rpm_digests(&out.join("repo"));
    let (o, v) = comp_build(&p, &["--all", "--locked", "--offline"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for c in ["libgreet", "greet", "greet-data"] {
        assert_eq!(status(&v, c), "cached", "{v:#}");
    }
    assert_eq!(rpm_digests(&out.join("repo")), digests);

    // without the result records everything builds again, byte for byte the same
    fs_err::remove_dir_all(out.join("results")).unwrap();
    let (o, v) = comp_build(&p, &["--all", "-j", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for c in ["libgreet", "greet", "greet-data"] {
        assert_eq!(status(&v, c), "built", "{v:#}");
    }
    assert_eq!(rpm_digests(&out.join("repo")), digests);
    assert_eq!(
        fs_err::read_to_string(p.path("locks/greet.lock")).unwrap(),
        lock
    );

    // a changed libgreet spec: libgreet and greet (whose build root changed) rebuild
    edit(
        &p.path("comps/libgreet/libgreet.spec"),
        "A library that greets.",
        "A library that greets politely.",
    );
    // --locked refuses the stale component lock
    let (o, v) = comp_build(&p, &["libgreet", "--locked"]);
    assert_eq!(o.status.code(), Some(2), "{v:#}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("component `libgreet`: --locked: its lock is stale"),
        "{v:#}"
    );
    let (o, v) = comp_build(&p, &["--all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(status(&v, "libgreet"), "built", "{v:#}");
    assert_eq!(status(&v, "greet"), "built", "{v:#}");
    assert_eq!(status(&v, "greet-data"), "cached", "{v:#}");
    assert_eq!(outcome(&v, "greet")["pins-written"], true);
    let relocked = fs_err::read_to_string(p.path("locks/greet.lock")).unwrap();
    assert_ne!(relocked, lock);
    assert!(
        rpm_query(
            &find_rpm(&out.join("repo/libgreet"), "libgreet-1.0"),
            &["-i"]
        )
        .contains("greets politely")
    );

    // --locked and a pinned package that is gone from the local repository
    fs_err::remove_dir_all(out.join("repo/libgreet")).unwrap();
    let (o, v) = comp_build(&p, &["greet", "--locked"]);
    assert_eq!(o.status.code(), Some(1), "{v:#}");
    let reason = outcome(&v, "greet")["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "component `greet`: --locked: the pinned package libgreet-1.0-1.cn1.x86_64 (sha256:"
        ) && reason.contains("is no longer in repository `cairn-local`"),
        "{reason}"
    );
}

#[test]
fn failures_skip_dependents_keep_logs_and_name_unresolvable_buildrequires() {
    let p = greet_project(
        "[components.needy]\nspec = { type = \"local\", path = \"comps/needy/needy.spec\" }\n",
    );
    write(
        &p.path("comps/needy/needy.spec"),
        &format!(
            "{}{CHANGELOG}",
            GREET_DATA_SPEC.replace("greet-data", "needy").replace(
                "Source0: greetings.txt",
                "Source0: greetings.txt\nBuildRequires: nonexistent-devel >= 2"
            )
        ),
    );
    write(&p.path("comps/needy/greetings.txt"), "hi\n");
    let out = p.path("build");

    // a good libgreet first
    let (o, v) = comp_build(&p, &["libgreet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let good = rpm_digests(&out.join("repo/libgreet"));
    assert_eq!(good.len(), 3, "{good:?} {v:#}");

    // then a broken one
    edit(
        &p.path("comps/libgreet/libgreet.spec"),
        "make %{?_smp_mflags} CFLAGS=",
        "echo 'cairn test: broken on purpose' >&2; exit 3\nmake %{?_smp_mflags} CFLAGS=",
    );
    // without --keep-going, one at a time: nothing starts after the failure
    let (o, v) = comp_build(&p, &["--all", "-j", "1"]);
    assert_eq!(o.status.code(), Some(1), "{v:#}");
    let order: Vec<&str> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component"].as_str().unwrap())
        .collect();
    assert_eq!(order[..2], ["greet-data", "libgreet"], "{v:#}");
    assert_eq!(status(&v, "greet-data"), "built");
    assert_eq!(status(&v, "libgreet"), "failed");
    let reason = outcome(&v, "libgreet")["reason"].as_str().unwrap();
    assert!(
        reason.contains("component `libgreet`")
            && reason.contains("%build")
            && reason.contains("broken on purpose"),
        "{reason}"
    );
    assert_eq!(status(&v, "greet"), "skipped");
    assert!(
        outcome(&v, "greet")["reason"]
            .as_str()
            .unwrap()
            .contains("dependency `libgreet` failed (it provides libgreet-devel)"),
        "{v:#}"
    );
    assert_eq!(status(&v, "needy"), "skipped");
    assert!(
        outcome(&v, "needy")["reason"]
            .as_str()
            .unwrap()
            .contains("not started: `libgreet` failed"),
        "{v:#}"
    );
    // the log is kept, the previous good packages too
    assert!(
        fs_err::read_to_string(out.join("logs/libgreet.log"))
            .unwrap()
            .contains("broken on purpose")
    );
    assert_eq!(rpm_digests(&out.join("repo/libgreet")), good);
    assert!(stderr(&o).contains("libgreet: FAILED"), "{}", stderr(&o));

    // --keep-going: independent components still build; the unresolvable BuildRequires
    // fails its component, naming it and the capability
    let (o, v) = comp_build(&p, &["--all", "--keep-going", "-j", "2"]);
    assert_eq!(o.status.code(), Some(1), "{v:#}");
    assert_eq!(status(&v, "greet-data"), "cached", "{v:#}");
    assert_eq!(status(&v, "libgreet"), "failed", "{v:#}");
    assert_eq!(status(&v, "greet"), "skipped", "{v:#}");
    assert_eq!(status(&v, "needy"), "failed", "{v:#}");
    let reason = outcome(&v, "needy")["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("component `needy`: its BuildRequires cannot be resolved")
            && reason.contains("nonexistent-devel"),
        "{reason}"
    );
    assert_eq!(rpm_digests(&out.join("repo/libgreet")), good);

    // a component whose build root was never resolved has no pins for --locked
    let (o, v) = comp_build(&p, &["needy", "--locked"]);
    assert_eq!(o.status.code(), Some(1), "{v:#}");
    let reason = outcome(&v, "needy")["reason"].as_str().unwrap();
    assert!(
        reason
            .starts_with("component `needy`: --locked: locks/needy.lock has no [build-root] pins"),
        "{reason}"
    );
}

#[test]
fn plan_reports_cycles_and_unknown_roots_are_config_errors() {
    let p = greet_project("");
    edit(
        &p.path("comps/libgreet/libgreet.spec"),
        "BuildRequires: make",
        "BuildRequires: make\nBuildRequires: greet",
    );
    let (o, v) = comp_build(&p, &["--all", "--plan"]);
    assert_eq!(o.status.code(), Some(2), "{v:#}");
    assert_eq!(
        v["error"].as_str().unwrap(),
        "the components' BuildRequires form a cycle: greet (needs libgreet-devel) -> libgreet (needs greet) -> greet"
    );
    // building needs root: a clear error before anything is done
    let nr = greet_project("");
    let mut perms = fs_err::metadata(nr.dir.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs_err::set_permissions(nr.dir.path(), perms).unwrap();
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_cairn"))
        .arg("-C")
        .arg(nr.dir.path())
        .args(["comp", "build", "--all"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: building packages needs root privileges (namespaces and overlay mounts; effective uid is 65534); run cairn as root"),
        "{}",
        stderr(&o)
    );
    assert!(!nr.path("build").exists());
    let bad = greet_project("root = \"nope\"\n");
    let o = bad.cairn(&["comp", "build", "--all"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("package-build.root: `nope` is neither \"host\" nor an image"),
        "{}",
        stderr(&o)
    );
}

/// A Debian build root made by cairn's own image pipeline from this machine's apt
/// sources: built once, reused while its identity holds.
#[test]
fn debian_image_build_root() {
    let p = greet_project(
        r#"root = "buildroot"

[sources.host]
kind = "host-apt"

[images.buildroot]
packages = ["build-essential", "rpm", "xz-utils", "zstd", "patch", "file"]
weak-deps = false
"#,
    );
    let (o, v) = comp_build(&p, &["greet-data", "libgreet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(status(&v, "greet-data"), "built", "{v:#}");
    assert_eq!(status(&v, "libgreet"), "built", "{v:#}");
    let base = v["base"].as_str().unwrap();
    assert!(
        base.starts_with("image:") && base.contains("/buildroot/"),
        "{v:#}"
    );
    assert!(stderr(&o).contains("building the root of image `buildroot`"));
    assert!(p.path("cairn.lock").is_file());
    let lock = fs_err::read_to_string(p.path("locks/libgreet.lock")).unwrap();
    assert!(lock.contains(&format!("base = \"{base}\"")), "{lock}");
    let rpm = find_rpm(&p.path("build/repo/libgreet"), "libgreet-1.0");
    assert!(rpm_query(&rpm, &["-l"]).contains("/usr/lib64/libgreet.so.1.0"));
    // the root is reused, the results are cached
    let (o, v) = comp_build(&p, &["greet-data", "libgreet", "--locked"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("building the root"), "{}", stderr(&o));
    assert_eq!(status(&v, "greet-data"), "cached", "{v:#}");
    assert_eq!(status(&v, "libgreet"), "cached", "{v:#}");
}

/// The whole path of issue 5: components built in isolated build roots, published signed
/// with an advisory, installed by the real dnf with gpgcheck=1 and repo_gpgcheck=1.
#[test]
fn built_components_publish_signed_and_install_with_dnf() {
    use super::publish::{Dnf, checksig, published_rpms};
    let p = greet_project("");
    let (o, v) = comp_build(&p, &["--all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for c in ["libgreet", "greet", "greet-data"] {
        assert_eq!(status(&v, c), "built", "{v}");
    }
    let built: Vec<PathBuf> = walkdir::WalkDir::new(p.path("build/repo"))
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().to_path_buf())
        .filter(|x| x.to_string_lossy().ends_with(".rpm"))
        .collect();
    let mut names: Vec<String> = built
        .iter()
        .map(|b| b.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "greet-1.0-1.cn1.src.rpm",
            "greet-1.0-1.cn1.x86_64.rpm",
            "greet-data-1.0-1.cn1.noarch.rpm",
            "greet-data-1.0-1.cn1.src.rpm",
            "libgreet-1.0-1.cn1.src.rpm",
            "libgreet-1.0-1.cn1.x86_64.rpm",
            "libgreet-devel-1.0-1.cn1.x86_64.rpm",
        ]
    );
    let keys = p.path("keys");
    let repo = p.path("published");
    let o = p.cairn(&[
        "key",
        "generate",
        "--keys",
        keys.to_str().unwrap(),
        "--user-id",
        "Cairn Test <security@example.invalid>",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = p.cairn(&[
        "advisory",
        "new",
        "--type",
        "security",
        "--severity",
        "critical",
        "--title",
        "greet: fix",
        "--description",
        "Fixes the greeting.",
        "--cve",
        "CVE-2026-40001",
        "--package",
        "greet-1.0-1.cn1.x86_64",
        "--package",
        "greet-data-1.0-1.cn1.noarch",
        "--issued",
        "1795000000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut args = vec![
        "repo",
        "publish",
        repo.to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
    ];
    for b in &built {
        args.push("--add");
        args.push(b.to_str().unwrap());
    }
    let o = p.cairn(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let keyfile = repo.join("RPM-GPG-KEY-cairn");
    for r in published_rpms(&repo) {
        let c = checksig(&r, &keyfile, &p.path("work"));
        assert!(c.status.success(), "{}: {}", r.display(), stdout(&c));
    }
    let work = p.path("work");
    let dnf = Dnf::new(&work, "dnf", &repo);
    let o = dnf.run(&["install", "greet-data"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(dnf.installed(), ["greet-data-1.0-1.cn1.noarch"]);
    let o = dnf.run(&["repoquery", "--requires", "greet"]);
    assert!(
        stdout(&o).contains("libgreet.so.1()(64bit)"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    // dnf lists advisories for installed packages: greet-data is, and the advisory covers it
    let o = dnf.run(&["updateinfo", "list", "--all", "--security"]);
    let text = stdout(&o);
    assert!(
        text.contains("greet-data-1.0-1.cn1.noarch") && text.contains("Critical"),
        "{text}{}",
        stderr(&o)
    );
}
