//! `cairn comp …` end to end: a project over the fixture upstream (real git repositories and
//! a lookaside directory from scripts/fixtures/upstream.sh), rendered, checked in CI style,
//! diffed and reported.

use crate::{Project, edit, root};
use std::process::Command;

/// The fixture upstream, made once per run in the target dir (recreated each run, so
/// runs do not pile up copies in /tmp).
fn upstream() -> &'static std::path::Path {
    static U: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    U.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("upstream-cli");
        let out = Command::new("bash")
            .arg(root().join("scripts/fixtures/upstream.sh"))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn project() -> Project {
    let up = upstream().display().to_string();
    let p = Project::new(
        "includes = [\"distro.toml\", \"comps/*.comp.toml\"]\n[project]\ndefault-distro = { name = \"cl\", version = \"1\" }\n",
    );
    fs_err::write(
        p.path("distro.toml"),
        format!(
            r#"[distros.fedora]
dist-git-base-uri = "file://{up}/git/$pkg.git"
lookaside-base-uri = "file://{up}/lookaside/$pkg/$filename/$hashtype/$hash/$filename"
[distros.fedora.versions.43]
release-ver = "43"
dist-git-branch = "f43"
[distros.cl.versions.'1']
release-ver = "1"
[distros.cl.versions.'1'.default-component-config]
spec = {{ type = "upstream", upstream-distro = {{ name = "fedora", version = "43" }} }}
build.defines = {{ dist = ".cl1" }}
"#
        ),
    )
    .unwrap();
    fs_err::create_dir_all(p.path("comps")).unwrap();
    fs_err::write(
        p.path("comps/base.comp.toml"),
        r#"[components.tzdata-lite]
[components.hello-tool]
[[components.hello-tool.overlays]]
type = "spec-set-tag"
description = "Our vendor"
tag = "Vendor"
value = "Cairn"
metadata = { category = "branding" }
"#,
    )
    .unwrap();
    p
}

#[test]
fn render_check_diff_and_deviations() {
    let p = project();
    let o = p.cairn(&["comp", "list", "-O", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Nothing rendered yet: the CI check fails and names what is missing.
    let o = p.cairn(&["comp", "render", "--check", "--all"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("hello-tool: not rendered") && err.contains("no lock"),
        "{err}"
    );

    let o = p.cairn(&["comp", "render", "--all"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(p.path("specs/h/hello-tool/hello-tool.spec").is_file());
    assert!(p.path("locks/tzdata-lite.lock").is_file());
    let o = p.cairn(&["comp", "render", "--check", "--all", "--clean-stale"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // A hand edit and an orphan directory make the check fail with exit 1.
    edit(
        &p.path("specs/h/hello-tool/hello-tool.spec"),
        "Vendor:",
        "Vendor: x",
    );
    fs_err::create_dir_all(p.path("specs/g/gone")).unwrap();
    let o = p.cairn(&[
        "comp",
        "render",
        "--check",
        "--all",
        "--clean-stale",
        "-O",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stale"].as_array().unwrap().len(), 2, "{v}");
    // What a render killed with SIGKILL leaves behind (a temp dir of a dead process) is
    // removed by the next render; the committed render never was touched.
    fs_err::create_dir_all(p.path("specs/.render-999999999-hello-tool-XYZ/sub")).unwrap();
    let o = p.cairn(&["comp", "render", "--all", "--clean-stale"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!p.path("specs/g/gone").exists());
    assert!(!p.path("specs/.render-999999999-hello-tool-XYZ").exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("interrupted render"));
    assert!(
        p.cairn(&["comp", "render", "--check", "--all"])
            .status
            .success()
    );

    let o = p.cairn(&["comp", "diff", "hello-tool"]);
    assert!(o.status.success());
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(
        diff.contains("+Vendor:") && diff.contains("--- upstream/hello-tool.spec"),
        "{diff}"
    );

    let o = p.cairn(&["comp", "deviations", "-O", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["components"][0]["component"], "hello-tool");
    assert_eq!(v["components"][0]["overlays"][0]["category"], "branding");

    let o = p.cairn(&["comp", "query", "hello-tool"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v[0]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "hello-tool-devel"),
        "{v}"
    );

    // Offline from the warm cache, with a fresh clone of the project state.
    let o = p.cairn(&["--offline", "comp", "render", "--check", "--all"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
