//! OpenPGP for repository trust: load public keys (rpm's armored `RPM-GPG-KEY-*` files,
//! Debian's binary keyrings) into a [`Keyring`] and check detached signatures
//! (`repomd.xml.asc`, `Release.gpg`) and cleartext-signed messages (`InRelease`) against it.
//!
//! It does no I/O beyond the explicit file-loading helper [`Keyring::add_file`], never
//! fetches keys, and never decides which keys to trust: callers hand it the keys configured
//! for a repository.
//!
//! The [`sign`] module makes signatures for what cairn publishes: [`SigningKey`] generates
//! or loads a secret key and signs detached (`repomd.xml.asc`, RPM headers).

use pgp::composed::{CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey};
use pgp::packet::{PublicKey, PublicSubkey, Signature, SignatureType};
use pgp::types::{KeyDetails, Timestamp};
use std::fmt;
use std::io;
use std::path::Path;

pub mod sign;
pub use sign::{KeyAlgo, SigningKey, signature_issuers};

const BEGIN_KEY: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END_KEY: &str = "-----END PGP PUBLIC KEY BLOCK-----";
const BEGIN_SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";

/// What can go wrong loading keys or verifying signatures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgpError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("{origin}: malformed OpenPGP key data: {reason}")]
    MalformedKey { origin: String, reason: String },
    #[error(
        "{origin}: no OpenPGP public key found (expected {BEGIN_KEY} blocks or a binary keyring)"
    )]
    NoKeys { origin: String },
    #[error("{what}: no OpenPGP signature found")]
    NoSignature { what: String },
    #[error("{what}: malformed OpenPGP signature: {reason}")]
    MalformedSignature { what: String, reason: String },
    #[error(
        "{what}: signed by unknown key {issuer}; the keyring holds {}: import the key that signs this repository",
        list_or_none(ring)
    )]
    UnknownKey {
        what: String,
        /// Issuer key ids and fingerprints named by the signature(s), uppercase hex.
        issuer: String,
        /// Fingerprints of the keys that were tried.
        ring: Vec<String>,
    },
    #[error(
        "{what}: BAD signature by key {fingerprint}: the data does not match what was signed ({reason})"
    )]
    BadSignature {
        what: String,
        fingerprint: String,
        reason: String,
    },
    #[error("{what}: signed by key {fingerprint}, which expired on {expired}")]
    KeyExpired {
        what: String,
        fingerprint: String,
        expired: String,
    },
    #[error("{what}: signed by key {fingerprint}, which has been revoked")]
    KeyRevoked { what: String, fingerprint: String },
    #[error("generating an OpenPGP {algo} key failed: {reason}")]
    KeyGeneration { algo: String, reason: String },
    #[error("{origin}: not usable as a signing key: {reason}")]
    UnusableSigningKey { origin: String, reason: String },
    #[error("signing with key {fingerprint} failed: {reason}")]
    SignFailed { fingerprint: String, reason: String },
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "no keys".to_owned()
    } else {
        v.join(", ")
    }
}

/// Who made a signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Fingerprint of the primary key, uppercase hex.
    pub fingerprint: String,
    /// Key id (16 uppercase hex digits) of the key that made the signature: the primary key
    /// or one of its signing subkeys.
    pub key_id: String,
    pub user_ids: Vec<String>,
}

/// One primary key with what verification needs to know about it.
struct Entry {
    key: SignedPublicKey,
    fingerprint: String,
    user_ids: Vec<String>,
    revoked: bool,
    expires: Option<Timestamp>,
    /// Signing-capable subkeys whose binding signatures verify.
    subkeys: Vec<Subkey>,
}

struct Subkey {
    key: PublicSubkey,
    revoked: bool,
    expires: Option<Timestamp>,
}

/// One or more OpenPGP public keys (primary keys with their subkeys).
#[derive(Default)]
pub struct Keyring {
    entries: Vec<Entry>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("fingerprints", &self.fingerprints())
            .finish()
    }
}

