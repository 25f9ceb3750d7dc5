//! Integration tests: real rpmbuild in isolated roots over the host itself (`/` as the
//! read-only lower layer, `foreign: true` since Debian's packages are not in an rpm
//! database). They need root; without it they fail and say so.

use cairn_rpmbuild::{
    BuildOptions, BuildOutput, Isolation, RootLayout, RpmbuildError, base_capabilities,
    base_has_path, build, query_spec,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn require_root() {
    let status = fs_err::read_to_string("/proc/self/status").unwrap();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().nth(1))
        .unwrap();
    assert_eq!(
        euid, "0",
        "cairn-rpmbuild's integration tests build in namespaces and mount overlays: run them as root"
    );
}

fn host() -> RootLayout {
    RootLayout {
        base: "/".into(),
        foreign: true,
    }
}

fn opts() -> BuildOptions {
    BuildOptions {
        dist: ".cn1".into(),
        vendor: "Cairn Test".into(),
        distribution: "Cairn Test Linux".into(),
        packager: "Cairn Tests <test@example.invalid>".into(),
        jobs: 2,
        timeout: Some(Duration::from_secs(300)),
        ..BuildOptions::default()
    }
}

const CHANGELOG: &str = "%changelog
* Tue Jan 02 2024 Cairn Tester <test@example.invalid> - 1.0-1
- First build.
";

/// 2024-01-02 00:00:00 UTC: the first changelog entry's date.
const CHANGELOG_EPOCH: u64 = 1_704_153_600;

fn write(path: &Path, text: &str) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

fn run(cmd: &mut Command) {
    let st = cmd.status().unwrap();
    assert!(st.success(), "{cmd:?}: {st}");
}

/// A C program `foo` with a shared library (`libfoo`) and headers (`foo-devel`), from a
/// tarball made here; its `%check` runs the program.
fn foo_component(dir: &Path) -> PathBuf {
    let comp = dir.join("foo");
    let src = dir.join("foo-src/foo-1.0");
    write(&src.join("foo.h"), "int foo_answer(void);\n");
    write(
        &src.join("libfoo.c"),
        "#include \"foo.h\"\nint foo_answer(void) { return 42; }\n",
    );
    write(
        &src.join("foo.c"),
        "#include <stdio.h>\n#include \"foo.h\"\nint main(void) { printf(\"foo says %d\\n\", foo_answer()); return 0; }\n",
    );
    write(
        &src.join("Makefile"),
        "all: foo\n\
         libfoo.so.1.0: libfoo.c foo.h\n\t$(CC) $(CFLAGS) -fPIC -shared -Wl,-soname,libfoo.so.1 -o $@ libfoo.c\n\
         libfoo.so.1: libfoo.so.1.0\n\tln -sf libfoo.so.1.0 $@\n\
         libfoo.so: libfoo.so.1\n\tln -sf libfoo.so.1 $@\n\
         foo: foo.c libfoo.so\n\t$(CC) $(CFLAGS) -o $@ foo.c -L. -lfoo\n\
         install: all\n\
         \tinstall -D -m 0755 foo $(DESTDIR)$(BINDIR)/foo\n\
         \tinstall -D -m 0755 libfoo.so.1.0 $(DESTDIR)$(LIBDIR)/libfoo.so.1.0\n\
         \tln -sf libfoo.so.1.0 $(DESTDIR)$(LIBDIR)/libfoo.so.1\n\
         \tln -sf libfoo.so.1 $(DESTDIR)$(LIBDIR)/libfoo.so\n\
         \tinstall -D -m 0644 foo.h $(DESTDIR)$(INCLUDEDIR)/foo.h\n",
    );
    fs_err::create_dir_all(&comp).unwrap();
    run(Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=2024-01-01 00:00Z",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-czf",
        ])
        .arg(comp.join("foo-1.0.tar.gz"))
        .arg("-C")
        .arg(dir.join("foo-src"))
        .arg("foo-1.0"));
    write(
        &comp.join("foo.spec"),
        &format!(
            "Name: foo
Version: 1.0
Release: 1%{{?dist}}
Summary: A test program
License: MIT
Source0: foo-1.0.tar.gz
BuildRequires: gcc
BuildRequires: make

%description
A test program.

%package -n libfoo
Summary: The foo library
%description -n libfoo
The foo library.

%package devel
Summary: Headers for libfoo
Requires: libfoo = %{{version}}-%{{release}}
%description devel
Headers for libfoo.

%prep
%setup -q

%build
make %{{?_smp_mflags}} CFLAGS=\"%{{optflags}}\"

%check
LD_LIBRARY_PATH=. ./foo | grep -qx 'foo says 42'

%install
make install DESTDIR=%{{buildroot}} BINDIR=%{{_bindir}} LIBDIR=%{{_libdir}} INCLUDEDIR=%{{_includedir}}

%files
%{{_bindir}}/foo

%files -n libfoo
%{{_libdir}}/libfoo.so.1
%{{_libdir}}/libfoo.so.1.0

%files devel
%{{_includedir}}/foo.h
%{{_libdir}}/libfoo.so

{CHANGELOG}"
        ),
    );
    comp
}

