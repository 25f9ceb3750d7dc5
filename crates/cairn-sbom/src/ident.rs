//! Identifiers and times both formats share: content-derived UUIDs, RFC 3339 timestamps,
//! SPDX element ids, supplier text, URL checks.

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// A UUID from the SHA-256 of `identity`: the first 16 bytes with the RFC 9562 version 8
/// (custom) and variant bits set.
pub(crate) fn uuid_from(identity: &[u8]) -> String {
    let d = Sha256::digest(identity);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `YYYY-MM-DDThh:mm:ssZ` for seconds since the Unix epoch.
pub(crate) fn rfc3339(epoch: u64) -> String {
    let days = epoch / 86_400;
    let secs = epoch % 86_400;
    // Howard Hinnant's civil_from_days, for days >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Hands out SPDX element ids (`SPDXRef-[A-Za-z0-9.-]+`), each once: other characters
/// become `-`, and a clash gets `-2`, `-3`, ... in the order ids are asked for.
#[derive(Debug, Default)]
pub(crate) struct SpdxIds {
    used: BTreeSet<String>,
}

impl SpdxIds {
    pub(crate) fn take(&mut self, kind: &str, text: &str) -> String {
        let mut base = format!("SPDXRef-{kind}-");
        let mut dash = false;
        for c in text.chars() {
            if c.is_ascii_alphanumeric() || c == '.' {
                if dash && !base.ends_with('-') {
                    base.push('-');
                }
                dash = false;
                base.push(c);
            } else {
                dash = true;
            }
        }
        let base = base.trim_end_matches('-').to_owned();
        let mut id = base.clone();
        let mut n = 2;
        while !self.used.insert(id.to_ascii_lowercase()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// A supplier as the package states it, split into a name and an e-mail when it has the
/// `Name <email>` form. Control characters become spaces.
pub(crate) fn split_supplier(raw: &str) -> Option<(String, Option<String>)> {
    let clean: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.is_empty() {
        return None;
    }
    if let Some(open) = clean.rfind('<')
        && let Some(rest) = clean[open + 1..].strip_suffix('>')
    {
        let name = clean[..open].trim();
        let email = rest.trim();
        if plausible_email(email) {
            let name = if name.is_empty() { email } else { name };
            return Some((name.to_owned(), Some(email.to_owned())));
        }
    }
    Some((clean, None))
}

fn plausible_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(l), Some(d), None) if !l.is_empty() && !d.is_empty()
    ) && s
        .chars()
        .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c))
}

/// Whether SPDX tools accept `url` as a package download location: `scheme://` (http,
/// https, ftp, sftp, ssh, git, svn), optional `user@`, a DNS host ending in a 2–5 letter
/// top-level domain, optional port, optional path; no spaces or control characters.
/// (`file://` and IP-address URLs are not accepted: SPDX expects a public location.)
pub(crate) fn spdx_download_location_ok(url: &str) -> bool {
    if !iri_ok(url) {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !["http", "https", "ftp", "sftp", "ssh", "git", "svn"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return false;
    }
    let authority = rest.split('/').next().unwrap_or("");
    let hostport = match authority.rsplit_once('@') {
        Some((user, hp)) => {
            if user.is_empty()
                || !user
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || "-.!~*'()%;:&=+$,".contains(c))
            {
                return false;
            }
            hp
        }
        None => authority,
    };
    let host = match hostport.split_once(':') {
        Some((h, port)) => {
            if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            h
        }
        None => hostport,
    };
    let Some((labels, tld)) = host.rsplit_once('.') else {
        return false;
    };
    if !(2..=5).contains(&tld.len()) || !tld.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    // `[a-z0-9]+([-.][a-z0-9]+)*`
    !labels.is_empty()
        && labels
            .split(['-', '.'])
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether `url` is a URL CycloneDX's `iri-reference` format accepts as written: it has a
/// scheme, and no spaces, control characters or characters RFC 3987 excludes.
pub(crate) fn iri_ok(url: &str) -> bool {
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && url
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>\"{}|\\^`".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn uuid_layout() {
        let u = uuid_from(b"x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8");
        assert!("89ab".contains(&u[19..20]));
        assert_ne!(u, uuid_from(b"y"));
    }

    #[test]
    fn spdx_ids_sanitised_and_unique() {
        let mut ids = SpdxIds::default();
        assert_eq!(
            ids.take("Package", "gcc-c++ 1:2_3"),
            "SPDXRef-Package-gcc-c-1-2-3"
        );
        assert_eq!(
            ids.take("Package", "gcc-c@@1:2-3"),
            "SPDXRef-Package-gcc-c-1-2-3-2"
        );
        assert_eq!(ids.take("Package", "ÿ"), "SPDXRef-Package");
    }

    #[test]
    fn suppliers() {
        assert_eq!(
            split_supplier("Debian Bash Maintainers <bash@packages.debian.org>"),
            Some((
                "Debian Bash Maintainers".to_owned(),
                Some("bash@packages.debian.org".to_owned())
            ))
        );
        assert_eq!(
            split_supplier("Fedora\tProject"),
            Some(("Fedora Project".to_owned(), None))
        );
        assert_eq!(split_supplier(" "), None);
    }

    #[test]
    fn download_locations() {
        for ok in [
            "https://dl.fedoraproject.org/pub/fedora/linux/releases/41/x.rpm",
            "http://deb.debian.org:80/debian/pool/main/b/bash/bash_5.2.15-2+b2_amd64.deb",
            "ftp://user@mirror.example.org/x",
        ] {
            assert!(spdx_download_location_ok(ok), "{ok}");
        }
        for bad in [
            "file:///srv/repo/x.rpm",
            "http://127.0.0.1:8080/x.rpm",
            "http://localhost/x",
            "https://example.org/a b",
            "example.org/x",
        ] {
            assert!(!spdx_download_location_ok(bad), "{bad}");
        }
        assert!(iri_ok("file:///srv/repo/x.rpm"));
        assert!(!iri_ok("/srv/x"));
    }
}
