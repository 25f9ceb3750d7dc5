//! License strings as packages state them, turned into SPDX license expressions.
//!
//! Fedora's `License:` tags are mostly SPDX expressions now; older RPMs and Debian's
//! machine-readable copyright files use short names (`GPLv2+`, `GPL-2+`, `Expat`,
//! `BSD-3-clause`, `public-domain`) joined by `and`/`or`, with `with … exception` and DEP-5's
//! comma for lower precedence. [`license_to_spdx`] parses both, maps every name it knows to
//! an SPDX license list id, and turns each one it does not know into a `LicenseRef-…` that
//! remembers the stated text. Only ids both validators accept are emitted as listed ids
//! (see `spdx_ids.rs`); a `+` is never emitted (the GNU family has `-or-later` ids, anything
//! else with a `+` becomes a `LicenseRef-…`).

use crate::spdx_ids::{EXCEPTIONS, LICENSES};
use sha2::{Digest, Sha256};

/// A package's license as an SPDX license expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpdxLicense {
    expr: Option<Expr>,
    rendered: String,
    refs: Vec<LicenseRef>,
}

/// A license that is not on the SPDX license list, with the text the package stated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LicenseRef {
    /// `LicenseRef-[A-Za-z0-9.-]+`.
    pub id: String,
    /// The license as the package stated it (the part of the license string it stands for).
    pub stated: String,
}

impl SpdxLicense {
    /// The SPDX expression, or `NOASSERTION` when nothing was stated.
    pub fn expression(&self) -> &str {
        &self.rendered
    }

    /// Nothing usable was stated.
    pub fn is_no_assertion(&self) -> bool {
        self.expr.is_none()
    }

    /// The `LicenseRef-…` ids the expression uses, sorted by id, each once.
    pub fn license_refs(&self) -> &[LicenseRef] {
        &self.refs
    }

    /// The SPDX license list id when the expression is exactly one listed license.
    pub fn listed_id(&self) -> Option<&str> {
        match &self.expr {
            Some(Expr::Lic(Lic::Listed(id))) => Some(id),
            _ => None,
        }
    }

