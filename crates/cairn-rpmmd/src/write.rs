//! rpm-md metadata writers: `primary.xml`, `filelists.xml` and `other.xml` entries for one
//! [`RpmRecord`], the documents around them, and `repomd.xml`, formatted byte for byte the
//! way createrepo_c 0.17 writes them.
//!
//! Entries are plain `String`s so that a publisher can cache the three entries of every
//! package (keyed by its checksum) and rebuild a document for thousands of packages by
//! concatenation: [`document`], or [`document_header`] + entries + [`MetaKind::footer`] when
//! streaming into a compressor.
//!
//! Text and attribute values are escaped; characters XML 1.0 does not allow (C0 controls other
//! than tab, line feed and carriage return, and U+FFFE/U+FFFF) are dropped. createrepo_c
//! refuses such packages instead; dropping keeps a publisher working and the output valid.
//!
//! What createrepo_c leaves out of `<rpm:requires>` ([`primary_requires`]):
//! - `rpmlib(...)` requires;
//! - requires on a path the package owns itself, if the path is one primary lists
//!   ([`is_primary_file`]);
//! - requires equal (name, flags, version) to one of the package's own provides;
//! - a require equal (flags, version, `pre`) to the previous kept require of the same name;
//! - of all `libc.so.6...` requires only the highest `GLIBC_x.y` one is kept, moved to the end.

use crate::record::{RpmChangelog, RpmDep, RpmFile, RpmFileKind, RpmRecord};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Namespace of `primary.xml` (also the default namespace of its `<package>` entries).
pub const NS_COMMON: &str = "http://linux.duke.edu/metadata/common";
/// The `rpm:` namespace.
pub const NS_RPM: &str = "http://linux.duke.edu/metadata/rpm";
/// Namespace of `filelists.xml`.
pub const NS_FILELISTS: &str = "http://linux.duke.edu/metadata/filelists";
/// Namespace of `other.xml`.
pub const NS_OTHER: &str = "http://linux.duke.edu/metadata/other";
/// Namespace of `repomd.xml`.
pub const NS_REPO: &str = "http://linux.duke.edu/metadata/repo";

/// How many changelog entries createrepo_c keeps per package by default.
pub const DEFAULT_CHANGELOG_LIMIT: usize = 10;

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Which per-package document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaKind {
    Primary,
    Filelists,
    Other,
}

impl MetaKind {
    /// The `repomd.xml` data type: `primary`, `filelists`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetaKind::Primary => "primary",
            MetaKind::Filelists => "filelists",
            MetaKind::Other => "other",
        }
    }

    /// Root element name: `metadata`, `filelists`, `otherdata`.
    pub fn root(self) -> &'static str {
        match self {
            MetaKind::Primary => "metadata",
            MetaKind::Filelists => "filelists",
            MetaKind::Other => "otherdata",
        }
    }

    /// The closing root tag, without a trailing newline (createrepo_c writes none).
    pub fn footer(self) -> &'static str {
        match self {
            MetaKind::Primary => "</metadata>",
            MetaKind::Filelists => "</filelists>",
            MetaKind::Other => "</otherdata>",
        }
    }
}

/// The XML declaration and opening root tag of a document declaring `count` packages,
/// ending in a newline. Entries follow, then [`MetaKind::footer`].
pub fn document_header(kind: MetaKind, count: usize) -> String {
    let ns = match kind {
        MetaKind::Primary => {
            format!("xmlns=\"{NS_COMMON}\" xmlns:rpm=\"{NS_RPM}\"")
        }
        MetaKind::Filelists => format!("xmlns=\"{NS_FILELISTS}\""),
        MetaKind::Other => format!("xmlns=\"{NS_OTHER}\""),
    };
    format!("{XML_DECL}<{} {ns} packages=\"{count}\">\n", kind.root())
}