fn upper_hex(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

impl Keyring {
    pub fn new() -> Self {
        Keyring::default()
    }

    /// Add keys from armored data (one or more `-----BEGIN PGP PUBLIC KEY BLOCK-----` blocks,
    /// like rpm's `RPM-GPG-KEY-*` files) or a binary keyring (Debian's
    /// `/usr/share/keyrings/*.gpg`). Returns how many new keys were added; keys already in the
    /// ring are skipped. `origin` names the source in errors.
    pub fn add_bytes(&mut self, bytes: &[u8], origin: &str) -> Result<usize, PgpError> {
        let malformed = |e: pgp::errors::Error| PgpError::MalformedKey {
            origin: origin.to_owned(),
            reason: e.to_string(),
        };
        let mut keys = Vec::new();
        if is_armored(bytes) {
            let text = String::from_utf8_lossy(bytes);
            for block in armor_blocks(&text, BEGIN_KEY, END_KEY) {
                let (iter, _) =
                    SignedPublicKey::from_armor_many(block.as_bytes()).map_err(malformed)?;
                for key in iter {
                    keys.push(key.map_err(malformed)?);
                }
            }
        } else {
            for key in SignedPublicKey::from_bytes_many(bytes).map_err(malformed)? {
                keys.push(key.map_err(malformed)?);
            }
        }
        if keys.is_empty() {
            return Err(PgpError::NoKeys {
                origin: origin.to_owned(),
            });
        }
        let mut added = 0;
        for key in keys {
            let entry = Entry::new(key);
            if self
                .entries
                .iter()
                .any(|e| e.fingerprint == entry.fingerprint)
            {
                continue;
            }
            self.entries.push(entry);
            added += 1;
        }
        Ok(added)
    }

    /// [`Keyring::add_bytes`] on the content of a file; errors name the file.
    pub fn add_file(&mut self, path: &Path) -> Result<usize, PgpError> {
        let bytes = fs_err::read(path)?;
        self.add_bytes(&bytes, &path.display().to_string())
    }

    /// Fingerprints of the primary keys, uppercase hex, in the order they were added.
    pub fn fingerprints(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.fingerprint.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

impl Entry {
    fn new(key: SignedPublicKey) -> Entry {
        let primary = &key.primary_key;
        let fingerprint = upper_hex(primary.fingerprint().as_bytes());
        let user_ids = key
            .details
            .users
            .iter()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
            .collect();
        let revoked = key
            .details
            .revocation_signatures
            .iter()
            .any(|s| s.verify_key(primary).is_ok());
        // The newest self-signature carries the current expiry.
        let self_sigs = key
            .details
            .users
            .iter()
            .flat_map(|u| u.signatures.iter())
            .chain(key.details.direct_signatures.iter())
            .filter(|s| issued_by(s, primary));
        let expires = newest(self_sigs).and_then(|s| expiry(primary.created_at(), s));
        let subkeys = key
            .public_subkeys
            .iter()
            .filter_map(|sub| {
                let bindings: Vec<&Signature> = sub
                    .signatures
                    .iter()
                    .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding))
                    .collect();
                let binding = newest(bindings.iter().copied())?;
                if !binding.key_flags().sign() || sub.verify_bindings(primary).is_err() {
                    return None;
                }
                let revoked = sub.signatures.iter().any(|s| {
                    s.typ() == Some(SignatureType::SubkeyRevocation)
                        && s.verify_subkey_binding(primary, &sub.key).is_ok()
                });
                Some(Subkey {
                    key: sub.key.clone(),
                    revoked,
                    expires: expiry(sub.key.created_at(), binding),
                })
            })
            .collect();
        Entry {
            fingerprint,
            user_ids,
            revoked,
            expires,
            subkeys,
            key,
        }
    }
}

fn issued_by(sig: &Signature, key: &PublicKey) -> bool {
    let id = key.legacy_key_id();
    let fp = key.fingerprint();
    sig.issuer_key_id().iter().any(|k| **k == id)
        || sig.issuer_fingerprint().iter().any(|f| **f == fp)
}

fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|s| s.created().map(|t| t.as_secs()).unwrap_or(0))
}

fn expiry(created: Timestamp, sig: &Signature) -> Option<Timestamp> {
    let secs = std::time::Duration::from(sig.key_expiration_time()?).as_secs();
    if secs == 0 {
        return None;
    }
    let at = u64::from(created.as_secs()).saturating_add(secs);
    Some(Timestamp::from_secs(u32::try_from(at).unwrap_or(u32::MAX)))
}

fn is_armored(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN PGP")
}