    /// The license reference when the expression is exactly one `LicenseRef-…`.
    pub fn single_ref(&self) -> Option<&LicenseRef> {
        match &self.expr {
            Some(Expr::Lic(Lic::Ref(r))) => Some(r),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lic {
    Listed(&'static str),
    Ref(LicenseRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Lic(Lic),
    With(&'static str, &'static str),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    fn render(&self) -> String {
        match self {
            Expr::Lic(Lic::Listed(id)) => (*id).to_owned(),
            Expr::Lic(Lic::Ref(r)) => r.id.clone(),
            Expr::With(l, e) => format!("{l} WITH {e}"),
            Expr::And(xs) => xs
                .iter()
                .map(|x| match x {
                    Expr::Or(_) => format!("({})", x.render()),
                    _ => x.render(),
                })
                .collect::<Vec<_>>()
                .join(" AND "),
            // AND binds tighter than OR; the parentheses are for readers.
            Expr::Or(xs) => xs
                .iter()
                .map(|x| match x {
                    Expr::And(_) => format!("({})", x.render()),
                    _ => x.render(),
                })
                .collect::<Vec<_>>()
                .join(" OR "),
        }
    }

    fn collect_refs(&self, out: &mut Vec<LicenseRef>) {
        match self {
            Expr::Lic(Lic::Ref(r)) => out.push(r.clone()),
            Expr::Lic(Lic::Listed(_)) | Expr::With(..) => {}
            Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| x.collect_refs(out)),
        }
    }
}

/// Join operands of one operator: flatten nested ones of the same kind, drop duplicates
/// (first one wins), collapse a single operand.
fn join(and: bool, parts: Vec<Expr>) -> Expr {
    let mut flat: Vec<Expr> = Vec::new();
    for p in parts {
        let inner = match (and, p) {
            (true, Expr::And(xs)) | (false, Expr::Or(xs)) => xs,
            (_, other) => vec![other],
        };
        for x in inner {
            if !flat.contains(&x) {
                flat.push(x);
            }
        }
    }
    if flat.len() == 1 {
        flat.pop().expect("one element")
    } else if and {
        Expr::And(flat)
    } else {
        Expr::Or(flat)
    }
}

/// Turn a license string as a package states it into an SPDX expression.
///
/// Valid SPDX expressions are kept (ids put in their canonical case, deprecated ids such as
/// `GPL-2.0+` replaced by `GPL-2.0-or-later`); Debian DEP-5 and Fedora short names are
/// mapped (`GPL-2+` → `GPL-2.0-or-later`, `Expat` → `MIT`, `BSD-3-clause` → `BSD-3-Clause`,
/// `ASL 2.0` → `Apache-2.0`, `GPL-3+ with autoconf exception` →
/// `GPL-3.0-or-later WITH Autoconf-exception-3.0`); every other name becomes a
/// `LicenseRef-…` recorded with its text. A string that does not parse as an expression at
/// all becomes one `LicenseRef-…` for the whole text. An empty string or `NOASSERTION`
/// gives [`SpdxLicense::is_no_assertion`].
pub fn license_to_spdx(raw: &str) -> SpdxLicense {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed == "NOASSERTION" {
        return SpdxLicense {
            expr: None,
            rendered: "NOASSERTION".to_owned(),
            refs: Vec::new(),
        };
    }
    let tokens = tokenize(trimmed);
    let expr = parse_tokens(&tokens)
        .or_else(|| recover_and(&tokens))
        .unwrap_or_else(|| Expr::Lic(Lic::Ref(make_ref(&normalize_space(trimmed)))));
    let mut refs = Vec::new();
    expr.collect_refs(&mut refs);
    refs.sort();
    refs.dedup();
    SpdxLicense {
        rendered: expr.render(),
        expr: Some(expr),
        refs,
    }
}

/// The whole token list as one expression.
fn parse_tokens(tokens: &[Tok<'_>]) -> Option<Expr> {
    let mut parser = Parser { tokens, pos: 0 };
    parser.list().filter(|_| parser.pos == tokens.len())
}

/// Error recovery for a list of `AND`-joined parts (what [`deb_copyright_licenses`]
/// returns) where one part does not parse: split at the `and`s outside parentheses and turn
/// only the parts that fail into `LicenseRef-…`s.
fn recover_and(tokens: &[Tok<'_>]) -> Option<Expr> {
    let mut parts: Vec<&[Tok<'_>]> = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.checked_sub(1)?,
            Tok::And if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    parts.push(&tokens[start..]);
    if parts.len() < 2 {
        return None;
    }
    let exprs = parts
        .into_iter()
        .map(|part| {
            parse_tokens(part).unwrap_or_else(|| {
                let inner = match part {
                    [Tok::Open, inner @ .., Tok::Close] => inner,
                    _ => part,
                };
                Expr::Lic(Lic::Ref(make_ref(&tokens_text(inner))))
            })
        })
        .collect();
    Some(join(true, exprs))
}

fn tokens_text(tokens: &[Tok<'_>]) -> String {
    let mut out = String::new();
    for t in tokens {
        let s = match t {
            Tok::Open => "(",
            Tok::Close => ")",
            Tok::Comma => ",",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::With => "with",
            Tok::Word(w) => w,
        };
        let glue = matches!(t, Tok::Close | Tok::Comma) || out.ends_with('(') || out.is_empty();
        if !glue {
            out.push(' ');
        }
        out.push_str(s);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Open,
    Close,
    Comma,
    And,
    Or,
    With,
    Word(&'a str),
}

fn word_tok(w: &str) -> Tok<'_> {
    match w.to_ascii_lowercase().as_str() {
        "and" | "&" | "&&" => Tok::And,
        "or" | "|" | "||" => Tok::Or,
        "with" => Tok::With,
        _ => Tok::Word(w),
    }
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        let special = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            _ => None,
        };
        if special.is_some() || c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push(word_tok(&s[st..i]));
            }
            if let Some(t) = special {
                out.push(t);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(word_tok(&s[st..]));
    }
    out
}

struct Parser<'t, 'a> {
    tokens: &'t [Tok<'a>],
    pos: usize,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.tokens.get(self.pos)
    }

    /// `or (',' [and|or] or)*`: DEP-5's comma binds weaker than `and`/`or`.
    fn list(&mut self) -> Option<Expr> {
        let mut acc = self.or()?;
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            let and = match self.peek() {
                Some(Tok::Or) => {
                    self.pos += 1;
                    false
                }
                Some(Tok::And) => {
                    self.pos += 1;
                    true
                }
                _ => true,
            };
            let rhs = self.or()?;
            acc = join(and, vec![acc, rhs]);
        }
        Some(acc)
    }

    fn or(&mut self) -> Option<Expr> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Some(join(false, parts))
    }

    fn and(&mut self) -> Option<Expr> {
        let mut parts = vec![self.with()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.with()?);
        }
        Some(join(true, parts))
    }

    fn words(&mut self) -> Vec<&'a str> {
        let mut ws = Vec::new();
        while let Some(Tok::Word(w)) = self.peek() {
            ws.push(*w);
            self.pos += 1;
        }
        ws
    }

    fn with(&mut self) -> Option<Expr> {
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let inner = self.list()?;
            if self.peek() != Some(&Tok::Close) {
                return None;
            }
            self.pos += 1;
            // `(…) WITH x` is not SPDX; a group followed by words is not an expression.
            return match self.peek() {
                Some(Tok::With | Tok::Word(_) | Tok::Open) => None,
                _ => Some(inner),
            };
        }
        let lic = self.words();
        if lic.is_empty() {
            return None;
        }
        let lic_text = lic.join(" ");
        if self.peek() != Some(&Tok::With) {
            return Some(Expr::Lic(map_license(&lic_text)));
        }
        self.pos += 1;
        let exc = self.words();
        if exc.is_empty() {
            return None;
        }
        let exc_text = exc.join(" ");
        let listed = match map_license(&lic_text) {
            Lic::Listed(id) => Some(id),
            Lic::Ref(_) => None,
        };
        match listed.and_then(|id| Some((id, map_exception(&exc_text, id)?))) {
            Some((l, e)) => Some(Expr::With(l, e)),
            None => Some(Expr::Lic(Lic::Ref(make_ref(&format!(
                "{lic_text} with {exc_text}"
            ))))),
        }
    }
}

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Case-insensitive lookup in a list sorted by ASCII-lowercase.
fn lookup(list: &'static [&'static str], key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    list.binary_search_by(|probe| probe.to_ascii_lowercase().cmp(&key))
        .ok()
        .map(|i| list[i])
}

