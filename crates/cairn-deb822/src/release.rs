//! `Release` / `InRelease` bodies (the signed text, after signature verification).

use crate::Deb822Error;
use crate::paragraph::parse_paragraphs;

/// One entry of a Release file's `SHA256` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Path relative to the suite directory, e.g. `main/binary-amd64/Packages.xz`.
    pub path: String,
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// What a suite's Release file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    pub origin: Option<String>,
    pub label: Option<String>,
    pub suite: Option<String>,
    pub codename: Option<String>,
    pub version: Option<String>,
    pub date: Option<String>,
    pub valid_until: Option<String>,
    pub architectures: Vec<String>,
    pub components: Vec<String>,
    pub acquire_by_hash: bool,
    pub sha256: Vec<ReleaseFile>,
}

impl Release {
    /// The `SHA256` entry for `path` (relative to the suite directory).
    pub fn file(&self, path: &str) -> Option<&ReleaseFile> {
        self.sha256.iter().find(|f| f.path == path)
    }
}

/// Parse a Release body. `origin` names it in errors. Signed text (an `InRelease` file
/// as downloaded) is refused: verify it first and pass the signed body.
pub fn parse_release(text: &str, origin: &str) -> Result<Release, Deb822Error> {
    if text.trim_start().starts_with("-----BEGIN PGP") {
        return Err(Deb822Error::Syntax {
            origin: origin.to_owned(),
            line: 1,
            reason: "this is OpenPGP-signed text: verify it and parse the signed body".into(),
        });
    }
    let paras = parse_paragraphs(text, origin)?;
    let [p] = paras.as_slice() else {
        return Err(Deb822Error::Syntax {
            origin: origin.to_owned(),
            line: paras.get(1).map_or(1, |p| p.line()),
            reason: format!("a Release file has one paragraph, found {}", paras.len()),
        });
    };
    let opt = |n: &str| p.get(n).map(str::to_owned);
    let list = |n: &str| {
        p.get_folded(n)
            .map(|v| v.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let mut rel = Release {
        origin: opt("Origin"),
        label: opt("Label"),
        suite: opt("Suite"),
        codename: opt("Codename"),
        version: opt("Version"),
        date: opt("Date"),
        valid_until: opt("Valid-Until"),
        architectures: list("Architectures"),
        components: list("Components"),
        acquire_by_hash: p
            .get("Acquire-By-Hash")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes")),
        sha256: Vec::new(),
    };
    if let Some(v) = p.get("SHA256") {
        for (i, line) in v.split('\n').enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let bad = |reason: &str| Deb822Error::Syntax {
                origin: origin.to_owned(),
                line: field_line(p, "SHA256") + i,
                reason: format!("SHA256 entry {line:?}: {reason}"),
            };
            let mut it = line.split_whitespace();
            let (Some(hash), Some(size), Some(path), None) =
                (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(bad("expected `sha256 size path`"));
            };
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("expected 64 hex digits"));
            }
            let size = size
                .parse::<u64>()
                .map_err(|_| bad("size is not a number"))?;
            rel.sha256.push(ReleaseFile {
                path: path.to_owned(),
                size,
                sha256: hash.to_ascii_lowercase(),
            });
        }
    }
    Ok(rel)
}

/// Approximate line of a field: the paragraph line plus preceding fields' lines.
fn field_line(p: &crate::Paragraph, name: &str) -> usize {
    let mut line = p.line();
    for (n, v) in p.fields() {
        if n.eq_ignore_ascii_case(name) {
            return line;
        }
        line += 1 + v.matches('\n').count();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Origin: Debian\nSuite: stable\nCodename: bookworm\n\
        Date: Sat, 11 Jul 2026 10:16:37 UTC\nArchitectures: all amd64\nComponents: main contrib\n\
        Acquire-By-Hash: yes\nMD5Sum:\n 0ed6d4c8891eb86358b94bb35d9e4da4  1 x\nSHA256:\n \
        aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  123 main/binary-amd64/Packages\n \
        BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB 9 main/binary-amd64/Packages.xz\n";

    #[test]
    fn sample() {
        let r = parse_release(SAMPLE, "t").unwrap();
        assert_eq!(r.codename.as_deref(), Some("bookworm"));
        assert_eq!(r.architectures, ["all", "amd64"]);
        assert_eq!(r.components, ["main", "contrib"]);
        assert!(r.acquire_by_hash);
        assert_eq!(r.sha256.len(), 2);
        let f = r.file("main/binary-amd64/Packages.xz").unwrap();
        assert_eq!((f.size, f.sha256.as_str()), (9, "b".repeat(64).as_str()));
        assert!(r.valid_until.is_none());
    }

    #[test]
    fn bad_entries() {
        let e = parse_release("SHA256:\n zz 1 a\n", "rel")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rel") && e.contains("hex"), "{e}");
        let e = parse_release(&format!("SHA256:\n {} x a\n", "a".repeat(64)), "rel")
            .unwrap_err()
            .to_string();
        assert!(e.contains("size"), "{e}");
        let e = parse_release("-----BEGIN PGP SIGNED MESSAGE-----\n", "rel")
            .unwrap_err()
            .to_string();
        assert!(e.contains("verify"), "{e}");
        let e = parse_release("A: 1\n\nB: 2\n", "rel")
            .unwrap_err()
            .to_string();
        assert!(e.contains("one paragraph"), "{e}");
    }
}
