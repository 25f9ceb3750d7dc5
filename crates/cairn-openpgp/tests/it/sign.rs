//! Keys generated and signatures made by [`SigningKey`], checked by the real `gpg`/`gpgv`
//! and by our own verifier.

use super::Gpg;
use cairn_openpgp::{KeyAlgo, Keyring, PgpError, SigningKey, signature_issuers, verify_detached};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

const CREATED: u64 = 1_600_000_000;
const SIGNED: u64 = 1_700_000_000;
const REPOMD: &[u8] = b"<?xml version=\"1.0\"?>\n<repomd><revision>7</revision></repomd>\n";

/// gpg's exit status and combined output for `args`, in `gpg`'s home, without asserting.
fn gpg_try(gpg: &Gpg, program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .env("GNUPGHOME", gpg.home.path())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Check one detached signature with `gpg --verify`, `gpgv` and `verify_detached`, and that
/// all three refuse the data with one byte changed.
fn check_with_all_verifiers(key: &SigningKey, algo: KeyAlgo) {
    let gpg = Gpg::new();
    let public = key.public_key_armored();
    assert!(
        public.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
        "{public}"
    );
    let pub_file = gpg.write("pub.asc", public.as_bytes());
    gpg.run(&["--import", pub_file.to_str().unwrap()]);
    let listed = String::from_utf8(gpg.run(&["--with-colons", "--list-keys"])).unwrap();
    assert!(
        listed.contains(&format!("fpr:::::::::{}:", key.fingerprint())),
        "{listed}"
    );
    // pub:<validity>:<bits>:<algo>:<keyid>:<created>:
    let pub_line = listed.lines().find(|l| l.starts_with("pub:")).unwrap();
    let fields: Vec<&str> = pub_line.split(':').collect();
    let expected_algo = if algo == KeyAlgo::Ed25519 { "22" } else { "1" };
    assert_eq!(fields[3], expected_algo, "{pub_line}");
    assert_eq!(fields[4], key.key_id(), "{pub_line}");
    assert_eq!(fields[5], CREATED.to_string(), "{pub_line}");
    assert!(fields[11].contains('s'), "signing capability: {pub_line}");
    if algo == KeyAlgo::Ed25519 {
        assert_eq!(fields[16], "ed25519", "{pub_line}");
    }

    let data = gpg.write("repomd.xml", REPOMD);
    let sig = key.sign_detached_armored(REPOMD, at(SIGNED)).unwrap();
    assert!(sig.starts_with("-----BEGIN PGP SIGNATURE-----"), "{sig}");
    let sig_file = gpg.write("repomd.xml.asc", sig.as_bytes());
    let (ok, text) = gpg_try(
        &gpg,
        "gpg",
        &[
            "--batch",
            "--status-fd",
            "1",
            "--verify",
            sig_file.to_str().unwrap(),
            data.to_str().unwrap(),
        ],
    );
    assert!(ok, "gpg --verify: {text}");
    assert!(
        text.contains(&format!("[GNUPG:] VALIDSIG {}", key.fingerprint())),
        "{text}"
    );
    // VALIDSIG <fpr> <date> <timestamp> ...
    assert!(
        text.contains(&format!(" {SIGNED} ")),
        "signature time: {text}"
    );

    // gpgv wants a binary keyring.
    let binary = gpg.run(&["--export", &key.fingerprint()]);
    let ring_file = gpg.write("trusted.gpg", &binary);
    let gpgv_args = |d: &str| {
        vec![
            "--keyring".to_owned(),
            ring_file.to_str().unwrap().to_owned(),
            sig_file.to_str().unwrap().to_owned(),
            d.to_owned(),
        ]
    };
    let args = gpgv_args(data.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, text) = gpg_try(&gpg, "gpgv", &args);
    assert!(ok, "gpgv: {text}");
    assert!(text.contains("Good signature"), "{text}");

    let mut ring = Keyring::new();
    assert_eq!(ring.add_bytes(public.as_bytes(), "pub.asc").unwrap(), 1);
    let v = verify_detached(&ring, REPOMD, sig.as_bytes(), "repomd.xml").unwrap();
    assert_eq!(v.fingerprint, key.fingerprint());
    assert_eq!(v.key_id, key.key_id());
    assert_eq!(v.user_ids, vec![key.user_id()]);
    // The binary form verifies too, and names the issuer.
    let bin_sig = key.sign_detached(REPOMD, at(SIGNED)).unwrap();
    verify_detached(&ring, REPOMD, &bin_sig, "repomd.xml").unwrap();
    assert_eq!(
        signature_issuers(&bin_sig, "sig").unwrap(),
        vec![key.key_id()]
    );

    // One byte changed: every verifier refuses.
    let mut tampered = REPOMD.to_vec();
    tampered[30] ^= 0x20;
    let bad = gpg.write("repomd.bad", &tampered);
    let (ok, text) = gpg_try(
        &gpg,
        "gpg",
        &[
            "--batch",
            "--verify",
            sig_file.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    );
    assert!(
        !ok && text.contains("BAD signature"),
        "gpg accepted tampered data: {text}"
    );
    let args = gpgv_args(bad.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, text) = gpg_try(&gpg, "gpgv", &args);
    assert!(
        !ok && text.contains("BAD signature"),
        "gpgv accepted tampered data: {text}"
    );
    let err = verify_detached(&ring, &tampered, sig.as_bytes(), "repomd.xml").unwrap_err();
    assert!(matches!(err, PgpError::BadSignature { .. }), "{err}");
}

#[test]
fn ed25519_key_signs_for_gpg_gpgv_and_us() {
    let key = SigningKey::generate(
        "Cairn Test <ed@cairn.invalid>",
        KeyAlgo::Ed25519,
        at(CREATED),
    )
    .unwrap();
    check_with_all_verifiers(&key, KeyAlgo::Ed25519);
}

#[test]
fn rsa4096_key_signs_for_gpg_gpgv_and_us() {
    let start = Instant::now();
    let key = SigningKey::generate(
        "Cairn RSA <rsa@cairn.invalid>",
        KeyAlgo::Rsa4096,
        at(CREATED),
    )
    .unwrap();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "RSA-4096 generation took {took:?}"
    );
    check_with_all_verifiers(&key, KeyAlgo::Rsa4096);
}

#[test]
fn armored_secret_key_roundtrips() {
    for algo in [KeyAlgo::Ed25519, KeyAlgo::Rsa2048] {
        let key = SigningKey::generate("Round <trip@cairn.invalid>", algo, at(CREATED)).unwrap();
        let armored = key.to_armored_secret();
        assert!(
            armored.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----"),
            "{armored}"
        );
        let back = SigningKey::from_armored(&armored, "key.asc").unwrap();
        assert_eq!(back.fingerprint(), key.fingerprint());
        assert_eq!(back.key_id(), key.key_id());
        assert_eq!(back.user_id(), key.user_id());
        assert_eq!(back.created(), at(CREATED));
        assert_eq!(back.public_key_armored(), key.public_key_armored());
        // Same key, same time, same data: the same signature bytes.
        assert_eq!(
            back.sign_detached(REPOMD, at(SIGNED)).unwrap(),
            key.sign_detached(REPOMD, at(SIGNED)).unwrap(),
            "{algo}"
        );
    }
}

#[test]
fn secret_key_exported_by_gpg_signs() {
    let gpg = Gpg::new();
    let fpr = gpg.gen_key("From Gpg <gpg@cairn.invalid>", "ed25519", &[]);
    let armored = gpg.run(&["--export-secret-keys", "--armor", &fpr]);
    let key =
        SigningKey::from_armored(std::str::from_utf8(&armored).unwrap(), "gpg export").unwrap();
    assert_eq!(key.fingerprint(), fpr);
    let ring_bytes = gpg.run(&["--export", "--armor", &fpr]);
    let mut ring = Keyring::new();
    ring.add_bytes(&ring_bytes, "gpg").unwrap();
    let sig = key.sign_detached_armored(REPOMD, at(SIGNED)).unwrap();
    assert_eq!(
        verify_detached(&ring, REPOMD, sig.as_bytes(), "x")
            .unwrap()
            .fingerprint,
        fpr
    );
}

#[test]
fn unusable_secret_keys_are_refused_with_the_reason() {
    let gpg = Gpg::new();
    // A passphrase-protected key.
    gpg.run(&[
        "--passphrase",
        "secret",
        "--quick-gen-key",
        "Locked <locked@cairn.invalid>",
        "ed25519",
        "sign",
        "never",
    ]);
    let fpr = gpg.fingerprint("Locked <locked@cairn.invalid>");
    let out = Command::new("gpg")
        .env("GNUPGHOME", gpg.home.path())
        .args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "secret",
        ])
        .args(["--export-secret-keys", "--armor", &fpr])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = SigningKey::from_armored(std::str::from_utf8(&out.stdout).unwrap(), "locked.asc")
        .unwrap_err();
    assert!(matches!(err, PgpError::UnusableSigningKey { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("locked.asc") && msg.contains("passphrase"),
        "{msg}"
    );

    // A public key is not a secret key.
    let key = SigningKey::generate("P <p@cairn.invalid>", KeyAlgo::Ed25519, at(CREATED)).unwrap();
    let err = SigningKey::from_armored(&key.public_key_armored(), "pub.asc").unwrap_err();
    assert!(matches!(err, PgpError::MalformedKey { .. }), "{err}");
    assert!(err.to_string().contains("pub.asc"), "{err}");
}
