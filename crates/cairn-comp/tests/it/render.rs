use crate::project::{Proj, redact, upstream};
use cairn_comp::{LockMode, Staleness};
use std::path::Path;

const HELLO_COMP: &str = r##"[components.hello-tool]
overlay-files = ["overlays/*.overlay.toml"]

[components.hello-tool.build]
defines = { hello_greeting = "hello" }
check = { skip = true, skip_reason = "valgrind is not in the build root" }

[[components.hello-tool.overlays]]
type = "spec-remove-tag"
description = "valgrind is not shipped"
tag = "BuildRequires"
value = "valgrind"
metadata = { category = "pruning", upstream-status = "inapplicable" }

[[components.hello-tool.overlays]]
type = "spec-add-tag"
description = "Compress the greeting table"
tag = "BuildRequires"
value = "zlib-devel"
metadata = { category = "compatibility" }

[[components.hello-tool.overlays]]
type = "spec-search-replace"
description = "Name our vendor in the default configuration"
section = "%install"
regex = "Fedora Project"
replacement = "Cairn Linux"
metadata = { category = "branding", upstream-status = "inapplicable" }

[[components.hello-tool.overlays]]
type = "spec-remove-subpackage"
description = "No Python bindings in the base distribution"
package = "python3-hello"
metadata = { category = "pruning" }

[[components.hello-tool.overlays]]
type = "patch-add"
description = "Greet in lower case by default"
source = "patches/hello-lowercase.patch"
metadata = { category = "branding" }

[[components.hello-tool.overlays]]
type = "file-prepend-lines"
description = "Mark the configuration template as ours"
file = "hello-tool.conf.in"
lines = ["# Cairn Linux default configuration"]
metadata = { category = "branding" }

[[components.hello-tool.overlays]]
type = "file-search-replace"
description = "Document the distribution's configuration path in the shipped README"
archive = "hello-tool-1.4.tar.gz"
file = "*/README"
regex = "/etc/hello.conf"
replacement = "/etc/hello.conf (Cairn Linux: see /usr/share/doc)"
metadata = { category = "branding" }
"##;

const HELLO_OVERLAY_FILE: &str = r#"[metadata]
category = "backport"
upstream-status = "upstreamed"
commits = ["https://hello-tool.example.org/commit/abc123"]
bugs = [{ url = "https://bugs.example.org/42" }]

[[overlays]]
type = "spec-append-lines"
description = "Install the man page added upstream after 1.4"
section = "%install"
lines = ["install -d %{buildroot}%{_mandir}/man1"]

[[overlays]]
type = "spec-set-tag"
description = "Rebuild after the backport"
tag = "Release"
value = "2%{?dist}"
"#;

const PATCH: &str =
    "--- a/hello.conf\n+++ b/hello.conf\n@@ -1 +1 @@\n-greeting = Hello\n+greeting = hello\n";

fn hello_project() -> Proj {
    Proj::new(&[
        ("comps/hello-tool/hello-tool.comp.toml", HELLO_COMP),
        (
            "comps/hello-tool/overlays/0001-manpage.overlay.toml",
            HELLO_OVERLAY_FILE,
        ),
        ("comps/hello-tool/patches/hello-lowercase.patch", PATCH),
        (
            "comps/components.comp.toml",
            "[components.tzdata-lite]\n[components.zlib-ng-mini]\n",
        ),
    ])
}

fn read(p: &Path) -> String {
    fs_err::read_to_string(p).unwrap()
}

#[test]
fn no_overlays_renders_upstream_unchanged() {
    let p = Proj::new(&[(
        "comps/components.comp.toml",
        "[components.tzdata-lite]\n[components.hello-tool]\n",
    )]);
    let e = p.engine();
    for name in ["tzdata-lite", "hello-tool"] {
        let r = e.render(name, LockMode::UseOrCreate).unwrap();
        assert_eq!(r.rendered_spec, r.upstream_spec, "{name}");
        let up = upstream();
        let key = if name == "hello-tool" {
            "HELLO_F43_HEAD"
        } else {
            "TZDATA_F43_HEAD"
        };
        assert_eq!(r.commit.as_deref(), Some(up.env[key].as_str()));
        assert!(e.commit(r).unwrap());
    }
    let out = p.path().join("specs/h/hello-tool");
    let upstream_spec = std::process::Command::new("git")
        .args(["--git-dir"])
        .arg(upstream().dir.join("git/hello-tool.git"))
        .args(["show", "f43:hello-tool.spec"])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        fs_err::read(out.join("hello-tool.spec")).unwrap(),
        upstream_spec
    );
    // Files the spec does not reference are dropped; the sources manifest stays.
    let mut files: Vec<String> = walk(&out);
    files.sort();
    insta::assert_snapshot!("hello_plain_files", files.join("\n"));
    // Locks were written and render --check is clean.
    assert!(p.path().join("locks/hello-tool.lock").is_file());
    let c = e.check("hello-tool").unwrap();
    assert!(c.stale.is_empty(), "{:?}", c.stale);
}

