//! apt source lists: deb822 `.sources` files and one-line `sources.list` files.

use crate::Deb822Error;
use crate::paragraph::parse_paragraphs;

/// One source stanza (deb822) or line (one-line format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSourceEntry {
    /// `deb`, `deb-src`.
    pub types: Vec<String>,
    pub uris: Vec<String>,
    pub suites: Vec<String>,
    pub components: Vec<String>,
    /// `Signed-By`: keyring paths or fingerprints (space or comma separated), or an
    /// inline armored key block, as written.
    pub signed_by: Option<String>,
    /// `Architectures` / `arch=`; empty means apt's default.
    pub architectures: Vec<String>,
    /// `Enabled: no` (deb822) turns a stanza off; commented-out one-line entries are not
    /// returned at all.
    pub enabled: bool,
    /// 1-based line where the entry starts.
    pub line: usize,
}

/// Parse a sources file, telling the one-line format from deb822 by its content: a
/// non-comment line starting with `deb` or `deb-src` followed by a space or `[` is
/// one-line format.
pub fn parse_sources_file(text: &str, origin: &str) -> Result<Vec<AptSourceEntry>, Deb822Error> {
    let one_line = text.lines().map(str::trim_start).any(|l| {
        let rest = l.strip_prefix("deb-src").or_else(|| l.strip_prefix("deb"));
        rest.is_some_and(|r| r.starts_with([' ', '\t', '[']))
    });
    if one_line {
        parse_one_line_sources(text, origin)
    } else {
        parse_deb822_sources(text, origin)
    }
}

/// Parse a deb822 `.sources` file.
pub fn parse_deb822_sources(text: &str, origin: &str) -> Result<Vec<AptSourceEntry>, Deb822Error> {
    let mut out = Vec::new();
    for p in parse_paragraphs(text, origin)? {
        let list = |n: &str| -> Vec<String> {
            p.get_folded(n)
                .map(|v| v.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let missing = |field: &str| Deb822Error::Syntax {
            origin: origin.to_owned(),
            line: p.line(),
            reason: format!("source stanza has no {field} field"),
        };
        let entry = AptSourceEntry {
            types: list("Types"),
            uris: list("URIs"),
            suites: list("Suites"),
            components: list("Components"),
            signed_by: p
                .get("Signed-By")
                .map(str::to_owned)
                .filter(|s| !s.is_empty()),
            architectures: list("Architectures"),
            enabled: p
                .get("Enabled")
                .is_none_or(|v| !v.eq_ignore_ascii_case("no")),
            line: p.line(),
        };
        for (field, v) in [
            ("Types", &entry.types),
            ("URIs", &entry.uris),
            ("Suites", &entry.suites),
        ] {
            if v.is_empty() {
                return Err(missing(field));
            }
        }
        // An exact path suite (ending in `/`) takes no components; others need some.
        if entry.components.is_empty() && !entry.suites.iter().all(|s| s.ends_with('/')) {
            return Err(missing("Components"));
        }
        out.push(entry);
    }
    Ok(out)
}

/// Parse a one-line `sources.list`: `deb [opt=val ...] uri suite [component ...]`.
pub fn parse_one_line_sources(
    text: &str,
    origin: &str,
) -> Result<Vec<AptSourceEntry>, Deb822Error> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.split_once('#').map_or(raw, |(l, _)| l).trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: String| Deb822Error::Syntax {
            origin: origin.to_owned(),
            line: line_no,
            reason,
        };
        let (ty, mut rest) = line
            .split_once([' ', '\t', '['])
            .map_or((line, ""), |(t, _)| (t, &line[t.len()..]));
        if ty != "deb" && ty != "deb-src" {
            return Err(bad(format!("expected `deb` or `deb-src`, got {ty:?}")));
        }
        rest = rest.trim_start();
        let mut signed_by = None;
        let mut architectures = Vec::new();
        if let Some(r) = rest.strip_prefix('[') {
            let Some((opts, after)) = r.split_once(']') else {
                return Err(bad("option list `[` is not closed by `]`".into()));
            };
            for opt in opts.split_whitespace() {
                let Some((k, v)) = opt.split_once('=') else {
                    return Err(bad(format!("option {opt:?} is not `name=value`")));
                };
                match k {
                    "signed-by" => signed_by = Some(v.to_owned()),
                    "arch" => architectures = v.split(',').map(str::to_owned).collect(),
                    _ => {}
                }
            }
            rest = after;
        }
        let mut words = rest.split_whitespace();
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            return Err(bad("expected a URI and a suite".into()));
        };
        let components: Vec<String> = words.map(str::to_owned).collect();
        if components.is_empty() && !suite.ends_with('/') {
            return Err(bad(format!("suite {suite:?} needs at least one component")));
        }
        out.push(AptSourceEntry {
            types: vec![ty.to_owned()],
            uris: vec![uri.to_owned()],
            suites: vec![suite.to_owned()],
            components,
            signed_by,
            architectures,
            enabled: true,
            line: line_no,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb822() {
        let text = "Types: deb\n# comment inside\nURIs: http://deb.debian.org/debian\n\
                    Suites: bookworm bookworm-updates\nComponents: main\n\
                    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
                    Types: deb deb-src\nURIs: http://x\nSuites: s\nComponents: a b\nEnabled: no\n\
                    Architectures: amd64 arm64\n";
        let e = parse_sources_file(text, "d.sources").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].suites, ["bookworm", "bookworm-updates"]);
        assert_eq!(
            e[0].signed_by.as_deref(),
            Some("/usr/share/keyrings/debian-archive-keyring.gpg")
        );
        assert!(e[0].enabled && !e[1].enabled);
        assert_eq!(e[1].types, ["deb", "deb-src"]);
        assert_eq!(e[1].architectures, ["amd64", "arm64"]);
        let err = parse_sources_file("Types: deb\nURIs: http://x\n", "d.sources")
            .unwrap_err()
            .to_string();
        assert!(err.contains("d.sources") && err.contains("Suites"), "{err}");
    }

    #[test]
    fn one_line() {
        let text = "# comment\ndeb [arch=amd64,i386 signed-by=/k.gpg] http://x/debian bookworm main contrib # tail\n\
                    deb-src http://y stable main\ndeb http://z ./\n";
        let e = parse_sources_file(text, "s.list").unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].architectures, ["amd64", "i386"]);
        assert_eq!(e[0].signed_by.as_deref(), Some("/k.gpg"));
        assert_eq!(e[0].components, ["main", "contrib"]);
        assert_eq!(e[0].line, 2);
        assert_eq!(e[1].types, ["deb-src"]);
        assert!(e[2].components.is_empty());
        for (bad, what) in [
            ("deb [arch=amd64 http://x s main\n", "not closed"),
            ("deb http://x bookworm\n", "component"),
            ("deb http://x\n", "suite"),
            ("deb [trusted] http://x s main\n", "name=value"),
        ] {
            let err = parse_sources_file(bad, "s.list").unwrap_err().to_string();
            assert!(err.contains(what) && err.contains("line 1"), "{bad}: {err}");
        }
    }
}
