//! The lossless spec model: physical lines plus a classification of every logical line, the
//! section list, and read-only queries (sections, tags, sources, patches).

use std::borrow::Cow;
use std::ops::Range;

use crate::lines::{content, ending, group_logical, split_physical};
use crate::syntax::{
    self, CondKind, Header, TagSyntax, canonical_section, is_macro_definition, parse_cond,
    parse_header, parse_tag,
};

/// What a logical line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Blank,
    Comment,
    /// A conditional directive and the byte offset of its argument.
    Cond(CondKind, usize),
    Header(Header),
    /// `%global`, `%define`, `%undefine`, `%bcond...`
    Def,
    /// A tag; only recognised in the top preamble and in `%package` bodies.
    Tag(TagSyntax),
    Text,
}

/// One logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// Physical line range `[start, end)`.
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// Index of the section the line belongs to (`None`: the top preamble).
    pub section: Option<usize>,
}

/// One section: header item index and the item index where the next section starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub header: Header,
    pub item: usize,
    pub end: usize,
}

impl Section {
    /// Body items (header excluded).
    pub(crate) fn body(&self) -> Range<usize> {
        self.item + 1..self.end
    }
}

/// A parsed RPM spec file that renders back byte for byte.
#[derive(Debug, Clone)]
pub struct Spec {
    pub(crate) lines: Vec<String>,
    pub(crate) items: Vec<Item>,
    pub(crate) sections: Vec<Section>,
}

impl PartialEq for Spec {
    fn eq(&self, other: &Self) -> bool {
        // everything else is derived from the lines
        self.lines == other.lines
    }
}

impl Eq for Spec {}

/// A section header, as returned by [`Spec::sections`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SectionInfo {
    /// Canonical lowercase name: `"%build"`, `"%files"`, `"%package"`, `"%triggerin"` (also for
    /// `%trigger`), `"%filetriggerin"`, `"%changelog"`...
    pub name: String,
    /// Package argument as written: `"devel"` for `%files devel`, `"bar"` for `%files -n bar`.
    pub package: Option<String>,
    /// The package was given with `-n`.
    pub absolute: bool,
    /// 1-based line of the header.
    pub line: usize,
    /// 1-based last line of the section (blank lines before the next header included).
    pub end_line: usize,
    /// The header line as written (without line ending).
    pub header: String,
}

/// A preamble tag, as returned by [`Spec::tags`] and [`Spec::sources`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TagInfo {
    /// Name as written, e.g. `"BuildRequires"`, `"Source1"`, `"Requires(post)"`.
    pub name: String,
    /// Trimmed raw (unexpanded) value.
    pub value: String,
    /// 1-based line.
    pub line: usize,
}

impl TagInfo {
    /// The number of a `SourceN`/`PatchN` tag as written (`Some(0)` for a bare `Source`).
    pub fn number(&self) -> Option<u32> {
        let family = syntax::tag_family(&self.name);
        syntax::numbered(&self.name, &family).map(|n| n.unwrap_or(0))
    }
}

/// A patch: a `PatchN` tag or a `%patchlist` entry, as returned by [`Spec::patches`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PatchInfo {
    /// The patch number rpm assigns (unnumbered `Patch:` tags are numbered after the highest
    /// number seen so far, as rpm does); `None` for `%patchlist` entries.
    pub number: Option<u32>,
    /// Trimmed raw value (a file name or URL, possibly with macros).
    pub value: String,
    /// 1-based line.
    pub line: usize,
    /// The entry is a line of `%patchlist`.
    pub in_patchlist: bool,
}

impl Spec {
    /// Parse spec text. Never fails: lines that mean nothing to this model are kept as text.
    pub fn parse(text: &str) -> Spec {
        Spec::from_lines(split_physical(text))
    }