fn walk(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() {
            v.push(e.path().strip_prefix(dir).unwrap().display().to_string());
        }
    }
    v.sort();
    v
}

#[test]
fn overlays_of_every_family_render_and_check() {
    let p = hello_project();
    let e = p.engine();
    let r = e.render("hello-tool", LockMode::UseOrCreate).unwrap();
    let diff = similar::TextDiff::from_lines(&r.upstream_spec, &r.rendered_spec)
        .unified_diff()
        .header("upstream", "rendered")
        .to_string();
    insta::assert_snapshot!("hello_rendered_diff", diff);
    let sources = read(&r.dir.path().join("sources"));
    assert!(
        !sources.contains(&upstream().env["HELLO_TARBALL_SHA512"]),
        "the edited tarball has a new hash"
    );
    let files = r.files.clone();
    assert!(
        files.contains(&"hello-lowercase.patch".to_owned()),
        "{files:?}"
    );
    assert!(
        files.contains(&"hello.py".to_owned()),
        "hello.py is still referenced by Source2: {files:?}"
    );
    assert!(!files.contains(&"gating.yaml".to_owned()), "{files:?}");
    assert!(
        read(&r.dir.path().join("hello-tool.conf.in"))
            .starts_with("# Cairn Linux default configuration\n")
    );
    assert!(e.commit(r).unwrap());
    assert!(e.check("hello-tool").unwrap().stale.is_empty());

    // The edited archive is in the cache under its new hash and says what we asked.
    let out = tempfile::tempdir().unwrap();
    let files = e
        .fetch_sources("hello-tool", LockMode::Locked, Some(out.path()))
        .unwrap();
    assert_eq!(files, vec!["hello-tool-1.4.tar.gz"]);
    let readme = std::process::Command::new("tar")
        .arg("xzOf")
        .arg(out.path().join("hello-tool-1.4.tar.gz"))
        .arg("hello-tool-1.4/README")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&readme.stdout).contains("Cairn Linux: see /usr/share/doc"));

    // A hand edit of the committed render is caught.
    let spec = p.path().join("specs/h/hello-tool/hello-tool.spec");
    fs_err::write(&spec, read(&spec) + "# hand edit\n").unwrap();
    let c = e.check("hello-tool").unwrap();
    assert_eq!(
        c.stale,
        vec![Staleness::Differs {
            added: vec![],
            removed: vec![],
            changed: vec!["hello-tool.spec".into()]
        }]
    );
    // Rendering again repairs it; changing an overlay's description changes nothing.
    let r = e.render("hello-tool", LockMode::UseOrCreate).unwrap();
    assert!(e.commit(r).unwrap());
    p.write(
        "comps/hello-tool/overlays/0001-manpage.overlay.toml",
        &HELLO_OVERLAY_FILE.replace("Install the man page", "Install the manual page"),
    );
    let e = p.engine();
    assert!(e.check("hello-tool").unwrap().stale.is_empty());
    // Changing what an overlay does makes both the render and the lock stale.
    p.write(
        "comps/hello-tool/overlays/0001-manpage.overlay.toml",
        &HELLO_OVERLAY_FILE.replace("2%{?dist}", "3%{?dist}"),
    );
    let e = p.engine();
    let stale = e.check("hello-tool").unwrap().stale;
    assert!(matches!(stale[0], Staleness::Differs { .. }), "{stale:?}");
    assert!(matches!(stale[1], Staleness::Lock { .. }), "{stale:?}");
}

