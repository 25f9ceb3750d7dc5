//! Parsing and validating one configuration or overlay file. Serde rejects unknown keys
//! and kinds (with line and column); the checks here add what the types cannot say:
//! fields each overlay kind needs, mandatory reasons and descriptions, hash shapes,
//! where `overlay-files` and snapshots may be set.

use crate::types::*;
use std::fmt;
use std::ops::Range;

/// An error in a configuration or overlay file, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct FragmentError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `components.curl.overlays[2].regex`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for FragmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// 1-based line and column of a byte offset in `text` (for spans from the TOML parser).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |n| offset - n - 1) + 1;
    (line, col)
}

struct Loc<'a> {
    file: &'a str,
    text: &'a str,
}

impl Loc<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(self.text, offset)
    }
    fn err(&self, span: Range<usize>, field: String, msg: impl Into<String>) -> FragmentError {
        let (line, column) = self.line_col(span.start);
        FragmentError {
            file: self.file.to_owned(),
            line,
            column,
            field: Some(field),
            message: msg.into(),
        }
    }
    /// Where a table header or key appears, for fields that carry no span.
    fn find(&self, needles: &[String]) -> Range<usize> {
        for n in needles {
            if let Some(i) = self.text.find(n.as_str()) {
                return i..i + n.len();
            }
        }
        0..0
    }
    fn toml_err(&self, e: toml::de::Error) -> FragmentError {
        let (line, column) = e.span().map_or((1, 1), |s| self.line_col(s.start));
        FragmentError {
            file: self.file.to_owned(),
            line,
            column,
            field: None,
            message: e.message().trim().to_owned(),
        }
    }
}

/// Where a component configuration sits; decides what it may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// `[distros.X.versions.Y.default-component-config]`
    DistroVersion,
    /// top-level `[default-component-config]`
    Project,
    /// `[component-groups.X.default-component-config]`
    Group,
    /// `[components.X]`
    Component,
}

/// Parse and validate one configuration file (`cairn.toml` keys excepted: see
/// [`validate_fragment`] for those).
pub fn parse_fragment(text: &str, file: &str) -> Result<ConfigFragment, FragmentError> {
    let loc = Loc { file, text };
    let frag: ConfigFragment = toml::from_str(text).map_err(|e| loc.toml_err(e))?;
    validate_fragment(&frag, text, file)?;
    Ok(frag)
}

/// Validate a fragment parsed as part of a larger file (`cairn.toml`); `text` is that
/// file's text, for locating errors.
pub fn validate_fragment(
    frag: &ConfigFragment,
    text: &str,
    file: &str,
) -> Result<(), FragmentError> {
    let loc = Loc { file, text };
    for (name, d) in &frag.distros {
        for (v, ver) in &d.versions {
            let field = format!("distros.{name}.versions.{v}");
            if let Some(c) = &ver.default_component_config {
                let at = loc.find(&[
                    format!("[distros.{name}.versions.'{v}'.default-component-config"),
                    format!("[distros.{name}.versions.\"{v}\".default-component-config"),
                    format!("[distros.{name}.versions.{v}.default-component-config"),
                    format!("[distros.{name}.versions.'{v}'"),
                    format!("[distros.{name}.versions.{v}"),
                ]);
                check_component(
                    &loc,
                    c,
                    &format!("{field}.default-component-config"),
                    Scope::DistroVersion,
                    at,
                )?;
            }
        }
        for (key, val) in [
            ("dist-git-base-uri", &d.dist_git_base_uri),
            ("lookaside-base-uri", &d.lookaside_base_uri),
        ] {
            if let Some(v) = val
                && v.trim().is_empty()
            {
                let at = loc.find(&[key.to_string()]);
                return Err(loc.err(
                    at,
                    format!("distros.{name}.{key}"),
                    "is empty; give a URL template or leave the key out",
                ));
            }
        }
    }
    if let Some(c) = &frag.default_component_config {
        let at = loc.find(&["default-component-config".to_owned()]);
        check_component(&loc, c, "default-component-config", Scope::Project, at)?;
    }
    for (name, g) in &frag.component_groups {
        if let Some(c) = &g.default_component_config {
            let at = loc.find(&[
                format!("[component-groups.{name}.default-component-config"),
                format!("[component-groups.{name}"),
            ]);
            check_component(
                &loc,
                c,
                &format!("component-groups.{name}.default-component-config"),
                Scope::Group,
                at,
            )?;
        }
        for m in &g.components {
            if !crate::valid_component_name(m) {
                let at = loc.find(&[format!("[component-groups.{name}")]);
                return Err(loc.err(
                    at,
                    format!("component-groups.{name}.components"),
                    format!("`{m}` is not a valid component name"),
                ));
            }
        }
    }
    for (name, c) in &frag.components {
        let field = format!("components.{name}");
        if !crate::valid_component_name(name) {
            return Err(loc.err(
                c.span(),
                field,
                "component names may only use letters, digits, `-`, `_`, `.` and `+`",
            ));
        }
        check_component(&loc, c.get_ref(), &field, Scope::Component, c.span())?;
    }
    Ok(())
}

