//! Structured edits ("overlays") on a [`Spec`]. Every edit either changes the spec or fails
//! with an [`EditError`] saying what was expected; none is ever a silent no-op.

use std::ops::Range;

use regex::{NoExpand, Regex};

use crate::conds::CondMap;
use crate::lines::{content, ending, split_physical};
use crate::spec::{Kind, Spec};
use crate::syntax::{self, canonical_section, split_tag_name, tag_family, valid_tag_name};
use crate::{MacroEnv, eval};

/// One structured edit of a spec.
///
/// Targets:
/// - `package` names a subpackage: `"devel"` targets sections written `%package devel` /
///   `%files devel`, `"python3-foo"` targets sections written with `-n python3-foo`; when
///   nothing matches as written, the full package name (`"foo-devel"`, expanded with a default
///   [`MacroEnv`]) is tried. `package: None` means the main package; for tag edits, the top
///   preamble.
/// - `section` is a section name with or without `%` (`"%files"`, `"build"`; `"%trigger"` is
///   `"%triggerin"`).
///
/// Tag identity: names compare case-insensitively, qualifiers included (`Requires(post)` is
/// not `Requires`), `Source` is `Source0` and `Patch` is `Patch0`. Single-valued tags (`Name`,
/// `Version`, `Release`, `Epoch`, `Summary`, `License`, `URL`, `Vendor`, `Packager`,
/// `Distribution`, `Group`, `BuildArch`, `BuildRoot`, `VCS`, `SourceLicense`, `BugURL`,
/// `AutoReq*`, `SourceN`, `PatchN`) exist when the name exists; all others (`Requires`,
/// `BuildRequires`, `Provides`...) exist when name and (whitespace-normalised) value match.
///
/// New tag lines are placed at conditional depth 0 of their preamble (after the `%endif` of
/// a block holding the anchor tag) and aligned like the nearest aligned tag above them.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Edit {
    /// Add `Tag: value` after the last tag of the preamble (at the end of the preamble when it
    /// has no tag). Fails if the tag exists or the subpackage has no `%package` section.
    AddTag {
        package: Option<String>,
        tag: String,
        value: String,
    },
    /// Like `AddTag`, but after the last tag of the same family (name without trailing digits,
    /// qualifier ignored: `Source3` joins the `Source*` tags, `Requires(post)` the `Requires`),
    /// else after the last tag, else at the end of the preamble.
    InsertTag {
        package: Option<String>,
        tag: String,
        value: String,
    },
    /// Single-valued tag: replace the value of the first one (keeping `Tag:` and its spacing as
    /// written), or add it when missing. Multi-valued tag: add `Tag: value` unless a line with
    /// that value exists already.
    SetTag {
        package: Option<String>,
        tag: String,
        value: String,
    },
    /// Replace the value of the (first) tag; fails when it is missing, and for a multi-valued
    /// tag that occurs more than once.
    UpdateTag {
        package: Option<String>,
        tag: String,
        value: String,
    },
    /// Remove every such tag line (only those with this value, when given); fails when there is
    /// none.
    RemoveTag {
        package: Option<String>,
        tag: String,
        value: Option<String>,
    },
    /// Insert lines right after a section header; without a section, at the top of the file.
    /// The section must exist exactly once.
    PrependLines {
        section: Option<String>,
        package: Option<String>,
        lines: Vec<String>,
    },
    /// Insert lines after the last content line of a section (before the blank lines,
    /// comments and wrapping `%endif`/`%if` lines that separate it from the next section);
    /// without a section, at the end of the file. The section must exist exactly once.
    AppendLines {
        section: Option<String>,
        package: Option<String>,
        lines: Vec<String>,
    },
    /// Replace every match of `regex` (regex crate syntax; use `(?m)` for line anchors) in the
    /// body of every matching section, or in the whole file without a section, by the literal
    /// `replacement` (`$1` is not expanded). Fails when nothing matches.
    SearchReplace {
        section: Option<String>,
        package: Option<String>,
        regex: String,
        replacement: String,
    },
    /// Remove every matching section (header and body). Conditional blocks inside the section
    /// go with it; `%if`/`%else`/`%endif` lines of blocks reaching outside it stay. Fails when a
    /// body line is not under the header's conditionals (the section cannot be cut cleanly).
    RemoveSection {
        section: String,
        package: Option<String>,
    },
    /// Remove every section of a subpackage (`%package`, `%description`, `%files`, scriptlets,
    /// triggers...), with the same rules as `RemoveSection`.
    RemoveSubpackage { package: String },
    /// Add a patch: appended to `%patchlist` when the spec has one (`PatchAdded { number:
    /// None }`), else as `PatchN:` with N one above the highest patch number (0 if none),
    /// after the last `Patch` tag (or `Source` tag, or tag). Fails when a patch with the same
    /// file name is listed already.
    AddPatch { filename: String },
    /// Remove `PatchN` tags and `%patchlist` entries whose file name (the `#/name` of a URL or
    /// the last path part, after macro expansion) matches the glob; `%patch` lines in `%prep`
    /// are left alone. Fails when nothing matches.
    RemovePatches { glob: String },
}

