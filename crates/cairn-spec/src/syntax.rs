//! Recognising what a single logical spec line is: a section header, a conditional directive,
//! a macro definition, a preamble tag, a comment, or plain text.
//!
//! Everything here works on the text of the first physical line of a logical line (plus the
//! joined logical text where a value or argument may span lines) and never allocates for the
//! common case of ordinary text.

/// Section keywords rpm knows, mapped to the canonical name used by this crate.
const SECTIONS: &[(&str, &str)] = &[
    ("package", "%package"),
    ("description", "%description"),
    ("prep", "%prep"),
    ("build", "%build"),
    ("install", "%install"),
    ("check", "%check"),
    ("clean", "%clean"),
    ("files", "%files"),
    ("changelog", "%changelog"),
    ("pre", "%pre"),
    ("post", "%post"),
    ("preun", "%preun"),
    ("postun", "%postun"),
    ("pretrans", "%pretrans"),
    ("posttrans", "%posttrans"),
    ("preuntrans", "%preuntrans"),
    ("postuntrans", "%postuntrans"),
    ("verifyscript", "%verifyscript"),
    ("trigger", "%triggerin"),
    ("triggerin", "%triggerin"),
    ("triggerprein", "%triggerprein"),
    ("triggerun", "%triggerun"),
    ("triggerpostun", "%triggerpostun"),
    ("filetrigger", "%filetriggerin"),
    ("filetriggerin", "%filetriggerin"),
    ("filetriggerun", "%filetriggerun"),
    ("filetriggerpostun", "%filetriggerpostun"),
    ("transfiletrigger", "%transfiletriggerin"),
    ("transfiletriggerin", "%transfiletriggerin"),
    ("transfiletriggerun", "%transfiletriggerun"),
    ("transfiletriggerpostun", "%transfiletriggerpostun"),
    ("sepolicy", "%sepolicy"),
    ("patchlist", "%patchlist"),
    ("sourcelist", "%sourcelist"),
    ("generate_buildrequires", "%generate_buildrequires"),
    ("conf", "%conf"),
];

/// Sections that never take a package argument.
const PACKAGELESS: &[&str] = &[
    "%prep",
    "%build",
    "%install",
    "%check",
    "%clean",
    "%changelog",
    "%patchlist",
    "%sourcelist",
    "%generate_buildrequires",
    "%conf",
];

/// Canonical section name (`"%files"`) for a user-supplied one (`"files"`, `"%Files"`,
/// `"%trigger"`); `None` when it is not a section keyword.
pub(crate) fn canonical_section(name: &str) -> Option<&'static str> {
    let name = name.trim();
    let name = name.strip_prefix('%').unwrap_or(name);
    SECTIONS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, canon)| *canon)
}

/// Whether a canonical section name can carry a package argument.
pub(crate) fn takes_package(canon: &str) -> bool {
    !PACKAGELESS.contains(&canon)
}

/// A parsed section header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// Canonical name, e.g. `"%files"`.
    pub name: &'static str,
    /// Package argument as written (`devel`, or the `-n` name).
    pub package: Option<String>,
    /// The package was given with `-n`.
    pub absolute: bool,
    /// `-l LANG` of `%description`/`%package` summaries.
    pub lang: Option<String>,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The section keyword at the start of a line (column 0, case-insensitive, followed by
/// whitespace or the end of the line).
pub(crate) fn header_keyword(line: &str) -> Option<(&'static str, usize)> {
    let rest = line.strip_prefix('%')?;
    let len = rest.bytes().take_while(|b| is_ident_byte(*b)).count();
    if len == 0 {
        return None;
    }
    match rest.as_bytes().get(len) {
        None => {}
        Some(b) if b.is_ascii_whitespace() => {}
        Some(_) => return None,
    }
    let canon = canonical_section(&rest[..len])?;
    Some((canon, len + 1))
}

/// Parse a section header. `text` is the logical line (continuations joined by `\n`).
pub(crate) fn parse_header(text: &str) -> Option<Header> {
    let (name, kw_len) = header_keyword(text)?;
    let args = &text[kw_len..];
    let mut header = Header {
        name,
        package: None,
        absolute: false,
        lang: None,
    };
    if !takes_package(name) {
        return Some(header);
    }
    let mut tokens = args
        .split(|c: char| c.is_whitespace() || c == '\\')
        .filter(|t| !t.is_empty());
    let mut suffix: Option<&str> = None;
    while let Some(tok) = tokens.next() {
        if tok == "--" {
            // trigger conditions follow
            break;
        }
        if let Some(opt) = tok.strip_prefix('-') {
            let mut chars = opt.chars();
            let Some(flag) = chars.next() else { continue };
            let attached = chars.as_str();
            let takes_value = matches!(flag, 'n' | 'f' | 'p' | 'l' | 'P');
            if !takes_value {
                continue;
            }
            let value = if attached.is_empty() {
                tokens.next()
            } else {
                Some(attached)
            };
            match (flag, value) {
                ('n', Some(v)) => {
                    header.package = Some(v.to_owned());
                    header.absolute = true;
                }
                ('l', Some(v)) => header.lang = Some(v.to_owned()),
                _ => {}
            }
        } else if name == "%description" && tok.starts_with('%') {
            // `%description %_description`: the rest is description text
            break;
        } else if suffix.is_none() {
            suffix = Some(tok);
        }
    }
    if !header.absolute {
        header.package = suffix.map(str::to_owned);
    }
    Some(header)
}

/// Conditional directives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CondKind {
    If,
    IfArch,
    IfNArch,
    IfOs,
    IfNOs,
    Elif,
    ElifArch,
    ElifNArch,
    ElifOs,
    ElifNOs,
    Else,
    Endif,
}