#[test]
fn rendered_spec_builds_a_source_rpm() {
    let p = hello_project();
    let e = p.engine();
    let out = tempfile::tempdir().unwrap();
    e.fetch_sources("hello-tool", LockMode::UseOrCreate, Some(out.path()))
        .unwrap();
    let top = tempfile::tempdir().unwrap();
    let o = std::process::Command::new("rpmbuild")
        .arg("-bs")
        .arg("--define")
        .arg(format!("_topdir {}", top.path().display()))
        .arg("--define")
        .arg(format!("_sourcedir {}", out.path().display()))
        .arg("--define")
        .arg("dist .cl1")
        .arg(out.path().join("hello-tool.spec"))
        .output()
        .expect("rpmbuild runs");
    assert!(
        o.status.success(),
        "rpmbuild -bs failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let srpms = walk(&top.path().join("SRPMS"));
    assert_eq!(srpms.len(), 1, "{srpms:?}");
    // The source RPM carries the patch the overlay added and the edited tarball.
    let list = std::process::Command::new("rpm")
        .args(["-qpl"])
        .arg(top.path().join("SRPMS").join(&srpms[0]))
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("hello-lowercase.patch"), "{list}");
    assert!(list.contains("hello-tool-1.4.tar.gz"), "{list}");
}

