//! Package URLs (purl) as the purl specification defines them: building the canonical
//! string form and parsing it back.
//!
//! Canonical form, per the specification's "how to build" rules:
//! - every component is percent-encoded except the ASCII letters and digits, `.-_~`, and the
//!   colon `:` (which is never encoded, so a Debian epoch stays `1:2.4-1`); everything else,
//!   including `+`, `/`, `@`, `?`, `#`, `%`, space and non-ASCII, becomes `%XX` (UTF-8, upper hex);
//! - qualifiers with empty values are dropped, keys are lowercased and the pairs are sorted by
//!   key (so `arch`, `distro`, `epoch` come out in that order);
//! - type-specific normalisation: the `rpm` and `deb` namespace (vendor) is lowercased, and
//!   so is the `deb` name; the `rpm` name is case-sensitive and kept.

use std::fmt;

/// A package URL: `pkg:type/namespace/name@version?qualifiers#subpath`.
///
/// Fields hold decoded text. [`Purl::new`] and [`Purl::parse`] apply the type-specific
/// normalisation, so two equal package URLs compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purl {
    /// Package type, lowercase (`rpm`, `deb`, ...).
    pub ty: String,
    /// Namespace segments joined by `/` (empty when there is none).
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    /// Qualifiers with non-empty values, keys lowercase, sorted by key.
    pub qualifiers: Vec<(String, String)>,
    /// Subpath segments joined by `/`.
    pub subpath: Option<String>,
}

/// Why a string is not a package URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurlParseError {
    #[error("package URL {purl:?}: {reason}")]
    Invalid { purl: String, reason: String },
}

impl Purl {
    /// A purl from decoded parts; normalises them as the canonical form requires.
    pub fn new(
        ty: &str,
        namespace: &str,
        name: &str,
        version: Option<&str>,
        qualifiers: &[(&str, &str)],
    ) -> Purl {
        let mut p = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace.trim_matches('/').to_owned(),
            name: name.to_owned(),
            version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            qualifiers: qualifiers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            subpath: None,
        };
        p.normalize();
        p
    }

    fn normalize(&mut self) {
        match self.ty.as_str() {
            "rpm" => self.namespace = self.namespace.to_lowercase(),
            "deb" => {
                self.namespace = self.namespace.to_lowercase();
                self.name = self.name.to_lowercase();
            }
            _ => {}
        }
        self.qualifiers.retain(|(_, v)| !v.is_empty());
        self.qualifiers.sort();
        self.qualifiers.dedup_by(|a, b| a.0 == b.0);
    }

    /// The value of qualifier `key`.
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Parse a package URL (the specification's "how to parse" rules), decoding every
    /// component and applying the same normalisation as [`Purl::new`].
    pub fn parse(s: &str) -> Result<Purl, PurlParseError> {
        let bad = |reason: &str| PurlParseError::Invalid {
            purl: s.to_owned(),
            reason: reason.to_owned(),
        };
        let (rest, subpath) = match s.split_once('#') {
            Some((r, sp)) => {
                let segs: Vec<String> = sp
                    .split('/')
                    .filter(|seg| !seg.is_empty() && *seg != "." && *seg != "..")
                    .map(|seg| decode(seg).ok_or_else(|| bad("bad percent-encoding in subpath")))
                    .collect::<Result<_, _>>()?;
                (r, (!segs.is_empty()).then(|| segs.join("/")))
            }
            None => (s, None),
        };
        let (scheme, rest) = rest
            .split_once(':')
            .ok_or_else(|| bad("no `pkg:` scheme"))?;
        if !scheme.eq_ignore_ascii_case("pkg") {
            return Err(bad("scheme is not `pkg`"));
        }
        let (rest, qualifiers) = match rest.rsplit_once('?') {
            Some((r, q)) => {
                let mut out = Vec::new();
                for pair in q.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| bad("qualifier without `=`"))?;
                    let k = k.to_ascii_lowercase();
                    if k.is_empty()
                        || !k
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                    {
                        return Err(bad("qualifier key is not [a-z0-9._-]+"));
                    }
                    if out.iter().any(|(ok, _): &(String, String)| *ok == k) {
                        return Err(bad("qualifier key given twice"));
                    }
                    let v = decode(v).ok_or_else(|| bad("bad percent-encoding in qualifier"))?;
                    out.push((k, v));
                }
                (r, out)
            }
            None => (rest, Vec::new()),
        };
        let rest = rest.trim_start_matches('/');
        let (ty, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("no `/` after the type"))?;
        if ty.is_empty()
            || !ty.starts_with(|c: char| c.is_ascii_alphabetic())
            || !ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(bad("type is not [a-z][a-z0-9._-]*"));
        }
        let rest = rest.trim_end_matches('/');
        let (rest, version) = match rest.rsplit_once('@') {
            Some((r, v)) => (
                r,
                Some(decode(v).ok_or_else(|| bad("bad percent-encoding in version"))?),
            ),
            None => (rest, None),
        };
        let (namespace, name) = match rest.rsplit_once('/') {
            Some((ns, n)) => (ns, n),
            None => ("", rest),
        };
        let name = decode(name).ok_or_else(|| bad("bad percent-encoding in name"))?;
        if name.is_empty() {
            return Err(bad("name is empty"));
        }
        let namespace = namespace
            .split('/')
            .filter(|seg| !seg.is_empty())
            .map(|seg| decode(seg).ok_or_else(|| bad("bad percent-encoding in namespace")))
            .collect::<Result<Vec<_>, _>>()?
            .join("/");
        let mut p = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name,
            version: version.filter(|v| !v.is_empty()),
            qualifiers,
            subpath,
        };
        p.normalize();
        Ok(p)
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        for seg in self.namespace.split('/').filter(|s| !s.is_empty()) {
            write!(f, "{}/", encode(seg))?;
        }
        f.write_str(&encode(&self.name))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v))?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{k}={}", encode(v))?;
        }
        if let Some(sp) = &self.subpath {
            f.write_str("#")?;
            for (i, seg) in sp.split('/').filter(|s| !s.is_empty()).enumerate() {
                if i > 0 {
                    f.write_str("/")?;
                }
                f.write_str(&encode(seg))?;
            }
        }
        Ok(())
    }
}

