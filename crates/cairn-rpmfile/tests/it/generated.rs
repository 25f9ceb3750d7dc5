//! Packages from the `gen-rpms` generator (the rpm crate's builder, file lists of this
//! host's Debian packages): accepted by createrepo_c and rpm, read like createrepo_c reads
//! them, deterministic.

use crate::common::{createrepo, rpm_query, run, scratch};
use crate::generate::generate;
use crate::read::assert_matches_createrepo;
use cairn_openpgp::{KeyAlgo, Keyring, SigningKey};
use cairn_rpmfile::{read_record, sign_in_place, verify};
use cairn_rpmmd::{RpmFileKind, RpmRecord};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

const N: usize = 60;

fn records(dir: &std::path::Path, files: &[std::path::PathBuf]) -> Vec<RpmRecord> {
    files
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_str().unwrap();
            read_record(p, rel).unwrap()
        })
        .collect()
}

#[test]
fn generated_packages_read_like_createrepo_c_reads_them() {
    let dir = scratch("generated");
    let files = generate(N, 42, &dir).unwrap();
    assert_eq!(files.len(), N);
    let recs = records(&dir, &files);

    // Realistic: distinct names, 10 to 400 paths, directories, symlinks, sonames, deps.
    let mut names: Vec<&str> = recs.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), N);
    assert!(
        recs.iter().all(|r| (10..=400).contains(&r.files.len())),
        "file counts"
    );
    assert!(
        recs.iter()
            .any(|r| r.files.iter().any(|f| f.kind == RpmFileKind::Dir))
    );
    assert!(
        recs.iter()
            .any(|r| r.provides.iter().any(|d| d.name.contains(".so.")))
    );
    assert!(
        recs.iter()
            .any(|r| r.requires.iter().any(|d| d.flags.as_deref() == Some("GE")))
    );
    assert!(
        recs.iter()
            .all(|r| r.summary.len() >= 10 && r.description.len() >= 30)
    );

    assert_matches_createrepo(&recs, &createrepo(&dir));

    // rpm lists the same files.
    let some = &files[N / 3];
    let listed: Vec<String> = run(Command::new("rpm")
        .args(["--dbpath", "/nonexistent-cairn-db", "-qpl"])
        .arg(some))
    .lines()
    .map(str::to_owned)
    .collect();
    let ours: Vec<String> = read_record(some, "x")
        .unwrap()
        .files
        .into_iter()
        .map(|f| f.path)
        .collect();
    let mut sorted = ours.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    assert!(!rpm_query(some, "%{NAME}").is_empty());

    // Same seed, same bytes; another seed, other packages.
    let again = scratch("generated-again");
    let files2 = generate(N, 42, &again).unwrap();
    for (a, b) in files.iter().zip(&files2) {
        assert_eq!(a.file_name(), b.file_name());
        assert_eq!(
            fs_err::read(a).unwrap(),
            fs_err::read(b).unwrap(),
            "{}",
            a.display()
        );
    }
    let other = scratch("generated-other");
    let files3 = generate(N, 43, &other).unwrap();
    assert_ne!(
        fs_err::read(&files[0]).unwrap(),
        fs_err::read(&files3[0]).unwrap()
    );
}

#[test]
fn generated_packages_sign_and_verify() {
    let dir = scratch("generated-signed");
    let files = generate(8, 5, &dir).unwrap();
    let key = SigningKey::generate(
        "Gen <gen@cairn.invalid>",
        KeyAlgo::Ed25519,
        UNIX_EPOCH + Duration::from_secs(1_600_000_000),
    )
    .unwrap();
    let mut ring = Keyring::new();
    ring.add_bytes(key.public_key_armored().as_bytes(), "gen")
        .unwrap();
    let db = dir.join("db");
    fs_err::create_dir_all(&db).unwrap();
    let pub_file = dir.join("pub.asc");
    fs_err::write(&pub_file, key.public_key_armored()).unwrap();
    run(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(&db)
        .arg("--import")
        .arg(&pub_file));
    for f in &files {
        sign_in_place(f, &key, UNIX_EPOCH + Duration::from_secs(1_700_000_000)).unwrap();
        verify(f, &ring).unwrap();
        run(Command::new("rpmkeys")
            .arg("--dbpath")
            .arg(&db)
            .arg("--checksig")
            .arg(f));
    }
}