/// A component with one plain source file and the given spec body after the preamble.
fn simple_component(dir: &Path, name: &str, preamble: &str, body: &str) -> PathBuf {
    let comp = dir.join(name);
    write(&comp.join("data.txt"), &format!("data of {name}\n"));
    write(
        &comp.join(format!("{name}.spec")),
        &format!(
            "Name: {name}
Version: 1.0
Release: 1%{{?dist}}
Summary: Test package {name}
License: MIT
Source0: data.txt
{preamble}
%description
Test package {name}.

{body}
{CHANGELOG}"
        ),
    );
    comp
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn find<'a>(out: &'a BuildOutput, prefix: &str) -> &'a PathBuf {
    out.rpms
        .iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* in {:?}", out.rpms))
}

fn rpm_query(rpm: &Path, args: &[&str]) -> String {
    let out = Command::new("rpm")
        .args(["--dbpath", "/nonexistent-cairn-test-db", "-qp"])
        .args(args)
        .arg(rpm)
        .output()
        .unwrap();
    assert!(out.status.success(), "rpm -qp {args:?} {rpm:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The work dir's parent holds nothing but what the test put there, and no mount of
/// this process's namespace lies under it.
fn assert_clean(dir: &Path) {
    for e in fs_err::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".cairn-rpmbuild-"),
            "work directory {name} left in {}",
            dir.display()
        );
    }
    let mounts = fs_err::read_to_string("/proc/self/mountinfo").unwrap();
    let d = dir.to_string_lossy();
    assert!(
        !mounts.lines().any(|l| l.contains(d.as_ref())),
        "mounts left under {d}:\n{mounts}"
    );
}

