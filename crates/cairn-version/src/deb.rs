//! Debian versions: `[epoch:]upstream_version[-debian_revision]`, ordered as dpkg does.

use crate::VersionError;
use std::cmp::Ordering;
use std::fmt;

/// A Debian version. `revision` is empty when the version has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DebVersion {
    pub epoch: u64,
    pub upstream: String,
    pub revision: String,
}

impl DebVersion {
    /// Parse a Debian version as dpkg's `parseversion` does (leading/trailing spaces ignored).
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(VersionError::Empty { input: input.to_owned(), what: "version" });
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => {
                let epoch = e.parse::<u64>().map_err(|_| VersionError::BadEpoch {
                    input: input.to_owned(),
                    epoch: e.to_owned(),
                })?;
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(VersionError::Empty { input: input.to_owned(), what: "upstream version" });
        }
        if let Some(ch) = upstream
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".+-~:".contains(*c)))
        {
            return Err(VersionError::BadChar { input: input.to_owned(), ch, what: "upstream version" });
        }
        if let Some(ch) = revision
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".+~".contains(*c)))
        {
            return Err(VersionError::BadChar { input: input.to_owned(), ch, what: "Debian revision" });
        }
        Ok(DebVersion { epoch, upstream: upstream.to_owned(), revision: revision.to_owned() })
    }
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