/// The SPDX license list ids [`license_to_spdx`] emits as listed licenses (the ids both
/// the SPDX and the CycloneDX validators accept), sorted by ASCII-lowercase.
pub fn listed_licenses() -> &'static [&'static str] {
    LICENSES
}

/// The SPDX license exception ids [`license_to_spdx`] emits after `WITH`.
pub fn listed_exceptions() -> &'static [&'static str] {
    EXCEPTIONS
}

/// Whether `id` is on the SPDX license list as the validators know it.
pub(crate) fn is_listed_license(id: &str) -> bool {
    lookup(LICENSES, id) == Some(id)
}

fn map_license(text: &str) -> Lic {
    match listed_license(text) {
        Some(id) => Lic::Listed(id),
        None => Lic::Ref(make_ref(text)),
    }
}

/// The SPDX license list id for one license name, if cairn knows it.
fn listed_license(text: &str) -> Option<&'static str> {
    if let Some(id) = lookup(LICENSES, text) {
        return Some(id);
    }
    if let Some(id) = gnu_family(text) {
        return Some(id);
    }
    let key = text.to_ascii_lowercase();
    let alias = match key.as_str() {
        "expat" | "mit/expat" | "mit license" => "MIT",
        "asl 2.0" | "asl-2.0" | "asl2.0" | "asl 2" | "apache-2" | "apache 2.0" | "apache2"
        | "apache2.0" | "apache license 2.0" | "apache-2.0 license" => "Apache-2.0",
        "asl 1.1" | "apache 1.1" => "Apache-1.1",
        "asl 1.0" | "apache 1.0" => "Apache-1.0",
        "artistic" | "artistic-1" | "artistic 1.0" | "perl artistic" => "Artistic-1.0-Perl",
        "artistic-2" | "artistic 2.0" => "Artistic-2.0",
        "artistic clarified" => "ClArtistic",
        "bsd-2" | "bsd-2-clause-simplified" | "simplified bsd" => "BSD-2-Clause",
        "bsd-3" | "modified bsd" | "new bsd" => "BSD-3-Clause",
        "bsd-4" | "original bsd" => "BSD-4-Clause",
        "cc0" | "cc0-1" => "CC0-1.0",
        "mpl-2" | "mplv2.0" | "mplv2" | "mpl 2.0" => "MPL-2.0",
        "mpl-1.1+" => return None,
        "mplv1.1" | "mpl 1.1" => "MPL-1.1",
        "mplv1.0" | "mpl 1.0" => "MPL-1.0",
        "zplv2.1" | "zpl 2.1" => "ZPL-2.1",
        "zplv2.0" | "zpl 2.0" => "ZPL-2.0",
        "boost" => "BSL-1.0",
        "python" | "python-2" => "Python-2.0",
        "psf" | "psf-2" => "PSF-2.0",
        "openldap" => "OLDAP-2.8",
        "eplv1.0" | "epl-1" => "EPL-1.0",
        "epl-2" => "EPL-2.0",
        "ofl" | "ofl-1" => "OFL-1.1",
        _ => return None,
    };
    lookup(LICENSES, alias)
}