#[test]
fn failing_overlays_name_component_file_and_index_and_leave_the_render() {
    let p = hello_project();
    let e = p.engine();
    let r = e.render("hello-tool", LockMode::UseOrCreate).unwrap();
    e.commit(r).unwrap();
    let before = walk(&p.path().join("specs"));
    let cases = [
        (
            "spec-remove-tag",
            "tag = \"BuildRequires\"\nvalue = \"no-such-package\"",
        ),
        ("spec-update-tag", "tag = \"Epoch\"\nvalue = \"1\""),
        ("spec-add-tag", "tag = \"BuildRequires\"\nvalue = \"make\""),
        (
            "spec-search-replace",
            "regex = \"no such text\"\nreplacement = \"x\"",
        ),
        ("spec-remove-section", "section = \"%verifyscript\""),
        (
            "spec-append-lines",
            "section = \"%files\"\npackage = \"nope\"\nlines = [\"x\"]",
        ),
        ("spec-remove-subpackage", "package = \"docs\""),
        ("patch-remove", "file = \"CVE-*.patch\""),
        ("file-remove", "file = \"*.orig\""),
        (
            "file-rename",
            "file = \"missing.txt\"\nreplacement = \"new.txt\"",
        ),
        (
            "file-search-replace",
            "file = \"hello-tool.spec\"\nregex = \"x\"\nreplacement = \"y\"",
        ),
        (
            "file-search-replace",
            "archive = \"hello-tool-1.4.tar.gz\"\nfile = \"*/nothing.c\"\nregex = \"x\"\nreplacement = \"y\"",
        ),
        (
            "file-add",
            "file = \"hello.py\"\nsource = \"patches/hello-lowercase.patch\"",
        ),
        ("patch-add", "source = \"patches/missing.patch\""),
    ];
    let mut out = String::new();
    for (kind, fields) in cases {
        p.write(
            "comps/hello-tool/overlays/0002-broken.overlay.toml",
            &format!("[metadata]\ncategory = \"temporary-workaround\"\n[[overlays]]\ntype = \"{kind}\"\ndescription = \"a broken overlay\"\n{fields}\n"),
        );
        let e = p.engine();
        let err = e
            .render("hello-tool", LockMode::UseOrCreate)
            .unwrap_err()
            .to_string();
        out.push_str(&redact(&err, &p));
        out.push('\n');
        // Nothing half-rendered: the committed render is as it was, no temp dirs remain.
        assert_eq!(walk(&p.path().join("specs")), before, "after {kind}");
        let leftovers: Vec<_> = fs_err::read_dir(p.path().join("specs"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    insta::assert_snapshot!("overlay_errors", out);
}

#[test]
fn locks_pin_commits_and_fingerprints_are_stable() {
    let up = upstream();
    let p = hello_project();
    let e = p.engine();
    let u = e.update("hello-tool", false).unwrap();
    assert_eq!(u.commit.as_deref(), Some(up.env["HELLO_F43_HEAD"].as_str()));
    let fp1 = u.input_fingerprint.clone();
    // Another engine, another cache: the same fingerprint.
    let cache2 = tempfile::tempdir().unwrap();
    let e2 = p.engine_with(false, cache2.path()).unwrap();
    assert_eq!(
        e2.update("hello-tool", false).unwrap().input_fingerprint,
        fp1
    );
    // A bump changes it and is remembered.
    let b = e.update("hello-tool", true).unwrap();
    assert_eq!(b.manual_bump, 1);
    assert_ne!(b.input_fingerprint, fp1);
    assert!(read(&p.path().join("locks/hello-tool.lock")).contains("manual-bump = 1"));
    // Pinning the older commit.
    let comp = HELLO_COMP.replacen(
        "[components.hello-tool]\n",
        &format!(
            "[components.hello-tool]\nspec = {{ type = \"upstream\", upstream-commit = \"{}\" }}\n",
            &up.env["HELLO_F43_OLD"][..12]
        ),
        1,
    );
    p.write("comps/hello-tool/hello-tool.comp.toml", &comp);
    let e = p.engine();
    // --locked refuses the stale lock; a plain render re-resolves.
    let err = e
        .render("hello-tool", LockMode::Locked)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no longer matches"), "{err}");
    // The old commit has one patch, so the overlay adding Patch2 now adds Patch1.
    let r = e.render("hello-tool", LockMode::UseOrCreate).unwrap();
    assert_eq!(r.commit.as_deref(), Some(up.env["HELLO_F43_OLD"].as_str()));
    assert!(
        r.rendered_spec
            .contains("Patch1:         hello-lowercase.patch"),
        "{}",
        r.rendered_spec
    );
    // A commit that does not exist.
    p.write(
        "comps/hello-tool/hello-tool.comp.toml",
        &HELLO_COMP.replacen("[components.hello-tool]\n", "[components.hello-tool]\nspec = { type = \"upstream\", upstream-commit = \"0123456789abcdef0123456789abcdef01234567\" }\n", 1),
    );
    let err = p
        .engine()
        .update("hello-tool", false)
        .unwrap_err()
        .to_string();
    insta::assert_snapshot!("missing_commit", redact(&err, &p));
}

#[test]
fn missing_branch_offline_and_hash_mismatch() {
    let p = Proj::new(&[(
        "comps/components.comp.toml",
        "[components.empty-branch-pkg]\n[components.hello-tool]\n",
    )]);
    let e = p.engine();
    let err = e.update("empty-branch-pkg", false).unwrap_err().to_string();
    insta::assert_snapshot!("missing_branch", redact(&err, &p));
    // Offline with an empty cache names what is missing.
    let empty = tempfile::tempdir().unwrap();
    let off = p.engine_with(true, empty.path()).unwrap();
    let err = off
        .render("hello-tool", LockMode::UseOrCreate)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("offline") && err.contains("hello-tool.git"),
        "{err}"
    );
    // Online once, then offline works from the cache alone.
    let out = tempfile::tempdir().unwrap();
    e.fetch_sources("hello-tool", LockMode::UseOrCreate, None)
        .unwrap();
    let off = p.engine_with(true, p.cache.path()).unwrap();
    off.fetch_sources("hello-tool", LockMode::Locked, Some(&out.path().join("x")))
        .unwrap();
    assert!(out.path().join("x/hello-tool-1.4.tar.gz").is_file());
    // A lookaside mirror serving different bytes is refused.
    let up = upstream();
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(up.dir.join("lookaside"))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let tarball = walk(&copy.path().join("lookaside/hello-tool"))
        .into_iter()
        .next()
        .unwrap();
    fs_err::write(
        copy.path().join("lookaside/hello-tool").join(tarball),
        b"not the tarball",
    )
    .unwrap();
    let distro = fs_err::read_to_string(p.path().join("distro/fedora.distro.toml"))
        .unwrap()
        .replace(
            &format!("file://{}/lookaside", up.dir.display()),
            &format!("file://{}/lookaside", copy.path().display()),
        );
    p.write("distro/fedora.distro.toml", &distro);
    let fresh = tempfile::tempdir().unwrap();
    let e = p.engine_with(false, fresh.path()).unwrap();
    let err = e
        .fetch_sources("hello-tool", LockMode::UseOrCreate, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mismatch") && err.contains("hello-tool-1.4.tar.gz"),
        "{err}"
    );
}

#[test]
fn config_errors_name_files() {
    let mut out = String::new();
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("comps/a.comp.toml", "[components.hello-tool]\n"),
            ("comps/b.comp.toml", "[components.hello-tool]\n"),
        ],
        vec![(
            "cairn.toml",
            "includes = [\"distro/*.distro.toml\", \"comps/missing.toml\"]\n[project]\ndefault-distro = { name = \"cairnlinux\" }\n",
        )],
        vec![(
            "comps/a.comp.toml",
            "[[components.x.overlays]]\ntype = \"spec-unknown\"\ndescription = \"d\"\n",
        )],
        vec![
            (
                "comps/a.comp.toml",
                "[components.x]\noverlay-files = [\"o/*.overlay.toml\"]\n",
            ),
            (
                "comps/o/1.overlay.toml",
                "[metadata]\ncategory = \"branding\"\n[[overlays]]\ntype = \"spec-set-tag\"\ntag = \"Vendor\"\nvalue = \"v\"\n",
            ),
        ],
        vec![(
            "comps/a.comp.toml",
            "[component-groups.g]\ncomponents = [\"ghost\"]\n",
        )],
    ];
    for files in cases {
        let p = Proj::new(&files);
        let err = match cairn_project::find_project(p.path(), None) {
            Err(e) => e.to_string(),
            Ok(project) => match cairn_comp::load(&project) {
                Err(e) => e.to_string(),
                Ok(d) => match cairn_comp::resolve(&d, "x") {
                    Err(e) => e.to_string(),
                    Ok(_) => "no error".into(),
                },
            },
        };
        out.push_str(&redact(&err, &p));
        out.push('\n');
    }
    insta::assert_snapshot!("config_errors", out);
}