    pub(crate) fn from_lines(lines: Vec<String>) -> Spec {
        let groups = group_logical(&lines);
        let mut items = Vec::with_capacity(groups.len());
        let mut sections: Vec<Section> = Vec::new();
        let mut in_preamble = true;
        for (start, end) in groups {
            let first = content(&lines[start]);
            let kind = if let Some(header) = syntax::header_keyword(first).and_then(|_| {
                let text = logical_text(&lines, start, end);
                parse_header(&text)
            }) {
                if let Some(last) = sections.last_mut() {
                    last.end = items.len();
                }
                in_preamble = header.name == "%package";
                sections.push(Section {
                    header: header.clone(),
                    item: items.len(),
                    end: 0,
                });
                Kind::Header(header)
            } else if first.trim().is_empty() && end - start == 1 {
                Kind::Blank
            } else if let Some((cond, offset)) = parse_cond(first) {
                Kind::Cond(cond, offset)
            } else if is_macro_definition(first) {
                Kind::Def
            } else if first.trim_start().starts_with('#') {
                Kind::Comment
            } else if let Some(tag) = in_preamble.then(|| parse_tag(first)).flatten() {
                Kind::Tag(tag)
            } else {
                Kind::Text
            };
            let section = sections.len().checked_sub(1);
            items.push(Item {
                start,
                end,
                kind,
                section,
            });
        }
        if let Some(last) = sections.last_mut() {
            last.end = items.len();
        }
        Spec {
            lines,
            items,
            sections,
        }
    }

    /// The spec text; identical to the parsed text unless an edit was applied.
    pub fn render(&self) -> String {
        self.lines.concat()
    }

    /// Number of physical lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Section headers in file order (the top preamble is not a section).
    pub fn sections(&self) -> Vec<SectionInfo> {
        self.sections
            .iter()
            .map(|s| {
                let header = &self.items[s.item];
                let last = if s.end > s.item {
                    self.items[s.end - 1].end
                } else {
                    header.end
                };
                SectionInfo {
                    name: s.header.name.to_owned(),
                    package: s.header.package.clone(),
                    absolute: s.header.absolute,
                    line: header.start + 1,
                    end_line: last,
                    header: self.text(s.item).into_owned(),
                }
            })
            .collect()
    }

    /// Whether a section exists. `section` may be given with or without `%`
    /// (`"files"`, `"%files"`); `package` follows the package matching rules of the edits
    /// (`"devel"` matches `%files devel`, `"python3-foo"` matches `%files -n python3-foo`, and a
    /// full expanded package name such as `"foo-devel"` matches either when nothing matches as
    /// written).
    pub fn has_section(&self, section: &str, package: Option<&str>) -> bool {
        let Some(canon) = canonical_section(section) else {
            return false;
        };
        !self.find_sections(canon, package).is_empty()
    }

    /// Tags of the top preamble (`None`) or of a `%package` body (`Some(pkg)`, matched like
    /// [`Spec::has_section`]). Tags inside conditionals are included. Empty when the package
    /// has no `%package` section.
    pub fn tags(&self, package: Option<&str>) -> Vec<TagInfo> {
        let range = match package {
            None => self.top_preamble(),
            Some(p) => match self.package_sections(p).first() {
                Some(&s) => self.sections[s].body(),
                None => return Vec::new(),
            },
        };
        range.filter_map(|i| self.tag_info(i)).collect()
    }

    /// `Source`/`SourceN` tags anywhere (all preambles), in file order.
    pub fn sources(&self) -> Vec<TagInfo> {
        (0..self.items.len())
            .filter(|&i| self.tag_number(i, "source").is_some())
            .filter_map(|i| self.tag_info(i))
            .collect()
    }