/// Parse and validate an overlay file (`[metadata]` + `[[overlays]]`).
pub fn parse_overlay_file(text: &str, file: &str) -> Result<OverlayFile, FragmentError> {
    let loc = Loc { file, text };
    let of: OverlayFile = toml::from_str(text).map_err(|e| loc.toml_err(e))?;
    if of.overlays.is_empty() {
        return Err(loc.err(
            0..0,
            "overlays".into(),
            "an overlay file needs at least one [[overlays]] entry",
        ));
    }
    let meta_at = loc.find(&["[metadata]".to_owned()]);
    check_metadata(&loc, &of.metadata, "metadata", meta_at)?;
    for (i, o) in of.overlays.iter().enumerate() {
        let field = format!("overlays[{i}]");
        if o.get_ref().metadata.is_some() {
            return Err(loc.err(
                o.span(),
                format!("{field}.metadata"),
                "per-overlay metadata is not allowed in an overlay file; the file's [metadata] applies to all its overlays",
            ));
        }
        check_overlay(&loc, o.get_ref(), &field, o.span())?;
    }
    Ok(of)
}

fn check_component(
    loc: &Loc<'_>,
    c: &ComponentConfig,
    field: &str,
    scope: Scope,
    at: Range<usize>,
) -> Result<(), FragmentError> {
    if let Some(spec) = &c.spec {
        if let Some(commit) = &spec.upstream_commit {
            let ok =
                (7..=40).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(loc.err(
                    at,
                    format!("{field}.spec.upstream-commit"),
                    format!("`{commit}` is not a git commit id (7 to 40 hex digits)"),
                ));
            }
        }
        if spec.kind == Some(SpecSourceKind::Local)
            && spec.path.is_none()
            && scope == Scope::Component
        {
            return Err(loc.err(
                at,
                format!("{field}.spec.path"),
                "a `local` spec needs `path` (the spec file, relative to this file)",
            ));
        }
        if let Some(d) = &spec.upstream_distro
            && d.snapshot.is_some()
            && scope == Scope::Component
        {
            return Err(loc.err(
                at,
                format!("{field}.spec.upstream-distro.snapshot"),
                "snapshots are set on the distro version or a group's defaults, not per component; pin a commit with `upstream-commit` instead",
            ));
        }
    }
    if let Some(b) = &c.build {
        if let Some(ch) = &b.check
            && ch.skip == Some(true)
            && ch
                .skip_reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
        {
            return Err(loc.err(
                at,
                format!("{field}.build.check.skip_reason"),
                "skipping %check needs a reason: set `skip_reason`",
            ));
        }
        if let Some(f) = &b.failure
            && f.expected == Some(true)
            && f.expected_reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
        {
            return Err(loc.err(
                at,
                format!("{field}.build.failure.expected-reason"),
                "an expected failure needs a reason: set `expected-reason`",
            ));
        }
        for k in b.defines.keys() {
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(loc.err(
                    at,
                    format!("{field}.build.defines"),
                    format!("`{k}` is not a macro name (letters, digits, `_`)"),
                ));
            }
        }
    }
    for (i, s) in c.source_files.iter().enumerate() {
        check_source_file(loc, s, &format!("{field}.source-files[{i}]"), at.clone())?;
    }
    if let Some(files) = &c.overlay_files {
        for p in files {
            let has = p.contains("{component}");
            match scope {
                Scope::DistroVersion | Scope::Group => {
                    return Err(loc.err(
                        at,
                        format!("{field}.overlay-files"),
                        "`overlay-files` may only be set on a component or in the project's top-level default-component-config",
                    ));
                }
                Scope::Project if !has => {
                    return Err(loc.err(
                        at,
                        format!("{field}.overlay-files"),
                        format!("`{p}`: at project scope every pattern must contain `{{component}}` (e.g. `comps/{{component}}/overlays/*.overlay.toml`)"),
                    ));
                }
                Scope::Project => {
                    let seg_ok = p.split('/').any(|s| s == "{component}")
                        && p.matches("{component}").count() == 1
                        && !p.ends_with("{component}");
                    if !seg_ok {
                        return Err(loc.err(
                            at,
                            format!("{field}.overlay-files"),
                            format!("`{p}`: `{{component}}` must appear once, as a whole directory name, followed by a file pattern"),
                        ));
                    }
                }
                Scope::Component if has => {
                    return Err(loc.err(
                        at,
                        format!("{field}.overlay-files"),
                        format!("`{p}`: `{{component}}` is only allowed at project scope"),
                    ));
                }
                Scope::Component => {}
            }
        }
    }
    for (i, o) in c.overlays.iter().enumerate() {
        let f = format!("{field}.overlays[{i}]");
        check_overlay(loc, o.get_ref(), &f, o.span())?;
        if let Some(m) = &o.get_ref().metadata {
            check_metadata(loc, m, &format!("{f}.metadata"), o.span())?;
        }
    }
    Ok(())
}

