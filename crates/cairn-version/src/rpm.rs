//! RPM versions: `[epoch:]version[-release]` and rpm's `rpmvercmp` segment comparison.

use crate::VersionError;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// An RPM epoch/version/release. In a package, `release` is always present; in a
/// dependency constraint it may be absent, meaning "any release".
///
/// Equality and hashing follow the ordering (`1.0` equals `1.00` and `0:1.0`), so `Eq`,
/// `Hash` and `Ord` agree as the standard library requires.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Evr {
    /// Missing epoch is epoch 0 (rpm and libsolv agree on this for matching).
    pub epoch: u64,
    pub version: String,
    pub release: Option<String>,
}

impl Evr {
    pub fn new(epoch: u64, version: impl Into<String>, release: Option<String>) -> Self {
        Evr {
            epoch,
            version: version.into(),
            release,
        }
    }

    /// Parse `[epoch:]version[-release]`. The release is whatever follows the last `-`.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let (epoch, rest) = match input.split_once(':') {
            Some((e, rest)) => {
                let epoch = if e.is_empty() {
                    0
                } else {
                    e.parse::<u64>().map_err(|_| VersionError::BadEpoch {
                        input: input.to_owned(),
                        epoch: e.to_owned(),
                    })?
                };
                (epoch, rest)
            }
            None => (0, input),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_owned())),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(VersionError::Empty {
                input: input.to_owned(),
                what: "version",
            });
        }
        Ok(Evr {
            epoch,
            version: version.to_owned(),
            release,
        })
    }

    /// Full ordering as rpm 4.18 orders two EVRs (`rpmverCmp`, Lua `rpm.vercmp`): epoch,
    /// then version, then release, where a missing release sorts before any release,
    /// even an empty one (`1.0` < `1.0-` < `1.0-0`).
    fn full_cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }

    /// Comparison used when matching a dependency: when either side has no release (or
    /// an empty one), the release is not compared (rpm's `rpmverOverlap` semantics).
    pub fn cmp_for_match(&self, other: &Self) -> Ordering {
        let base = self
            .epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version));
        match (self.match_release(), other.match_release()) {
            (Some(a), Some(b)) => base.then_with(|| rpmvercmp(a, b)),
            _ => base,
        }
    }

    /// The release as dependency matching sees it: absent when missing or empty.
    pub fn match_release(&self) -> Option<&str> {
        self.release.as_deref().filter(|r| !r.is_empty())
    }
}

impl PartialEq for Evr {
    fn eq(&self, other: &Self) -> bool {
        self.full_cmp(other) == Ordering::Equal
    }
}
impl Eq for Evr {}

impl Hash for Evr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
        hash_rpm_segments(&self.version, state);
        match &self.release {
            Some(r) => {
                1u8.hash(state);
                hash_rpm_segments(r, state);
            }
            None => 0u8.hash(state),
        }
    }
}

/// Hash the token sequence `rpmvercmp` compares (separators dropped, leading zeros of
/// numeric segments dropped), so strings that compare equal hash equally.
fn hash_rpm_segments<H: Hasher>(s: &str, state: &mut H) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'~' || c == b'^' {
            state.write_u8(c);
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &b[start..i];
            let first = digits
                .iter()
                .position(|&d| d != b'0')
                .unwrap_or(digits.len());
            state.write_u8(b'0');
            state.write(&digits[first..]);
            state.write_u8(0xff);
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            state.write_u8(b'a');
            state.write(&b[start..i]);
            state.write_u8(0xff);
        } else {
            i += 1;
        }
    }
    state.write_u8(0xfe);
}

impl PartialOrd for Evr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Evr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.full_cmp(other)
    }
}

impl fmt::Display for Evr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.version)?;
        if let Some(r) = &self.release {
            write!(f, "-{r}")?;
        }
        Ok(())
    }
}