/// What an applied edit did.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Applied {
    /// The edit was applied.
    Done,
    /// A patch was added as `PatchN` (`Some(N)`) or to `%patchlist` (`None`).
    PatchAdded { number: Option<u32> },
    /// These patch file names were removed.
    PatchesRemoved(Vec<String>),
}

/// Why an edit could not be applied.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "invalid tag name `{tag}`: expected letters and digits starting with a letter, optionally followed by a qualifier such as `Requires(post)`"
    )]
    InvalidTagName { tag: String },
    #[error("invalid value for tag `{tag}`: {reason}")]
    InvalidValue { tag: String, reason: String },
    #[error(
        "unknown section `{section}`: expected a spec section name such as `%build`, `%files`, `%post` or `%changelog`"
    )]
    UnknownSection { section: String },
    #[error(
        "no subpackage `{package}`: expected a `%package {package}` or `%package -n {package}` section"
    )]
    NoSuchPackage { package: String },
    #[error(
        "subpackage `{package}` is declared by more than one `%package` section (lines {lines}); expected exactly one to edit"
    )]
    AmbiguousPackage { package: String, lines: String },
    #[error("tag `{tag}` already exists in {scope} at line {line}: `{existing}`")]
    TagExists {
        tag: String,
        scope: String,
        line: usize,
        existing: String,
    },
    #[error("tag `{tag}`{} not found in {scope}", value.as_ref().map(|v| format!(" with value `{v}`")).unwrap_or_default())]
    TagNotFound {
        tag: String,
        value: Option<String>,
        scope: String,
    },
    #[error(
        "tag `{tag}` occurs more than once in {scope} (lines {lines}); expected exactly one to update"
    )]
    AmbiguousTag {
        tag: String,
        scope: String,
        lines: String,
    },
    #[error(
        "section `{section}`{} not found{}",
        package_note(package),
        available_note(available)
    )]
    SectionNotFound {
        section: String,
        package: Option<String>,
        available: Vec<String>,
    },
    #[error(
        "section `{section}`{} occurs more than once (lines {lines}); expected exactly one",
        package_note(package)
    )]
    AmbiguousSection {
        section: String,
        package: Option<String>,
        lines: String,
    },
    #[error(
        "package `{package}` was given without a section; expected a section such as `%files` or `%description` to go with it"
    )]
    PackageWithoutSection { package: String },
    #[error("no lines to insert into {scope}; expected at least one line")]
    NoLines { scope: String },
    #[error("invalid regular expression `{regex}`: {message}")]
    InvalidRegex { regex: String, message: String },
    #[error("regular expression `{regex}` matched nothing in {scope}")]
    NoMatch { regex: String, scope: String },
    #[error(
        "cannot remove section `{section}` (line {header_line}) cleanly: line {line} (`{text}`) is not under the same conditionals as the section header"
    )]
    Interleaved {
        section: String,
        header_line: usize,
        line: usize,
        text: String,
    },
    #[error(
        "subpackage `{package}` has no sections: expected `%package`, `%description`, `%files` or scriptlet sections written with `{package}` or `-n {package}`"
    )]
    NoSuchSubpackage { package: String },
    #[error("invalid patch file name `{filename}`: {reason}")]
    InvalidPatchName { filename: String, reason: String },
    #[error("patch `{filename}` is already listed at line {line}: `{existing}`")]
    PatchExists {
        filename: String,
        line: usize,
        existing: String,
    },
    #[error("invalid glob `{glob}`: {message}")]
    InvalidGlob { glob: String, message: String },
    #[error("glob `{glob}` matched no patch; patches in the spec: {}", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    NoPatchMatched {
        glob: String,
        available: Vec<String>,
    },
}

fn package_note(package: &Option<String>) -> String {
    package
        .as_ref()
        .map(|p| format!(" of subpackage `{p}`"))
        .unwrap_or_default()
}

fn available_note(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!(" (the spec has: {})", available.join(", "))
    }
}

