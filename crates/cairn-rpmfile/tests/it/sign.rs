//! Signing with cairn and checking with `rpmkeys`, `rpm -qp` and `verify`; packages signed
//! by `rpmsign` checked by `verify`.

use crate::common::{Gpg, copy_to, fixtures, rpm_query, run, scratch, try_run};
use cairn_openpgp::{KeyAlgo, Keyring, SigningKey};
use cairn_rpmfile::{RpmFileError, read_record, sign_in_place, sign_to, signer_key_ids, verify};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

const SIGNED_AT: u64 = 1_700_000_000;

fn key(algo: KeyAlgo, uid: &str) -> SigningKey {
    SigningKey::generate(uid, algo, at(1_600_000_000)).unwrap()
}

fn ring(keys: &[&SigningKey]) -> Keyring {
    let mut ring = Keyring::new();
    for k in keys {
        ring.add_bytes(k.public_key_armored().as_bytes(), "test key")
            .unwrap();
    }
    ring
}

/// An rpm database that trusts `armored` keys.
fn rpmdb(dir: &Path, armored: &[String]) -> PathBuf {
    let db = dir.join("rpmdb");
    fs_err::create_dir_all(&db).unwrap();
    for (i, a) in armored.iter().enumerate() {
        let file = dir.join(format!("key{i}.asc"));
        fs_err::write(&file, a).unwrap();
        run(Command::new("rpmkeys")
            .arg("--dbpath")
            .arg(&db)
            .arg("--import")
            .arg(&file));
    }
    db
}

fn checksig(db: &Path, file: &Path) -> (bool, String) {
    try_run(
        Command::new("rpmkeys")
            .arg("--dbpath")
            .arg(db)
            .args(["--checksig", "-v"])
            .arg(file),
    )
}

fn flip_byte(file: &Path, offset: u64) {
    let mut bytes = fs_err::read(file).unwrap();
    bytes[offset as usize] ^= 0x01;
    fs_err::write(file, bytes).unwrap();
}

