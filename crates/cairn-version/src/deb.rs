//! Debian versions: `[epoch:]upstream_version[-debian_revision]`, ordered as dpkg does.

use crate::VersionError;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A Debian version. `revision` is empty when the version has none.
///
/// Equality and hashing follow dpkg's ordering (`1.0` equals `1.00` and `1.0-0`), so `Eq`,
/// `Hash` and `Ord` agree as the standard library requires.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DebVersion {
    pub epoch: u64,
    pub upstream: String,
    pub revision: String,
}

impl DebVersion {
    /// Parse a Debian version as dpkg's `parseversion` does (leading/trailing spaces ignored).
    ///
    /// Like dpkg this rejects an empty revision (`1.0-`), an epoch that is not a number or
    /// exceeds `i32::MAX`, and characters outside `[A-Za-z0-9.+~-:]` (upstream) or
    /// `[A-Za-z0-9.+~]` (revision). An upstream version not starting with a digit is only a
    /// warning in dpkg and is accepted here.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(VersionError::Empty {
                input: input.to_owned(),
                what: "version",
            });
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => {
                let epoch = e
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= i32::MAX as u64)
                    .ok_or_else(|| VersionError::BadEpoch {
                        input: input.to_owned(),
                        epoch: e.to_owned(),
                    })?;
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => {
                return Err(VersionError::Empty {
                    input: input.to_owned(),
                    what: "Debian revision",
                });
            }
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(VersionError::Empty {
                input: input.to_owned(),
                what: "upstream version",
            });
        }
        if let Some(ch) = upstream
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".+-~:".contains(*c)))
        {
            return Err(VersionError::BadChar {
                input: input.to_owned(),
                ch,
                what: "upstream version",
            });
        }
        if let Some(ch) = revision
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".+~".contains(*c)))
        {
            return Err(VersionError::BadChar {
                input: input.to_owned(),
                ch,
                what: "Debian revision",
            });
        }
        Ok(DebVersion {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }
}

impl PartialEq for DebVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for DebVersion {}

impl Hash for DebVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
        hash_deb_part(&self.upstream, state);
        hash_deb_part(&self.revision, state);
    }
}

/// Hash what `debvercmp` compares: every character, with leading zeros of each digit run
/// dropped (so `1.0`, `1.00` and `1.` hash alike, as they compare equal). A digit run needs
/// no delimiter: two digit runs are always separated by a non-digit.
fn hash_deb_part<H: Hasher>(s: &str, state: &mut H) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i] == b'0' {
                i += 1;
            }
            while i < b.len() && b[i].is_ascii_digit() {
                state.write_u8(b[i]);
                i += 1;
            }
        } else {
            state.write_u8(b[i]);
            i += 1;
        }
    }
    state.write_u8(0xfe);
}

impl PartialOrd for DebVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| debvercmp(&self.upstream, &other.upstream))
            .then_with(|| debvercmp(&self.revision, &other.revision))
    }
}

impl fmt::Display for DebVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

/// Weight of a non-digit character in dpkg's ordering: `~` lowest, then end of part,
/// then letters, then everything else.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` on one part (upstream version or revision).
pub fn debvercmp(a: &str, b: &str) -> Ordering {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0i32;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(a[i]) - i32::from(b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[track_caller]
    fn check(a: &str, b: &str, want: Ordering) {
        let (va, vb) = (DebVersion::parse(a).unwrap(), DebVersion::parse(b).unwrap());
        assert_eq!(va.cmp(&vb), want, "{a:?} vs {b:?}");
        assert_eq!(vb.cmp(&va), want.reverse(), "{b:?} vs {a:?}");
    }

    #[test]
    fn debvercmp_parts() {
        assert_eq!(debvercmp("~~", "~"), Less);
        assert_eq!(debvercmp("~", ""), Less);
        assert_eq!(debvercmp("", "a"), Less);
        assert_eq!(
            debvercmp("a", "."),
            Less,
            "letters sort before other characters"
        );
        assert_eq!(debvercmp("+", "."), Less, "non-letters compare by ASCII");
        assert_eq!(debvercmp("~~a", "~~"), Greater);
        assert_eq!(debvercmp("1.0", "1."), Equal, "an empty digit run is zero");
        assert_eq!(debvercmp("0", ""), Equal);
        assert_eq!(debvercmp("007", "7"), Equal);
        assert_eq!(debvercmp("10", "9"), Greater);
        assert_eq!(debvercmp("1a", "1"), Greater);
        assert_eq!(debvercmp("1a", "1.0"), Less, "letter sorts before '.'");
    }

    #[test]
    fn dpkg_known_cases() {
        check("1.0~rc1", "1.0", Less);
        check("1.0~~", "1.0~", Less);
        check("1.0~", "1.0", Less);
        check("1.0", "1.0a", Less);
        check("1.0a", "1.0+", Less);
        check("1.0+b1", "1.0.1", Less);
        check("1:0.1", "9.9", Greater);
        check("0:1.0", "1.0", Equal);
        check("1.0-0", "1.0", Equal);
        check("1.0-1", "1.0", Greater);
        check("2.30-1", "2.4-1", Greater);
        check("1.2.3-1~bpo12+1", "1.2.3-1", Less);
        check("1.0-1-2", "1.0-1", Greater);
        check("1:2:3", "1:2.3", Greater); // ":" sorts after "."
    }

    #[test]
    fn parse_like_dpkg() {
        let v = DebVersion::parse(" 1:2.0-1-3 ").unwrap();
        assert_eq!(
            (v.epoch, v.upstream.as_str(), v.revision.as_str()),
            (1, "2.0-1", "3")
        );
        let v = DebVersion::parse("2.0").unwrap();
        assert_eq!(v.revision, "");
        assert!(matches!(
            DebVersion::parse(""),
            Err(VersionError::Empty { .. })
        ));
        assert!(matches!(
            DebVersion::parse("1.0-"),
            Err(VersionError::Empty { .. })
        ));
        assert!(matches!(
            DebVersion::parse("1:"),
            Err(VersionError::Empty { .. })
        ));
        assert!(matches!(
            DebVersion::parse("a:1"),
            Err(VersionError::BadEpoch { .. })
        ));
        assert!(matches!(
            DebVersion::parse("3000000000:1"),
            Err(VersionError::BadEpoch { .. })
        ));
        assert!(matches!(
            DebVersion::parse("1.0 2"),
            Err(VersionError::BadChar { .. })
        ));
        assert!(matches!(
            DebVersion::parse("1.0-a_b"),
            Err(VersionError::BadChar { .. })
        ));
        for s in ["1.0", "1:1.0-1", "2.0-1-2~bpo1", "1:2:3"] {
            assert_eq!(DebVersion::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn eq_and_hash_agree_with_ord() {
        use std::collections::hash_map::DefaultHasher;
        fn h(v: &DebVersion) -> u64 {
            let mut s = DefaultHasher::new();
            v.hash(&mut s);
            s.finish()
        }
        let p = |s: &str| DebVersion::parse(s).unwrap();
        for (a, b) in [
            ("1.0", "1.00"),
            ("1.0", "1."),
            ("1.0-0", "1.0"),
            ("0:1.000", "1."),
        ] {
            assert_eq!(p(a), p(b));
            assert_eq!(h(&p(a)), h(&p(b)), "{a} / {b}");
        }
        assert_ne!(p("1.0"), p("1"));
        assert_ne!(p("1.0~"), p("1.0"));
        assert_ne!(
            p("1.0.2"),
            p("1..2"),
            "a zero digit run is not empty mid-string"
        );
    }
}