/// GPL/LGPL/AGPL/GFDL short names: `GPL-2+`, `GPLv2+`, `GPL 2.0+`, `LGPL-2.1`, `GPL+`,
/// `GFDL-NIV-1.3+`, deprecated `GPL-2.0+`/`GPL-2.0`.
fn gnu_family(text: &str) -> Option<&'static str> {
    let lower: String = text
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (fam, rest) = [
        ("AGPL", "agpl"),
        ("LGPL", "lgpl"),
        ("GFDL-NIV", "gfdl-niv"),
        ("GFDL", "gfdl"),
        ("GPL", "gpl"),
    ]
    .iter()
    .find_map(|(fam, p)| lower.strip_prefix(p).map(|r| (*fam, r)))?;
    let rest = rest.strip_prefix(['-', 'v']).unwrap_or(rest);
    let (ver, later) = if let Some(v) = rest.strip_suffix('+') {
        (v, true)
    } else if let Some(v) = rest.strip_suffix("-or-later") {
        (v, true)
    } else if let Some(v) = rest.strip_suffix("-only") {
        (v, false)
    } else {
        (rest, false)
    };
    let ver = match ver {
        // Fedora's old `GPL+`: any version.
        "" if later && fam == "GPL" => "1.0".to_owned(),
        "" => return None,
        v if v.bytes().all(|b| b.is_ascii_digit()) => format!("{v}.0"),
        v if v.split('.').count() == 2
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            v.to_owned()
        }
        _ => return None,
    };
    // GFDL versions are 1.1/1.2/1.3; `GFDL-1` does not exist.
    let ver = if fam.starts_with("GFDL") && ver.ends_with(".0") {
        return None;
    } else {
        ver
    };
    let suffix = if later { "or-later" } else { "only" };
    let id = match fam {
        "GFDL-NIV" => format!("GFDL-{ver}-no-invariants-{suffix}"),
        _ => format!("{fam}-{ver}-{suffix}"),
    };
    lookup(LICENSES, &id)
}

