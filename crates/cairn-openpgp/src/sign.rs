//! OpenPGP signing for what cairn publishes: generate or load a secret key without
//! passphrase ([`SigningKey`]), export its public half for `rpmkeys --import`/`gpg --import`,
//! and make binary-document signatures (`repomd.xml.asc`, RPM header signatures).
//!
//! Keys are version 4 with a signing-capable primary key: Ed25519 in the "EdDSA legacy"
//! encoding (public-key algorithm 22), which gpg 2.2 and rpm 4.16+ understand, or RSA.
//! Signatures are version 4 with a SHA-256 digest and the subpacket layout gpg uses
//! (issuer fingerprint and creation time hashed, issuer key id unhashed), so older
//! verifiers such as rpm 4.18's own OpenPGP parser accept them. Signing is deterministic:
//! the same key, data and creation time give the same bytes.

use crate::{PgpError, upper_hex};
use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, SignedKeyDetails, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::public_key::PublicKeyAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::packet::{
    Features, KeyFlags, PacketTrait, PubKeyInner, PublicKey, SecretKey, Signature, SignatureConfig,
    SignatureType, Subpacket, SubpacketData, UserId,
};
use pgp::types::{CompressionAlgorithm, KeyDetails, KeyVersion, Password, Timestamp};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Public-key algorithm of a generated key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum KeyAlgo {
    /// Ed25519 in the version 4 "EdDSA legacy" form (algorithm 22, curve OID
    /// 1.3.6.1.4.1.11591.15.1), what `gpg --quick-gen-key … ed25519` makes.
    #[default]
    Ed25519,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeyAlgo {
    fn key_type(self) -> KeyType {
        match self {
            KeyAlgo::Ed25519 => KeyType::Ed25519Legacy,
            KeyAlgo::Rsa2048 => KeyType::Rsa(2048),
            KeyAlgo::Rsa3072 => KeyType::Rsa(3072),
            KeyAlgo::Rsa4096 => KeyType::Rsa(4096),
        }
    }

    /// gpg's name for the algorithm (`ed25519`, `rsa4096`).
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgo::Ed25519 => "ed25519",
            KeyAlgo::Rsa2048 => "rsa2048",
            KeyAlgo::Rsa3072 => "rsa3072",
            KeyAlgo::Rsa4096 => "rsa4096",
        }
    }
}

impl fmt::Display for KeyAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An OpenPGP secret key (not passphrase-protected) whose primary key signs.
#[derive(Clone)]
pub struct SigningKey {
    key: SignedSecretKey,
    fingerprint: String,
    key_id: String,
    user_id: String,
}

impl fmt::Debug for SigningKey {
    // Never shows secret material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Seconds since the epoch as an OpenPGP timestamp (32 bits, from 1970 to 2106).
fn timestamp(t: SystemTime) -> Result<Timestamp, String> {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "time is before 1970-01-01".to_owned())?
        .as_secs();
    let secs = u32::try_from(secs)
        .map_err(|_| format!("time {secs} is after 2106, beyond OpenPGP's 32-bit timestamps"))?;
    Ok(Timestamp::from_secs(secs))
}

fn can_sign(alg: PublicKeyAlgorithm) -> bool {
    matches!(
        alg,
        PublicKeyAlgorithm::RSA
            | PublicKeyAlgorithm::RSASign
            | PublicKeyAlgorithm::DSA
            | PublicKeyAlgorithm::ECDSA
            | PublicKeyAlgorithm::EdDSALegacy
            | PublicKeyAlgorithm::Ed25519
            | PublicKeyAlgorithm::Ed448
    )
}