impl CondKind {
    pub(crate) fn opens(self) -> bool {
        matches!(
            self,
            CondKind::If | CondKind::IfArch | CondKind::IfNArch | CondKind::IfOs | CondKind::IfNOs
        )
    }

    pub(crate) fn is_branch(self) -> bool {
        matches!(
            self,
            CondKind::Elif
                | CondKind::ElifArch
                | CondKind::ElifNArch
                | CondKind::ElifOs
                | CondKind::ElifNOs
                | CondKind::Else
        )
    }
}

const CONDS: &[(&str, CondKind, bool)] = &[
    // (keyword, kind, takes an argument)
    ("ifarch", CondKind::IfArch, true),
    ("ifnarch", CondKind::IfNArch, true),
    ("ifos", CondKind::IfOs, true),
    ("ifnos", CondKind::IfNOs, true),
    ("if", CondKind::If, true),
    ("elifarch", CondKind::ElifArch, true),
    ("elifnarch", CondKind::ElifNArch, true),
    ("elifos", CondKind::ElifOs, true),
    ("elifnos", CondKind::ElifNOs, true),
    ("elif", CondKind::Elif, true),
    ("else", CondKind::Else, false),
    ("endif", CondKind::Endif, false),
];

/// A conditional directive at the start of a line (after optional blanks); returns the kind
/// and the byte offset where its argument starts.
pub(crate) fn parse_cond(line: &str) -> Option<(CondKind, usize)> {
    let trimmed = line.trim_start_matches([' ', '\t']);
    let rest = trimmed.strip_prefix('%')?;
    let offset = line.len() - rest.len();
    for (kw, kind, with_arg) in CONDS {
        let Some(after) = rest.strip_prefix(kw) else {
            continue;
        };
        let next = after.as_bytes().first().copied();
        let ok = if *with_arg {
            matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n'))
        } else {
            !next.is_some_and(|b| b.is_ascii_alphabetic())
        };
        if ok {
            return Some((*kind, offset + kw.len()));
        }
    }
    None
}

/// Lines that define or undefine macros.
pub(crate) fn is_macro_definition(line: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t']);
    let Some(rest) = trimmed.strip_prefix('%') else {
        return false;
    };
    let len = rest.bytes().take_while(|b| is_ident_byte(*b)).count();
    let word = &rest[..len];
    matches!(
        word,
        "global" | "define" | "undefine" | "bcond_with" | "bcond_without" | "bcond"
    ) && rest.as_bytes()[len..]
        .first()
        .is_none_or(|b| b.is_ascii_whitespace())
}

/// A preamble tag line `Name(qualifier): value`, starting at column 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagSyntax {
    /// Tag name as written including any qualifier, e.g. `Requires(post)`.
    pub name: String,
    /// Byte offset in the first physical line where the value starts (after the colon and
    /// any blanks).
    pub value_start: usize,
}

/// Recognise a tag line.
pub(crate) fn parse_tag(line: &str) -> Option<TagSyntax> {
    let bytes = line.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let mut i = bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if bytes.get(i) == Some(&b'(') {
        let close = line[i..].find(')')? + i;
        if line[i + 1..close].contains(['(', ':']) {
            return None;
        }
        i = close + 1;
    }
    let name_end = i;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    Some(TagSyntax {
        name: line[..name_end].to_owned(),
        value_start: i,
    })
}

/// Split a tag name into its identifier and its qualifier (without parentheses).
pub(crate) fn split_tag_name(name: &str) -> (&str, &str) {
    match name.find('(') {
        Some(open) => {
            let qual = name[open + 1..].trim_end_matches(')');
            (name[..open].trim_end(), qual)
        }
        None => (name, ""),
    }
}

/// Tag family: identifier without trailing digits, lowercased (`Source12` -> `source`).
pub(crate) fn tag_family(name: &str) -> String {
    let (ident, _) = split_tag_name(name);
    ident
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_ascii_lowercase()
}