/// The SPDX exception id for the words after `with` (`OpenSSL exception`,
/// `autoconf exception`, `Classpath-exception-2.0`), given the license it modifies.
fn map_exception(text: &str, license: &str) -> Option<&'static str> {
    if let Some(id) = lookup(EXCEPTIONS, text) {
        return Some(id);
    }
    let mut key = normalize_space(&text.to_ascii_lowercase());
    if let Some(k) = key.strip_prefix("the ") {
        key = k.to_owned();
    }
    for suffix in [" exceptions", " exception", "-exception"] {
        if let Some(k) = key.strip_suffix(suffix)
            && !k.is_empty()
        {
            key = k.to_owned();
            break;
        }
    }
    let gpl3 = license.starts_with("GPL-3") || license.starts_with("AGPL-3");
    let gpl2 = license.starts_with("GPL-2");
    let id = match key.as_str() {
        "autoconf" if gpl3 => "Autoconf-exception-3.0",
        "autoconf" if gpl2 => "Autoconf-exception-2.0",
        "bison" => "Bison-exception-2.2",
        "gcc" | "gcc runtime library" | "gcc runtime" if gpl3 => "GCC-exception-3.1",
        "gcc" | "gcc runtime library" | "gcc runtime" if gpl2 => "GCC-exception-2.0",
        "libtool" => "Libtool-exception",
        "classpath" => "Classpath-exception-2.0",
        "font" => "Font-exception-2.0",
        "llvm" => "LLVM-exception",
        "linux syscall" | "linux-syscall" | "syscall" | "linux syscall note" => {
            "Linux-syscall-note"
        }
        _ => return None,
    };
    lookup(EXCEPTIONS, id)
}

/// A `LicenseRef-…` for a license name that is not on the list. A stated
/// `LicenseRef-[A-Za-z0-9.-]+` is kept as it is; anything else becomes `LicenseRef-` and the
/// lowercased name with each run of other characters turned into `-` (a name with nothing
/// usable gets a SHA-256 prefix of its text).
fn make_ref(text: &str) -> LicenseRef {
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    if let Some(rest) = text.strip_prefix("LicenseRef-")
        && valid(rest)
    {
        return LicenseRef {
            id: text.to_owned(),
            stated: text.to_owned(),
        };
    }
    let mut id = String::new();
    let mut dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            if dash && !id.is_empty() {
                id.push('-');
            }
            dash = false;
            id.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    if id.is_empty() {
        id = hex::encode(&Sha256::digest(text.as_bytes())[..6]);
    }
    LicenseRef {
        id: format!("LicenseRef-{id}"),
        stated: text.to_owned(),
    }
}