#[test]
fn library_with_devel_then_a_dependent_build() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let comp = foo_component(tmp.path());
    let out_dir = tmp.path().join("out");
    let log = tmp.path().join("logs/foo.log");
    let started = Instant::now();
    let out = build(&host(), &comp, "foo.spec", &[], &opts(), &out_dir, &log).unwrap();
    assert!(out.duration <= started.elapsed() && out.duration < Duration::from_secs(120));
    assert_eq!(out.isolation, Isolation::Overlay);
    assert_eq!(
        names(&out.rpms),
        [
            "foo-1.0-1.cn1.x86_64.rpm",
            "foo-devel-1.0-1.cn1.x86_64.rpm",
            "libfoo-1.0-1.cn1.x86_64.rpm"
        ]
    );
    assert_eq!(out.srpm, out_dir.join("foo-1.0-1.cn1.src.rpm"));
    assert!(out.srpm.is_file());
    assert!(
        out.rpms
            .iter()
            .all(|p| p.parent() == Some(out_dir.as_path()))
    );
    let text = fs_err::read_to_string(&log).unwrap();
    assert!(
        text.contains("foo says 42") || text.contains("%check"),
        "{text}"
    );
    assert!(
        text.contains("+ make"),
        "the log has rpmbuild's output:\n{text}"
    );

    // the header carries the macros and the changelog's time
    let qf = "%{BUILDHOST}|%{BUILDTIME}|%{VENDOR}|%{DISTRIBUTION}|%{PACKAGER}|%{PAYLOADCOMPRESSOR}";
    assert_eq!(
        rpm_query(find(&out, "foo-1.0"), &["--qf", qf]),
        format!(
            "cairn-build|{CHANGELOG_EPOCH}|Cairn Test|Cairn Test Linux|Cairn Tests <test@example.invalid>|zstd"
        )
    );
    let files = rpm_query(find(&out, "libfoo"), &["-l"]);
    // (plus Debian rpm's build-id links, %_build_id_links compat)
    let files: Vec<&str> = files
        .lines()
        .filter(|l| !l.starts_with("/usr/lib/.build-id"))
        .collect();
    assert_eq!(
        files,
        ["/usr/lib64/libfoo.so.1", "/usr/lib64/libfoo.so.1.0"]
    );
    let provides = rpm_query(find(&out, "libfoo"), &["--provides"]);
    assert!(provides.contains("libfoo.so.1()(64bit)"), "{provides}");
    assert!(!base_has_path(Path::new("/"), "/usr/include/foo.h"));

    // a second component whose BuildRequires is foo-devel: compile and link against the
    // installed RPMs
    let bar = tmp.path().join("bar");
    write(
        &bar.join("bar.c"),
        "#include <stdio.h>\n#include <foo.h>\nint main(void) { printf(\"bar got %d\\n\", foo_answer()); return 0; }\n",
    );
    write(
        &bar.join("bar.spec"),
        &format!(
            "Name: bar
Version: 1.0
Release: 1%{{?dist}}
Summary: Uses libfoo
License: MIT
Source0: bar.c
BuildRequires: foo-devel >= 1.0

%description
Uses libfoo.

%prep

%build
test -f /usr/include/foo.h
gcc %{{optflags}} -o bar %{{SOURCE0}} -L%{{_libdir}} -lfoo

%check
LD_LIBRARY_PATH=%{{_libdir}} ./bar | grep -qx 'bar got 42'

%install
install -D -m 0755 bar %{{buildroot}}%{{_bindir}}/bar

%files
%{{_bindir}}/bar

{CHANGELOG}"
        ),
    );
    let install = [
        find(&out, "libfoo").clone(),
        find(&out, "foo-devel").clone(),
    ];
    let bar_log = tmp.path().join("logs/bar.log");
    let out2 = build(
        &host(),
        &bar,
        "bar.spec",
        &install,
        &opts(),
        &out_dir,
        &bar_log,
    )
    .unwrap();
    assert_eq!(names(&out2.rpms), ["bar-1.0-1.cn1.x86_64.rpm"]);
    let requires = rpm_query(&out2.rpms[0], &["--requires"]);
    assert!(requires.contains("libfoo.so.1()(64bit)"), "{requires}");
    let text = fs_err::read_to_string(&bar_log).unwrap();
    assert!(text.contains("installing"), "{text}");

    // the host never saw any of it
    assert!(!Path::new("/usr/include/foo.h").exists());
    assert!(!Path::new("/usr/lib64/libfoo.so.1").exists());
    assert_clean(tmp.path());

    // without the installed -devel, the same build fails in %build
    let err = build(&host(), &bar, "bar.spec", &[], &opts(), &out_dir, &bar_log).unwrap_err();
    assert!(
        matches!(&err, RpmbuildError::BuildFailed { stage: Some(s), .. } if s == "%build"),
        "{err}"
    );
    assert_clean(tmp.path());
}