fn check_source_file(
    loc: &Loc<'_>,
    s: &SourceFile,
    field: &str,
    at: Range<usize>,
) -> Result<(), FragmentError> {
    let bad = |k: &str, m: String| loc.err(at.clone(), format!("{field}.{k}"), m);
    if s.filename.is_empty() || s.filename.contains('/') || s.filename == ".." {
        return Err(bad(
            "filename",
            format!("`{}` must be a plain file name", s.filename),
        ));
    }
    match (&s.hash, s.hash_type) {
        (Some(h), Some(t)) => {
            if h.len() != t.hex_len() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(
                    "hash",
                    format!(
                        "expected {} hex digits for {}, got `{h}`",
                        t.hex_len(),
                        t.as_upper()
                    ),
                ));
            }
        }
        (Some(_), None) => {
            return Err(bad(
                "hash-type",
                "`hash` needs `hash-type` (SHA256 or SHA512)".into(),
            ));
        }
        (None, Some(_)) => return Err(bad("hash", "`hash-type` without `hash`".into())),
        (None, None) => {}
    }
    match &s.origin {
        None => return Err(bad("origin", "where does the file come from? set `origin = { type = \"download\", uri = \"…\" }` or `{ type = \"overlay\" }`".into())),
        Some(o) if o.kind == OriginKind::Download && o.uri.as_deref().is_none_or(str::is_empty) => {
            return Err(bad("origin.uri", "a `download` origin needs `uri`".into()));
        }
        Some(o) if o.kind == OriginKind::Overlay && s.hash.is_none() => {
            return Err(bad("hash", "a file produced by an overlay needs `hash` and `hash-type` to pin the result".into()));
        }
        Some(_) => {}
    }
    match (s.replace_upstream, s.replace_reason.as_deref()) {
        (Some(true), None | Some("")) => {
            return Err(bad(
                "replace-reason",
                "`replace-upstream = true` needs `replace-reason`".into(),
            ));
        }
        (None | Some(false), Some(r)) if !r.is_empty() => {
            return Err(bad(
                "replace-reason",
                "`replace-reason` is only meaningful with `replace-upstream = true`".into(),
            ));
        }
        _ => {}
    }
    Ok(())
}

fn check_metadata(
    loc: &Loc<'_>,
    m: &OverlayMetadata,
    field: &str,
    at: Range<usize>,
) -> Result<(), FragmentError> {
    for c in &m.commits {
        if !(c.starts_with("https://") || c.starts_with("http://")) {
            return Err(loc.err(
                at,
                format!("{field}.commits"),
                format!("`{c}` is not an http(s) URL"),
            ));
        }
    }
    for b in &m.bugs {
        if !(b.url.starts_with("https://") || b.url.starts_with("http://")) {
            return Err(loc.err(
                at,
                format!("{field}.bugs"),
                format!("`{}` is not an http(s) URL", b.url),
            ));
        }
    }
    Ok(())
}

