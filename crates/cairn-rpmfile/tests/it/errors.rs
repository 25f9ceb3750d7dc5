//! Damaged and foreign files: errors name the file and what was expected, and never panic.

use crate::common::{copy_to, fixtures, scratch};
use cairn_openpgp::Keyring;
use cairn_rpmfile::{RpmFileError, read_record, signer_key_ids, verify};
use proptest::prelude::*;
use std::path::Path;

/// The error message with the scratch directory replaced by `TMP`.
fn message(err: &RpmFileError, dir: &Path) -> String {
    err.to_string().replace(&dir.display().to_string(), "TMP")
}

/// Numbers of three or more digits (sizes and offsets that depend on how rpmbuild laid
/// out the fixture) replaced by `N`.
fn without_sizes(s: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 3 {
            out.push('N');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    fs_err::write(&p, bytes).unwrap();
    p
}

#[test]
fn foreign_and_truncated_files() {
    let f = fixtures();
    let dir = scratch("errors");
    let real = fs_err::read(&f.binary).unwrap();
    let rec = read_record(&f.binary, "x").unwrap();

    let mut out = String::new();
    let mut case = |name: &str, bytes: &[u8]| {
        let p = write(&dir, name, bytes);
        let err = read_record(&p, name).unwrap_err();
        assert!(matches!(err, RpmFileError::Malformed { .. }), "{err}");
        assert_eq!(err.path(), p);
        out.push_str(&message(&err, &dir));
        out.push('\n');
    };
    case("repomd.xml", b"<?xml version=\"1.0\"?>\n<repomd/>\n");
    case("empty.rpm", b"");
    case("lead-only.rpm", &real[..96]);
    case("cut-in-signature.rpm", &real[..200]);
    case(
        "cut-in-header.rpm",
        &real[..rec.header_start as usize + 100],
    );
    let mut bad = real.clone();
    bad[96] = 0;
    case("bad-header-magic.rpm", &bad);
    let mut bad = real.clone();
    bad[96 + 8..96 + 12].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    case("huge-count.rpm", &bad);
    let mut bad = real.clone();
    // The first index entry of the main header: tag, type, offset, count.
    let entry = rec.header_start as usize + 16;
    bad[entry + 8..entry + 12].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    case("bad-offset.rpm", &bad);
    let mut bad = real.clone();
    bad[entry + 8..entry + 12].copy_from_slice(&(-5i32).to_be_bytes());
    case("negative-offset.rpm", &bad);
    insta::assert_snapshot!(without_sizes(&out));

    let err = read_record(&dir, "dir").unwrap_err();
    assert!(message(&err, &dir).contains("directory"), "{err}");
    let err = read_record(&dir.join("missing.rpm"), "missing.rpm").unwrap_err();
    assert!(matches!(err, RpmFileError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.rpm"), "{err}");
    let err = signer_key_ids(&dir.join("repomd.xml")).unwrap_err();
    assert!(err.to_string().contains("bad lead magic"), "{err}");
}

#[test]
fn a_cut_payload_fails_verification_by_size() {
    let f = fixtures();
    let dir = scratch("errors-payload");
    let real = fs_err::read(&f.binary).unwrap();
    let p = write(&dir, "short.rpm", &real[..real.len() - 10]);
    // The headers are intact, so the record reads; verification notices.
    read_record(&p, "short.rpm").unwrap();
    let key = cairn_openpgp::SigningKey::generate(
        "K <k@cairn.invalid>",
        cairn_openpgp::KeyAlgo::Ed25519,
        std::time::SystemTime::now(),
    )
    .unwrap();
    let signed = copy_to(&f.binary, &dir);
    cairn_rpmfile::sign_in_place(&signed, &key, std::time::SystemTime::now()).unwrap();
    let bytes = fs_err::read(&signed).unwrap();
    fs_err::write(&signed, &bytes[..bytes.len() - 10]).unwrap();
    let mut ring = Keyring::new();
    ring.add_bytes(key.public_key_armored().as_bytes(), "k")
        .unwrap();
    let err = verify(&signed, &ring).unwrap_err();
    let msg = message(&err, &dir);
    assert!(
        matches!(&err, RpmFileError::DigestMismatch { what, .. } if what == "header+payload size"),
        "{msg}"
    );
    assert!(
        msg.starts_with(&format!(
            "TMP/{}: header+payload size mismatch",
            signed.file_name().unwrap().to_string_lossy()
        )),
        "{msg}"
    );
}

proptest! {
    // CAIRN_FUZZ_CASES=5000 for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("CAIRN_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96),
        ..ProptestConfig::default()
    })]

    /// Any change to the lead or headers gives a record or an error, never a panic or a
    /// runaway allocation.
    #[test]
    fn damaged_headers_never_panic(changes in proptest::collection::vec((0usize..20_000, any::<u8>()), 1..6)) {
        let f = fixtures();
        let real = fs_err::read(&f.binary).unwrap();
        let rec = read_record(&f.binary, "x").unwrap();
        let mut bytes = real.clone();
        for (pos, value) in &changes {
            let pos = pos % rec.header_end as usize;
            bytes[pos] = *value;
        }
        let dir = scratch(&format!("fuzz-{}", std::thread::current().name().unwrap_or("t").replace("::", "-")));
        let p = write(&dir, "fuzzed.rpm", &bytes);
        let _ = read_record(&p, "fuzzed.rpm");
        let _ = verify(&p, &Keyring::new());
        let _ = signer_key_ids(&p);
    }
}
