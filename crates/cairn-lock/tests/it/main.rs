use cairn_lock::{
    LOCK_VERSION, LockError, LockedImage, LockedPackage, LockedRepo, Lockfile, PackageDiff,
};
use proptest::prelude::*;

const V1: &str = include_str!("../fixtures/v1.lock");

#[test]
fn v1_fixture_parses_and_prints_back_byte_for_byte() {
    let l = Lockfile::parse(V1, "v1.lock").unwrap();
    assert_eq!(l.version, 1);
    assert_eq!(l.images["base"].packages.len(), 3);
    assert_eq!(l.to_toml(), V1);
}

#[test]
fn newer_and_broken_versions_are_refused_with_the_file_named() {
    let e = Lockfile::parse(&V1.replace("version = 1", "version = 9"), "x/cairn.lock").unwrap_err();
    assert!(matches!(e, LockError::TooNew { found: 9, .. }));
    assert!(e.to_string().starts_with("x/cairn.lock: lock version 9"));
    let e = Lockfile::parse(&V1.replace("version = 1\n", ""), "cairn.lock").unwrap_err();
    assert!(e.to_string().contains("missing `version`"), "{e}");
    let e = Lockfile::parse(
        &V1.replace("size = 200000 },\n]", "size = 200000 },\n"),
        "cairn.lock",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cairn.lock: not a valid lock file: line"),
        "{e}"
    );
    let e = Lockfile::parse(
        &V1.replace(
            "arch = \"x86_64\"\npackages",
            "arch = \"x86_64\"\nextra = 1\npackages",
        ),
        "cairn.lock",
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    let e = Lockfile::parse(
        &V1.replace("[repos.fixture]", "[repos.other]"),
        "cairn.lock",
    )
    .unwrap_err();
    assert!(matches!(e, LockError::DanglingRepo { .. }), "{e}");
}

#[test]
fn diff_reads_like_a_changelog() {
    let old = Lockfile::parse(V1, "a").unwrap().images["base"]
        .packages
        .clone();
    let mut new = old.clone();
    new[0].evr = "5.2.32-1.fc41".into();
    new.remove(1);
    new.push(LockedPackage {
        name: "zsh".into(),
        ..new[0].clone()
    });
    let d = PackageDiff::between(&old, &new);
    let lines = d.lines();
    assert!(
        lines.contains(&"~ bash 5.2.26-3.fc41 -> 5.2.32-1.fc41 x86_64".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"- kernel 6.11.4-301.fc41 x86_64".to_owned()),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("+ zsh ")), "{lines:?}");
    assert!(PackageDiff::between(&old, &old).is_empty());
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9+._-]{0,12}"
}

fn package() -> impl Strategy<Value = LockedPackage> {
    (
        name(),
        "[0-9][0-9a-z.~^+]{0,6}-[0-9a-z.]{1,4}",
        prop_oneof!["x86_64", "noarch"],
        "[ -~]{0,20}",
        0..=(i64::MAX as u64),
    )
        .prop_map(|(name, evr, arch, location, size)| LockedPackage {
            name,
            evr,
            arch: arch.to_owned(),
            repo: "r \"q\"".into(),
            location,
            checksum: format!("sha256:{}", "ab".repeat(32)),
            size,
        })
}

proptest! {
    /// Any lock prints to text that parses back to the same lock, and printing is
    /// independent of input order (determinism).
    #[test]
    fn roundtrip_and_determinism(pkgs in proptest::collection::vec(package(), 0..30)) {
        let mut l = Lockfile::new();
        l.repos.insert("r \"q\"".into(), LockedRepo { source: "s".into(), kind: "rpm-md".into(), urls: vec!["file:///x y".into()], revision: "sha256:00".into() });
        l.images.insert("img.1".into(), LockedImage { inputs: "sha256:ff".into(), arch: "x86_64".into(), packages: pkgs.clone() });
        let text = l.to_toml();
        let back = Lockfile::parse(&text, "p").unwrap();
        let mut norm = l.clone();
        norm.normalize();
        prop_assert_eq!(&back, &norm);
        let mut rev = l.clone();
        rev.images.get_mut("img.1").unwrap().packages.reverse();
        prop_assert_eq!(rev.to_toml(), text);
        prop_assert_eq!(back.version, LOCK_VERSION);
    }
}
