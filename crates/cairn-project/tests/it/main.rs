use cairn_project::{Session, SessionOptions, find_project, read_lock, write_atomic};

#[test]
fn write_atomic_replaces_whole_files_and_a_failure_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cairn.lock");
    write_atomic(&p, b"one").unwrap();
    write_atomic(&p, b"two").unwrap();
    assert_eq!(fs_err::read(&p).unwrap(), b"two");
    // a target whose directory does not exist fails and leaves nothing behind
    let bad = dir.path().join("missing/cairn.lock");
    let e = write_atomic(&bad, b"x").unwrap_err();
    assert!(e.to_string().contains("missing/cairn.lock"), "{e}");
    let leftovers: Vec<_> = fs_err::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn missing_lock_is_none_and_garbage_lock_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cairn.lock");
    assert!(read_lock(&p).unwrap().is_none());
    fs_err::write(&p, "version = [").unwrap();
    let e = read_lock(&p).unwrap_err();
    assert!(e.to_string().contains("cairn.lock"), "{e}");
}

#[test]
fn fingerprint_is_stable_and_changes_with_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[sources.a]\nkind = \"rpm-md\"\nbaseurl = \"file:///r\"\ngpgcheck = false\nrepo-gpgcheck = false\n\
                [images.x]\npackages = [\"bash\"]\n";
    fs_err::write(dir.path().join("cairn.toml"), toml).unwrap();
    let opts = SessionOptions {
        cache_dir: dir.path().join("c"),
        offline: true,
    };
    let s1 = Session::new(find_project(dir.path(), None).unwrap(), opts.clone());
    let s2 = Session::new(find_project(dir.path(), None).unwrap(), opts.clone());
    let img = &s1.project.images["x"];
    let f1 = s1.fingerprint(img, "x86_64");
    assert_eq!(f1, s2.fingerprint(&s2.project.images["x"], "x86_64"));
    assert!(f1.starts_with("sha256:") && f1.len() == 71);
    assert_ne!(f1, s1.fingerprint(img, "aarch64"));
    fs_err::write(dir.path().join("cairn.toml"), toml.replace("bash", "zsh")).unwrap();
    let s3 = Session::new(find_project(dir.path(), None).unwrap(), opts);
    assert_ne!(f1, s3.fingerprint(&s3.project.images["x"], "x86_64"));
}

#[test]
fn no_project_file_means_the_builtin_default() {
    let dir = tempfile::tempdir().unwrap();
    let p = find_project(dir.path(), None).unwrap();
    assert!(p.builtin);
    assert_eq!(p.file, "<built-in>");
}

/// The fixture repository (unsigned) from scripts/fixtures/, built with the real rpmbuild
/// and createrepo_c.
fn fixture_repo(dir: &std::path::Path) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = dir.join("repo");
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/fixtures/rpm-repo.sh"))
        .arg(root.join("fixtures/rpm/basic"))
        .arg(&repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo
}

/// A request that is not an image's, against an added source, a virtual source and
/// nothing else: the virtual package, once chosen, satisfies what it provides; pinned
/// packages are found again and fetched; virtual ones cannot be.
#[test]
fn requests_against_added_and_virtual_sources() {
    use cairn_package::{Package, RepoId, RepoPackages, Version};
    let dir = tempfile::tempdir().unwrap();
    let repo = fixture_repo(dir.path());
    fs_err::write(
        dir.path().join("cairn.toml"),
        "[sources.host]\nkind = \"host-apt\"\n[images.x]\npackages = [\"bash\"]\n",
    )
    .unwrap();
    let mut s = Session::new(
        find_project(dir.path(), None).unwrap(),
        SessionOptions {
            cache_dir: dir.path().join("cache"),
            // file:// sources are read offline too
            offline: true,
        },
    );
    s.add_source(
        "local",
        cairn_config::Source::RpmMd(cairn_config::RpmMdSource {
            baseurl: vec![format!("file://{}", repo.display())],
            gpgkey: vec![],
            gpgcheck: false,
            repo_gpgcheck: false,
            sslcacert: None,
            priority: 1,
            exclude: vec![],
        }),
    );
    let mut root = Package::bare(
        "cairn-build-root",
        Version::Rpm(cairn_version::Evr::parse("1-1").unwrap()),
        "x86_64",
    );
    root.files = vec!["/bin/sh".into()];
    s.add_virtual_source(
        "root",
        RepoPackages {
            repo: RepoId("root".into()),
            priority: 99,
            revision: cairn_package::Checksum::new(
                cairn_package::ChecksumAlgo::Sha256,
                "0".repeat(64),
            ),
            base_urls: vec![],
            packages: vec![root],
        },
    );
    let sources = vec!["local".to_owned(), "root".to_owned()];
    let mut req = cairn_solve::Request::new("x86_64");
    req.weak_deps = false;
    req.install = vec!["hello".into(), "cairn-build-root".into()];
    let picked = s
        .resolve_request(
            "BuildRequires of `x`",
            &sources,
            &req,
            &cairn_project::Quiet,
        )
        .unwrap();
    let names: Vec<String> = picked
        .iter()
        .map(|p| {
            format!(
                "{}-{} {} {}",
                p.package.name, p.package.evr, p.package.repo, p.repo.kind
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "cairn-build-root-1-1 root virtual",
            "hello-2.0-1 local rpm-md",
            "libhello-1.0-1 local rpm-md",
        ]
    );
    // fetch what is real; a virtual package is refused by name
    let real: Vec<_> = picked
        .iter()
        .filter(|p| p.repo.kind != "virtual")
        .cloned()
        .collect();
    let fetched = s
        .fetch_picked(&real, "x86_64", &cairn_project::Quiet)
        .unwrap();
    assert_eq!(fetched.len(), 2);
    assert!(fetched.iter().all(|f| f.path.is_file()));
    let e = s
        .fetch_picked(&picked, "x86_64", &cairn_project::Quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cairn-build-root") && e.contains("virtual"),
        "{e}"
    );
    // pins are found again, or not
    let key = |evr| cairn_project::PackageKey {
        repo: "local",
        name: "libhello",
        evr,
        arch: "x86_64",
    };
    let again = s
        .find_package(&sources, "x86_64", &key("1.0-1"), &cairn_project::Quiet)
        .unwrap()
        .unwrap();
    assert_eq!(again.package, picked[2].package);
    assert!(
        s.find_package(&sources, "x86_64", &key("9-9"), &cairn_project::Quiet)
            .unwrap()
            .is_none()
    );
    // an unknown capability names the request; an unknown source is an error too
    req.install = vec!["nonexistent-devel".into()];
    let e = s
        .resolve_request(
            "BuildRequires of `x`",
            &sources,
            &req,
            &cairn_project::Quiet,
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("BuildRequires of `x`: ") && e.contains("nonexistent-devel"),
        "{e}"
    );
    let e = s
        .resolve_request("r", &["nope".to_owned()], &req, &cairn_project::Quiet)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`nope`") && e.contains("no such source"), "{e}");
    // a changed repository is read again after reload_source; the virtual one stays
    fs_err::remove_dir_all(&repo).unwrap();
    s.reload_source("root");
    s.reload_source("local");
    req.install = vec!["cairn-build-root".into()];
    let e = s
        .resolve_request("r", &sources, &req, &cairn_project::Quiet)
        .unwrap_err()
        .to_string();
    assert!(e.contains("local"), "{e}");
    let only_root = s
        .resolve_request("r", &["root".to_owned()], &req, &cairn_project::Quiet)
        .unwrap();
    assert_eq!(only_root.len(), 1);
}
