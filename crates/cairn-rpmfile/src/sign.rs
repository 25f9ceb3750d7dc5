//! Signing RPM files: an OpenPGP signature over the main header, stored in the signature
//! header where rpm 4.x looks for it (`RPMSIGTAG_RSA` for RSA keys, `RPMSIGTAG_DSA` for
//! DSA/EdDSA keys), replacing any signature already there.
//!
//! The rest of the signature header is kept (header and payload digests, sizes, IMA file
//! signatures). When the package reserves space for signatures (`RPMSIGTAG_RESERVEDSPACE`,
//! as rpmbuild writes), the reservation shrinks by what the signature takes so the header
//! and payload stay at the same offsets, as rpmsign does. The file is written to a
//! temporary file beside the destination, synced and renamed over it: on any error the
//! destination is untouched. The package's recorded digests are checked while copying, so
//! a package modified after it was built is never signed.

use crate::check::{self, PayloadCheck};
use crate::{RpmFileError, raw};
use cairn_openpgp::SigningKey;
use rpm::{Header, HeaderEntry, IndexData, IndexSignatureTag, IndexTag, PackageMetadata};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::SystemTime;

const SIGTAG_DSA: u32 = 267;
const SIGTAG_RSA: u32 = 268;
const SIGTAG_PGP: u32 = 1002;
const SIGTAG_GPG: u32 = 1005;
const SIGTAG_PGP5: u32 = 1006;
const SIGTAG_RESERVEDSPACE: u32 = 1008;

/// Tags holding signatures (all replaced by a new signature).
pub(crate) fn is_signature_tag(tag: u32) -> bool {
    matches!(
        tag,
        SIGTAG_DSA | SIGTAG_RSA | SIGTAG_PGP | SIGTAG_GPG | SIGTAG_PGP5
    ) || tag == IndexSignatureTag::RPMSIGTAG_OPENPGP as u32
}

/// Sign `path` with `key`; the signature's creation time is `created` (the same key, file
/// and time give the same bytes). See the module documentation.
pub fn sign_in_place(
    path: &Path,
    key: &SigningKey,
    created: SystemTime,
) -> Result<(), RpmFileError> {
    sign_to(path, path, key, created)
}

/// Write `src` signed with `key` to `dest` (which may be `src`); `dest` is replaced
/// atomically.
pub fn sign_to(
    src: &Path,
    dest: &Path,
    key: &SigningKey,
    created: SystemTime,
) -> Result<(), RpmFileError> {
    let mut opened = raw::open(src)?;
    check::header_digests(src, &opened)?;
    let signature = key
        .sign_detached(&opened.header_bytes, created)
        .map_err(|source| RpmFileError::OpenPgp {
            path: src.to_owned(),
            source,
        })?;
    let old_total = opened.header_start - raw::LEAD_SIZE as u64;
    let new_sig = signature_header(src, &opened.meta, signature, key.algorithm_id(), old_total)?;
    let metadata = PackageMetadata {
        lead: opened.meta.lead.clone(),
        signature: new_sig,
        header: opened.meta.header.clone(),
    };
    let permissions = opened.file.permissions();

    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io_dest = |e| RpmFileError::io(dest, e);
    let tmp = tempfile::Builder::new()
        .prefix(".cairn-sign-")
        .suffix(".rpm.tmp")
        .tempfile_in(dir)
        .map_err(io_dest)?;
    let mut out = BufWriter::with_capacity(64 * 1024, tmp.as_file());
    metadata
        .write(&mut out)
        .map_err(|e| RpmFileError::malformed(src, format!("cannot write the headers: {e}")))?;
    let mut payload = PayloadCheck::new(src, &opened)?;
    let mut write_err = None;
    opened.finish(src, |chunk| {
        payload.update(chunk);
        if write_err.is_none()
            && let Err(e) = out.write_all(chunk)
        {
            write_err = Some(e);
        }
        Ok(())
    })?;
    if let Some(e) = write_err {
        return Err(io_dest(e));
    }
    payload.finish(src)?;
    out.flush().map_err(io_dest)?;
    drop(out);
    tmp.as_file()
        .set_permissions(permissions)
        .map_err(io_dest)?;
    tmp.as_file().sync_all().map_err(io_dest)?;
    tmp.persist(dest).map_err(|e| io_dest(e.error))?;
    // Make the rename durable; not every file system supports syncing a directory.
    if let Ok(d) = std::fs::OpenOptions::new().read(true).open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Size the signature header takes in the file, padding included.
fn padded_size(lead: &rpm::Lead, sig: &Header<IndexSignatureTag>) -> u64 {
    let probe = PackageMetadata {
        lead: lead.clone(),
        signature: sig.clone(),
        header: Header::from_entries(Vec::new(), IndexTag::RPMTAG_HEADERIMMUTABLE),
    };
    probe.get_package_segment_offsets().header - raw::LEAD_SIZE as u64
}

/// The signature header of `meta` with its signatures replaced by `signature`.
fn signature_header(
    path: &Path,
    meta: &PackageMetadata,
    signature: Vec<u8>,
    algorithm: u8,
    old_total: u64,
) -> Result<Header<IndexSignatureTag>, RpmFileError> {
    let entries = meta.signature.get_all_entries().map_err(|e| {
        RpmFileError::malformed(path, format!("cannot read the signature header: {e}"))
    })?;
    let mut reserved = false;
    let mut kept: Vec<HeaderEntry> = Vec::new();
    for (tag, data) in entries {
        if tag == rpm::HEADER_SIGNATURES || is_signature_tag(tag) {
            continue;
        }
        if tag == SIGTAG_RESERVEDSPACE {
            reserved = true;
            continue;
        }
        kept.push(HeaderEntry::new(tag, data));
    }
    // rpm 4.x: RSA signatures under RSA, DSA and EdDSA ones under DSA.
    let sig_tag = if matches!(algorithm, 1..=3) {
        SIGTAG_RSA
    } else {
        SIGTAG_DSA
    };
    kept.push(HeaderEntry::new(sig_tag, IndexData::Bin(signature)));
    let build = |space: Option<usize>| {
        let mut all = kept.clone();
        if let Some(n) = space {
            all.push(HeaderEntry::new(
                SIGTAG_RESERVEDSPACE,
                IndexData::Bin(vec![0; n]),
            ));
        }
        Header::from_entries(all, IndexSignatureTag::HEADER_SIGNATURES)
    };
    if reserved {
        // With a one-byte reservation, the smallest header that keeps the tag.
        let smallest = build(Some(1));
        let min = padded_size(&meta.lead, &smallest);
        if min <= old_total {
            let fitted = build(Some(1 + (old_total - min) as usize));
            if padded_size(&meta.lead, &fitted) == old_total {
                return Ok(fitted);
            }
        }
    }
    Ok(build(None))
}