/// The licenses of a machine-readable Debian copyright file (DEP-5,
/// `https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/`): the `License:`
/// synopses of the header and of every `Files:` paragraph, each once (compared without case
/// and spacing), in file order, joined with `AND` (a synopsis with `and`/`or`/`,` in
/// parentheses). The names stay Debian's short names: pass the result to
/// [`license_to_spdx`]. `None` when the file is not machine-readable (no `Format:` naming
/// the copyright format, or not deb822 syntax) or names no license.
pub fn deb_copyright_licenses(copyright_text: &str) -> Option<String> {
    let paragraphs = cairn_deb822::parse_paragraphs(copyright_text, "debian/copyright").ok()?;
    let header = paragraphs.first()?;
    let format = header
        .get("Format")
        .or_else(|| header.get("Format-Specification"))?
        .to_ascii_lowercase();
    if !(format.contains("copyright-format") || format.contains("dep5") || format.contains("dep-5"))
    {
        return None;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for (i, p) in paragraphs.iter().enumerate() {
        if i != 0 && p.get("Files").is_none() {
            continue;
        }
        let Some(license) = p.get("License") else {
            continue;
        };
        let mut synopsis = normalize_space(license.lines().next().unwrap_or(""));
        if synopsis.is_empty() {
            continue;
        }
        if !balanced(&synopsis) {
            // Keep the text, but as words: unbalanced parentheses would swallow the rest.
            synopsis = synopsis.replace('(', "[").replace(')', "]");
        }
        let key = synopsis.to_ascii_lowercase();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let compound = synopsis.contains(',')
            || tokenize(&synopsis)
                .iter()
                .any(|t| matches!(t, Tok::And | Tok::Or));
        out.push(if compound {
            format!("({synopsis})")
        } else {
            synopsis
        });
    }
    (!out.is_empty()).then(|| out.join(" AND "))
}

fn balanced(s: &str) -> bool {
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spdx(raw: &str) -> String {
        license_to_spdx(raw).expression().to_owned()
    }

    #[test]
    fn keeps_spdx_expressions_and_fixes_case() {
        assert_eq!(spdx("MIT"), "MIT");
        assert_eq!(
            spdx("GPL-2.0-or-later AND (LGPL-2.1-only OR bsd-3-clause)"),
            "GPL-2.0-or-later AND (LGPL-2.1-only OR BSD-3-Clause)"
        );
        assert_eq!(
            spdx("GPL-2.0-only WITH Classpath-exception-2.0"),
            "GPL-2.0-only WITH Classpath-exception-2.0"
        );
        assert_eq!(spdx("((MIT))"), "MIT");
        let l = license_to_spdx("Apache-2.0");
        assert_eq!(l.listed_id(), Some("Apache-2.0"));
        assert!(l.license_refs().is_empty());
    }

    #[test]
    fn deprecated_and_short_names_map() {
        for (raw, want) in [
            ("GPL-2+", "GPL-2.0-or-later"),
            ("GPL-2", "GPL-2.0-only"),
            ("GPL-2.0+", "GPL-2.0-or-later"),
            ("GPL-2.0", "GPL-2.0-only"),
            ("GPLv3+", "GPL-3.0-or-later"),
            ("GPL+", "GPL-1.0-or-later"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"),
            ("LGPLv2", "LGPL-2.0-only"),
            ("AGPL-3+", "AGPL-3.0-or-later"),
            ("GFDL-1.3+", "GFDL-1.3-or-later"),
            ("GFDL-NIV-1.2", "GFDL-1.2-no-invariants-only"),
            ("Expat", "MIT"),
            ("BSD-3-clause", "BSD-3-Clause"),
            ("ASL 2.0", "Apache-2.0"),
            ("Artistic", "Artistic-1.0-Perl"),
            ("zlib", "Zlib"),
            ("CC0", "CC0-1.0"),
        ] {
            assert_eq!(spdx(raw), want, "{raw}");
        }
    }

    #[test]
    fn dep5_operators_commas_and_exceptions() {
        assert_eq!(
            spdx("GPL-1+ or Artistic"),
            "GPL-1.0-or-later OR Artistic-1.0-Perl"
        );
        assert_eq!(
            spdx("GPL-2+ or Artistic, and BSD-3-clause"),
            "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause"
        );
        assert_eq!(
            spdx("GPL-3+ with autoconf exception"),
            "GPL-3.0-or-later WITH Autoconf-exception-3.0"
        );
        assert_eq!(
            spdx("GPL-2+ with Bison exception and LGPL-2.1+"),
            "GPL-2.0-or-later WITH Bison-exception-2.2 AND LGPL-2.1-or-later"
        );
        assert_eq!(spdx("GPL-2+ and GPL-2.0-or-later"), "GPL-2.0-or-later");
        assert_eq!(
            spdx("MIT and (GPL-2 or GPL-3) and MIT"),
            "MIT AND (GPL-2.0-only OR GPL-3.0-only)"
        );
    }

    #[test]
    fn unknown_names_become_license_refs() {
        let l = license_to_spdx("GPL-2+ with OpenSSL exception or public-domain");
        assert_eq!(
            l.expression(),
            "LicenseRef-gpl-2-with-openssl-exception OR LicenseRef-public-domain"
        );
        assert_eq!(
            l.license_refs(),
            &[
                LicenseRef {
                    id: "LicenseRef-gpl-2-with-openssl-exception".into(),
                    stated: "GPL-2+ with OpenSSL exception".into()
                },
                LicenseRef {
                    id: "LicenseRef-public-domain".into(),
                    stated: "public-domain".into()
                },
            ]
        );
        let pd = license_to_spdx("Public Domain");
        assert_eq!(pd.single_ref().unwrap().id, "LicenseRef-public-domain");
        assert_eq!(pd.single_ref().unwrap().stated, "Public Domain");
        // Fedora's own refs stay as they are.
        assert_eq!(
            spdx("MIT AND LicenseRef-Fedora-Public-Domain"),
            "MIT AND LicenseRef-Fedora-Public-Domain"
        );
        // `+` is never emitted.
        assert_eq!(spdx("MPL-1.1+"), "LicenseRef-mpl-1.1");
        assert_eq!(spdx("(MIT"), "LicenseRef-mit");
        assert_eq!(spdx("MIT or"), "LicenseRef-mit-or");
        assert_eq!(spdx("BSD"), "LicenseRef-bsd");
        let weird = license_to_spdx("??");
        assert_eq!(weird.expression(), "LicenseRef-e270aeb347f2");
        assert_eq!(weird.license_refs()[0].stated, "??");
    }

    #[test]
    fn every_listed_id_maps_to_itself() {
        for id in LICENSES {
            let l = license_to_spdx(id);
            assert_eq!(l.listed_id(), Some(*id));
            assert_eq!(
                license_to_spdx(&id.to_ascii_lowercase()).listed_id(),
                Some(*id)
            );
        }
        for e in EXCEPTIONS {
            assert_eq!(spdx(&format!("MIT WITH {e}")), format!("MIT WITH {e}"));
        }
        assert!(
            LICENSES
                .windows(2)
                .all(|w| w[0].to_ascii_lowercase() < w[1].to_ascii_lowercase())
        );
        assert!(
            EXCEPTIONS
                .windows(2)
                .all(|w| w[0].to_ascii_lowercase() < w[1].to_ascii_lowercase())
        );
    }

    #[test]
    fn no_assertion() {
        assert!(license_to_spdx("  ").is_no_assertion());
        assert_eq!(spdx("NOASSERTION"), "NOASSERTION");
    }

    #[test]
    fn copyright_machine_readable() {
        let text = "\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: foo
Source: https://example.org/foo

Files: *
Copyright: 2000 Someone
License: GPL-2+

Files: lib/*
Copyright: 2001 Other
License: LGPL-2.1+ or
  GPL-3
Comment: wrapped synopsis is not DEP-5 but must not break us

Files: debian/*
Copyright: 2002 Debian
License: gpl-2+

Files: contrib/*
Copyright: 2003 X
License: GPL-2+ or Artistic, and BSD-3-clause

License: GPL-2+
 This program is free software...
 .
 On Debian systems, see /usr/share/common-licenses/GPL-2.

License: Unused-standalone
 text
";
        assert_eq!(
            deb_copyright_licenses(text).as_deref(),
            Some("GPL-2+ AND (LGPL-2.1+ or) AND (GPL-2+ or Artistic, and BSD-3-clause)")
        );
        // The malformed synopsis becomes a LicenseRef; the others still map.
        let l = license_to_spdx(&deb_copyright_licenses(text).unwrap());
        assert_eq!(
            l.expression(),
            "GPL-2.0-or-later AND LicenseRef-lgpl-2.1-or AND (GPL-2.0-or-later OR \
             Artistic-1.0-Perl) AND BSD-3-Clause"
        );
        assert_eq!(l.license_refs()[0].stated, "LGPL-2.1+ or");
        // Unbalanced parentheses in a synopsis do not swallow the others.
        let t = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
                 Files: *\nLicense: MIT (see below\n\nFiles: x\nLicense: Zlib\n";
        assert_eq!(
            deb_copyright_licenses(t).as_deref(),
            Some("MIT [see below AND Zlib")
        );
        assert_eq!(
            spdx("MIT [see below AND Zlib"),
            "LicenseRef-mit-see-below AND Zlib"
        );
    }

    #[test]
    fn copyright_not_machine_readable() {
        assert_eq!(
            deb_copyright_licenses("This package was debianized by Someone.\n\nIt is GPL.\n"),
            None
        );
        assert_eq!(
            deb_copyright_licenses("Format: something else\n\nFiles: *\nLicense: MIT\n"),
            None
        );
        assert_eq!(
            deb_copyright_licenses(
                "Format-Specification: http://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn?op=file&rev=135\n\nFiles: *\nLicense: MIT\n"
            )
            .as_deref(),
            Some("MIT")
        );
        assert_eq!(
            deb_copyright_licenses(
                "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
            ),
            None
        );
    }
}