#[test]
fn noarch_data_package() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let comp = simple_component(
        tmp.path(),
        "foo-data",
        "BuildArch: noarch\n",
        "%prep\n\n%build\n\n%install\ninstall -D -m 0644 %{SOURCE0} %{buildroot}%{_datadir}/foo-data/data.txt\n\n%files\n%{_datadir}/foo-data/data.txt\n",
    );
    let out_dir = tmp.path().join("out");
    let log = tmp.path().join("data.log");
    let out = build(
        &host(),
        &comp,
        "foo-data.spec",
        &[],
        &opts(),
        &out_dir,
        &log,
    )
    .unwrap();
    assert_eq!(names(&out.rpms), ["foo-data-1.0-1.cn1.noarch.rpm"]);
    assert_eq!(
        names(std::slice::from_ref(&out.srpm)),
        ["foo-data-1.0-1.cn1.src.rpm"]
    );
    // path size mtime…: the mtime is clamped to the changelog's time
    let dump = rpm_query(&out.rpms[0], &["--dump"]);
    let fields: Vec<&str> = dump.split(' ').take(3).collect();
    assert_eq!(
        fields,
        [
            "/usr/share/foo-data/data.txt",
            "17",
            &CHANGELOG_EPOCH.to_string()
        ]
    );
    assert_clean(tmp.path());
}

#[test]
fn failing_build_names_the_stage_and_keeps_the_log() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let comp = simple_component(
        tmp.path(),
        "broken",
        "",
        "%prep\n\n%build\necho 'about to fail on purpose'\nexit 3\n\n%install\n\n%files\n",
    );
    let out_dir = tmp.path().join("out");
    let log = tmp.path().join("broken.log");
    let err = build(&host(), &comp, "broken.spec", &[], &opts(), &out_dir, &log).unwrap_err();
    let RpmbuildError::BuildFailed {
        stage,
        log: kept,
        tail,
        ..
    } = &err
    else {
        panic!("expected a build failure, got {err}");
    };
    assert_eq!(stage.as_deref(), Some("%build"));
    assert_eq!(kept, &log);
    assert!(tail.contains("about to fail on purpose"), "{tail}");
    let msg = err.to_string();
    assert!(msg.contains("broken.spec"), "{msg}");
    assert!(msg.contains("rpmbuild failed in %build"), "{msg}");
    assert!(msg.contains(&log.display().to_string()), "{msg}");
    assert!(
        fs_err::read_to_string(&log)
            .unwrap()
            .contains("about to fail on purpose")
    );
    assert_eq!(
        fs_err::read_dir(&out_dir).unwrap().count(),
        0,
        "no packages on failure"
    );
    assert_clean(tmp.path());
}

