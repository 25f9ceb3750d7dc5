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