/// Every `begin ... end` block of `text`, markers included.
fn armor_blocks<'a>(text: &'a str, begin: &str, end: &str) -> Vec<&'a str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(b) = rest.find(begin) {
        let after = &rest[b..];
        let Some(e) = after.find(end) else {
            // Let the parser report the missing end line.
            blocks.push(after);
            break;
        };
        blocks.push(&after[..e + end.len()]);
        rest = &after[e + end.len()..];
    }
    blocks
}

/// A key that may have made a signature.
enum Candidate<'a> {
    Primary(&'a Entry),
    Sub(&'a Entry, &'a Subkey),
}

impl Candidate<'_> {
    fn entry(&self) -> &Entry {
        match self {
            Candidate::Primary(e) | Candidate::Sub(e, _) => e,
        }
    }

    fn key_id(&self) -> String {
        match self {
            Candidate::Primary(e) => upper_hex(e.key.primary_key.legacy_key_id().as_ref()),
            Candidate::Sub(_, s) => upper_hex(s.key.legacy_key_id().as_ref()),
        }
    }

    fn verify(&self, sig: &Signature, data: &[u8]) -> pgp::errors::Result<()> {
        match self {
            Candidate::Primary(e) => sig.verify(&e.key.primary_key, data),
            Candidate::Sub(_, s) => sig.verify(&s.key, data),
        }
    }

    fn matches(&self, sig: &Signature) -> bool {
        let (id, fp) = match self {
            Candidate::Primary(e) => (
                e.key.primary_key.legacy_key_id(),
                e.key.primary_key.fingerprint(),
            ),
            Candidate::Sub(_, s) => (s.key.legacy_key_id(), s.key.fingerprint()),
        };
        let ids = sig.issuer_key_id();
        let fps = sig.issuer_fingerprint();
        if ids.is_empty() && fps.is_empty() {
            return true;
        }
        ids.iter().any(|k| **k == id) || fps.iter().any(|f| **f == fp)
    }

    /// Revoked or expired (now) key, as an error.
    fn unusable(&self, what: &str) -> Option<PgpError> {
        let e = self.entry();
        let (revoked, expires) = match self {
            Candidate::Primary(e) => (e.revoked, e.expires),
            Candidate::Sub(e, s) => (e.revoked || s.revoked, earliest(e.expires, s.expires)),
        };
        if revoked {
            return Some(PgpError::KeyRevoked {
                what: what.to_owned(),
                fingerprint: e.fingerprint.clone(),
            });
        }
        match expires {
            Some(t) if t.as_secs() < Timestamp::now().as_secs() => Some(PgpError::KeyExpired {
                what: what.to_owned(),
                fingerprint: e.fingerprint.clone(),
                expired: format_date(t.as_secs()),
            }),
            _ => None,
        }
    }
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.as_secs() <= b.as_secs() { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
fn format_date(secs: u32) -> String {
    // Howard Hinnant's civil_from_days.
    let z = i64::from(secs) / 86_400 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Succeed when any of `sigs` verifies over `data` with a usable key of the ring.
fn check_signatures(
    ring: &Keyring,
    sigs: &[Signature],
    data: &[u8],
    what: &str,
) -> Result<Verified, PgpError> {
    let candidates: Vec<Candidate<'_>> = ring
        .entries
        .iter()
        .flat_map(|e| {
            std::iter::once(Candidate::Primary(e))
                .chain(e.subkeys.iter().map(move |s| Candidate::Sub(e, s)))
        })
        .collect();
    let mut bad = None;
    let mut unusable = None;
    let mut issuers = Vec::new();
    for sig in sigs {
        let mut matched = false;
        for cand in candidates.iter().filter(|c| c.matches(sig)) {
            matched = true;
            match cand.verify(sig, data) {
                Ok(()) => match cand.unusable(what) {
                    None => {
                        let e = cand.entry();
                        return Ok(Verified {
                            fingerprint: e.fingerprint.clone(),
                            key_id: cand.key_id(),
                            user_ids: e.user_ids.clone(),
                        });
                    }
                    Some(err) => unusable = unusable.or(Some(err)),
                },
                Err(err) => {
                    bad = bad.or(Some(PgpError::BadSignature {
                        what: what.to_owned(),
                        fingerprint: cand.entry().fingerprint.clone(),
                        reason: err.to_string(),
                    }));
                }
            }
        }
        if !matched {
            let named: Vec<String> = (sig.issuer_fingerprint().iter())
                .map(|f| upper_hex(f.as_bytes()))
                .chain(sig.issuer_key_id().iter().map(|k| upper_hex(k.as_ref())))
                .collect();
            issuers.push(if named.is_empty() {
                "(signature names no issuer)".to_owned()
            } else {
                named.join("/")
            });
        }
    }
    Err(bad.or(unusable).unwrap_or_else(|| PgpError::UnknownKey {
        what: what.to_owned(),
        issuer: issuers.join(", "),
        ring: ring.fingerprints(),
    }))
}

/// Verify a detached signature (armored or binary) over `data`: it must be made by a key, or a
/// signing subkey, in `ring`. `what` names the signed thing in errors (e.g. the URL of
/// `repomd.xml`). With several signatures, one good signature by a usable key suffices.
pub fn verify_detached(
    ring: &Keyring,
    data: &[u8],
    signature: &[u8],
    what: &str,
) -> Result<Verified, PgpError> {
    let malformed = |e: pgp::errors::Error| PgpError::MalformedSignature {
        what: what.to_owned(),
        reason: e.to_string(),
    };
    if signature.iter().all(u8::is_ascii_whitespace) {
        return Err(PgpError::NoSignature {
            what: what.to_owned(),
        });
    }
    let parsed: Vec<DetachedSignature> = if is_armored(signature) {
        let (iter, _) = DetachedSignature::from_armor_many(signature).map_err(malformed)?;
        iter.collect::<Result<_, _>>().map_err(malformed)?
    } else {
        DetachedSignature::from_bytes_many(signature)
            .map_err(malformed)?
            .collect::<Result<_, _>>()
            .map_err(malformed)?
    };
    let sigs: Vec<Signature> = parsed.into_iter().map(|d| d.signature).collect();
    if sigs.is_empty() {
        return Err(PgpError::NoSignature {
            what: what.to_owned(),
        });
    }
    check_signatures(ring, &sigs, data, what)
}

/// Verify a cleartext-signed message (Debian's `InRelease`) and return the signed text
/// (`\n` line endings, ending with a newline) and the signer. Only the signed text is
/// returned, never anything outside the signed block.
pub fn verify_cleartext(
    ring: &Keyring,
    message: &[u8],
    what: &str,
) -> Result<(String, Verified), PgpError> {
    let text = std::str::from_utf8(message).map_err(|e| PgpError::MalformedSignature {
        what: what.to_owned(),
        reason: format!("not UTF-8 text: {e}"),
    })?;
    if !text.trim_start().starts_with(BEGIN_SIGNED) {
        return Err(PgpError::NoSignature {
            what: what.to_owned(),
        });
    }
    let (msg, _) =
        CleartextSignedMessage::from_string(text).map_err(|e| PgpError::MalformedSignature {
            what: what.to_owned(),
            reason: e.to_string(),
        })?;
    if msg.signatures().is_empty() {
        return Err(PgpError::NoSignature {
            what: what.to_owned(),
        });
    }
    let signed = msg.signed_text();
    let verified = check_signatures(ring, msg.signatures(), signed.as_bytes(), what)?;
    let mut out = signed.replace("\r\n", "\n");
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    Ok((out, verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(951_782_400), "2000-02-29");
        assert_eq!(format_date(1_700_000_000), "2023-11-14");
    }

    #[test]
    fn splits_armor_blocks() {
        let t = format!("junk\n{BEGIN_KEY}\nA\n{END_KEY}\n\n{BEGIN_KEY}\nB\n{END_KEY}\n");
        let b = armor_blocks(&t, BEGIN_KEY, END_KEY);
        assert_eq!(b.len(), 2);
        assert!(b[1].contains("\nB\n"));
    }

    #[test]
    fn garbage_is_not_a_key_or_signature() {
        let mut ring = Keyring::new();
        let err = ring.add_bytes(b"hello", "RPM-GPG-KEY-test").unwrap_err();
        assert!(err.to_string().contains("RPM-GPG-KEY-test"), "{err}");
        let err = verify_detached(&ring, b"data", b"", "repomd.xml").unwrap_err();
        assert!(matches!(err, PgpError::NoSignature { .. }), "{err}");
        let err = verify_cleartext(&ring, b"Origin: Debian\n", "InRelease").unwrap_err();
        assert!(matches!(err, PgpError::NoSignature { .. }), "{err}");
    }
}
