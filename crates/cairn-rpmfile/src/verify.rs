//! Verifying RPM files against a keyring: the recorded header and payload digests must
//! match the content, and an OpenPGP header signature must verify with a key of the ring
//! (what `rpmkeys --checksig` checks for a package signed by rpm 4.x).

use crate::check::{self, PayloadCheck};
use crate::sign::is_signature_tag;
use crate::{RpmFileError, raw};
use cairn_openpgp::{Keyring, PgpError};
use rpm::{IndexData, IndexSignatureTag};
use std::path::Path;

/// A package whose digests and signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Who signed the header.
    pub signer: cairn_openpgp::Verified,
    /// The digests and sizes that were compared and matched, e.g. `header SHA256 digest`,
    /// `payload SHA256 digest`, `header+payload size`.
    pub digests: Vec<String>,
}

/// Header-only OpenPGP signatures (what rpm 4 verifies): the RSA and DSA tags and rpm 6's
/// OpenPGP array, each one signature packet.
fn header_signatures(meta: &rpm::PackageMetadata) -> Vec<Vec<u8>> {
    let mut sigs: Vec<Vec<u8>> = Vec::new();
    for tag in [
        IndexSignatureTag::RPMSIGTAG_RSA,
        IndexSignatureTag::RPMSIGTAG_DSA,
    ] {
        if let Ok(b) = meta.signature.get_entry_data_as_binary(tag) {
            sigs.push(b.to_vec());
        }
    }
    if meta
        .signature
        .entry_is_present(IndexSignatureTag::RPMSIGTAG_OPENPGP)
        && let Ok(more) = meta.raw_signatures()
    {
        for s in more {
            if !sigs.iter().any(|x| x[..] == s[..]) {
                sigs.push(s.into_owned());
            }
        }
    }
    sigs
}

/// Check `path`: header digests, payload digest (or the legacy MD5), recorded size, then
/// the header signature against `keyring`. Reads the file once.
pub fn verify(path: &Path, keyring: &Keyring) -> Result<Verified, RpmFileError> {
    let mut opened = raw::open(path)?;
    let mut digests = check::header_digests(path, &opened)?;
    let sigs = header_signatures(&opened.meta);
    if sigs.is_empty() {
        return Err(RpmFileError::NotSigned {
            path: path.to_owned(),
        });
    }
    let header_bytes = opened.header_bytes.clone();
    let mut payload = PayloadCheck::new(path, &opened)?;
    opened.finish(path, |chunk| {
        payload.update(chunk);
        Ok(())
    })?;
    let (more, payload_checked) = payload.finish(path)?;
    if !payload_checked {
        return Err(RpmFileError::malformed(
            path,
            "the package records no payload digest (PAYLOADDIGEST) and no MD5: its payload cannot be checked",
        ));
    }
    digests.extend(more);
    let all: Vec<u8> = sigs.concat();
    let what = path.display().to_string();
    match cairn_openpgp::verify_detached(keyring, &header_bytes, &all, &what) {
        Ok(signer) => Ok(Verified { signer, digests }),
        Err(PgpError::UnknownKey { ring, .. }) => Err(RpmFileError::UnknownKey {
            path: path.to_owned(),
            issuers: cairn_openpgp::signature_issuers(&all, &what).unwrap_or_default(),
            ring,
        }),
        Err(PgpError::BadSignature {
            fingerprint,
            reason,
            ..
        }) => Err(RpmFileError::BadSignature {
            path: path.to_owned(),
            fingerprint,
            reason,
        }),
        Err(PgpError::MalformedSignature { reason, .. }) => Err(RpmFileError::malformed(
            path,
            format!("its header signature is not a valid OpenPGP signature: {reason}"),
        )),
        Err(PgpError::NoSignature { .. }) => Err(RpmFileError::NotSigned {
            path: path.to_owned(),
        }),
        Err(source) => Err(RpmFileError::OpenPgp {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Issuer key ids (16 uppercase hex digits) of the signatures present in `path`'s
/// signature header, header-only and legacy header+payload ones, without duplicates.
/// Empty for an unsigned package. Does not check the signatures.
pub fn signer_key_ids(path: &Path) -> Result<Vec<String>, RpmFileError> {
    let opened = raw::open(path)?;
    let mut sigs = header_signatures(&opened.meta);
    let entries = opened.meta.signature.get_all_entries().map_err(|e| {
        RpmFileError::malformed(path, format!("cannot read the signature header: {e}"))
    })?;
    for (tag, data) in entries {
        if let IndexData::Bin(b) = data
            && is_signature_tag(tag)
            && !sigs.contains(&b)
        {
            sigs.push(b);
        }
    }
    let what = path.display().to_string();
    let mut ids: Vec<String> = Vec::new();
    for sig in sigs {
        let found = cairn_openpgp::signature_issuers(&sig, &what).map_err(|e| {
            RpmFileError::malformed(path, format!("a signature in its signature header: {e}"))
        })?;
        for id in found {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}