fn signed_by_cairn(algo: KeyAlgo, name: &str) {
    let f = fixtures();
    let dir = scratch(name);
    let signer = key(algo, "Cairn Signer <signer@cairn.invalid>");
    let db = rpmdb(&dir, &[signer.public_key_armored()]);
    let pkg = copy_to(&f.binary, &dir);
    let before = read_record(&pkg, "x").unwrap();
    let (ok, text) = checksig(&db, &pkg);
    assert!(
        ok,
        "an unsigned package passes --checksig on its digests: {text}"
    );
    assert!(!text.contains("Signature"), "{text}");
    assert_eq!(signer_key_ids(&pkg).unwrap(), Vec::<String>::new());

    sign_in_place(&pkg, &signer, at(SIGNED_AT)).unwrap();

    let (ok, text) = checksig(&db, &pkg);
    assert!(ok, "rpmkeys --checksig: {text}");
    let short_id = signer.key_id()[8..].to_lowercase();
    let kind = if algo == KeyAlgo::Ed25519 {
        "EdDSA"
    } else {
        "RSA"
    };
    assert!(
        text.contains(&format!(
            "Header V4 {kind}/SHA256 Signature, key ID {short_id}: OK"
        )),
        "{text}"
    );
    for line in [
        "Header SHA256 digest: OK",
        "Payload SHA256 digest: OK",
        "MD5 digest: OK",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    let tag = if algo == KeyAlgo::Ed25519 {
        "DSAHEADER"
    } else {
        "RSAHEADER"
    };
    let shown = rpm_query(&pkg, &format!("%{{{tag}:pgpsig}}"));
    assert!(
        shown.contains(&format!("Key ID {}", signer.key_id().to_lowercase())),
        "{shown}"
    );
    assert!(shown.starts_with(&format!("{kind}/SHA256")), "{shown}");

    let v = verify(&pkg, &ring(&[&signer])).unwrap();
    assert_eq!(v.signer.fingerprint, signer.fingerprint());
    assert_eq!(v.signer.key_id, signer.key_id());
    for d in [
        "header SHA256 digest",
        "payload SHA256 digest",
        "header+payload MD5 digest",
    ] {
        assert!(v.digests.iter().any(|x| x == d), "{d}: {:?}", v.digests);
    }
    assert_eq!(signer_key_ids(&pkg).unwrap(), vec![signer.key_id()]);

    // Reserved space absorbed the signature: same size, the header did not move, and the
    // metadata except the checksum is unchanged.
    let after = read_record(&pkg, "x").unwrap();
    assert_eq!(after.size_package, before.size_package);
    assert_eq!(after.header_start, before.header_start);
    assert_eq!(after.header_end, before.header_end);
    assert_ne!(after.checksum, before.checksum);
    assert_eq!(
        cairn_rpmmd::RpmRecord {
            checksum: before.checksum.clone(),
            time_file: before.time_file,
            ..after
        },
        before
    );

    // One payload byte changed: rpmkeys and verify refuse.
    let tampered = dir.join("tampered.rpm");
    fs_err::copy(&pkg, &tampered).unwrap();
    flip_byte(&tampered, before.header_end + 20);
    let (ok, text) = checksig(&db, &tampered);
    assert!(!ok, "rpmkeys accepted a changed payload: {text}");
    assert!(text.contains("Payload SHA256 digest: BAD"), "{text}");
    let err = verify(&tampered, &ring(&[&signer])).unwrap_err();
    assert!(
        matches!(&err, RpmFileError::DigestMismatch { what, .. } if what == "payload SHA256 digest"),
        "{err}"
    );
    assert!(err.to_string().contains("tampered.rpm"), "{err}");
}

#[test]
fn ed25519_signature_passes_rpmkeys_and_verify() {
    signed_by_cairn(KeyAlgo::Ed25519, "sign-ed25519");
}

#[test]
fn rsa4096_signature_passes_rpmkeys_and_verify() {
    signed_by_cairn(KeyAlgo::Rsa4096, "sign-rsa4096");
}

#[test]
fn header_changes_are_caught() {
    let f = fixtures();
    let dir = scratch("sign-header");
    let signer = key(KeyAlgo::Ed25519, "H <h@cairn.invalid>");
    let pkg = copy_to(&f.binary, &dir);
    sign_in_place(&pkg, &signer, at(SIGNED_AT)).unwrap();
    let rec = read_record(&pkg, "x").unwrap();
    // Change one letter of the summary inside the main header.
    let bytes = fs_err::read(&pkg).unwrap();
    let needle = b"A greeting program";
    let pos = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap() as u64;
    assert!(pos > rec.header_start && pos < rec.header_end);
    flip_byte(&pkg, pos + 2);
    let err = verify(&pkg, &ring(&[&signer])).unwrap_err();
    assert!(
        matches!(&err, RpmFileError::DigestMismatch { what, .. } if what.starts_with("header")),
        "{err}"
    );
    let db = rpmdb(&dir, &[signer.public_key_armored()]);
    let (ok, text) = checksig(&db, &pkg);
    assert!(!ok, "{text}");
}

#[test]
fn unsigned_and_foreign_signed_packages_are_refused() {
    let f = fixtures();
    let dir = scratch("sign-refused");
    let ours = key(KeyAlgo::Ed25519, "Ours <ours@cairn.invalid>");
    let theirs = key(KeyAlgo::Ed25519, "Theirs <theirs@cairn.invalid>");
    let pkg = copy_to(&f.binary, &dir);
    let err = verify(&pkg, &ring(&[&ours])).unwrap_err();
    assert!(matches!(err, RpmFileError::NotSigned { .. }), "{err}");
    assert!(
        err.to_string().contains(&pkg.display().to_string()),
        "{err}"
    );

    sign_in_place(&pkg, &theirs, at(SIGNED_AT)).unwrap();
    let err = verify(&pkg, &ring(&[&ours])).unwrap_err();
    match &err {
        RpmFileError::UnknownKey { issuers, ring, .. } => {
            assert_eq!(issuers, &vec![theirs.key_id()]);
            assert_eq!(ring, &vec![ours.fingerprint()]);
        }
        other => panic!("unexpected {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&theirs.key_id()) && msg.contains(&ours.fingerprint()),
        "{msg}"
    );
    // rpmkeys agrees: the key is not in its database.
    let db = rpmdb(&dir, &[ours.public_key_armored()]);
    let (ok, text) = checksig(&db, &pkg);
    assert!(!ok && text.contains("NOKEY"), "{text}");

    // Re-signed by our key: the old signature is replaced, not kept alongside.
    sign_in_place(&pkg, &ours, at(SIGNED_AT)).unwrap();
    assert_eq!(signer_key_ids(&pkg).unwrap(), vec![ours.key_id()]);
    verify(&pkg, &ring(&[&ours])).unwrap();
    let (ok, text) = checksig(&db, &pkg);
    assert!(ok, "{text}");
}

#[test]
fn signing_is_deterministic_and_idempotent() {
    let f = fixtures();
    let dir = scratch("sign-determinism");
    let signer = key(KeyAlgo::Ed25519, "D <d@cairn.invalid>");
    let a = dir.join("a.rpm");
    let b = dir.join("b.rpm");
    // sign_to leaves the source alone.
    let original = fs_err::read(&f.binary).unwrap();
    sign_to(&f.binary, &a, &signer, at(SIGNED_AT)).unwrap();
    sign_to(&f.binary, &b, &signer, at(SIGNED_AT)).unwrap();
    assert_eq!(fs_err::read(&f.binary).unwrap(), original);
    let first = fs_err::read(&a).unwrap();
    assert_eq!(first, fs_err::read(&b).unwrap());
    // Signing a signed package again with the same key and time changes nothing.
    sign_in_place(&a, &signer, at(SIGNED_AT)).unwrap();
    assert_eq!(fs_err::read(&a).unwrap(), first);
    // Another time, another signature.
    sign_in_place(&b, &signer, at(SIGNED_AT + 1)).unwrap();
    assert_ne!(fs_err::read(&b).unwrap(), first);
    // The RSA key is deterministic as well (PKCS#1 v1.5).
    let rsa = key(KeyAlgo::Rsa2048, "R <r@cairn.invalid>");
    sign_to(&f.binary, &a, &rsa, at(SIGNED_AT)).unwrap();
    sign_to(&f.binary, &b, &rsa, at(SIGNED_AT)).unwrap();
    assert_eq!(fs_err::read(&a).unwrap(), fs_err::read(&b).unwrap());
}

#[test]
fn failed_signing_leaves_the_file_untouched() {
    let f = fixtures();
    let dir = scratch("sign-atomic");
    let signer = key(KeyAlgo::Ed25519, "A <a@cairn.invalid>");
    let pkg = copy_to(&f.binary, &dir);
    let rec = read_record(&pkg, "x").unwrap();
    flip_byte(&pkg, rec.header_end + 20);
    let damaged = fs_err::read(&pkg).unwrap();
    let err = sign_in_place(&pkg, &signer, at(SIGNED_AT)).unwrap_err();
    assert!(matches!(err, RpmFileError::DigestMismatch { .. }), "{err}");
    assert_eq!(fs_err::read(&pkg).unwrap(), damaged);
    let left: Vec<String> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec![pkg.file_name().unwrap().to_string_lossy().into_owned()]
    );
}

#[test]
fn source_and_empty_packages_sign_too() {
    let f = fixtures();
    let dir = scratch("sign-others");
    let signer = key(KeyAlgo::Ed25519, "S <s@cairn.invalid>");
    let db = rpmdb(&dir, &[signer.public_key_armored()]);
    for p in [&f.source, &f.empty] {
        let pkg = copy_to(p, &dir);
        sign_in_place(&pkg, &signer, at(SIGNED_AT)).unwrap();
        let (ok, text) = checksig(&db, &pkg);
        assert!(ok && text.contains("Signature, key ID"), "{text}");
        verify(&pkg, &ring(&[&signer])).unwrap();
    }
}

#[test]
fn packages_signed_by_rpmsign_verify() {
    let f = fixtures();
    let dir = scratch("rpmsign");
    let gpg = Gpg::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/gen-key.sh");
    let fpr = run(Command::new("bash")
        .arg(&script)
        .arg(gpg.home.path())
        .arg("ed25519"))
    .trim()
    .to_owned();
    assert_eq!(fpr.len(), 40, "{fpr}");
    let pkg = copy_to(&f.binary, &dir);
    // Debian's rpm names gpg2, which is gpg here.
    let gpg_path = run(Command::new("sh").args(["-c", "command -v gpg"]))
        .trim()
        .to_owned();
    run(gpg
        .cmd("rpmsign")
        .arg("--define")
        .arg(format!("__gpg {gpg_path}"))
        .arg("--define")
        .arg(format!("_gpg_name {fpr}"))
        .arg("--addsign")
        .arg(&pkg));
    let public = run(gpg
        .cmd("gpg")
        .args(["--batch", "--export", "--armor", &fpr]));
    let mut keyring = Keyring::new();
    keyring.add_bytes(public.as_bytes(), "gpg export").unwrap();
    let v = verify(&pkg, &keyring).unwrap();
    assert_eq!(v.signer.fingerprint, fpr);
    assert_eq!(signer_key_ids(&pkg).unwrap(), vec![fpr[24..].to_owned()]);
    // And a key we do not hold is unknown.
    let other = key(KeyAlgo::Ed25519, "O <o@cairn.invalid>");
    let err = verify(&pkg, &ring(&[&other])).unwrap_err();
    assert!(matches!(err, RpmFileError::UnknownKey { .. }), "{err}");

    // cairn replaces rpmsign's signature; rpmkeys accepts ours and reports only ours.
    sign_in_place(&pkg, &other, at(SIGNED_AT)).unwrap();
    assert_eq!(signer_key_ids(&pkg).unwrap(), vec![other.key_id()]);
    let db = rpmdb(&dir, &[other.public_key_armored(), public]);
    let (ok, text) = checksig(&db, &pkg);
    assert!(ok, "{text}");
    assert_eq!(text.matches("Signature, key ID").count(), 1, "{text}");
}

/// A header changed after signing, with the header digests (and the MD5 over header and
/// payload) removed so that only the signature can notice.
fn forge(signed: &Path, out: &Path) {
    let bytes = fs_err::read(signed).unwrap();
    let mut meta = rpm::PackageMetadata::parse(&mut std::io::Cursor::new(&bytes)).unwrap();
    let payload_start = meta.get_package_segment_offsets().payload as usize;
    let entries: Vec<rpm::HeaderEntry> = meta
        .signature
        .get_all_entries()
        .unwrap()
        .into_iter()
        .filter(|(tag, _)| ![62, 269, 273, 1004].contains(tag))
        .map(|(tag, data)| rpm::HeaderEntry::new(tag, data))
        .collect();
    meta.signature = rpm::Header::from_entries(entries, rpm::IndexSignatureTag::HEADER_SIGNATURES);
    let mut forged = Vec::new();
    meta.write(&mut forged).unwrap();
    let needle = b"A greeting program";
    let pos = forged
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    forged[pos] = b'a';
    forged.extend_from_slice(&bytes[payload_start..]);
    fs_err::write(out, forged).unwrap();
}

#[test]
fn a_forged_header_fails_the_signature() {
    let f = fixtures();
    let dir = scratch("sign-forged");
    for algo in [KeyAlgo::Ed25519, KeyAlgo::Rsa2048] {
        let signer = key(algo, "F <f@cairn.invalid>");
        let pkg = copy_to(&f.binary, &dir);
        sign_in_place(&pkg, &signer, at(SIGNED_AT)).unwrap();
        let forged = dir.join("forged.rpm");
        forge(&pkg, &forged);
        assert_eq!(
            read_record(&forged, "x").unwrap().summary,
            "a greeting program — for tests"
        );
        let err = verify(&forged, &ring(&[&signer])).unwrap_err();
        match &err {
            RpmFileError::BadSignature { fingerprint, .. } => {
                assert_eq!(fingerprint, &signer.fingerprint());
            }
            other => panic!("{algo}: unexpected {other}"),
        }
        assert!(
            err.to_string().contains("forged.rpm: BAD signature"),
            "{err}"
        );
        let db = rpmdb(&dir.join(algo.name()), &[signer.public_key_armored()]);
        let (ok, text) = checksig(&db, &forged);
        assert!(
            !ok && text.contains("BAD"),
            "rpmkeys accepted a forged header: {text}"
        );
        // The untouched signed package still verifies, so the forgery is what failed.
        verify(&pkg, &ring(&[&signer])).unwrap();
    }
}
