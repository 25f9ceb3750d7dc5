//! RPM versions: `[epoch:]version[-release]` and rpm's `rpmvercmp` segment comparison.

use crate::VersionError;
use std::cmp::Ordering;
use std::fmt;

/// An RPM epoch/version/release. In a package, `release` is always present; in a
/// dependency constraint it may be absent, meaning "any release".
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Evr {
    /// Missing epoch is epoch 0 (rpm and libsolv agree on this for matching).
    pub epoch: u64,
    pub version: String,
    pub release: Option<String>,
}

impl Evr {
    pub fn new(epoch: u64, version: impl Into<String>, release: Option<String>) -> Self {
        Evr { epoch, version: version.into(), release }
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
            return Err(VersionError::Empty { input: input.to_owned(), what: "version" });
        }
        Ok(Evr { epoch, version: version.to_owned(), release })
    }

    /// Full ordering as rpm orders two package EVRs (a missing release sorts as empty).
    fn full_cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| {
                rpmvercmp(
                    self.release.as_deref().unwrap_or(""),
                    other.release.as_deref().unwrap_or(""),
                )
            })
    }

    /// Comparison used when matching a dependency: when either side has no release, the
    /// release is not compared (rpm's rpmdsCompare semantics).
    pub fn cmp_for_match(&self, other: &Self) -> Ordering {
        let base = self
            .epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version));
        match (&self.release, &other.release) {
            (Some(a), Some(b)) => base.then_with(|| rpmvercmp(a, b)),
            _ => base,
        }
    }
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
                && (if numeric { s[k].is_ascii_digit() } else { s[k].is_ascii_alphabetic() })
            {
                k += 1;
            }
            (start, k)
        };
        let (s1, e1) = take(a, i);
        let (s2, e2) = take(b, j);
        if s2 == e2 {
            // segments of different types: numeric is newer
            return if numeric { Ordering::Greater } else { Ordering::Less };
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