impl SigningKey {
    /// Generate a new key: a version 4 primary key that certifies and signs, one user id,
    /// no passphrase, no expiry. `created` is the key's creation time and the time of its
    /// self-signature.
    pub fn generate(user_id: &str, algo: KeyAlgo, created: SystemTime) -> Result<Self, PgpError> {
        let failed = |reason: String| PgpError::KeyGeneration {
            algo: algo.name().to_owned(),
            reason,
        };
        let pgp_failed = |e: pgp::errors::Error| failed(e.to_string());
        if user_id.trim().is_empty() {
            return Err(failed("the user id is empty".to_owned()));
        }
        let created = timestamp(created).map_err(failed)?;
        let mut rng = rand::thread_rng();
        let key_type = algo.key_type();
        let (public_params, secret_params) = key_type.generate(&mut rng).map_err(pgp_failed)?;
        let inner = PubKeyInner::new(
            KeyVersion::V4,
            key_type.to_alg(),
            created,
            None,
            public_params,
        )
        .map_err(pgp_failed)?;
        let public = PublicKey::from_inner(inner).map_err(pgp_failed)?;
        let secret = SecretKey::new(public.clone(), secret_params).map_err(pgp_failed)?;

        let uid = UserId::from_str(Default::default(), user_id).map_err(pgp_failed)?;
        let mut flags = KeyFlags::default();
        flags.set_certify(true);
        flags.set_sign(true);
        let mut features = Features::default();
        features.set_seipd_v1(true);
        let mut config = SignatureConfig::v4(
            SignatureType::CertPositive,
            key_type.to_alg(),
            HashAlgorithm::Sha256,
        );
        let regular = |d| Subpacket::regular(d).map_err(pgp_failed);
        config.hashed_subpackets = vec![
            regular(SubpacketData::IssuerFingerprint(public.fingerprint()))?,
            regular(SubpacketData::SignatureCreationTime(created))?,
            regular(SubpacketData::KeyFlags(flags))?,
            regular(SubpacketData::PreferredSymmetricAlgorithms(
                [
                    SymmetricKeyAlgorithm::AES256,
                    SymmetricKeyAlgorithm::AES192,
                    SymmetricKeyAlgorithm::AES128,
                ]
                .into_iter()
                .collect(),
            ))?,
            regular(SubpacketData::PreferredHashAlgorithms(
                [
                    HashAlgorithm::Sha512,
                    HashAlgorithm::Sha384,
                    HashAlgorithm::Sha256,
                ]
                .into_iter()
                .collect(),
            ))?,
            regular(SubpacketData::PreferredCompressionAlgorithms(
                [
                    CompressionAlgorithm::ZLIB,
                    CompressionAlgorithm::ZIP,
                    CompressionAlgorithm::Uncompressed,
                ]
                .into_iter()
                .collect(),
            ))?,
            regular(SubpacketData::Features(features))?,
            regular(SubpacketData::IsPrimary(true))?,
        ];
        config.unhashed_subpackets =
            vec![regular(SubpacketData::IssuerKeyId(public.legacy_key_id()))?];
        let self_sig = config
            .sign_certification(&secret, &public, &Password::empty(), uid.tag(), &uid)
            .map_err(pgp_failed)?;
        let details =
            SignedKeyDetails::new(vec![], vec![], vec![uid.into_signed(self_sig)], vec![]);
        let key = SignedSecretKey::new(secret, details, vec![], vec![]);
        Self::from_key(key, "generated key")
    }