/// A whole document: header declaring `count` packages, the entries as given (each ends in
/// a newline, as the entry writers produce them), footer. `count` must equal the number of
/// entries; the parsers of this crate refuse a document where it does not.
pub fn document<'a>(
    kind: MetaKind,
    count: usize,
    entries: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut out = document_header(kind, count);
    let entries = entries.into_iter();
    // a rough guess that avoids most regrowth for large repositories
    out.reserve(entries.size_hint().0.saturating_mul(1024));
    for e in entries {
        out.push_str(e);
    }
    out.push_str(kind.footer());
    out
}

/// The three entries of one package, ready to cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageEntries {
    pub primary: String,
    pub filelists: String,
    pub other: String,
}

impl PackageEntries {
    /// Write all three entries of `r`, keeping at most `max_changelogs` changelog entries.
    pub fn new(r: &RpmRecord, max_changelogs: usize) -> Self {
        let mut primary = String::with_capacity(2048);
        primary_entry(r, &mut primary);
        let mut filelists = String::with_capacity(256 + r.files.len() * 64);
        filelists_entry(r, &mut filelists);
        let mut other = String::with_capacity(512);
        other_entry_with(r, max_changelogs, &mut other);
        PackageEntries {
            primary,
            filelists,
            other,
        }
    }

    /// The entry for one document kind.
    pub fn get(&self, kind: MetaKind) -> &str {
        match kind {
            MetaKind::Primary => &self.primary,
            MetaKind::Filelists => &self.filelists,
            MetaKind::Other => &self.other,
        }
    }
}

/// Append the `primary.xml` `<package>` element of `r` (ending in a newline).
pub fn primary_entry(r: &RpmRecord, out: &mut String) {
    out.push_str("<package type=\"rpm\">\n");
    text_elem(out, 2, "name", &r.name);
    text_elem(out, 2, "arch", &r.arch);
    version_elem(out, r);
    out.push_str("  <checksum type=\"");
    escape_attr(&r.checksum_type, out);
    out.push_str("\" pkgid=\"YES\">");
    escape_text(&r.checksum, out);
    out.push_str("</checksum>\n");
    text_elem(out, 2, "summary", &r.summary);
    text_elem(out, 2, "description", &r.description);
    text_elem(out, 2, "packager", &r.packager);
    text_elem(out, 2, "url", &r.url);
    let _ = writeln!(
        out,
        "  <time file=\"{}\" build=\"{}\"/>",
        r.time_file, r.time_build
    );
    let _ = writeln!(
        out,
        "  <size package=\"{}\" installed=\"{}\" archive=\"{}\"/>",
        r.size_package, r.size_installed, r.size_archive
    );
    out.push_str("  <location href=\"");
    escape_attr(&r.location, out);
    out.push_str("\"/>\n");
    out.push_str("  <format>\n");
    text_elem(out, 4, "rpm:license", &r.license);
    text_elem(out, 4, "rpm:vendor", &r.vendor);
    text_elem(out, 4, "rpm:group", &r.group);
    text_elem(out, 4, "rpm:buildhost", &r.buildhost);
    text_elem(out, 4, "rpm:sourcerpm", &r.sourcerpm);
    let _ = writeln!(
        out,
        "    <rpm:header-range start=\"{}\" end=\"{}\"/>",
        r.header_start, r.header_end
    );
    // createrepo_c's order: requires come after provides, weak deps after obsoletes
    dep_list(out, "provides", r.provides.iter(), false);
    dep_list(out, "requires", primary_requires(r).into_iter(), true);
    dep_list(out, "conflicts", r.conflicts.iter(), false);
    dep_list(out, "obsoletes", r.obsoletes.iter(), false);
    dep_list(out, "suggests", r.suggests.iter(), false);
    dep_list(out, "enhances", r.enhances.iter(), false);
    dep_list(out, "recommends", r.recommends.iter(), false);
    dep_list(out, "supplements", r.supplements.iter(), false);
    for f in r.files.iter().filter(|f| is_primary_file(&f.path)) {
        file_elem(out, 4, f);
    }
    out.push_str("  </format>\n</package>\n");
}

/// Append the `filelists.xml` `<package>` element of `r`: every file, directory and ghost.
pub fn filelists_entry(r: &RpmRecord, out: &mut String) {
    pkgid_open(out, r);
    for f in &r.files {
        file_elem(out, 2, f);
    }
    out.push_str("</package>\n");
}