#[test]
fn the_build_has_no_network() {
    require_root();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // control: the host's own loopback reaches the listener
    drop(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    assert!(listener.accept().is_ok());

    let tmp = tempfile::tempdir().unwrap();
    let comp = simple_component(
        tmp.path(),
        "netprobe",
        "BuildArch: noarch\n",
        "%prep\n\n%build\n\
         if bash -c 'exec 3<>/dev/tcp/127.0.0.1/%{probe_port}' 2>/dev/null; then echo 'NETWORK REACHABLE'; exit 1; fi\n\
         test \"$(ls /sys/class/net)\" = lo\n\
         test \"$(cat /proc/sys/kernel/hostname)\" = localhost\n\
         test \"$(id -un)\" = builder\n\
         test \"$(id -u)\" != 0\n\
         test \"$HOME\" = /builddir\n\
         test \"$TZ\" = UTC\n\
         echo isolation-ok\n\n\
         %install\ninstall -D -m 0644 %{SOURCE0} %{buildroot}%{_datadir}/netprobe/data.txt\n\n\
         %files\n%{_datadir}/netprobe/data.txt\n",
    );
    let mut o = opts();
    o.defines.push(("probe_port".into(), port.to_string()));
    let log = tmp.path().join("net.log");
    let res = build(
        &host(),
        &comp,
        "netprobe.spec",
        &[],
        &o,
        &tmp.path().join("out"),
        &log,
    );
    let text = fs_err::read_to_string(&log).unwrap();
    res.unwrap_or_else(|e| panic!("{e}"));
    assert!(text.contains("isolation-ok"), "{text}");
    assert!(!text.contains("NETWORK REACHABLE"), "{text}");
    assert!(
        listener.accept().is_err(),
        "the build connected to the host's loopback"
    );
    assert_clean(tmp.path());
}

#[test]
fn the_base_is_never_modified() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let passwd = fs_err::read("/etc/passwd").unwrap();
    let had_rpmdb = Path::new("/usr/lib/sysimage/rpm").exists();
    // a package whose files and %post (run as root by rpm -i) write to /etc
    let marker = simple_component(
        tmp.path(),
        "marker",
        "BuildArch: noarch\n",
        "%prep\n\n%build\n\n%install\nmkdir -p %{buildroot}/etc\necho marked > %{buildroot}/etc/cairn-test-marker\n\n\
         %post\necho posted > /etc/cairn-test-marker-post\n\n\
         %files\n/etc/cairn-test-marker\n",
    );
    let out_dir = tmp.path().join("out");
    let m = build(
        &host(),
        &marker,
        "marker.spec",
        &[],
        &opts(),
        &out_dir,
        &tmp.path().join("m.log"),
    )
    .unwrap();
    let user = simple_component(
        tmp.path(),
        "markeruser",
        "BuildArch: noarch\n",
        "%prep\n\n%build\n\
         grep -qx marked /etc/cairn-test-marker\n\
         grep -qx posted /etc/cairn-test-marker-post\n\
         ! touch /etc/cairn-written-by-builder 2>/dev/null\n\n\
         %install\ninstall -D -m 0644 %{SOURCE0} %{buildroot}%{_datadir}/markeruser/data.txt\n\n\
         %files\n%{_datadir}/markeruser/data.txt\n",
    );
    let log = tmp.path().join("u.log");
    build(
        &host(),
        &user,
        "markeruser.spec",
        &m.rpms,
        &opts(),
        &out_dir,
        &log,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for p in [
        "/etc/cairn-test-marker",
        "/etc/cairn-test-marker-post",
        "/etc/cairn-written-by-builder",
        "/builddir",
    ] {
        assert!(!Path::new(p).exists(), "{p} appeared on the host");
    }
    assert_eq!(
        fs_err::read("/etc/passwd").unwrap(),
        passwd,
        "/etc/passwd changed"
    );
    assert_eq!(Path::new("/usr/lib/sysimage/rpm").exists(), had_rpmdb);
    assert_clean(tmp.path());
}

#[test]
fn query_spec_reads_buildrequires_packages_and_the_changelog_time() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let comp = foo_component(tmp.path());
    write(
        &comp.join("foo.spec"),
        &fs_err::read_to_string(comp.join("foo.spec"))
            .unwrap()
            .replace(
                "BuildRequires: make\n",
                "BuildRequires: make\nBuildRequires: zlib-devel >= 1.2\n",
            ),
    );
    let mut o = opts();
    o.work_dir = Some(tmp.path().to_owned());
    let info = query_spec(&host(), &comp, "foo.spec", &o).unwrap();
    assert_eq!(info.build_requires, ["gcc", "make", "zlib-devel >= 1.2"]);
    assert_eq!(info.packages, ["foo", "libfoo", "foo-devel"]);
    for p in [
        "foo = 1.0-1.cn1",
        "libfoo = 1.0-1.cn1",
        "foo-devel = 1.0-1.cn1",
    ] {
        assert!(
            info.provides.iter().any(|x| x == p),
            "{p} not in {:?}",
            info.provides
        );
    }
    assert_eq!(info.source_date_epoch, Some(CHANGELOG_EPOCH));
    o.source_date_epoch = Some(1234);
    assert_eq!(
        query_spec(&host(), &comp, "foo.spec", &o)
            .unwrap()
            .source_date_epoch,
        Some(1234)
    );
    assert_clean(tmp.path());

    let bad = simple_component(tmp.path(), "bad", "Bogus-Tag: x\n", "%files\n");
    let err = query_spec(&host(), &bad, "bad.spec", &o).unwrap_err();
    assert!(matches!(err, RpmbuildError::Query { .. }), "{err}");
    assert!(err.to_string().contains("Bogus-Tag"), "{err}");
    assert_clean(tmp.path());
}