/// The number of a `SourceN`/`PatchN` tag name: `Some(None)` for an unnumbered `Source`,
/// `Some(Some(n))` for `Source3`, `None` for other tags.
pub(crate) fn numbered(name: &str, family: &str) -> Option<Option<u32>> {
    let (ident, qual) = split_tag_name(name);
    if !qual.is_empty() || ident.len() < family.len() {
        return None;
    }
    let (head, digits) = ident.split_at(family.len());
    if !head.eq_ignore_ascii_case(family) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.is_empty() {
        Some(None)
    } else {
        digits.parse().ok().map(Some)
    }
}

/// Whether a user-supplied tag name is syntactically valid.
pub(crate) fn valid_tag_name(name: &str) -> bool {
    parse_tag(&format!("{name}: x")).is_some_and(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let h = parse_header("%files -n python3-foo -f foo.lang").unwrap();
        assert_eq!(h.name, "%files");
        assert_eq!(h.package.as_deref(), Some("python3-foo"));
        assert!(h.absolute);
        let h = parse_header("%post devel -p /sbin/ldconfig").unwrap();
        assert_eq!(h.package.as_deref(), Some("devel"));
        assert!(!h.absolute);
        let h = parse_header("%post -p <lua>").unwrap();
        assert_eq!(h.package, None);
        let h = parse_header("%triggerin -- foo < 2").unwrap();
        assert_eq!(h.name, "%triggerin");
        assert_eq!(h.package, None);
        let h = parse_header("%trigger libs -- bar").unwrap();
        assert_eq!(h.name, "%triggerin");
        assert_eq!(h.package.as_deref(), Some("libs"));
        let h = parse_header("%description -l de").unwrap();
        assert_eq!((h.package, h.lang.as_deref()), (None, Some("de")));
        let h = parse_header("%Files\tdevel").unwrap();
        assert_eq!(h.package.as_deref(), Some("devel"));
        assert!(parse_header("%filesx").is_none());
        assert!(parse_header(" %files").is_none());
        assert!(parse_header("%{files}").is_none());
        assert!(parse_header("%global x").is_none());
        let h = parse_header("%build foo").unwrap();
        assert_eq!(h.package, None);
        let h = parse_header("%description %_description").unwrap();
        assert_eq!(h.package, None);
        let h = parse_header("%description -n python3-x %_description").unwrap();
        assert_eq!(h.package.as_deref(), Some("python3-x"));
        let h = parse_header("%package -nfoo").unwrap();
        assert_eq!(h.package.as_deref(), Some("foo"));
    }

    #[test]
    fn conds() {
        assert_eq!(parse_cond("%if 1"), Some((CondKind::If, 3)));
        assert_eq!(parse_cond("  %ifarch x86_64"), Some((CondKind::IfArch, 9)));
        assert_eq!(parse_cond("%endif # x"), Some((CondKind::Endif, 6)));
        assert_eq!(parse_cond("%else"), Some((CondKind::Else, 5)));
        assert_eq!(parse_cond("%if"), Some((CondKind::If, 3)));
        assert_eq!(parse_cond("%elif 0"), Some((CondKind::Elif, 5)));
        assert_eq!(parse_cond("%ifx"), None);
        assert_eq!(parse_cond("%endiff"), None);
        assert_eq!(parse_cond("%{if}"), None);
        assert_eq!(parse_cond("# %if"), None);
    }

    #[test]
    fn tags() {
        let t = parse_tag("Requires(post):  systemd").unwrap();
        assert_eq!(t.name, "Requires(post)");
        assert_eq!(t.value_start, 17);
        let t = parse_tag("Name\t:\tfoo").unwrap();
        assert_eq!(t.name, "Name");
        assert_eq!(t.value_start, 7);
        assert!(parse_tag(" Name: x").is_none());
        assert!(parse_tag("%global x: y").is_none());
        assert!(parse_tag("Name x").is_none());
        assert!(parse_tag("Source0:").is_some());
        assert_eq!(tag_family("Source12"), "source");
        assert_eq!(tag_family("Requires(post)"), "requires");
        assert_eq!(numbered("Patch", "patch"), Some(None));
        assert_eq!(numbered("patch12", "patch"), Some(Some(12)));
        assert_eq!(numbered("PatchList", "patch"), None);
        assert_eq!(numbered("SourceLicense", "source"), None);
        assert!(valid_tag_name("Requires(pre)"));
        assert!(!valid_tag_name("Requires post"));
        assert!(!valid_tag_name("1abc"));
        assert!(is_macro_definition("%global foo 1"));
        assert!(is_macro_definition("  %define foo(a) 1"));
        assert!(!is_macro_definition("%globalx"));
        assert!(!is_macro_definition("%{global foo}"));
    }
}