/// Append the `other.xml` `<package>` element of `r` with the newest
/// [`DEFAULT_CHANGELOG_LIMIT`] changelog entries.
pub fn other_entry(r: &RpmRecord, out: &mut String) {
    other_entry_with(r, DEFAULT_CHANGELOG_LIMIT, out);
}

/// [`other_entry`] keeping the newest `max_changelogs` entries (`usize::MAX`: all).
///
/// Like createrepo_c, entries are written oldest first, trailing spaces are cut from
/// authors, and when entries share a date the newer ones are moved one second later each
/// so that their order survives a sort by date.
pub fn other_entry_with(r: &RpmRecord, max_changelogs: usize, out: &mut String) {
    pkgid_open(out, r);
    for (c, date) in changelog_dates(&r.changelogs, max_changelogs)
        .into_iter()
        .rev()
    {
        out.push_str("  <changelog author=\"");
        escape_attr(trim_author(&c.author), out);
        let _ = write!(out, "\" date=\"{date}\">");
        escape_text(&c.text, out);
        out.push_str("</changelog>\n");
    }
    out.push_str("</package>\n");
}

/// The newest `max` entries in header order (newest first) with createrepo_c's dates.
fn changelog_dates(all: &[RpmChangelog], max: usize) -> Vec<(&RpmChangelog, u64)> {
    let mut kept: Vec<(&RpmChangelog, u64)> = all.iter().take(max).map(|c| (c, c.date)).collect();
    let mut last_time = 0u64;
    for i in 0..kept.len() {
        let time = kept[i].0.date;
        if time != last_time {
            last_time = time;
            continue;
        }
        // Walk back over the newer entries read before this one while they carry the
        // (already bumped) date being pushed forward.
        for (t, j) in (time..).zip((0..i).rev()) {
            if kept[j].1 != t {
                break;
            }
            kept[j].1 += 1;
        }
    }
    kept
}

/// createrepo_c cuts trailing spaces from an author but never its first character.
fn trim_author(a: &str) -> &str {
    let t = a.trim_end_matches(' ');
    if t.is_empty() && !a.is_empty() {
        &a[..1]
    } else {
        t
    }
}

fn pkgid_open(out: &mut String, r: &RpmRecord) {
    out.push_str("<package pkgid=\"");
    escape_attr(&r.checksum, out);
    out.push_str("\" name=\"");
    escape_attr(&r.name, out);
    out.push_str("\" arch=\"");
    escape_attr(&r.arch, out);
    out.push_str("\">\n");
    version_elem(out, r);
}

fn version_elem(out: &mut String, r: &RpmRecord) {
    let _ = write!(out, "  <version epoch=\"{}\" ver=\"", r.epoch);
    escape_attr(&r.version, out);
    out.push_str("\" rel=\"");
    escape_attr(&r.release, out);
    out.push_str("\"/>\n");
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn text_elem(out: &mut String, ind: usize, name: &str, text: &str) {
    indent(out, ind);
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_text(text, out);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn file_elem(out: &mut String, ind: usize, f: &RpmFile) {
    indent(out, ind);
    out.push_str(match f.kind {
        RpmFileKind::File => "<file>",
        RpmFileKind::Dir => "<file type=\"dir\">",
        RpmFileKind::Ghost => "<file type=\"ghost\">",
    });
    escape_text(&f.path, out);
    out.push_str("</file>\n");
}

fn dep_list<'a>(
    out: &mut String,
    section: &str,
    deps: impl ExactSizeIterator<Item = &'a RpmDep>,
    requires: bool,
) {
    if deps.len() == 0 {
        return;
    }
    let start = out.len();
    let _ = writeln!(out, "    <rpm:{section}>");
    let mut any = false;
    for d in deps.filter(|d| !d.name.is_empty()) {
        any = true;
        out.push_str("      <rpm:entry name=\"");
        escape_attr(&d.name, out);
        out.push('"');
        if let Some(flags) = d.flags.as_deref().filter(|f| !f.is_empty()) {
            attr(out, "flags", flags);
            for (k, v) in [
                ("epoch", &d.epoch),
                ("ver", &d.version),
                ("rel", &d.release),
            ] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    attr(out, k, v);
                }
            }
        }
        if requires && d.pre {
            out.push_str(" pre=\"1\"");
        }
        out.push_str("/>\n");
    }
    if any {
        let _ = writeln!(out, "    </rpm:{section}>");
    } else {
        // createrepo_c writes the list element even when every entry was nameless
        out.truncate(start);
        let _ = writeln!(out, "    <rpm:{section}/>");
    }
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_attr(value, out);
    out.push('"');
}