/// Where two RPMs differ: their file dumps and the header tags likely to vary.
fn explain_difference(a: &Path, b: &Path) -> String {
    let qf = "buildtime=%{BUILDTIME} buildhost=%{BUILDHOST} cookie=%{COOKIE} sha256=%{SHA256HEADER} payload=%{PAYLOADDIGEST}\n";
    let mut s = String::new();
    for args in [
        &["--dump"][..],
        &["--qf", qf][..],
        &["--provides"][..],
        &["--requires"][..],
    ] {
        let (x, y) = (rpm_query(a, args), rpm_query(b, args));
        if x != y {
            s.push_str(&format!("{args:?}:\n--- first\n{x}+++ second\n{y}\n"));
        }
    }
    // every header tag, as XML: show the lines that differ
    let (x, y) = (rpm_query(a, &["--xml"]), rpm_query(b, &["--xml"]));
    for (i, (l, r)) in x.lines().zip(y.lines()).enumerate() {
        if l != r {
            s.push_str(&format!("--xml line {i}:\n- {l}\n+ {r}\n"));
        }
    }
    if s.is_empty() {
        s.push_str("headers agree on files and tags; the payload bytes differ");
    }
    s
}

#[test]
fn building_twice_gives_identical_rpms() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let comp = foo_component(tmp.path());
    // with a debuginfo package too (Debian's rpm makes one only when asked), whose
    // build-ids and /usr/src/debug paths must not vary either
    let spec = fs_err::read_to_string(comp.join("foo.spec"))
        .unwrap()
        .replace("%prep\n", "%debug_package\n\n%prep\n");
    write(&comp.join("foo.spec"), &spec);
    let a = build(
        &host(),
        &comp,
        "foo.spec",
        &[],
        &opts(),
        &tmp.path().join("a"),
        &tmp.path().join("a.log"),
    )
    .unwrap();
    // the same options: `jobs` is part of the result, as rpmbuild stores the expanded
    // spec (`make -j2`) in the source RPM, whose id every binary RPM carries
    let b = build(
        &host(),
        &comp,
        "foo.spec",
        &[],
        &opts(),
        &tmp.path().join("b"),
        &tmp.path().join("b.log"),
    )
    .unwrap();
    assert!(
        names(&a.rpms).contains(&"foo-debuginfo-1.0-1.cn1.x86_64.rpm".to_owned()),
        "{:?}",
        a.rpms
    );
    assert_eq!(names(&a.rpms), names(&b.rpms));
    let mut pairs: Vec<(PathBuf, PathBuf)> =
        a.rpms.iter().cloned().zip(b.rpms.iter().cloned()).collect();
    pairs.push((a.srpm.clone(), b.srpm.clone()));
    let mut problems = String::new();
    for (x, y) in &pairs {
        if fs_err::read(x).unwrap() != fs_err::read(y).unwrap() {
            problems.push_str(&format!(
                "{} differs:\n{}\n",
                x.display(),
                explain_difference(x, y)
            ));
        }
    }
    assert!(problems.is_empty(), "{problems}");
    assert_clean(tmp.path());
}

#[test]
fn a_build_past_its_timeout_is_killed() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let comp = simple_component(
        tmp.path(),
        "sleeper",
        "",
        "%prep\n\n%build\necho sleeping\nsleep 3017\n\n%install\n\n%files\n",
    );
    let mut o = opts();
    o.timeout = Some(Duration::from_secs(4));
    let started = Instant::now();
    let log = tmp.path().join("sleep.log");
    let err = build(
        &host(),
        &comp,
        "sleeper.spec",
        &[],
        &o,
        &tmp.path().join("out"),
        &log,
    )
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(matches!(err, RpmbuildError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("within 4s"), "{err}");
    // no process of the build is left
    for e in fs_err::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = fs_err::read(e.path().join("cmdline")) {
            assert!(
                cmd != b"sleep\x003017\x00",
                "the build's sleep survives as {:?}",
                e.path()
            );
        }
    }
    assert_clean(tmp.path());
}