fn join_lines(lines: impl IntoIterator<Item = usize>) -> String {
    lines
        .into_iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Identity of a tag for the "exists" rules.
struct TagKey {
    ident: String,
    qualifier: String,
    single: bool,
}

const SINGLE_VALUED: &[&str] = &[
    "name",
    "version",
    "release",
    "epoch",
    "summary",
    "license",
    "url",
    "vendor",
    "packager",
    "distribution",
    "group",
    "buildarch",
    "buildroot",
    "vcs",
    "sourcelicense",
    "bugurl",
    "autoreq",
    "autoprov",
    "autoreqprov",
];

impl TagKey {
    fn new(name: &str) -> TagKey {
        let (ident, qualifier) = split_tag_name(name);
        let mut ident = ident.to_ascii_lowercase();
        match ident.as_str() {
            "source" | "patch" => ident.push('0'),
            "buildarchitectures" => ident = "buildarch".to_owned(),
            _ => {}
        }
        let single = SINGLE_VALUED.contains(&ident.as_str())
            || syntax::numbered(&ident, "source").is_some()
            || syntax::numbered(&ident, "patch").is_some();
        TagKey {
            ident,
            qualifier: qualifier
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase(),
            single,
        }
    }

    fn same_name(&self, other: &TagKey) -> bool {
        self.ident == other.ident && self.qualifier == other.qualifier
    }
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Visual column after `s` with tab stops every 8 columns.
fn visual_width(s: &str) -> usize {
    s.chars().fold(0, |col, c| {
        if c == '\t' {
            (col / 8 + 1) * 8
        } else {
            col + 1
        }
    })
}

/// The file name of a patch value: the `#/name` fragment of a URL, else the last path part.
pub(crate) fn file_name(value: &str) -> &str {
    let value = value.trim();
    if let Some((_, frag)) = value.rsplit_once("#/") {
        return frag;
    }
    value.rsplit('/').next().unwrap_or(value)
}

/// A resolved preamble: its items and a description for messages.
struct Preamble {
    range: Range<usize>,
    scope: String,
    /// The `%package` header item, `None` for the top preamble.
    header: Option<usize>,
}

impl Spec {
    /// Apply one edit. On error the spec is unchanged.
    pub fn apply(&mut self, edit: &Edit) -> Result<Applied, EditError> {
        let applied = match edit {
            Edit::AddTag {
                package,
                tag,
                value,
            } => self.add_tag(package.as_deref(), tag, value, false),
            Edit::InsertTag {
                package,
                tag,
                value,
            } => self.add_tag(package.as_deref(), tag, value, true),
            Edit::SetTag {
                package,
                tag,
                value,
            } => self.set_tag(package.as_deref(), tag, value, false),
            Edit::UpdateTag {
                package,
                tag,
                value,
            } => self.set_tag(package.as_deref(), tag, value, true),
            Edit::RemoveTag {
                package,
                tag,
                value,
            } => self.remove_tag(package.as_deref(), tag, value.as_deref()),
            Edit::PrependLines {
                section,
                package,
                lines,
            } => self.insert_section_lines(section.as_deref(), package.as_deref(), lines, true),
            Edit::AppendLines {
                section,
                package,
                lines,
            } => self.insert_section_lines(section.as_deref(), package.as_deref(), lines, false),
            Edit::SearchReplace {
                section,
                package,
                regex,
                replacement,
            } => self.search_replace(section.as_deref(), package.as_deref(), regex, replacement),
            Edit::RemoveSection { section, package } => {
                self.remove_section(section, package.as_deref())
            }
            Edit::RemoveSubpackage { package } => self.remove_subpackage(package),
            Edit::AddPatch { filename } => self.add_patch(filename),
            Edit::RemovePatches { glob } => self.remove_patches(glob),
        }?;
        // re-derive the structure from the edited lines
        *self = Spec::parse(&self.render());
        Ok(applied)
    }

    // ----- targets ------------------------------------------------------------------------

    fn preamble(&self, package: Option<&str>) -> Result<Preamble, EditError> {
        let Some(p) = package else {
            return Ok(Preamble {
                range: self.top_preamble(),
                scope: "the main preamble".to_owned(),
                header: None,
            });
        };
        let found = self.package_sections(p);
        match found.as_slice() {
            [] => Err(EditError::NoSuchPackage {
                package: p.to_owned(),
            }),
            [s] => {
                let sec = &self.sections[*s];
                Ok(Preamble {
                    range: sec.body(),
                    scope: format!(
                        "`{}` (line {})",
                        self.text(sec.item).trim_end(),
                        self.items[sec.item].start + 1
                    ),
                    header: Some(sec.item),
                })
            }
            many => Err(EditError::AmbiguousPackage {
                package: p.to_owned(),
                lines: join_lines(many.iter().map(|&s| self.header_line(s))),
            }),
        }
    }

    fn header_line(&self, section: usize) -> usize {
        self.items[self.sections[section].item].start + 1
    }

    fn resolve_sections(
        &self,
        section: &str,
        package: Option<&str>,
    ) -> Result<Vec<usize>, EditError> {
        let canon = canonical_section(section).ok_or_else(|| EditError::UnknownSection {
            section: section.to_owned(),
        })?;
        let found = self.find_sections(canon, package);
        if found.is_empty() {
            let available = self
                .sections
                .iter()
                .filter(|s| s.header.name == canon)
                .map(|s| format!("`{}`", self.text(s.item).trim_end()))
                .collect();
            return Err(EditError::SectionNotFound {
                section: canon.to_owned(),
                package: package.map(str::to_owned),
                available,
            });
        }
        Ok(found)
    }

    fn single_section(&self, section: &str, package: Option<&str>) -> Result<usize, EditError> {
        let found = self.resolve_sections(section, package)?;
        match found.as_slice() {
            [one] => Ok(*one),
            many => Err(EditError::AmbiguousSection {
                section: self.sections[many[0]].header.name.to_owned(),
                package: package.map(str::to_owned),
                lines: join_lines(many.iter().map(|&s| self.header_line(s))),
            }),
        }
    }

    fn section_scope(&self, s: usize) -> String {
        let sec = &self.sections[s];
        format!(
            "section `{}` (line {})",
            self.text(sec.item).trim_end(),
            self.header_line(s)
        )
    }

    // ----- placement helpers ----------------------------------------------------------------

    /// Physical line after tag item `t`, moved past the end of any conditional block (opened
    /// within `range`) that contains it; before the block when it is not closed in `range`.
    fn after_at_depth0(&self, range: &Range<usize>, t: usize) -> usize {
        let mut stack = Vec::new();
        for i in range.start..=t {
            if let Kind::Cond(kind, _) = self.items[i].kind {
                if kind.opens() {
                    stack.push(i);
                } else if !kind.is_branch() {
                    stack.pop();
                }
            }
        }
        let Some(&outer) = stack.first() else {
            return self.items[t].end;
        };
        let mut depth = stack.len();
        for j in t + 1..range.end {
            if let Kind::Cond(kind, _) = self.items[j].kind {
                if kind.opens() {
                    depth += 1;
                } else if !kind.is_branch() {
                    depth -= 1;
                    if depth == 0 {
                        return self.items[j].end;
                    }
                }
            }
        }
        self.items[outer].start
    }

    /// Physical line after the last content line of `range` (blank lines, comments and
    /// directives of blocks reaching outside the range do not count). `header` is the header
    /// item owning the range, if any.
    fn content_end(&self, header: Option<usize>, range: &Range<usize>) -> usize {
        let conds = CondMap::build(self);
        let mut last = None;
        let mut last_comment = None;
        for i in range.clone() {
            match self.items[i].kind {
                Kind::Blank => {}
                Kind::Comment => last_comment = Some(i),
                Kind::Cond(..) if conds.straddles(i, range) => {}
                _ => last = Some(i),
            }
        }
        if let Some(i) = last {
            return self.items[i].end;
        }
        if let Some(h) = header {
            return self.items[h].end;
        }
        if let Some(i) = last_comment {
            return self.items[i].end;
        }
        self.items
            .get(range.start)
            .map_or(self.lines.len(), |it| it.start)
    }

    /// Insert lines (given without endings) before physical line `at`.
    fn insert_lines(&mut self, at: usize, texts: &[String]) {
        let eol = self.eol();
        let mut new: Vec<String> = texts.iter().map(|t| format!("{t}{eol}")).collect();
        if at > 0 && at == self.lines.len() && ending(&self.lines[at - 1]).is_empty() {
            // keep "no newline at end of file"
            self.lines[at - 1].push_str(eol);
            if let Some(last) = new.last_mut() {
                last.truncate(last.len() - eol.len());
            }
        }
        self.lines.splice(at..at, new);
    }

    /// Remove the physical lines of the given items.
    fn remove_items(&mut self, items: &[usize]) {
        let mut remove = vec![false; self.lines.len()];
        for &i in items {
            for flag in &mut remove[self.items[i].start..self.items[i].end] {
                *flag = true;
            }
        }
        self.remove_physical(&remove);
    }

    fn remove_physical(&mut self, remove: &[bool]) {
        let old = std::mem::take(&mut self.lines);
        let keep_no_eol = old.last().is_some_and(|l| ending(l).is_empty());
        self.lines = old
            .into_iter()
            .zip(remove)
            .filter(|(_, r)| !**r)
            .map(|(l, _)| l)
            .collect();
        if keep_no_eol
            && remove.last() == Some(&true)
            && let Some(last) = self.lines.last_mut()
        {
            let len = content(last).len();
            last.truncate(len);
        }
    }

    /// The text before the value of tag item `i` and its padding after the colon.
    fn tag_prefix(&self, i: usize) -> Option<(&str, &str)> {
        let Kind::Tag(syn) = &self.items[i].kind else {
            return None;
        };
        let line = content(&self.lines[self.items[i].start]);
        let prefix = &line[..syn.value_start.min(line.len())];
        Some((prefix, prefix.rsplit(':').next().unwrap_or("")))
    }

    /// `Tag: value`, aligned like the nearest aligned tag line at or before `anchor` in
    /// `range` (a tag line is aligned when its value is preceded by a tab or by more than one
    /// space); with a single space when there is none.
    fn format_tag(
        &self,
        range: &Range<usize>,
        anchor: Option<usize>,
        tag: &str,
        value: &str,
    ) -> String {
        let mut out = format!("{tag}:");
        let reference = anchor.and_then(|a| {
            (range.start..=a)
                .rev()
                .filter_map(|i| self.tag_prefix(i))
                .find(|(_, pad)| pad.contains('\t') || pad.len() > 1)
        });
        match reference {
            Some((prefix, pad)) if pad.contains('\t') => {
                let target = visual_width(prefix);
                out.push('\t');
                while visual_width(&out) < target {
                    out.push('\t');
                }
            }
            Some((prefix, _)) => {
                let n = visual_width(prefix)
                    .saturating_sub(visual_width(&out))
                    .max(1);
                out.extend(std::iter::repeat_n(' ', n));
            }
            None => out.push(' '),
        }
        out.push_str(value);
        out
    }

    // ----- tag edits ------------------------------------------------------------------------

    fn tag_items(&self, range: &Range<usize>) -> impl Iterator<Item = (usize, &syntax::TagSyntax)> {
        range.clone().filter_map(|i| match &self.items[i].kind {
            Kind::Tag(t) => Some((i, t)),
            _ => None,
        })
    }

    /// Tags in `range` with the same name (and, when `value` is given, the same value).
    fn matching_tags(&self, range: &Range<usize>, key: &TagKey, value: Option<&str>) -> Vec<usize> {
        let want = value.map(normalize_ws);
        self.tag_items(range)
            .filter(|(_, t)| TagKey::new(&t.name).same_name(key))
            .filter(|(i, _)| {
                want.as_ref()
                    .is_none_or(|w| normalize_ws(&self.tag_value(*i)) == *w)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn validate_tag(tag: &str, value: Option<&str>) -> Result<(), EditError> {
        if !valid_tag_name(tag) {
            return Err(EditError::InvalidTagName {
                tag: tag.to_owned(),
            });
        }
        if value.is_some_and(|v| v.contains(['\n', '\r'])) {
            return Err(EditError::InvalidValue {
                tag: tag.to_owned(),
                reason: "a value must fit on one line".to_owned(),
            });
        }
        Ok(())
    }

    fn existing_tag(&self, range: &Range<usize>, tag: &str, value: &str) -> Option<usize> {
        let key = TagKey::new(tag);
        let by_value = (!key.single).then_some(value);
        self.matching_tags(range, &key, by_value).first().copied()
    }

    fn add_tag(
        &mut self,
        package: Option<&str>,
        tag: &str,
        value: &str,
        by_family: bool,
    ) -> Result<Applied, EditError> {
        Self::validate_tag(tag, Some(value))?;
        let pre = self.preamble(package)?;
        if let Some(i) = self.existing_tag(&pre.range, tag, value) {
            return Err(EditError::TagExists {
                tag: tag.to_owned(),
                scope: pre.scope,
                line: self.items[i].start + 1,
                existing: self.text(i).trim_end().to_owned(),
            });
        }
        self.insert_tag(&pre, tag, value, by_family);
        Ok(Applied::Done)
    }

    fn insert_tag(&mut self, pre: &Preamble, tag: &str, value: &str, by_family: bool) {
        let family = tag_family(tag);
        let anchor = if by_family {
            self.tag_items(&pre.range)
                .filter(|(_, t)| tag_family(&t.name) == family)
                .map(|(i, _)| i)
                .last()
        } else {
            None
        }
        .or_else(|| self.tag_items(&pre.range).map(|(i, _)| i).last());
        let at = match anchor {
            Some(t) => self.after_at_depth0(&pre.range, t),
            None => self.content_end(pre.header, &pre.range),
        };
        let line = self.format_tag(&pre.range, anchor, tag, value);
        self.insert_lines(at, &[line]);
    }

    fn set_tag(
        &mut self,
        package: Option<&str>,
        tag: &str,
        value: &str,
        must_exist: bool,
    ) -> Result<Applied, EditError> {
        Self::validate_tag(tag, Some(value))?;
        let pre = self.preamble(package)?;
        let key = TagKey::new(tag);
        let by_name = self.matching_tags(&pre.range, &key, None);
        if must_exist {
            match by_name.as_slice() {
                [] => {
                    return Err(EditError::TagNotFound {
                        tag: tag.to_owned(),
                        value: None,
                        scope: pre.scope,
                    });
                }
                [_, _, ..] if !key.single => {
                    return Err(EditError::AmbiguousTag {
                        tag: tag.to_owned(),
                        scope: pre.scope,
                        lines: join_lines(by_name.iter().map(|&i| self.items[i].start + 1)),
                    });
                }
                [first, ..] => self.replace_tag_value(*first, value),
            }
            return Ok(Applied::Done);
        }
        if key.single {
            match by_name.first() {
                Some(&first) => self.replace_tag_value(first, value),
                None => self.insert_tag(&pre, tag, value, false),
            }
        } else if self.existing_tag(&pre.range, tag, value).is_none() {
            // a list-valued tag is "set" once a line with this value exists
            self.insert_tag(&pre, tag, value, false);
        }
        Ok(Applied::Done)
    }

    fn replace_tag_value(&mut self, i: usize, value: &str) {
        let Kind::Tag(syn) = &self.items[i].kind else {
            return;
        };
        let item = &self.items[i];
        let first = content(&self.lines[item.start]);
        let prefix = &first[..syn.value_start.min(first.len())];
        let space = if prefix.ends_with(':') && self.tag_value(i).is_empty() {
            " "
        } else {
            ""
        };
        let eol = ending(&self.lines[item.end - 1]);
        let line = format!("{prefix}{space}{value}{eol}");
        self.lines.splice(item.start..item.end, [line]);
    }

    fn remove_tag(
        &mut self,
        package: Option<&str>,
        tag: &str,
        value: Option<&str>,
    ) -> Result<Applied, EditError> {
        Self::validate_tag(tag, value)?;
        let pre = self.preamble(package)?;
        let found = self.matching_tags(&pre.range, &TagKey::new(tag), value);
        if found.is_empty() {
            return Err(EditError::TagNotFound {
                tag: tag.to_owned(),
                value: value.map(str::to_owned),
                scope: pre.scope,
            });
        }
        self.remove_items(&found);
        Ok(Applied::Done)
    }

    // ----- line edits -----------------------------------------------------------------------

    fn insert_section_lines(
        &mut self,
        section: Option<&str>,
        package: Option<&str>,
        lines: &[String],
        prepend: bool,
    ) -> Result<Applied, EditError> {
        let texts: Vec<String> = lines
            .iter()
            .flat_map(|l| l.split('\n'))
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
            .collect();
        let at = match (section, package) {
            (None, Some(p)) => {
                return Err(EditError::PackageWithoutSection {
                    package: p.to_owned(),
                });
            }
            (None, None) => {
                if texts.is_empty() {
                    return Err(EditError::NoLines {
                        scope: "the file".to_owned(),
                    });
                }
                if prepend { 0 } else { self.lines.len() }
            }
            (Some(name), package) => {
                let s = self.single_section(name, package)?;
                if texts.is_empty() {
                    return Err(EditError::NoLines {
                        scope: self.section_scope(s),
                    });
                }
                let sec = &self.sections[s];
                if prepend {
                    self.items[sec.item].end
                } else {
                    self.content_end(Some(sec.item), &sec.body())
                }
            }
        };
        self.insert_lines(at, &texts);
        Ok(Applied::Done)
    }

    /// Physical lines of a section body.
    fn body_lines(&self, s: usize) -> Range<usize> {
        let sec = &self.sections[s];
        let start = self.items[sec.item].end;
        let end = if sec.end > sec.item + 1 {
            self.items[sec.end - 1].end
        } else {
            start
        };
        start..end
    }

    fn search_replace(
        &mut self,
        section: Option<&str>,
        package: Option<&str>,
        regex: &str,
        replacement: &str,
    ) -> Result<Applied, EditError> {
        let re = Regex::new(regex).map_err(|e| EditError::InvalidRegex {
            regex: regex.to_owned(),
            message: e.to_string(),
        })?;
        let (scopes, scope): (Vec<Range<usize>>, String) = match (section, package) {
            (None, Some(p)) => {
                return Err(EditError::PackageWithoutSection {
                    package: p.to_owned(),
                });
            }
            (None, None) => (
                std::iter::once(0..self.lines.len()).collect(),
                "the whole file".to_owned(),
            ),
            (Some(name), package) => {
                let found = self.resolve_sections(name, package)?;
                let scope = found
                    .iter()
                    .map(|&s| self.section_scope(s))
                    .collect::<Vec<_>>()
                    .join(", ");
                (found.iter().map(|&s| self.body_lines(s)).collect(), scope)
            }
        };
        let eol = self.eol();
        let mut matched = false;
        // back to front so earlier ranges stay valid
        for range in scopes.into_iter().rev() {
            let text = self.lines[range.clone()].concat();
            if !re.is_match(&text) {
                continue;
            }
            matched = true;
            let mut new = re.replace_all(&text, NoExpand(replacement)).into_owned();
            if range.end < self.lines.len() && !new.is_empty() && !new.ends_with('\n') {
                // the next section header must stay on a line of its own
                new.push_str(eol);
            }
            self.lines.splice(range, split_physical(&new));
        }
        if !matched {
            return Err(EditError::NoMatch {
                regex: regex.to_owned(),
                scope,
            });
        }
        Ok(Applied::Done)
    }

    // ----- section removal ------------------------------------------------------------------

    /// Physical lines to delete to remove the given sections, keeping conditional directives
    /// whose blocks reach outside the removed text.
    fn removal_plan(&self, secs: &[usize]) -> Result<Vec<bool>, EditError> {
        let conds = CondMap::build(self);
        let mut removed = vec![false; self.items.len()];
        for &s in secs {
            let sec = &self.sections[s];
            for flag in &mut removed[sec.item..sec.end] {
                *flag = true;
            }
        }
        for &s in secs {
            let sec = &self.sections[s];
            for i in sec.body() {
                let neutral = matches!(
                    self.items[i].kind,
                    Kind::Blank | Kind::Comment | Kind::Cond(..)
                );
                if !neutral && !conds.encloses(sec.item, i) {
                    return Err(EditError::Interleaved {
                        section: self.text(sec.item).trim_end().to_owned(),
                        header_line: self.header_line(s),
                        line: self.items[i].start + 1,
                        text: self.text(i).trim_end().to_owned(),
                    });
                }
            }
        }
        let mut keep = vec![false; self.items.len()];
        for &s in secs {
            let sec = &self.sections[s];
            for i in sec.body() {
                keep[i] = match self.items[i].kind {
                    // directives of blocks reaching outside the removed text stay
                    Kind::Cond(..) => conds
                        .group(i)
                        .is_some_and(|g| g.iter().any(|&j| !removed[j])),
                    // blank lines and comments after such a block's end are not the section's
                    Kind::Blank | Kind::Comment => !conds.encloses(sec.item, i),
                    _ => false,
                };
            }
        }
        // comments directly above the next (kept) section header stay with it
        for &s in secs {
            let sec = &self.sections[s];
            if sec.end >= self.items.len() || removed[sec.end] {
                continue;
            }
            let mut j = sec.end;
            while j > sec.item + 1 && keep[j - 1] {
                j -= 1;
            }
            while j > sec.item + 1 && self.items[j - 1].kind == Kind::Comment {
                keep[j - 1] = true;
                j -= 1;
            }
        }
        let mut lines = vec![false; self.lines.len()];
        for (i, item) in self.items.iter().enumerate() {
            if removed[i] && !keep[i] {
                for flag in &mut lines[item.start..item.end] {
                    *flag = true;
                }
            }
        }
        Ok(lines)
    }

    fn remove_section(
        &mut self,
        section: &str,
        package: Option<&str>,
    ) -> Result<Applied, EditError> {
        let found = self.resolve_sections(section, package)?;
        let plan = self.removal_plan(&found)?;
        self.remove_physical(&plan);
        Ok(Applied::Done)
    }

    fn remove_subpackage(&mut self, package: &str) -> Result<Applied, EditError> {
        let found = self.package_matches(package);
        if found.is_empty() {
            return Err(EditError::NoSuchSubpackage {
                package: package.to_owned(),
            });
        }
        let plan = self.removal_plan(&found)?;
        self.remove_physical(&plan);
        Ok(Applied::Done)
    }

    // ----- patches --------------------------------------------------------------------------

    /// Patch items (tags and `%patchlist` entries) with their expanded file names.
    fn patch_items(&self) -> Vec<(usize, String)> {
        let mut macros = eval::walk(self, &MacroEnv::default()).macros;
        (0..self.items.len())
            .filter_map(|i| {
                let raw = if self.tag_number(i, "patch").is_some() {
                    self.tag_value(i)
                } else if self.is_list_entry(i, "%patchlist") {
                    self.text(i).trim().to_owned()
                } else {
                    return None;
                };
                let expanded = macros.expand(&raw);
                Some((i, file_name(&expanded).to_owned()))
            })
            .collect()
    }

    fn add_patch(&mut self, filename: &str) -> Result<Applied, EditError> {
        let invalid = |reason: &str| EditError::InvalidPatchName {
            filename: filename.to_owned(),
            reason: reason.to_owned(),
        };
        if filename.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        if filename.contains(['\n', '\r']) {
            return Err(invalid("it must fit on one line"));
        }
        let wanted = file_name(filename);
        for (i, name) in self.patch_items() {
            if name == wanted {
                return Err(EditError::PatchExists {
                    filename: filename.to_owned(),
                    line: self.items[i].start + 1,
                    existing: self.text(i).trim_end().to_owned(),
                });
            }
        }
        let patchlist = self
            .sections
            .iter()
            .rposition(|s| s.header.name == "%patchlist");
        if let Some(s) = patchlist {
            let sec = &self.sections[s];
            let at = self.content_end(Some(sec.item), &sec.body());
            self.insert_lines(at, &[filename.to_owned()]);
            return Ok(Applied::PatchAdded { number: None });
        }
        let number = self
            .patches()
            .iter()
            .filter_map(|p| p.number)
            .max()
            .map_or(0, |n| n.saturating_add(1));
        let range = self.top_preamble();
        let last_of = |family: &str| {
            self.tag_items(&range)
                .filter(|(_, t)| {
                    tag_family(&t.name) == family && syntax::numbered(&t.name, family).is_some()
                })
                .map(|(i, _)| i)
                .last()
        };
        let anchor = last_of("patch")
            .or_else(|| last_of("source"))
            .or_else(|| self.tag_items(&range).map(|(i, _)| i).last());
        let at = match anchor {
            Some(t) => self.after_at_depth0(&range, t),
            None => self.content_end(None, &range),
        };
        let line = self.format_tag(&range, anchor, &format!("Patch{number}"), filename);
        self.insert_lines(at, &[line]);
        Ok(Applied::PatchAdded {
            number: Some(number),
        })
    }

    fn remove_patches(&mut self, glob: &str) -> Result<Applied, EditError> {
        let matcher = globset::Glob::new(glob)
            .map_err(|e| EditError::InvalidGlob {
                glob: glob.to_owned(),
                message: e.kind().to_string(),
            })?
            .compile_matcher();
        let patches = self.patch_items();
        let (hit, miss): (Vec<_>, Vec<_>) = patches
            .into_iter()
            .partition(|(_, name)| matcher.is_match(name));
        if hit.is_empty() {
            return Err(EditError::NoPatchMatched {
                glob: glob.to_owned(),
                available: miss.into_iter().map(|(_, n)| n).collect(),
            });
        }
        let items: Vec<usize> = hit.iter().map(|(i, _)| *i).collect();
        self.remove_items(&items);
        Ok(Applied::PatchesRemoved(
            hit.into_iter().map(|(_, n)| n).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_owned()
    }

    fn apply(text: &str, edit: Edit) -> Result<String, EditError> {
        let mut spec = Spec::parse(text);
        spec.apply(&edit)?;
        Ok(spec.render())
    }

    #[test]
    fn tag_identity() {
        assert!(TagKey::new("Source").same_name(&TagKey::new("source0")));
        assert!(TagKey::new("Patch").same_name(&TagKey::new("PATCH0")));
        assert!(!TagKey::new("Patch1").same_name(&TagKey::new("Patch")));
        assert!(TagKey::new("Requires(post)").same_name(&TagKey::new("requires( POST )")));
        assert!(!TagKey::new("Requires(post)").same_name(&TagKey::new("Requires")));
        assert!(TagKey::new("Url").single && TagKey::new("Source12").single);
        assert!(!TagKey::new("BuildRequires").single && !TagKey::new("Foo").single);
        assert!(TagKey::new("BuildArchitectures").same_name(&TagKey::new("BuildArch")));
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name("https://x.org/a/b.patch"), "b.patch");
        assert_eq!(
            file_name("https://x.org/c.patch#/local.patch"),
            "local.patch"
        );
        assert_eq!(file_name(" plain.patch "), "plain.patch");
    }

    #[test]
    fn alignment_follows_neighbours() {
        let add = |text: &str| {
            apply(
                text,
                Edit::AddTag {
                    package: None,
                    tag: s("Provides"),
                    value: s("p"),
                },
            )
            .unwrap()
        };
        // spaces to the same column, measured on the nearest aligned tag
        assert_eq!(
            add("Name:       a\nRequires(postun): b\n"),
            "Name:       a\nRequires(postun): b\nProvides:   p\n"
        );
        // tabs to the same tab stop
        assert_eq!(add("License:\tMIT\n"), "License:\tMIT\nProvides:\tp\n");
        assert_eq!(add("URL:\t\tx\n"), "URL:\t\tx\nProvides:\tp\n");
        // unaligned stays unaligned
        assert_eq!(
            add("Name: a\nVersion: 1\n"),
            "Name: a\nVersion: 1\nProvides: p\n"
        );
        // nothing to align with
        assert_eq!(add("# only a comment\n"), "# only a comment\nProvides: p\n");
        assert_eq!(add(""), "Provides: p\n");
    }

    #[test]
    fn depth_zero_placement() {
        let text = "Name: a\n%if 1\nBuildRequires: b\n%if 0\nBuildRequires: c\n%endif\n%endif\n\n%description\n";
        let out = apply(
            text,
            Edit::AddTag {
                package: None,
                tag: s("Requires"),
                value: s("r"),
            },
        )
        .unwrap();
        assert_eq!(
            out,
            text.replace("%endif\n%endif\n", "%endif\n%endif\nRequires: r\n")
        );
        // a block not closed within the preamble: put the tag before it
        let text = "Name: a\n%if 1\nBuildRequires: b\n%description\nx\n%endif\n";
        let out = apply(
            text,
            Edit::AddTag {
                package: None,
                tag: s("Requires"),
                value: s("r"),
            },
        )
        .unwrap();
        assert_eq!(
            out,
            "Name: a\nRequires: r\n%if 1\nBuildRequires: b\n%description\nx\n%endif\n"
        );
        // %package preamble wrapped in a conditional: depth counts from the %package body
        let text =
            "Name: a\n%description\n%if 1\n%package x\nSummary: s\n\n%description x\n%endif\n";
        let out = apply(
            text,
            Edit::InsertTag {
                package: Some(s("x")),
                tag: s("Requires"),
                value: s("r"),
            },
        )
        .unwrap();
        assert_eq!(
            out,
            text.replace("Summary: s\n", "Summary: s\nRequires: r\n")
        );
    }

    #[test]
    fn set_and_update_keep_prefix() {
        let text = "Name:foo\nRelease:\nVersion:\t1 \n";
        let out = apply(
            text,
            Edit::SetTag {
                package: None,
                tag: s("name"),
                value: s("bar"),
            },
        )
        .unwrap();
        assert_eq!(out, "Name:bar\nRelease:\nVersion:\t1 \n");
        let out = apply(
            text,
            Edit::UpdateTag {
                package: None,
                tag: s("Release"),
                value: s("2"),
            },
        )
        .unwrap();
        assert_eq!(out, "Name:foo\nRelease: 2\nVersion:\t1 \n");
        let out = apply(
            text,
            Edit::UpdateTag {
                package: None,
                tag: s("Version"),
                value: s("3"),
            },
        )
        .unwrap();
        assert_eq!(out, "Name:foo\nRelease:\nVersion:\t3\n");
    }

    #[test]
    fn search_replace_keeps_headers_on_their_own_lines() {
        let text = "Name: a\n%build\nmake\n%install\nx\n";
        let out = apply(
            text,
            Edit::SearchReplace {
                section: Some(s("build")),
                package: None,
                regex: s("make\n"),
                replacement: s("ninja"),
            },
        )
        .unwrap();
        assert_eq!(out, "Name: a\n%build\nninja\n%install\nx\n");
    }

    #[test]
    fn removal_keeps_straddling_directives() {
        let text = "Name: a\n%if 1\n%files\n/a\n%else\n%files\n/b\n%endif\n";
        let out = apply(
            text,
            Edit::RemoveSection {
                section: s("%files"),
                package: None,
            },
        );
        // both %files sections go; the directives belong to blocks reaching outside
        assert_eq!(out.unwrap(), "Name: a\n%if 1\n%else\n%endif\n");
        // a comment directly above the next header stays with it
        let text = "Name: a\n%files\n/a\n\n# devel files\n%files devel\n/d\n";
        let out = apply(
            text,
            Edit::RemoveSection {
                section: s("%files"),
                package: None,
            },
        )
        .unwrap();
        assert_eq!(out, "Name: a\n# devel files\n%files devel\n/d\n");
    }

    #[test]
    fn failed_edit_leaves_spec_untouched() {
        let mut spec = Spec::parse("Name: a\n");
        let before = spec.clone();
        assert!(
            spec.apply(&Edit::RemoveTag {
                package: None,
                tag: s("Version"),
                value: None
            })
            .is_err()
        );
        assert_eq!(spec, before);
    }
}
