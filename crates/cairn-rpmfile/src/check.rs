//! The digests an RPM records about itself: header digests in the signature header
//! (SHA256, SHA1 over the main header), the payload digest in the main header
//! (`PAYLOADDIGEST`, over the compressed payload), and the legacy MD5 and size over
//! header and payload. Shared by verification and by signing, which refuses to bless a
//! package that was modified after it was built.

use crate::RpmFileError;
use crate::raw::Opened;
use digest::DynDigest;
use rpm::IndexData;
use std::path::Path;

const SIGTAG_SIZE: u32 = 1000;
const SIGTAG_LONGSIZE: u32 = 270;
const SIGTAG_MD5: u32 = 1004;
const SIGTAG_SHA1: u32 = 269;
const SIGTAG_SHA256: u32 = 273;
const TAG_PAYLOADDIGEST: u32 = 5092;
const TAG_PAYLOADDIGESTALGO: u32 = 5093;

fn mismatch(path: &Path, what: &str, expected: String, actual: String) -> RpmFileError {
    RpmFileError::DigestMismatch {
        path: path.to_owned(),
        what: what.to_owned(),
        expected,
        actual,
    }
}

fn sig_entry(opened: &Opened, tag: u32) -> Option<IndexData> {
    opened.meta.signature.entry(tag).ok()
}

fn hex_string(data: Option<IndexData>) -> Option<String> {
    match data? {
        IndexData::StringTag(s) => Some(s),
        IndexData::StringArray(v) | IndexData::I18NString(v) => v.into_iter().next(),
        IndexData::Bin(b) => Some(hex::encode(b)),
        _ => None,
    }
}

/// Check the header digests; returns the names of those that matched.
pub(crate) fn header_digests(path: &Path, opened: &Opened) -> Result<Vec<String>, RpmFileError> {
    let mut ok = Vec::new();
    let bytes = &opened.header_bytes;
    type Check = (u32, &'static str, fn(&[u8]) -> String);
    let checks: [Check; 2] = [
        (SIGTAG_SHA256, "header SHA256 digest", |b| {
            hex::encode(<sha2::Sha256 as digest::Digest>::digest(b))
        }),
        (SIGTAG_SHA1, "header SHA1 digest", |b| {
            hex::encode(<sha1::Sha1 as digest::Digest>::digest(b))
        }),
    ];
    for (tag, what, compute) in checks {
        let Some(expected) = hex_string(sig_entry(opened, tag)) else {
            continue;
        };
        let actual = compute(bytes);
        if !expected.eq_ignore_ascii_case(&actual) {
            return Err(mismatch(path, what, expected, actual));
        }
        ok.push(what.to_owned());
    }
    Ok(ok)
}

fn hasher_for(algo: u32) -> Option<(Box<dyn DynDigest>, &'static str)> {
    // rpm's PGPHASHALGO numbers.
    Some(match algo {
        1 => (Box::new(md5::Md5::default()), "payload MD5 digest"),
        2 => (Box::new(sha1::Sha1::default()), "payload SHA1 digest"),
        8 => (Box::new(sha2::Sha256::default()), "payload SHA256 digest"),
        9 => (Box::new(sha2::Sha384::default()), "payload SHA384 digest"),
        10 => (Box::new(sha2::Sha512::default()), "payload SHA512 digest"),
        11 => (Box::new(sha2::Sha224::default()), "payload SHA224 digest"),
        _ => return None,
    })
}

/// Running digests over the payload, compared with what the package records at the end.
pub(crate) struct PayloadCheck {
    payload: Option<(Box<dyn DynDigest>, &'static str, String)>,
    md5: Option<(md5::Md5, Vec<u8>)>,
    size: Option<(u64, u64)>,
}

impl PayloadCheck {
    pub(crate) fn new(path: &Path, opened: &Opened) -> Result<Self, RpmFileError> {
        let header = &opened.meta.header;
        let payload = match hex_string(header.entry(TAG_PAYLOADDIGEST).ok()) {
            None => None,
            Some(expected) => {
                let algo = match header.entry(TAG_PAYLOADDIGESTALGO).ok() {
                    Some(IndexData::Int32(v)) => v.first().copied().unwrap_or(8),
                    _ => 8,
                };
                let (hasher, what) = hasher_for(algo).ok_or_else(|| {
                    RpmFileError::malformed(
                        path,
                        format!("unknown payload digest algorithm {algo} (expected 1, 2, 8, 9, 10 or 11)"),
                    )
                })?;
                Some((hasher, what, expected))
            }
        };
        let md5 = match sig_entry(opened, SIGTAG_MD5) {
            Some(IndexData::Bin(b)) => {
                let mut h = <md5::Md5 as digest::Digest>::new();
                digest::Digest::update(&mut h, &opened.header_bytes);
                Some((h, b))
            }
            _ => None,
        };
        // (recorded size, bytes seen so far)
        let recorded =
            match sig_entry(opened, SIGTAG_SIZE).or_else(|| sig_entry(opened, SIGTAG_LONGSIZE)) {
                Some(IndexData::Int32(v)) => v.first().map(|&n| u64::from(n)),
                Some(IndexData::Int64(v)) => v.first().copied(),
                _ => None,
            };
        let size = recorded.map(|n| (n, opened.header_bytes.len() as u64));
        Ok(PayloadCheck { payload, md5, size })
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        if let Some((h, _, _)) = &mut self.payload {
            h.update(chunk);
        }
        if let Some((h, _)) = &mut self.md5 {
            digest::Digest::update(h, chunk);
        }
        if let Some((_, n)) = &mut self.size {
            *n += chunk.len() as u64;
        }
    }

    /// Compare; returns the names of the checks that matched. `payload_checked` tells
    /// whether anything covered the payload (a payload digest or the legacy MD5).
    pub(crate) fn finish(self, path: &Path) -> Result<(Vec<String>, bool), RpmFileError> {
        let mut ok = Vec::new();
        let mut payload_checked = false;
        if let Some((expected, actual)) = self.size {
            if expected != actual {
                return Err(mismatch(
                    path,
                    "header+payload size",
                    format!("{expected} bytes"),
                    format!("{actual} bytes"),
                ));
            }
            ok.push("header+payload size".to_owned());
        }
        if let Some((mut h, what, expected)) = self.payload {
            let actual = hex::encode(h.finalize_reset());
            if !expected.eq_ignore_ascii_case(&actual) {
                return Err(mismatch(path, what, expected, actual));
            }
            ok.push(what.to_owned());
            payload_checked = true;
        }
        if let Some((h, expected)) = self.md5 {
            let actual = digest::Digest::finalize(h).to_vec();
            if actual != expected {
                return Err(mismatch(
                    path,
                    "header+payload MD5 digest",
                    hex::encode(expected),
                    hex::encode(actual),
                ));
            }
            ok.push("header+payload MD5 digest".to_owned());
            payload_checked = true;
        }
        Ok((ok, payload_checked))
    }
}