#[test]
fn rpmbuild_missing_in_the_base_is_reported() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    // a base with a shell but no rpmbuild: just enough to get to the check
    let base = tmp.path().join("base");
    for d in ["usr/bin", "usr/lib", "usr/lib64", "etc"] {
        fs_err::create_dir_all(base.join(d)).unwrap();
    }
    for l in ["bin", "lib", "lib64"] {
        std::os::unix::fs::symlink(format!("usr/{l}"), base.join(l)).unwrap();
    }
    run(Command::new("cp")
        .args(["-L", "/bin/sh"])
        .arg(base.join("usr/bin/sh")));
    // dash needs libc and the loader
    fs_err::create_dir_all(base.join("usr/lib/x86_64-linux-gnu")).unwrap();
    run(Command::new("cp")
        .args(["-L", "/lib/x86_64-linux-gnu/libc.so.6"])
        .arg(base.join("usr/lib/x86_64-linux-gnu/libc.so.6")));
    run(Command::new("cp")
        .args(["-L", "/lib64/ld-linux-x86-64.so.2"])
        .arg(base.join("usr/lib64/")));
    write(&base.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
    write(&base.join("etc/group"), "root:x:0:\n");
    let comp = simple_component(tmp.path(), "nobuild", "", "%files\n");
    // the second time under a name overlayfs options cannot carry: the base is copied
    let copied = tmp.path().join("base,copied");
    run(Command::new("cp").arg("-a").arg(&base).arg(&copied));
    for (base, how) in [(&base, "overlay over"), (&copied, "copying")] {
        let log = tmp.path().join("n.log");
        let layout = RootLayout {
            base: base.clone(),
            foreign: true,
        };
        let err = build(
            &layout,
            &comp,
            "nobuild.spec",
            &[],
            &opts(),
            &tmp.path().join("out"),
            &log,
        )
        .unwrap_err();
        assert!(
            matches!(err, RpmbuildError::RpmbuildMissing { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("has no rpmbuild"), "{err}");
        let text = fs_err::read_to_string(&log).unwrap();
        assert!(
            text.contains(&format!("cairn-rpmbuild: {how} {}", base.display())),
            "{text}"
        );
    }
    assert_eq!(
        fs_err::read_to_string(copied.join("etc/passwd")).unwrap(),
        "root:x:0:0::/root:/bin/sh\n",
        "the copied base was modified"
    );
    assert_clean(tmp.path());
}

#[test]
fn a_broken_buildrequires_package_fails_the_install() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let bogus = tmp.path().join("bogus-1.0-1.noarch.rpm");
    write(&bogus, "this is not an rpm\n");
    let comp = simple_component(tmp.path(), "needsbogus", "", "%files\n");
    let log = tmp.path().join("i.log");
    let err = build(
        &host(),
        &comp,
        "needsbogus.spec",
        &[bogus],
        &opts(),
        &tmp.path().join("out"),
        &log,
    )
    .unwrap_err();
    assert!(matches!(err, RpmbuildError::InstallFailed { .. }), "{err}");
    assert!(err.to_string().contains("bogus-1.0-1.noarch.rpm"), "{err}");
    assert_clean(tmp.path());
}

#[test]
fn base_capabilities_of_the_host() {
    let caps = base_capabilities(Path::new("/"), "x86_64").unwrap();
    assert!(
        caps.sonames.iter().any(|s| s == "libc.so.6()(64bit)"),
        "{:?}",
        caps.sonames
    );
    assert!(
        caps.packages.iter().any(|(n, _)| n == "gcc"),
        "no gcc among {} packages",
        caps.packages.len()
    );
    assert!(caps.files_count > 1000, "{}", caps.files_count);
    let any_pc = [
        "/usr/lib/pkgconfig",
        "/usr/share/pkgconfig",
        "/usr/lib/x86_64-linux-gnu/pkgconfig",
    ]
    .iter()
    .filter_map(|d| fs_err::read_dir(d).ok())
    .flatten()
    .flatten()
    .any(|e| e.file_name().to_string_lossy().ends_with(".pc"));
    assert_eq!(!caps.pkgconfig.is_empty(), any_pc);
    assert!(base_has_path(Path::new("/"), "/usr/bin/gcc"));
    assert!(base_has_path(Path::new("/"), "/bin/sh"));
    assert!(!base_has_path(
        Path::new("/"),
        "/usr/bin/no-such-tool-cairn"
    ));
}