/// rpm's `rpmvercmp`: compare two version (or release) strings segment by segment.
///
/// Alphanumeric runs are compared numerically (digits) or lexically (letters); numeric
/// beats alphabetic; `~` sorts before everything including the end of the string; `^`
/// sorts after the end of the string but before any further segment.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let a = a.as_bytes();
    let b = b.as_bytes();
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        // skip separators (anything not alphanumeric, ~ or ^)
        while i < a.len() && !a[i].is_ascii_alphanumeric() && a[i] != b'~' && a[i] != b'^' {
            i += 1;
        }
        while j < b.len() && !b[j].is_ascii_alphanumeric() && b[j] != b'~' && b[j] != b'^' {
            j += 1;
        }
        // tilde: sorts before everything
        let at = a.get(i) == Some(&b'~');
        let bt = b.get(j) == Some(&b'~');
        if at || bt {
            if !at {
                return Ordering::Greater;
            }
            if !bt {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // caret: like tilde but sorts after the end of the string
        let ac = a.get(i) == Some(&b'^');
        let bc = b.get(j) == Some(&b'^');
        if ac || bc {
            if i >= a.len() {
                return Ordering::Less;
            }
            if j >= b.len() {
                return Ordering::Greater;
            }
            if !ac {
                return Ordering::Greater;
            }
            if !bc {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if i >= a.len() || j >= b.len() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let take = |s: &[u8], mut k: usize| {
            let start = k;
            while k < s.len()
                && (if numeric {
                    s[k].is_ascii_digit()
                } else {
                    s[k].is_ascii_alphabetic()
                })
            {
                k += 1;
            }
            (start, k)
        };
        let (s1, e1) = take(a, i);
        let (s2, e2) = take(b, j);
        if s2 == e2 {
            // segments of different types: numeric is newer
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let mut seg1 = &a[s1..e1];
        let mut seg2 = &b[s2..e2];
        if numeric {
            while seg1.first() == Some(&b'0') {
                seg1 = &seg1[1..];
            }
            while seg2.first() == Some(&b'0') {
                seg2 = &seg2[1..];
            }
            match seg1.len().cmp(&seg2.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match seg1.cmp(seg2) {
            Ordering::Equal => {}
            other => return other,
        }
        i = e1;
        j = e2;
    }
    let a_done = i >= a.len();
    let b_done = j >= b.len();
    match (a_done, b_done) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[track_caller]
    fn check(a: &str, b: &str, want: Ordering) {
        assert_eq!(rpmvercmp(a, b), want, "rpmvercmp({a:?}, {b:?})");
        assert_eq!(rpmvercmp(b, a), want.reverse(), "rpmvercmp({b:?}, {a:?})");
    }

    #[test]
    fn rpmvercmp_known_cases() {
        // cases from rpm's own test suite (tests/rpmvercmp.at) and tricky extras
        check("1.0", "1.0", Equal);
        check("1.0", "2.0", Less);
        check("2.0.1", "2.0.1a", Less);
        check("5.5p1", "5.5p2", Less);
        check("5.5p10", "5.5p1", Greater);
        check("10xyz", "10.1xyz", Less);
        check("xyz10", "xyz10.1", Less);
        check("xyz.4", "8", Less); // alpha vs numeric: numeric is newer
        check("8", "xyz.4", Greater);
        check("1b.fc17", "1.fc17", Less);
        check("1g.fc17", "1.fc17", Greater);
        check("2.0", "2_0", Equal); // separators are not compared
        check("2.0", "2..0", Equal);
        check("1.0", "1.0.", Equal);
        check("a+", "a_", Equal);
        check("+", "_", Equal);
        check("1.0010", "1.9", Greater); // leading zeros dropped, longer number wins
        check("1.05", "1.5", Equal);
        check("1.0", "1", Greater);
        check("2.50", "2.5", Greater);
        check("fc4", "fc.4", Equal);
        check("FC5", "fc4", Less); // plain strcmp: uppercase sorts first
        check("2a", "2.0", Less);
        check("1.0", "1.fc4", Greater);
        check("3.0.0_fc", "3.0.0.fc", Equal);
        // tilde sorts before everything, even the end of the string
        check("1.0~rc1", "1.0", Less);
        check("1.0~rc1", "1.0~rc2", Less);
        check("1.0~rc1~git123", "1.0~rc1", Less);
        check("1.0~rc1", "1.0arc1", Less);
        check("~~", "~", Less);
        check("~", "~~a", Greater);
        check("~", "", Less);
        // caret sorts after the end of the string, before anything else
        check("1.0^git1", "1.0", Greater);
        check("1.0^git1", "1.0^git2", Less);
        check("1.0^git1", "1.01", Less);
        check("1.0^20160101", "1.0.1", Less);
        check("1.0^20160101^git1", "1.0^20160101", Greater);
        check("1.0^20160102", "1.0^20160101^git1", Greater);
        check("1.0~rc1^git1", "1.0~rc1", Greater);
        check("1.0^git1~pre", "1.0^git1", Less);
        check("1.0^", "1.0", Greater);
        check("1.0^", "1.0~", Greater);
        check("1.0^", "1.0^", Equal);
        check("^", "", Greater);
    }

    #[test]
    fn evr_order_and_parse() {
        let p = |s: &str| Evr::parse(s).unwrap();
        assert_eq!(p("1:1.0-1"), Evr::new(1, "1.0", Some("1".into())));
        assert_eq!(p(":1.0").epoch, 0);
        assert_eq!(p("1.0-1-2"), Evr::new(0, "1.0-1", Some("2".into())));
        assert!(p("1:0.1") > p("9.9-9"), "epoch dominates");
        assert_eq!(p("0:1.0-1"), p("1.0-1"), "missing epoch is epoch 0");
        // missing release sorts before every release, even an empty one (rpm 4.18 rpmverCmp)
        assert!(p("1.0") < p("1.0-"));
        assert!(p("1.0-") < p("1.0-0"));
        assert!(p("1.0") < p("1.0-~"));
        assert!(p("1.0-~") > p("1.0"));
        assert!(p("1.0-1") < p("1.0-1.fc39"));
        assert!(matches!(
            Evr::parse("x:1.0"),
            Err(VersionError::BadEpoch { .. })
        ));
        assert!(matches!(Evr::parse("-1"), Err(VersionError::Empty { .. })));
        assert!(matches!(Evr::parse(""), Err(VersionError::Empty { .. })));
    }

    #[test]
    fn evr_match_ignores_missing_or_empty_release() {
        let p = |s: &str| Evr::parse(s).unwrap();
        assert_eq!(p("1.0-1").cmp_for_match(&p("1.0")), Equal);
        assert_eq!(p("1.0").cmp_for_match(&p("1.0-5")), Equal);
        assert_eq!(p("1.0-").cmp_for_match(&p("1.0-5")), Equal);
        assert_eq!(p("1.0-1").cmp_for_match(&p("1.0-2")), Less);
        assert_eq!(p("1:1.0").cmp_for_match(&p("2.0-1")), Greater);
    }

    #[test]
    fn eq_and_hash_agree_with_ord() {
        use std::collections::hash_map::DefaultHasher;
        fn h(e: &Evr) -> u64 {
            let mut s = DefaultHasher::new();
            e.hash(&mut s);
            s.finish()
        }
        let p = |s: &str| Evr::parse(s).unwrap();
        for (a, b) in [
            ("1.0", "1.00"),
            ("0:1.0-1", "1.0-1"),
            ("1.0_1", "1.0.1"),
            ("fc.4", "fc4"),
        ] {
            assert_eq!(p(a), p(b));
            assert_eq!(h(&p(a)), h(&p(b)), "{a} / {b}");
        }
        for (a, b) in [
            ("1.0", "1.0-"),
            ("ab", "a.b"),
            ("1.0", "1"),
            ("1^", "1"),
            ("1~~", "1~"),
        ] {
            assert_ne!(p(a), p(b));
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["1.0", "1:1.0-1", "1.0-", "2.3^git4~rc1-0.1.fc39"] {
            let e = Evr::parse(s).unwrap();
            assert_eq!(e.to_string(), s);
        }
        assert_eq!(Evr::parse("0:1.0").unwrap().to_string(), "1.0");
    }
}