    /// `Patch`/`PatchN` tags (all preambles) and `%patchlist` entries, in file order.
    pub fn patches(&self) -> Vec<PatchInfo> {
        let mut next = 0u32;
        let mut out = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            if let Some(num) = self.tag_number(i, "patch") {
                let number = num.unwrap_or(next);
                next = next.max(number.saturating_add(1));
                out.push(PatchInfo {
                    number: Some(number),
                    value: self.tag_value(i),
                    line: item.start + 1,
                    in_patchlist: false,
                });
            } else if self.is_list_entry(i, "%patchlist") {
                out.push(PatchInfo {
                    number: None,
                    value: self.text(i).trim().to_owned(),
                    line: item.start + 1,
                    in_patchlist: true,
                });
            }
        }
        out
    }

    // ----- crate-internal helpers -------------------------------------------------------

    /// Joined text of logical item `i` (physical lines joined with `\n`, endings dropped).
    pub(crate) fn text(&self, i: usize) -> Cow<'_, str> {
        let item = &self.items[i];
        if item.end - item.start == 1 {
            Cow::Borrowed(content(&self.lines[item.start]))
        } else {
            Cow::Owned(logical_text(&self.lines, item.start, item.end))
        }
    }

    /// Items of the top preamble.
    pub(crate) fn top_preamble(&self) -> Range<usize> {
        0..self.sections.first().map_or(self.items.len(), |s| s.item)
    }

    pub(crate) fn tag_info(&self, i: usize) -> Option<TagInfo> {
        match &self.items[i].kind {
            Kind::Tag(t) => Some(TagInfo {
                name: t.name.clone(),
                value: self.tag_value(i),
                line: self.items[i].start + 1,
            }),
            _ => None,
        }
    }

    /// Trimmed raw value of tag item `i`.
    pub(crate) fn tag_value(&self, i: usize) -> String {
        match &self.items[i].kind {
            Kind::Tag(t) => self.text(i)[t.value_start..].trim().to_owned(),
            _ => String::new(),
        }
    }

    /// For a `SourceN`/`PatchN` tag item: its number as written.
    pub(crate) fn tag_number(&self, i: usize, family: &str) -> Option<Option<u32>> {
        match &self.items[i].kind {
            Kind::Tag(t) => syntax::numbered(&t.name, family),
            _ => None,
        }
    }

    /// Whether item `i` is an entry line of a `%patchlist`/`%sourcelist` section.
    pub(crate) fn is_list_entry(&self, i: usize, list: &str) -> bool {
        let item = &self.items[i];
        item.kind == Kind::Text
            && item
                .section
                .is_some_and(|s| self.sections[s].header.name == list)
    }

    /// Line ending used for new lines: the first one in the file, `\n` by default.
    pub(crate) fn eol(&self) -> &'static str {
        match self.lines.iter().map(|l| ending(l)).find(|e| !e.is_empty()) {
            Some("\r\n") => "\r\n",
            _ => "\n",
        }
    }

    /// Sections with the given canonical name and package, matched as written first and by
    /// full expanded package name when nothing matches as written. `%description -l LANG`
    /// sections are only considered when no untranslated one matches.
    pub(crate) fn find_sections(&self, canon: &str, package: Option<&str>) -> Vec<usize> {
        let mut found: Vec<usize> = match package {
            None => self
                .sections
                .iter()
                .enumerate()
                .filter(|(_, s)| s.header.name == canon && s.header.package.is_none())
                .map(|(i, _)| i)
                .collect(),
            Some(p) => self
                .package_matches(p)
                .into_iter()
                .filter(|&i| self.sections[i].header.name == canon)
                .collect(),
        };
        if found
            .iter()
            .any(|&i| self.sections[i].header.lang.is_none())
        {
            found.retain(|&i| self.sections[i].header.lang.is_none());
        }
        found
    }

    /// `%package` sections declaring `package`.
    pub(crate) fn package_sections(&self, package: &str) -> Vec<usize> {
        self.find_sections("%package", Some(package))
    }

    /// All sections that belong to `package` (any section name).
    pub(crate) fn package_matches(&self, package: &str) -> Vec<usize> {
        let as_written: Vec<usize> = self
            .sections
            .iter()
            .enumerate()
            .filter(|(_, s)| s.header.package.as_deref() == Some(package))
            .map(|(i, _)| i)
            .collect();
        if !as_written.is_empty() {
            return as_written;
        }
        if !self.sections.iter().any(|s| s.header.package.is_some()) {
            return Vec::new();
        }
        let walk = crate::eval::walk(self, &crate::MacroEnv::default());
        walk.full_names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_deref() == Some(package))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Physical lines `[start, end)` without endings, joined by `\n`.