/// Percent-encode one purl component: keep ASCII alphanumerics, `.-_~` and `:`.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

/// Percent-decode; `None` on a malformed `%` triplet or bytes that are not UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpm_canonical_and_round_trip() {
        let p = Purl::new(
            "rpm",
            "Fedora",
            "gcc-c++",
            Some("14.2.1-3.fc41"),
            &[("epoch", "1"), ("distro", "fedora-41"), ("arch", "x86_64")],
        );
        let s = p.to_string();
        assert_eq!(
            s,
            "pkg:rpm/fedora/gcc-c%2B%2B@14.2.1-3.fc41?arch=x86_64&distro=fedora-41&epoch=1"
        );
        assert_eq!(Purl::parse(&s).unwrap(), p);
    }

    #[test]
    fn deb_epoch_colon_tilde_plus() {
        let p = Purl::new(
            "deb",
            "debian",
            "libstdc++6",
            Some("1:2.4.47-2+b1~bpo12"),
            &[("arch", "amd64"), ("distro", "debian-12")],
        );
        let s = p.to_string();
        assert_eq!(
            s,
            "pkg:deb/debian/libstdc%2B%2B6@1:2.4.47-2%2Bb1~bpo12?arch=amd64&distro=debian-12"
        );
        assert_eq!(Purl::parse(&s).unwrap(), p);
    }

    #[test]
    fn deb_name_is_lowercased_rpm_name_is_not() {
        let d = Purl::new("deb", "Debian", "Foo", Some("1"), &[]);
        assert_eq!(d.to_string(), "pkg:deb/debian/foo@1");
        let r = Purl::new("rpm", "Fedora", "PyYAML", Some("6-1"), &[]);
        assert_eq!(r.to_string(), "pkg:rpm/fedora/PyYAML@6-1");
        assert_eq!(
            Purl::parse("pkg:deb/Debian/Foo@1").unwrap(),
            Purl::parse("pkg:deb/debian/foo@1").unwrap()
        );
    }

    #[test]
    fn separators_and_non_ascii_in_components_are_encoded() {
        let p = Purl::new(
            "rpm",
            "vendor",
            "we@ird/na?me#x%y z",
            Some("1.0@2"),
            &[("distro", "a&b=c"), ("arch", "ü")],
        );
        let s = p.to_string();
        assert_eq!(
            s,
            "pkg:rpm/vendor/we%40ird%2Fna%3Fme%23x%25y%20z@1.0%402?arch=%C3%BC&distro=a%26b%3Dc"
        );
        assert_eq!(Purl::parse(&s).unwrap(), p);
    }

    #[test]
    fn empty_qualifiers_dropped_and_parse_accepts_spec_examples() {
        let p = Purl::new(
            "rpm",
            "fedora",
            "curl",
            Some("7.50.3-1.fc25"),
            &[("epoch", "")],
        );
        assert_eq!(p.to_string(), "pkg:rpm/fedora/curl@7.50.3-1.fc25");
        let q = Purl::parse("pkg:rpm/centerim@4.22.10-1.el6?arch=i686&epoch=1&distro=fedora-25")
            .unwrap();
        assert_eq!(q.namespace, "");
        assert_eq!(q.name, "centerim");
        assert_eq!(q.qualifier("epoch"), Some("1"));
        assert_eq!(
            q.to_string(),
            "pkg:rpm/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1"
        );
        let d = Purl::parse("pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64").unwrap();
        assert_eq!(d.version.as_deref(), Some("1:2.4.47-2+b1"));
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in [
            "",
            "rpm/fedora/x",
            "http:rpm/x",
            "pkg:rpm",
            "pkg:rpm/",
            "pkg:rpm/fedora/x@1?arch",
            "pkg:rpm/fedora/x%zz",
            "pkg:rpm/fedora/x%C3",
            "pkg:1rpm/x",
            "pkg:rpm/x?a=1&a=2",
        ] {
            assert!(Purl::parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