/// A path createrepo_c lists in `primary.xml` (and whose self-requires it drops): under
/// `/etc/`, containing `bin/` anywhere, or exactly `/usr/lib/sendmail`.
pub fn is_primary_file(path: &str) -> bool {
    path.starts_with("/etc/") || path.contains("bin/") || path == "/usr/lib/sendmail"
}

/// The requires of `r` that `primary.xml` lists, in the order written (see the module
/// documentation for what is left out).
pub fn primary_requires(r: &RpmRecord) -> Vec<&RpmDep> {
    let mut kept: Vec<&RpmDep> = Vec::with_capacity(r.requires.len());
    let mut libc: Option<&RpmDep> = None;
    for d in &r.requires {
        if d.name.starts_with("rpmlib(") {
            continue;
        }
        if d.name.starts_with('/')
            && is_primary_file(&d.name)
            && r.files.iter().any(|f| f.path == d.name)
        {
            continue;
        }
        if r.provides.iter().any(|p| same_constraint(p, d)) {
            continue;
        }
        // the previous kept require of this name decides whether this one is a repeat
        if let Some(prev) = kept.iter().rev().find(|k| k.name == d.name)
            && same_constraint(prev, d)
            && prev.pre == d.pre
        {
            continue;
        }
        if d.name.starts_with("libc.so.6") {
            libc = match libc {
                Some(best) if libc_cmp(&best.name, &d.name) != Ordering::Less => Some(best),
                _ => Some(d),
            };
            continue;
        }
        kept.push(d);
    }
    kept.extend(libc);
    kept
}

/// Same name, flags and version (a missing epoch counts as 0 when there is a version).
fn same_constraint(a: &RpmDep, b: &RpmDep) -> bool {
    fn s(o: &Option<String>) -> &str {
        o.as_deref().unwrap_or("")
    }
    fn epoch(d: &RpmDep) -> &str {
        match d.epoch.as_deref() {
            None | Some("") if !s(&d.version).is_empty() => "0",
            e => e.unwrap_or(""),
        }
    }
    a.name == b.name
        && s(&a.flags) == s(&b.flags)
        && epoch(a) == epoch(b)
        && s(&a.version) == s(&b.version)
        && s(&a.release) == s(&b.release)
}

/// Order of two `libc.so.6...` capability names by the version in their first
/// parentheses (`libc.so.6` < `libc.so.6()` < `libc.so.6(GLIBC_2.4)` < `...(GLIBC_2.34)`),
/// as createrepo_c picks the one to keep.
fn libc_cmp(a: &str, b: &str) -> Ordering {
    /// The version text inside the first parentheses: `Err(rank)` when there is none.
    fn part(s: &str) -> Result<&str, u8> {
        let Some(open) = s.find('(') else {
            return Err(0);
        };
        let inner = &s[open + 1..];
        let Some(close) = inner.find(')') else {
            return Err(1);
        };
        let inside = &inner[..close];
        if inside.is_empty() {
            return Err(2);
        }
        match inside.find(|c: char| c.is_ascii_digit()) {
            Some(d) => Ok(&inside[d..]),
            None => Err(3),
        }
    }
    match (part(a), part(b)) {
        (Ok(x), Ok(y)) => cairn_version::rpmvercmp(x, y),
        (Err(x), Err(y)) if x == y => Ordering::Equal,
        // a missing part ranks below a present one; among missing, an earlier failure
        // ranks lower (no parentheses < no closing one < empty < no digits)
        (Err(x), Err(y)) => x.cmp(&y),
        (Err(_), Ok(_)) => Ordering::Less,
        (Ok(_), Err(_)) => Ordering::Greater,
    }
}