pub(crate) fn logical_text(lines: &[String], start: usize, end: usize) -> String {
    let mut s = String::new();
    for (k, line) in lines[start..end].iter().enumerate() {
        if k > 0 {
            s.push('\n');
        }
        s.push_str(content(line));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "\
%global forgeurl https://example.org/x
Name:           hello
Version:        1.0
Release:        %autorelease
Summary:        Hi
License:        MIT
Source0:        hello.tar.gz
Source:         extra.txt
Patch0:         a.patch
Patch:          b.patch
Patch7:         c.patch
Patch:          d.patch
Requires(post): systemd
%if 0%{?fedora}
BuildRequires:  gcc
%endif

%description
Hello.

%package devel
Summary: Dev
Requires: %{name} = %{version}-%{release}

%description devel
Dev.

%package -n python3-hello
Summary: Py

%description -n python3-hello
Py.

%prep
%autosetup

%files
/usr/bin/hello

%files devel -f devel.list

%files -n python3-hello

%post -p /sbin/ldconfig

%triggerin -- foo
true

%changelog
%autochangelog
";

    #[test]
    fn round_trip_and_structure() {
        let spec = Spec::parse(SPEC);
        assert_eq!(spec.render(), SPEC);
        let names: Vec<_> = spec
            .sections()
            .into_iter()
            .map(|s| (s.name, s.package, s.absolute, s.line))
            .collect();
        assert_eq!(names[0], ("%description".into(), None, false, 18));
        assert_eq!(
            names[1],
            ("%package".into(), Some("devel".into()), false, 21)
        );
        assert_eq!(
            names[3],
            ("%package".into(), Some("python3-hello".into()), true, 28)
        );
        assert!(spec.has_section("files", Some("devel")));
        assert!(spec.has_section("%files", Some("python3-hello")));
        assert!(spec.has_section("%files", Some("hello-devel")));
        assert!(spec.has_section("%triggerin", None));
        assert!(!spec.has_section("%check", None));
        assert!(!spec.has_section("%bogus", None));
        let devel = spec.tags(Some("devel"));
        assert_eq!(devel.len(), 2);
        assert_eq!(devel[1].value, "%{name} = %{version}-%{release}");
        assert!(spec.tags(Some("nope")).is_empty());
        let top = spec.tags(None);
        assert_eq!(top.len(), 13);
        assert_eq!(top[12].name, "BuildRequires");
        let sources = spec.sources();
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[1].number(), Some(0));
        let patches: Vec<_> = spec.patches().into_iter().map(|p| p.number).collect();
        assert_eq!(patches, vec![Some(0), Some(1), Some(7), Some(8)]);
    }

    #[test]
    fn odd_input_round_trips() {
        for text in [
            "",
            "\n",
            "%",
            "%if\n%endif",
            "Name: x\r\n%description\r\nfoo",
            "\\\n\\",
            "%global a %{\n",
            "\r\r\n\r",
            "%package\n%files -n\n",
        ] {
            assert_eq!(Spec::parse(text).render(), text);
        }
    }

    #[test]
    fn tags_only_in_preambles() {
        let spec = Spec::parse("Name: a\n%description\nNote: not a tag\n%package x\nFoo: bar\n");
        assert_eq!(spec.tags(None).len(), 1);
        assert_eq!(spec.tags(Some("x"))[0].name, "Foo");
        assert!(
            spec.items
                .iter()
                .filter(|i| matches!(i.kind, Kind::Tag(_)))
                .count()
                == 2
        );
    }

    #[test]
    fn patchlist_entries() {
        let spec = Spec::parse(
            "Name: a\nPatch3: x.patch\n%patchlist\n# c\none.patch\n\ntwo.patch\n%prep\n",
        );
        let p = spec.patches();
        assert_eq!(p.len(), 3);
        assert!(p[1].in_patchlist && p[1].number.is_none() && p[1].value == "one.patch");
        assert_eq!(p[2].line, 7);
    }
}