#[test]
fn groups_and_inheritance() {
    let p = Proj::new(&[(
        "comps/components.comp.toml",
        r#"[components.hello-tool]
[components.tzdata-lite]
build = { defines = { tz_extra = "1" } }

[component-groups.base]
components = ["hello-tool", "tzdata-lite"]
[component-groups.base.default-component-config.build]
with = ["group_feature"]
defines = { vendor = "Cairn Base" }

[default-component-config.build]
without = ["python"]
"#,
    )]);
    let project = cairn_project::find_project(p.path(), None).unwrap();
    let d = cairn_comp::load(&project).unwrap();
    let r = cairn_comp::resolve(&d, "tzdata-lite").unwrap();
    let b = r.config.build.unwrap();
    assert_eq!(b.with, vec!["group_feature"]);
    assert_eq!(b.without, vec!["python"]);
    assert_eq!(b.defines["vendor"], "Cairn Base", "group overrides distro");
    assert_eq!(b.defines["dist"], ".cl1", "distro default inherited");
    assert_eq!(b.defines["tz_extra"], "1");
    assert_eq!(r.groups, vec!["base"]);
}

#[test]
fn deviation_report() {
    let p = hello_project();
    let e = p.engine();
    for n in e.names() {
        e.update(&n, false).unwrap();
    }
    let report = cairn_comp::deviations(&e, &[]).unwrap();
    assert_eq!(report.components_total, 3);
    assert_eq!(report.components.len(), 1, "only hello-tool deviates");
    let h = &report.components[0];
    assert_eq!(h.packages_removed, vec!["python3-hello".to_owned()]);
    insta::assert_snapshot!("deviations_md", redact(&report.markdown(), &p));
    let json = serde_json::to_string_pretty(&report).unwrap();
    insta::assert_snapshot!("deviations_json", redact(&json, &p));
}