/// One `<data>` entry of `repomd.xml`. Checksums are sha256 hex digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoMdEntry {
    /// `primary`, `filelists`, `other`, `updateinfo`, ...
    pub kind: String,
    /// `repodata/<sha256>-primary.xml.zst`
    pub location: String,
    /// Digest of the file as stored (compressed).
    pub checksum: String,
    /// Digest of the decompressed content.
    pub open_checksum: String,
    pub size: u64,
    pub open_size: u64,
    /// Seconds since the epoch.
    pub timestamp: u64,
}

/// `repomd.xml` listing `entries` in the given order, as createrepo_c formats it.
pub fn write_repomd(revision: &str, entries: &[RepoMdEntry]) -> String {
    let mut out = String::with_capacity(256 + entries.len() * 512);
    out.push_str(XML_DECL);
    let _ = writeln!(out, "<repomd xmlns=\"{NS_REPO}\" xmlns:rpm=\"{NS_RPM}\">");
    text_elem(&mut out, 2, "revision", revision);
    for e in entries {
        out.push_str("  <data type=\"");
        escape_attr(&e.kind, &mut out);
        out.push_str("\">\n    <checksum type=\"sha256\">");
        escape_text(&e.checksum, &mut out);
        out.push_str("</checksum>\n    <open-checksum type=\"sha256\">");
        escape_text(&e.open_checksum, &mut out);
        out.push_str("</open-checksum>\n    <location href=\"");
        escape_attr(&e.location, &mut out);
        out.push_str("\"/>\n");
        let _ = writeln!(out, "    <timestamp>{}</timestamp>", e.timestamp);
        let _ = writeln!(out, "    <size>{}</size>", e.size);
        let _ = writeln!(out, "    <open-size>{}</open-size>", e.open_size);
        out.push_str("  </data>\n");
    }
    out.push_str("</repomd>\n");
    out
}

/// A character XML 1.0 does not allow in a document.
pub fn is_forbidden_xml_char(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// Whether `s` can be copied without escaping. U+FFFE/U+FFFF start with byte 0xEF.
fn plain(s: &str, attr: bool) -> bool {
    s.bytes().all(|b| {
        !(b < 0x20 || b == b'&' || b == b'<' || b == b'>' || b == 0xEF || (attr && b == b'"'))
    })
}

/// Append `s` escaped for element content: `&`, `<`, `>` as entities, carriage return as
/// `&#13;` (so it survives line-end normalisation), forbidden characters dropped.
pub fn escape_text(s: &str, out: &mut String) {
    if plain(s, false) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_forbidden_xml_char(c) => {}
            c => out.push(c),
        }
    }
}