    /// Load an armored secret key (`-----BEGIN PGP PRIVATE KEY BLOCK-----`, as written by
    /// [`SigningKey::to_armored_secret`] or `gpg --export-secret-keys --armor`). The primary
    /// key must be able to sign and must not be passphrase-protected. `origin` names the
    /// source in errors.
    pub fn from_armored(text: &str, origin: &str) -> Result<Self, PgpError> {
        let (key, _) = SignedSecretKey::from_string(text).map_err(|e| PgpError::MalformedKey {
            origin: origin.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_key(key, origin)
    }

    fn from_key(key: SignedSecretKey, origin: &str) -> Result<Self, PgpError> {
        let unusable = |reason: String| PgpError::UnusableSigningKey {
            origin: origin.to_owned(),
            reason,
        };
        let primary = &key.primary_key;
        if primary.secret_params().is_encrypted() {
            return Err(unusable(
                "the secret key is passphrase-protected; export it without a passphrase \
                 (gpg --passwd, empty passphrase) for unattended signing"
                    .to_owned(),
            ));
        }
        if !can_sign(primary.algorithm()) {
            return Err(unusable(format!(
                "the primary key's algorithm {:?} cannot sign",
                primary.algorithm()
            )));
        }
        key.verify_bindings()
            .map_err(|e| unusable(format!("its self-signatures do not verify: {e}")))?;
        let flags_deny_sign = key
            .details
            .users
            .iter()
            .flat_map(|u| u.signatures.iter())
            .filter_map(|s| s.config())
            .any(|c| {
                c.hashed_subpackets().any(|p| match &p.data {
                    SubpacketData::KeyFlags(f) => !f.sign(),
                    _ => false,
                })
            });
        if flags_deny_sign {
            return Err(unusable(
                "the primary key is not marked for signing (key flags lack \"sign\")".to_owned(),
            ));
        }
        let user_id = key
            .details
            .users
            .first()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
            .unwrap_or_default();
        Ok(SigningKey {
            fingerprint: upper_hex(primary.fingerprint().as_bytes()),
            key_id: upper_hex(primary.legacy_key_id().as_ref()),
            user_id,
            key,
        })
    }

    /// The secret key, armored (`-----BEGIN PGP PRIVATE KEY BLOCK-----`), unprotected.
    pub fn to_armored_secret(&self) -> String {
        self.key
            .to_armored_string(ArmorOptions::default())
            .unwrap_or_default()
    }

    /// The public key, armored (`-----BEGIN PGP PUBLIC KEY BLOCK-----`), for
    /// `rpmkeys --import`, `gpg --import`, a repository's `RPM-GPG-KEY-*` file and
    /// [`crate::Keyring::add_bytes`].
    pub fn public_key_armored(&self) -> String {
        self.key
            .to_public_key()
            .to_armored_string(ArmorOptions::default())
            .unwrap_or_default()
    }

    /// Fingerprint of the primary key, uppercase hex (40 digits for a v4 key).
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    /// Key id of the primary key: 16 uppercase hex digits.
    pub fn key_id(&self) -> String {
        self.key_id.clone()
    }

    /// The first user id (`Name <mail>`), empty if the key has none.
    pub fn user_id(&self) -> String {
        self.user_id.clone()
    }

    /// Creation time of the primary key.
    pub fn created(&self) -> SystemTime {
        let secs = self.key.primary_key.created_at().as_secs();
        UNIX_EPOCH + std::time::Duration::from_secs(u64::from(secs))
    }

    /// The OpenPGP public-key algorithm number of the primary key: 1 for RSA, 22 for
    /// Ed25519 ("EdDSA legacy"). RPM stores RSA header signatures under a different tag
    /// than DSA/EdDSA ones.
    pub fn algorithm_id(&self) -> u8 {
        u8::from(self.key.primary_key.algorithm())
    }

    /// The underlying `pgp` secret key, for callers that build their own signatures.
    pub fn secret_key(&self) -> &pgp::composed::SignedSecretKey {
        &self.key
    }

    fn signature(&self, data: &[u8], created: SystemTime) -> Result<Signature, PgpError> {
        let failed = |reason: String| PgpError::SignFailed {
            fingerprint: self.fingerprint.clone(),
            reason,
        };
        let pgp_failed = |e: pgp::errors::Error| failed(e.to_string());
        let created = timestamp(created).map_err(failed)?;
        let primary = &self.key.primary_key;
        let mut config = SignatureConfig::v4(
            SignatureType::Binary,
            primary.algorithm(),
            HashAlgorithm::Sha256,
        );
        config.hashed_subpackets = vec![
            Subpacket::regular(SubpacketData::IssuerFingerprint(primary.fingerprint()))
                .map_err(pgp_failed)?,
            Subpacket::regular(SubpacketData::SignatureCreationTime(created))
                .map_err(pgp_failed)?,
        ];
        config.unhashed_subpackets = vec![
            Subpacket::regular(SubpacketData::IssuerKeyId(primary.legacy_key_id()))
                .map_err(pgp_failed)?,
        ];
        config
            .sign(primary, &Password::empty(), data)
            .map_err(pgp_failed)
    }

    /// A binary-document signature over `data` made at `created`: one OpenPGP signature
    /// packet (with its packet header), the form RPM header signatures and `.sig` files use.
    pub fn sign_detached(&self, data: &[u8], created: SystemTime) -> Result<Vec<u8>, PgpError> {
        let sig = self.signature(data, created)?;
        let mut out = Vec::with_capacity(600);
        sig.to_writer_with_header(&mut out)
            .map_err(|e| PgpError::SignFailed {
                fingerprint: self.fingerprint.clone(),
                reason: e.to_string(),
            })?;
        Ok(out)
    }

    /// [`SigningKey::sign_detached`], armored (`-----BEGIN PGP SIGNATURE-----`), the form of
    /// `repomd.xml.asc`.
    pub fn sign_detached_armored(
        &self,
        data: &[u8],
        created: SystemTime,
    ) -> Result<String, PgpError> {
        let sig = self.signature(data, created)?;
        DetachedSignature::new(sig)
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| PgpError::SignFailed {
                fingerprint: self.fingerprint.clone(),
                reason: e.to_string(),
            })
    }
}

/// Issuer key ids (16 uppercase hex digits) named by the signatures in `signature` (binary
/// or armored), in order, without duplicates. A signature naming only an issuer fingerprint
/// contributes that fingerprint's key id (its last 16 digits for a v4 key). `what` names
/// the signature in errors.
pub fn signature_issuers(signature: &[u8], what: &str) -> Result<Vec<String>, PgpError> {
    let malformed = |e: pgp::errors::Error| PgpError::MalformedSignature {
        what: what.to_owned(),
        reason: e.to_string(),
    };
    let sigs: Vec<DetachedSignature> = if crate::is_armored(signature) {
        let (iter, _) = DetachedSignature::from_armor_many(signature).map_err(malformed)?;
        iter.collect::<Result<_, _>>().map_err(malformed)?
    } else {
        DetachedSignature::from_bytes_many(signature)
            .map_err(malformed)?
            .collect::<Result<_, _>>()
            .map_err(malformed)?
    };
    if sigs.is_empty() {
        return Err(PgpError::NoSignature {
            what: what.to_owned(),
        });
    }
    let mut ids: Vec<String> = Vec::new();
    for d in &sigs {
        let sig = &d.signature;
        let mut named: Vec<String> = sig
            .issuer_key_id()
            .iter()
            .map(|k| upper_hex(k.as_ref()))
            .collect();
        if named.is_empty() {
            named = sig
                .issuer_fingerprint()
                .iter()
                .map(|f| {
                    let hex = upper_hex(f.as_bytes());
                    // v4 key ids are the low 64 bits of the fingerprint, v6 the high ones.
                    if hex.len() == 40 {
                        hex[24..].to_owned()
                    } else {
                        hex[..16.min(hex.len())].to_owned()
                    }
                })
                .collect();
        }
        for id in named {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn generated_ed25519_key_is_v4_eddsa_legacy() {
        let key = SigningKey::generate(
            "Unit <unit@example.org>",
            KeyAlgo::Ed25519,
            at(1_700_000_000),
        )
        .unwrap();
        let primary = &key.secret_key().primary_key;
        assert_eq!(primary.version(), KeyVersion::V4);
        assert_eq!(primary.algorithm(), PublicKeyAlgorithm::EdDSALegacy);
        assert_eq!(key.algorithm_id(), 22);
        assert_eq!(key.fingerprint().len(), 40);
        assert_eq!(key.key_id(), key.fingerprint()[24..]);
        assert_eq!(key.user_id(), "Unit <unit@example.org>");
        assert_eq!(key.created(), at(1_700_000_000));
        // The self-signature dates from the key's creation, not from "now".
        let sig = &key.secret_key().details.users[0].signatures[0];
        assert_eq!(sig.created().map(|t| t.as_secs()), Some(1_700_000_000));
        assert!(format!("{key:?}").contains(&key.fingerprint()));
    }

    #[test]
    fn signatures_are_deterministic_and_name_the_issuer() {
        let key =
            SigningKey::generate("D <d@example.org>", KeyAlgo::Ed25519, at(1_600_000_000)).unwrap();
        let a = key.sign_detached(b"data", at(1_700_000_000)).unwrap();
        let b = key.sign_detached(b"data", at(1_700_000_000)).unwrap();
        assert_eq!(a, b);
        let c = key.sign_detached(b"data", at(1_700_000_001)).unwrap();
        assert_ne!(a, c);
        assert_eq!(signature_issuers(&a, "sig").unwrap(), vec![key.key_id()]);
        let armored = key
            .sign_detached_armored(b"data", at(1_700_000_000))
            .unwrap();
        assert!(armored.starts_with("-----BEGIN PGP SIGNATURE-----"));
        assert_eq!(
            signature_issuers(armored.as_bytes(), "sig").unwrap(),
            vec![key.key_id()]
        );
    }

    #[test]
    fn bad_times_and_user_ids_are_refused() {
        let err = SigningKey::generate("", KeyAlgo::Ed25519, at(1)).unwrap_err();
        assert!(err.to_string().contains("user id is empty"), "{err}");
        let err = SigningKey::generate("X", KeyAlgo::Ed25519, at(1 << 33)).unwrap_err();
        assert!(err.to_string().contains("2106"), "{err}");
        let key = SigningKey::generate("X", KeyAlgo::Ed25519, at(1)).unwrap();
        let before = UNIX_EPOCH - Duration::from_secs(5);
        let err = key.sign_detached(b"x", before).unwrap_err();
        assert!(err.to_string().contains("before 1970"), "{err}");
        assert!(err.to_string().contains(&key.fingerprint()), "{err}");
    }
}