fn check_overlay(
    loc: &Loc<'_>,
    o: &Overlay,
    field: &str,
    at: Range<usize>,
) -> Result<(), FragmentError> {
    let Some(kind) = o.kind else {
        return Err(loc.err(at, format!("{field}.type"), "every overlay needs `type`"));
    };
    let k = kind.as_str();
    let err = |key: &str, msg: String| loc.err(at.clone(), format!("{field}.{key}"), msg);
    if o.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
        return Err(err(
            "description",
            format!("{k}: every overlay needs a `description` saying why the change exists"),
        ));
    }
    let need = |key: &str, present: bool| -> Result<(), FragmentError> {
        if present {
            Ok(())
        } else {
            Err(err(key, format!("{k} needs `{key}`")))
        }
    };
    use OverlayKind as K;
    match kind {
        K::SpecAddTag | K::SpecInsertTag | K::SpecSetTag | K::SpecUpdateTag => {
            need("tag", o.tag.is_some())?;
            need("value", o.value.is_some())?;
        }
        K::SpecRemoveTag => need("tag", o.tag.is_some())?,
        K::SpecPrependLines | K::SpecAppendLines => {
            need("lines", o.lines.as_ref().is_some_and(|l| !l.is_empty()))?;
        }
        K::SpecSearchReplace | K::FileSearchReplace => need("regex", o.regex.is_some())?,
        K::SpecRemoveSection => need("section", o.section.is_some())?,
        K::SpecRemoveSubpackage => {
            need("package", o.package.is_some())?;
            if o.section.is_some() {
                return Err(err(
                    "section",
                    format!("{k} removes every section of the subpackage; drop `section`"),
                ));
            }
        }
        K::PatchAdd => need("source", o.source.is_some())?,
        K::PatchRemove | K::FileRemove => need("file", o.file.is_some())?,
        K::FilePrependLines => {
            need("file", o.file.is_some())?;
            need("lines", o.lines.as_ref().is_some_and(|l| !l.is_empty()))?;
        }
        K::FileAdd => {
            need("file", o.file.is_some())?;
            need("source", o.source.is_some())?;
        }
        K::FileRename => {
            need("file", o.file.is_some())?;
            need("replacement", o.replacement.is_some())?;
            if o.replacement
                .as_deref()
                .is_some_and(|r| r.contains('/') || r.is_empty())
            {
                return Err(err(
                    "replacement",
                    format!("{k}: `replacement` is the new file NAME (no `/`)"),
                ));
            }
        }
    }
    if matches!(
        kind,
        K::SpecPrependLines | K::SpecAppendLines | K::SpecSearchReplace
    ) && o.package.is_some()
        && o.section.is_none()
    {
        return Err(err(
            "package",
            format!("{k}: `package` needs `section` (a subpackage qualifies a section)"),
        ));
    }
    if o.archive.is_some() && !matches!(kind, K::FilePrependLines | K::FileSearchReplace) {
        return Err(err(
            "archive",
            format!("{k}: `archive` is only for file-prepend-lines and file-search-replace"),
        ));
    }
    if let Some(a) = &o.archive
        && (a.contains('/') || a.is_empty())
    {
        return Err(err(
            "archive",
            format!("`{a}` must be a file name beside the spec"),
        ));
    }
    if let Some(re) = &o.regex
        && let Err(e) = regex::Regex::new(re)
    {
        return Err(err(
            "regex",
            format!("`{re}` is not a valid regular expression: {e}"),
        ));
    }
    if let Some(f) = &o.file
        && matches!(kind, K::FileAdd | K::FileRename | K::PatchAdd)
        && (f.starts_with('/') || f.split('/').any(|s| s == ".."))
    {
        return Err(err(
            "file",
            format!("`{f}` must be a relative path inside the component"),
        ));
    }
    if let Some(f) = &o.file
        && matches!(kind, K::FileRename | K::PatchAdd)
        && f.contains('/')
    {
        return Err(err("file", format!("`{f}` must be a file name (no `/`)")));
    }
    if let Some(s) = &o.section
        && !s.starts_with('%')
    {
        return Err(err(
            "section",
            format!("`{s}` is not a spec section (they start with `%`, e.g. `%build`)"),
        ));
    }
    Ok(())
}