/// The overlay kinds the hello-tool project does not use, through the renderer: each one
/// applies, and the result is pinned as a diff plus the file list.
#[test]
fn remaining_overlay_kinds() {
    let p = Proj::new(&[
        (
            "comps/tzdata-lite/tzdata-lite.comp.toml",
            r##"[components.tzdata-lite]
[[components.tzdata-lite.overlays]]
type = "patch-remove"
description = "Denver is fixed in the tarball we take"
file = "*-denver.patch"
[[components.tzdata-lite.overlays]]
type = "spec-insert-tag"
description = "Keep a second source beside the first"
tag = "Source1"
value = "tzdata-lite.README.cairn"
[[components.tzdata-lite.overlays]]
type = "spec-update-tag"
description = "Our license identifier"
tag = "License"
value = "LicenseRef-Cairn-Public-Domain"
[[components.tzdata-lite.overlays]]
type = "spec-prepend-lines"
description = "Explain the fork point"
section = "%build"
lines = ["# built by Cairn Linux"]
[[components.tzdata-lite.overlays]]
type = "spec-remove-section"
description = "No symlink migration on Cairn"
section = "%pretrans"
[[components.tzdata-lite.overlays]]
type = "file-add"
description = "Ship a README for the distribution"
file = "tzdata-lite.README.cairn"
source = "README.cairn"
"##,
        ),
        (
            "comps/tzdata-lite/README.cairn",
            "Cairn Linux trims this data further.\n",
        ),
        (
            "comps/zlib-ng-mini/zlib-ng-mini.comp.toml",
            r##"[components.zlib-ng-mini]
[[components.zlib-ng-mini.overlays]]
type = "file-search-replace"
description = "pkg-config file names our prefix"
file = "*.pc.in"
regex = "prefix="
replacement = "prefix=/usr # cairn "
[[components.zlib-ng-mini.overlays]]
type = "file-rename"
description = "Readme name used by our docs tooling"
file = "README.distro"
replacement = "README.cairn"
[[components.zlib-ng-mini.overlays]]
type = "spec-search-replace"
description = "Follow the rename"
regex = "README\\.distro"
replacement = "README.cairn"
[[components.zlib-ng-mini.overlays]]
type = "file-remove"
description = "Not shipped"
file = "gating.yaml"
"##,
        ),
    ]);
    let e = p.engine();
    let mut out = String::new();
    for name in ["tzdata-lite", "zlib-ng-mini"] {
        let r = e.render(name, LockMode::UseOrCreate).unwrap();
        out.push_str(&format!("== {name}: {}\n", r.files.join(" ")));
        out.push_str(
            &similar::TextDiff::from_lines(&r.upstream_spec, &r.rendered_spec)
                .unified_diff()
                .header("upstream", "rendered")
                .to_string(),
        );
        if name == "zlib-ng-mini" {
            let pc = fs_err::read_to_string(r.dir.path().join("zlib-ng-mini.pc.in")).unwrap();
            assert!(pc.contains("prefix=/usr # cairn "), "{pc}");
        }
        assert!(e.commit(r).unwrap());
        assert!(e.check(name).unwrap().stale.is_empty());
    }
    insta::assert_snapshot!("remaining_kinds", out);
}

/// `cairn comp build` pins the build root in the lock (format version 2); rendering,
/// checking and updating keep the pins, and `render --check` does not call such a lock
/// stale. Without pins the lock stays at version 1.
#[test]
fn build_root_pins_survive_render_check_and_update() {
    let p = hello_project();
    let e = p.engine();
    let r = e.render("hello-tool", LockMode::UseOrCreate).unwrap();
    e.commit(r).unwrap();
    let lock_path = p.path().join("locks/hello-tool.lock");
    assert!(read(&lock_path).contains("version = 1\n"));
    let pins = cairn_component::BuildRootLock {
        base: "host:sha256:0123".into(),
        build_requires: vec!["gcc".into(), "zlib-devel".into()],
        packages: vec![cairn_component::PinnedPackage {
            name: "zlib-devel".into(),
            evr: "1.3-1.cl1".into(),
            arch: "x86_64".into(),
            repo: "cairn-local".into(),
            checksum: format!("sha256:{}", "ab".repeat(32)),
        }],
    };
    assert!(e.set_build_root("hello-tool", Some(pins.clone())).unwrap());
    assert!(!e.set_build_root("hello-tool", Some(pins.clone())).unwrap());
    let pinned = read(&lock_path);
    assert!(
        pinned.contains("version = 2\n") && pinned.contains("[build-root]"),
        "{pinned}"
    );

    // a check and a re-render see a current lock and keep the file as it is
    let c = e.check("hello-tool").unwrap();
    assert!(c.stale.is_empty(), "{:?}", c.stale);
    let r = e.render("hello-tool", LockMode::Locked).unwrap();
    assert!(!r.lock_changed);
    e.commit(r).unwrap();
    assert_eq!(read(&lock_path), pinned);
    // an update that changes the fingerprint (a bump) keeps the pins too
    e.update("hello-tool", true).unwrap();
    let bumped = cairn_component::ComponentLock::parse(&read(&lock_path), "l").unwrap();
    assert_eq!(bumped.build_root, Some(pins));
    assert_eq!(bumped.manual_bump, 1);
    // dropping the pins goes back to version 1
    assert!(e.set_build_root("hello-tool", None).unwrap());
    let text = read(&lock_path);
    assert!(
        text.contains("version = 1\n") && !text.contains("build-root"),
        "{text}"
    );
    // no lock at all: an error naming the component
    let err = e.set_build_root("nonesuch", None).unwrap_err().to_string();
    assert!(err.contains("nonesuch"), "{err}");
}