/// Append `s` escaped for a double-quoted attribute value: as [`escape_text`], plus `"` as
/// `&quot;` and tab and line feed as character references (so attribute-value
/// normalisation does not turn them into spaces).
pub fn escape_attr(s: &str, out: &mut String) {
    if plain(s, true) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_forbidden_xml_char(c) => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str) -> RpmDep {
        RpmDep {
            name: name.into(),
            flags: None,
            epoch: None,
            version: None,
            release: None,
            pre: false,
        }
    }

    fn vdep(name: &str, flags: &str, e: &str, v: &str, r: Option<&str>) -> RpmDep {
        RpmDep {
            name: name.into(),
            flags: Some(flags.into()),
            epoch: Some(e.into()),
            version: Some(v.into()),
            release: r.map(Into::into),
            pre: false,
        }
    }

    fn record() -> RpmRecord {
        RpmRecord {
            name: "foo".into(),
            epoch: 0,
            version: "1".into(),
            release: "1".into(),
            arch: "x86_64".into(),
            checksum: "ab".repeat(32),
            checksum_type: "sha256".into(),
            summary: String::new(),
            description: String::new(),
            packager: String::new(),
            url: String::new(),
            time_file: 0,
            time_build: 0,
            size_package: 0,
            size_installed: 0,
            size_archive: 0,
            location: "foo.rpm".into(),
            license: String::new(),
            vendor: String::new(),
            group: String::new(),
            buildhost: String::new(),
            sourcerpm: String::new(),
            header_start: 0,
            header_end: 0,
            provides: vec![],
            requires: vec![],
            conflicts: vec![],
            obsoletes: vec![],
            recommends: vec![],
            suggests: vec![],
            supplements: vec![],
            enhances: vec![],
            files: vec![],
            changelogs: vec![],
        }
    }

    #[test]
    fn escaping() {
        let mut t = String::new();
        escape_text(
            "a&b<c>d\"e'\tf\ng\rh\u{1}i\u{FFFE}j\u{FFFF}k\u{FFFD}é",
            &mut t,
        );
        assert_eq!(t, "a&amp;b&lt;c&gt;d\"e'\tf\ng&#13;hijk\u{FFFD}é");
        let mut a = String::new();
        escape_attr("a&b<c>d\"e'\tf\ng\rh\u{1b}i", &mut a);
        assert_eq!(a, "a&amp;b&lt;c&gt;d&quot;e'&#9;f&#10;g&#13;hi");
        let mut p = String::new();
        escape_attr("plain ünïcode", &mut p);
        assert_eq!(p, "plain ünïcode");
    }

    #[test]
    fn primary_files() {
        for (p, want) in [
            ("/etc/foo", true),
            ("/etc", false),
            ("/usr/bin/x", true),
            ("/usr/sbin/x", true),
            ("/opt/foo/bin/", true),
            ("/usr/lib/sendmail", true),
            ("/usr/lib/sendmail.x", false),
            ("/usr/bin", false),
            ("/usr/share/binary", false),
        ] {
            assert_eq!(is_primary_file(p), want, "{p}");
        }
    }

    #[test]
    fn requires_filtering() {
        let mut r = record();
        r.files = vec![
            RpmFile {
                path: "/usr/bin/foo".into(),
                kind: RpmFileKind::File,
            },
            RpmFile {
                path: "/usr/share/foo/data".into(),
                kind: RpmFileKind::File,
            },
        ];
        r.provides = vec![
            vdep("foo", "EQ", "0", "1", Some("1")),
            vdep("cap", "EQ", "0", "2", None),
        ];
        let mut pre = dep("bar");
        pre.pre = true;
        r.requires = vec![
            vdep("rpmlib(PayloadIsZstd)", "LE", "0", "5.4.18", Some("1")),
            dep("/usr/bin/foo"),
            dep("/usr/share/foo/data"),
            dep("libc.so.6(GLIBC_2.34)(64bit)"),
            RpmDep {
                epoch: None,
                ..vdep("cap", "EQ", "0", "2", None)
            },
            dep("cap"),
            dep("bar"),
            dep("bar"),
            pre.clone(),
            pre.clone(),
            dep("bar"),
            dep("libc.so.6()(64bit)"),
            dep("libc.so.6(GLIBC_2.4)(64bit)"),
            dep("libc.so.6(GLIBC_2.35)(64bit)"),
            dep("zzz"),
        ];
        let names: Vec<String> = primary_requires(&r)
            .iter()
            .map(|d| format!("{}{}", d.name, if d.pre { "[pre]" } else { "" }))
            .collect();
        assert_eq!(
            names,
            [
                "/usr/share/foo/data",
                "cap",
                "bar",
                "bar[pre]",
                "bar",
                "zzz",
                "libc.so.6(GLIBC_2.35)(64bit)"
            ]
        );
    }

    #[test]
    fn libc_order() {
        let order = [
            "libc.so.6",
            "libc.so.6()(64bit)",
            "libc.so.6(GLIBC_2.2.5)(64bit)",
            "libc.so.6(GLIBC_2.4)",
            "libc.so.6(GLIBC_2.34)(64bit)",
        ];
        for w in order.windows(2) {
            assert_eq!(libc_cmp(w[0], w[1]), Ordering::Less, "{w:?}");
            assert_eq!(libc_cmp(w[1], w[0]), Ordering::Greater, "{w:?}");
        }
        assert_eq!(
            libc_cmp("libc.so.6(GLIBC_2.4)", "libc.so.6(GLIBC_2.4)(64bit)"),
            Ordering::Equal
        );
    }

    #[test]
    fn changelog_limit_order_and_same_dates() {
        let c = |a: &str, d: u64| RpmChangelog {
            author: a.into(),
            date: d,
            text: String::new(),
        };
        let mut r = record();
        // newest first, as in the header; three share one date
        r.changelogs = vec![
            c("e  ", 500),
            c("d", 300),
            c("c", 300),
            c("b", 300),
            c(" ", 100),
        ];
        let mut out = String::new();
        other_entry_with(&r, usize::MAX, &mut out);
        let got: Vec<&str> = out.lines().filter(|l| l.contains("changelog")).collect();
        assert_eq!(
            got,
            [
                r#"  <changelog author=" " date="100"></changelog>"#,
                r#"  <changelog author="b" date="300"></changelog>"#,
                r#"  <changelog author="c" date="301"></changelog>"#,
                r#"  <changelog author="d" date="302"></changelog>"#,
                r#"  <changelog author="e" date="500"></changelog>"#,
            ]
        );
        let mut out = String::new();
        other_entry_with(&r, 2, &mut out);
        assert!(out.contains(r#"author="d" date="300""#), "{out}");
        assert!(out.contains(r#"author="e" date="500""#), "{out}");
        assert_eq!(out.matches("<changelog").count(), 2);
        let mut none = String::new();
        other_entry_with(&r, 0, &mut none);
        assert!(!none.contains("changelog"));
    }

    #[test]
    fn nameless_entries_and_empty_lists() {
        let mut r = record();
        r.conflicts = vec![dep("")];
        r.requires = vec![dep("rpmlib(X)")];
        let mut out = String::new();
        primary_entry(&r, &mut out);
        assert!(out.contains("    <rpm:conflicts/>\n"), "{out}");
        assert!(!out.contains("requires"), "{out}");
        assert!(!out.contains("provides"), "{out}");
    }

    #[test]
    fn documents() {
        let d = document(MetaKind::Other, 2, ["a\n", "b\n"]);
        assert_eq!(
            d,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<otherdata xmlns=\"http://linux.duke.edu/metadata/other\" packages=\"2\">\na\nb\n</otherdata>"
        );
        let e = document(MetaKind::Primary, 0, std::iter::empty());
        assert!(e.ends_with("packages=\"0\">\n</metadata>"), "{e}");
        assert!(crate::parse_primary(e.as_bytes(), "t").unwrap().is_empty());
    }

    #[test]
    fn repomd_roundtrip() {
        let entries = vec![
            RepoMdEntry {
                kind: "primary".into(),
                location: format!("repodata/{}-primary.xml.zst", "1".repeat(64)),
                checksum: "1".repeat(64),
                open_checksum: "2".repeat(64),
                size: 10,
                open_size: 20,
                timestamp: 1_700_000_000,
            },
            RepoMdEntry {
                kind: "updateinfo".into(),
                location: "repodata/u&i.xml.zst".into(),
                checksum: "3".repeat(64),
                open_checksum: "4".repeat(64),
                size: 1,
                open_size: 2,
                timestamp: 3,
            },
        ];
        let xml = write_repomd("1700000000", &entries);
        let md = crate::parse_repomd(xml.as_bytes(), "t").unwrap();
        assert_eq!(md.revision.as_deref(), Some("1700000000"));
        assert_eq!(md.data.len(), 2);
        for (e, d) in entries.iter().zip(&md.data) {
            assert_eq!(d.kind, e.kind);
            assert_eq!(d.location, e.location);
            assert_eq!(d.checksum.to_string(), format!("sha256:{}", e.checksum));
            assert_eq!(
                d.open_checksum.as_ref().map(ToString::to_string),
                Some(format!("sha256:{}", e.open_checksum))
            );
            assert_eq!(
                (d.size, d.open_size, d.timestamp),
                (Some(e.size), Some(e.open_size), Some(e.timestamp))
            );
        }
    }
}
