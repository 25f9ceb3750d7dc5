//! Verification against signatures and keys made by the real `gpg`, and against Debian's real
//! archive keyring and the InRelease file apt downloaded on this machine.

use cairn_openpgp::{Keyring, PgpError, verify_cleartext, verify_detached};
use std::path::{Path, PathBuf};
use std::process::Command;

mod sign;

/// A throwaway GnuPG home.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        // Short path: gpg-agent's socket path has a length limit.
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .unwrap();
        Gpg { home }
    }

    fn run(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args([
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .output()
            .expect("gpg runs (install gnupg with scripts/setup-host.sh)");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Generate a key and return its fingerprint.
    fn gen_key(&self, uid: &str, algo: &str, extra: &[&str]) -> String {
        let mut args = extra.to_vec();
        args.extend(["--quick-gen-key", uid, algo, "sign", "never"]);
        self.run(&args);
        self.fingerprint(uid)
    }

    fn fingerprint(&self, uid: &str) -> String {
        let out = self.run(&["--with-colons", "--list-keys", uid]);
        let text = String::from_utf8(out).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|l| l.trim_matches(':').to_owned())
            .unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        fs_err::write(&p, data).unwrap();
        p
    }

    fn detach_sign(&self, fpr: &str, file: &Path, armor: bool) -> Vec<u8> {
        let out = file.with_extension(if armor { "asc" } else { "sig" });
        let mut args = vec!["--local-user", fpr, "--detach-sign", "-o"];
        args.push(out.to_str().unwrap());
        if armor {
            args.push("--armor");
        }
        args.push(file.to_str().unwrap());
        self.run(&args);
        fs_err::read(out).unwrap()
    }

    fn clearsign(&self, fpr: &str, file: &Path) -> Vec<u8> {
        let out = file.with_extension("clear");
        self.run(&[
            "--local-user",
            fpr,
            "--clearsign",
            "-o",
            out.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        fs_err::read(out).unwrap()
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

fn ring_of(bytes: &[u8]) -> Keyring {
    let mut ring = Keyring::new();
    ring.add_bytes(bytes, "test key").unwrap();
    ring
}

const DATA: &[u8] = b"<repomd><revision>1</revision></repomd>\n";

#[test]
fn detached_signatures_by_rsa_and_ed25519_keys() {
    let gpg = Gpg::new();
    for (uid, algo) in [
        ("Test RSA <rsa@example.org>", "rsa3072"),
        ("Test Ed <ed@example.org>", "ed25519"),
    ] {
        let fpr = gpg.gen_key(uid, algo, &[]);
        let armored_key = gpg.run(&["--export", "--armor", &fpr]);
        let ring = ring_of(&armored_key);
        assert_eq!(ring.fingerprints(), vec![fpr.clone()]);

        let file = gpg.write("repomd.xml", DATA);
        for armor in [true, false] {
            let sig = gpg.detach_sign(&fpr, &file, armor);
            let v = verify_detached(&ring, DATA, &sig, "http://x/repomd.xml").unwrap();
            assert_eq!(v.fingerprint, fpr);
            assert_eq!(v.key_id, fpr[24..]);
            assert_eq!(v.user_ids, vec![uid.to_owned()]);

            // One changed byte: refused, naming what was checked.
            let mut tampered = DATA.to_vec();
            tampered[10] ^= 1;
            let err = verify_detached(&ring, &tampered, &sig, "http://x/repomd.xml").unwrap_err();
            assert!(
                matches!(err, PgpError::BadSignature { .. }),
                "{algo}: {err}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains("http://x/repomd.xml") && msg.contains(&fpr),
                "{msg}"
            );
        }
    }
}

#[test]
fn signature_by_another_key_names_that_key() {
    let gpg = Gpg::new();
    let trusted = gpg.gen_key("Trusted <t@example.org>", "ed25519", &[]);
    let other = gpg.gen_key("Other <o@example.org>", "rsa3072", &[]);
    let ring = ring_of(&gpg.run(&["--export", "--armor", &trusted]));
    let file = gpg.write("data", DATA);
    let sig = gpg.detach_sign(&other, &file, true);
    let err = verify_detached(&ring, DATA, &sig, "repomd.xml of repo fedora").unwrap_err();
    let msg = err.to_string();
    match &err {
        PgpError::UnknownKey {
            issuer, ring: fps, ..
        } => {
            assert!(issuer.contains(&other[24..]), "{issuer}");
            assert_eq!(fps, &vec![trusted.clone()]);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        msg.contains("repomd.xml of repo fedora") && msg.contains(&trusted),
        "{msg}"
    );
    // An empty ring also refuses.
    let err = verify_detached(&Keyring::new(), DATA, &sig, "x").unwrap_err();
    assert!(matches!(err, PgpError::UnknownKey { .. }), "{err}");
}

#[test]
fn keyrings_with_several_keys_armored_and_binary() {
    let gpg = Gpg::new();
    let a = gpg.gen_key("A <a@example.org>", "ed25519", &[]);
    let b = gpg.gen_key("B <b@example.org>", "rsa3072", &[]);
    let file = gpg.write("data", DATA);
    let sig_b = gpg.detach_sign(&b, &file, true);

    // Two armored blocks in one file, as some RPM-GPG-KEY files ship.
    let mut two_blocks = gpg.run(&["--export", "--armor", &a]);
    two_blocks.extend(gpg.run(&["--export", "--armor", &b]));
    let key_file = gpg.write("RPM-GPG-KEY-two", &two_blocks);
    let mut ring = Keyring::new();
    assert_eq!(ring.add_file(&key_file).unwrap(), 2);
    assert_eq!(ring.fingerprints(), vec![a.clone(), b.clone()]);
    assert_eq!(
        verify_detached(&ring, DATA, &sig_b, "data")
            .unwrap()
            .fingerprint,
        b
    );
    // Adding the same keys again adds nothing.
    assert_eq!(ring.add_file(&key_file).unwrap(), 0);

    // One armored block holding both keys.
    let one_block = gpg.run(&["--export", "--armor", &a, &b]);
    assert_eq!(
        Keyring::new().add_bytes(&one_block, "one block").unwrap(),
        2
    );

    // A binary keyring, as Debian ships them.
    let binary = gpg.write("keyring.gpg", &gpg.run(&["--export", &a, &b]));
    let mut ring = Keyring::new();
    assert_eq!(ring.add_file(&binary).unwrap(), 2);
    assert!(!ring.is_empty());
    assert_eq!(
        verify_detached(&ring, DATA, &sig_b, "data")
            .unwrap()
            .fingerprint,
        b
    );
}

#[test]
fn signing_subkey_is_accepted_and_reported() {
    let gpg = Gpg::new();
    let primary = gpg.gen_key("Sub <s@example.org>", "ed25519", &[]);
    gpg.run(&["--quick-add-key", &primary, "ed25519", "sign", "never"]);
    let colons = String::from_utf8(gpg.run(&["--with-colons", "--list-keys", &primary])).unwrap();
    let sub_fpr = colons
        .lines()
        .skip_while(|l| !l.starts_with("sub:"))
        .find_map(|l| l.strip_prefix("fpr:"))
        .unwrap()
        .trim_matches(':')
        .to_owned();
    let ring = ring_of(&gpg.run(&["--export", &primary]));
    let file = gpg.write("data", DATA);
    let sig = gpg.detach_sign(&primary, &file, true);
    let v = verify_detached(&ring, DATA, &sig, "data").unwrap();
    assert_eq!(v.fingerprint, primary);
    assert_eq!(
        v.key_id,
        sub_fpr[24..],
        "gpg signs with the newest signing subkey"
    );
}

#[test]
fn cleartext_signed_message() {
    let gpg = Gpg::new();
    let fpr = gpg.gen_key("Archive <archive@example.org>", "rsa3072", &[]);
    let ring = ring_of(&gpg.run(&["--export", &fpr]));
    let text = "Origin: Test\nSuite: stable\n- a line starting with a dash\nSHA256:\n abc 12 main/binary-amd64/Packages\n";
    let file = gpg.write("Release", text.as_bytes());
    let signed = gpg.clearsign(&fpr, &file);
    let (got, v) = verify_cleartext(&ring, &signed, "InRelease").unwrap();
    assert_eq!(got, text);
    assert_eq!(v.fingerprint, fpr);

    // A changed line in the signed text is refused.
    let tampered = String::from_utf8(signed.clone())
        .unwrap()
        .replace("Suite: stable", "Suite: unstable");
    let err = verify_cleartext(&ring, tampered.as_bytes(), "InRelease").unwrap_err();
    assert!(matches!(err, PgpError::BadSignature { .. }), "{err}");
    // Text appended after the signature is refused, never returned.
    let mut appended = signed.clone();
    appended.extend(b"Suite: evil\n");
    assert!(verify_cleartext(&ring, &appended, "InRelease").is_err());
    // Unknown signer.
    let err = verify_cleartext(&Keyring::new(), &signed, "InRelease").unwrap_err();
    assert!(err.to_string().contains(&fpr[24..]), "{err}");
}

#[test]
fn expired_and_revoked_keys_are_refused() {
    let gpg = Gpg::new();
    // A key made in 2020 that expired a year later; the signature dates from its valid life.
    let past = ["--faked-system-time", "20200101T000000"];
    let mut args = past.to_vec();
    args.extend([
        "--quick-gen-key",
        "Old <old@example.org>",
        "ed25519",
        "sign",
        "1y",
    ]);
    gpg.run(&args);
    let old = gpg.fingerprint("Old <old@example.org>");
    let file = gpg.write("data", DATA);
    let sig_path = gpg.path("data.old.asc");
    let mut args = past.to_vec();
    args.extend(["--local-user", &old, "--detach-sign", "--armor", "-o"]);
    args.extend([sig_path.to_str().unwrap(), file.to_str().unwrap()]);
    gpg.run(&args);
    let ring = ring_of(&gpg.run(&["--export", &old]));
    let err = verify_detached(&ring, DATA, &fs_err::read(&sig_path).unwrap(), "data").unwrap_err();
    assert!(matches!(err, PgpError::KeyExpired { .. }), "{err}");
    // 1y is 365 days: 2020 is a leap year.
    assert!(err.to_string().contains("expired on 2020-12-31"), "{err}");

    // Revoked with the revocation certificate gpg generated alongside the key.
    let fpr = gpg.gen_key("Revoked <r@example.org>", "ed25519", &[]);
    let sig = gpg.detach_sign(&fpr, &file, true);
    let rev = fs_err::read_to_string(gpg.path(&format!("openpgp-revocs.d/{fpr}.rev"))).unwrap();
    let rev = rev.replace(
        ":-----BEGIN PGP PUBLIC KEY BLOCK-----",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----",
    );
    let rev_file = gpg.write("revoke.asc", rev.as_bytes());
    gpg.run(&["--import", rev_file.to_str().unwrap()]);
    let ring = ring_of(&gpg.run(&["--export", &fpr]));
    let err = verify_detached(&ring, DATA, &sig, "data").unwrap_err();
    assert!(matches!(err, PgpError::KeyRevoked { .. }), "{err}");
}

#[test]
fn malformed_input_errors_name_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("RPM-GPG-KEY-broken");
    fs_err::write(
        &bad,
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all!!\n-----END PGP PUBLIC KEY BLOCK-----\n",
    )
    .unwrap();
    let err = Keyring::new().add_file(&bad).unwrap_err();
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
    let missing = dir.path().join("nope.gpg");
    let err = Keyring::new().add_file(&missing).unwrap_err();
    assert!(err.to_string().contains("nope.gpg"), "{err}");

    let ring = Keyring::new();
    let err = verify_detached(
        &ring,
        DATA,
        b"-----BEGIN PGP SIGNATURE-----\n\n!!!!\n-----END PGP SIGNATURE-----\n",
        "repomd.xml.asc",
    )
    .unwrap_err();
    assert!(matches!(err, PgpError::MalformedSignature { .. }), "{err}");
    assert!(err.to_string().contains("repomd.xml.asc"), "{err}");
}

const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const BOOKWORM_INRELEASE: &str =
    "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease";

#[test]
fn debian_archive_keyring_and_real_inrelease() {
    let mut ring = Keyring::new();
    let n = ring
        .add_file(Path::new(DEBIAN_KEYRING))
        .unwrap_or_else(|e| panic!("{e} (install debian-archive-keyring)"));
    assert!(n >= 3, "only {n} keys in {DEBIAN_KEYRING}");
    let message = fs_err::read(BOOKWORM_INRELEASE).unwrap_or_else(|e| {
        panic!("{e}: run `apt-get update` to download the real bookworm InRelease")
    });
    let (text, v) = verify_cleartext(&ring, &message, BOOKWORM_INRELEASE).unwrap();
    assert!(
        text.starts_with("Origin: Debian\n"),
        "{}",
        &text[..80.min(text.len())]
    );
    assert!(text.contains("\nCodename: bookworm\n"));
    assert!(ring.fingerprints().contains(&v.fingerprint));
    assert!(
        v.user_ids.iter().any(|u| u.contains("Debian")),
        "{:?}",
        v.user_ids
    );

    // The same file with its codename changed is refused.
    let tampered =
        String::from_utf8(message)
            .unwrap()
            .replacen("Codename: bookworm", "Codename: bookwork", 1);
    let err = verify_cleartext(&ring, tampered.as_bytes(), "InRelease").unwrap_err();
    assert!(matches!(err, PgpError::BadSignature { .. }), "{err}");
}
