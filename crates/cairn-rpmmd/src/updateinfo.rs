//! Advisories (errata) and `updateinfo.xml`, the rpm-md document dnf and libsolv read them
//! from (`dnf updateinfo`, `dnf upgrade --security`).
//!
//! An [`Advisory`] is what a repository publisher keeps per advisory (one TOML file each,
//! hence the serde attributes); [`write_updateinfo`] renders them in the layout
//! createrepo_c / Fedora's bodhi use and [`parse_updateinfo`] reads such a document back.
//! Dates are seconds since the epoch, written as UTC `YYYY-MM-DD HH:MM:SS`.

use crate::RpmMdError;
use crate::write::{escape_attr, escape_text};
use crate::xml::{Xml, local, local_end};
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Advisory {
    /// `CAIRN-2026-0001`: letters, digits and `._:-` only.
    pub id: String,
    pub kind: AdvisoryKind,
    /// Required for security advisories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub title: String,
    /// Seconds since the epoch.
    pub issued: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<u64>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// Distribution name and version the packages are for (`Cairn Linux 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Issuer, usually an e-mail address.
    pub from: String,
    /// `stable` unless told otherwise.
    #[serde(default = "default_status")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    pub packages: Vec<AdvisoryPackage>,
    /// Marks every package of the advisory `<reboot_suggested>`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reboot_suggested: bool,
}

fn default_status() -> String {
    "stable".to_owned()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The `type` of an advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdvisoryKind {
    Security,
    Bugfix,
    Enhancement,
    Newpackage,
}

impl AdvisoryKind {
    /// The name used in TOML and in the XML `type` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            AdvisoryKind::Security => "security",
            AdvisoryKind::Bugfix => "bugfix",
            AdvisoryKind::Enhancement => "enhancement",
            AdvisoryKind::Newpackage => "newpackage",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "security" => AdvisoryKind::Security,
            "bugfix" => AdvisoryKind::Bugfix,
            "enhancement" => AdvisoryKind::Enhancement,
            "newpackage" => AdvisoryKind::Newpackage,
            _ => return None,
        })
    }
}

/// Severity of a security advisory. Lowercase in TOML (capitalised also accepted),
/// capitalised in XML as Fedora writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[serde(alias = "Low")]
    Low,
    #[serde(alias = "Moderate")]
    Moderate,
    #[serde(alias = "Important")]
    Important,
    #[serde(alias = "Critical")]
    Critical,
}

impl Severity {
    /// `Low`, `Moderate`, `Important`, `Critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "Low",
            Severity::Moderate => "Moderate",
            Severity::Important => "Important",
            Severity::Critical => "Critical",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "low" => Severity::Low,
            "moderate" => Severity::Moderate,
            "important" => Severity::Important,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// A link to a CVE, a bug or the advisory's own page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Reference {
    pub kind: RefKind,
    /// `CVE-2026-1234`, a bug number, ...
    pub id: String,
    /// `http://` or `https://` URL.
    pub href: String,
    #[serde(default)]
    pub title: String,
}

/// The `type` of a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Cve,
    Bugzilla,
    #[serde(rename = "self")]
    Self_,
    Other,
}

impl RefKind {
    /// `cve`, `bugzilla`, `self`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Cve => "cve",
            RefKind::Bugzilla => "bugzilla",
            RefKind::Self_ => "self",
            RefKind::Other => "other",
        }
    }

    /// Reference types this model does not know (`fedora`, `secunia`, ...) read as `Other`.
    fn parse(s: &str) -> Self {
        match s {
            "cve" => RefKind::Cve,
            "bugzilla" => RefKind::Bugzilla,
            "self" => RefKind::Self_,
            _ => RefKind::Other,
        }
    }
}

/// A package the advisory updates to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AdvisoryPackage {
    pub name: String,
    #[serde(default)]
    pub epoch: u32,
    pub version: String,
    pub release: String,
    pub arch: String,
    /// Source RPM file name; may be empty.
    #[serde(default)]
    pub src: String,
    /// RPM file name (`foo-1.0-1.x86_64.rpm`).
    pub filename: String,
}

/// An advisory that fails [`Advisory::validate`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateInfoError {
    #[error("advisory {id:?}: {field}: {message}")]
    Invalid {
        id: String,
        field: String,
        message: String,
    },
    #[error("advisory {id:?} is defined twice")]
    Duplicate { id: String },
}

impl Advisory {
    fn invalid(&self, field: impl Into<String>, message: impl Into<String>) -> UpdateInfoError {
        UpdateInfoError::Invalid {
            id: self.id.clone(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// Check what dnf and repository users rely on: a usable id, at least one package with
    /// name, version, release, arch and file name, a title, a severity on security
    /// advisories, well-formed CVE ids and http(s) links.
    pub fn validate(&self) -> Result<(), UpdateInfoError> {
        if self.id.is_empty() {
            return Err(self.invalid("id", "is empty"));
        }
        if let Some(c) = self
            .id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
        {
            return Err(self.invalid(
                "id",
                format!("contains {c:?}; only letters, digits and . _ : - are allowed"),
            ));
        }
        if self.title.trim().is_empty() {
            return Err(self.invalid("title", "is empty"));
        }
        if self.kind == AdvisoryKind::Security && self.severity.is_none() {
            return Err(self.invalid(
                "severity",
                "a security advisory needs a severity (low, moderate, important or critical)",
            ));
        }
        if self.status.trim().is_empty() {
            return Err(self.invalid("status", "is empty (use \"stable\")"));
        }
        if self.packages.is_empty() {
            return Err(self.invalid("packages", "lists no package"));
        }
        for (i, p) in self.packages.iter().enumerate() {
            for (field, value) in [
                ("name", &p.name),
                ("version", &p.version),
                ("release", &p.release),
                ("arch", &p.arch),
                ("filename", &p.filename),
            ] {
                if value.trim().is_empty() {
                    return Err(self.invalid(format!("packages[{i}].{field}"), "is empty"));
                }
            }
        }
        for (i, r) in self.references.iter().enumerate() {
            if r.kind == RefKind::Cve && !is_cve_id(&r.id) {
                return Err(self.invalid(
                    format!("references[{i}].id"),
                    format!("{:?} is not a CVE id (expected CVE-YYYY-NNNN...)", r.id),
                ));
            }
            if r.id.trim().is_empty() {
                return Err(self.invalid(format!("references[{i}].id"), "is empty"));
            }
            if !(r.href.starts_with("http://") || r.href.starts_with("https://")) {
                return Err(self.invalid(
                    format!("references[{i}].href"),
                    format!("{:?} is not an http:// or https:// URL", r.href),
                ));
            }
        }
        Ok(())
    }
}

/// [`Advisory::validate`] on each advisory, and no id twice.
pub fn validate_all(advisories: &[Advisory]) -> Result<(), UpdateInfoError> {
    let mut ids: Vec<&str> = Vec::with_capacity(advisories.len());
    for a in advisories {
        a.validate()?;
        ids.push(&a.id);
    }
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(UpdateInfoError::Duplicate {
            id: w[0].to_owned(),
        });
    }
    Ok(())
}

/// `CVE-` four digits `-` four or more digits.
fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4 && digits(year) && num.len() >= 4 && digits(num)
}

/// `updateinfo.xml` for `advisories`, sorted by id. Does not validate: call
/// [`validate_all`] first.
pub fn write_updateinfo(advisories: &[Advisory]) -> String {
    let mut sorted: Vec<&Advisory> = advisories.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = String::with_capacity(256 + advisories.len() * 2048);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if sorted.is_empty() {
        out.push_str("<updates/>\n");
        return out;
    }
    out.push_str("<updates>\n");
    for a in sorted {
        write_advisory(a, &mut out);
    }
    out.push_str("</updates>\n");
    out
}

fn text(out: &mut String, indent: &str, name: &str, value: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_text(value, out);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_attr(value, out);
    out.push('"');
}

fn write_advisory(a: &Advisory, out: &mut String) {
    out.push_str("  <update");
    attr(out, "from", &a.from);
    attr(out, "status", &a.status);
    attr(out, "type", a.kind.as_str());
    out.push_str(" version=\"2.0\">\n");
    text(out, "    ", "id", &a.id);
    text(out, "    ", "title", &a.title);
    let _ = writeln!(out, "    <issued date=\"{}\"/>", format_date(a.issued));
    if let Some(u) = a.updated {
        let _ = writeln!(out, "    <updated date=\"{}\"/>", format_date(u));
    }
    if let Some(r) = &a.release {
        text(out, "    ", "release", r);
    }
    if let Some(s) = a.severity {
        text(out, "    ", "severity", s.as_str());
    }
    text(out, "    ", "description", &a.description);
    if let Some(s) = &a.solution {
        text(out, "    ", "solution", s);
    }
    if a.references.is_empty() {
        out.push_str("    <references/>\n");
    } else {
        out.push_str("    <references>\n");
        for r in &a.references {
            out.push_str("      <reference");
            attr(out, "href", &r.href);
            attr(out, "id", &r.id);
            attr(out, "type", r.kind.as_str());
            attr(out, "title", &r.title);
            out.push_str("/>\n");
        }
        out.push_str("    </references>\n");
    }
    let collection = a.release.as_deref().unwrap_or(&a.id);
    out.push_str("    <pkglist>\n      <collection");
    attr(out, "short", &slug(collection));
    out.push_str(">\n");
    text(out, "        ", "name", collection);
    for p in &a.packages {
        out.push_str("        <package");
        attr(out, "name", &p.name);
        attr(out, "version", &p.version);
        attr(out, "release", &p.release);
        let _ = write!(out, " epoch=\"{}\"", p.epoch);
        attr(out, "arch", &p.arch);
        attr(out, "src", &p.src);
        out.push_str(">\n");
        text(out, "          ", "filename", &p.filename);
        if a.reboot_suggested {
            out.push_str("          <reboot_suggested>True</reboot_suggested>\n");
        }
        out.push_str("        </package>\n");
    }
    out.push_str("      </collection>\n    </pkglist>\n  </update>\n");
}

/// Lowercase ASCII letters and digits; anything else becomes `-`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Seconds since the epoch as UTC `YYYY-MM-DD HH:MM:SS`.
pub fn format_date(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (era-based, 400-year cycles).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // shift the epoch to 0000-03-01 so that leap days end each cycle
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, March-based
    let mp = (5 * doy + 2) / 153; // March = 0
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a date on or after it; `None` before it or for a bad date.
fn days_from_civil(y: u64, m: u64, d: u64) -> Option<u64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let y = if m <= 2 { y.checked_sub(1)? } else { y };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parse `YYYY-MM-DD HH:MM:SS` (also with `T`, fractional seconds, a trailing `Z` or
/// `UTC`), `YYYY-MM-DD`, or plain seconds since the epoch.
pub fn parse_date(s: &str) -> Option<u64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let s = s
        .strip_suffix(" UTC")
        .or_else(|| s.strip_suffix('Z'))
        .unwrap_or(s);
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let num = |x: &str, len: usize| -> Option<u64> {
        (x.len() == len && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        num(parts.next()?, 4)?,
        num(parts.next()?, 2)?,
        num(parts.next()?, 2)?,
    );
    if parts.next().is_some() {
        return None;
    }
    let mut secs = days_from_civil(y, m, d)? * 86_400;
    if let Some(t) = time {
        let t = t.split_once('.').map_or(t, |(whole, frac)| {
            if frac.bytes().all(|b| b.is_ascii_digit()) {
                whole
            } else {
                t
            }
        });
        let mut parts = t.split(':');
        let (h, mi, se) = (
            num(parts.next()?, 2)?,
            num(parts.next()?, 2)?,
            num(parts.next()?, 2)?,
        );
        if parts.next().is_some() || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + se;
    }
    Some(secs)
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Id,
    Title,
    Release,
    Severity,
    Description,
    Solution,
    Filename,
    Reboot,
}

struct Builder {
    index: usize,
    id: Option<String>,
    kind: AdvisoryKind,
    from: String,
    status: String,
    severity: Option<Severity>,
    title: String,
    issued: Option<u64>,
    updated: Option<u64>,
    description: String,
    solution: Option<String>,
    release: Option<String>,
    references: Vec<Reference>,
    packages: Vec<AdvisoryPackage>,
    reboot: bool,
}

impl Builder {
    fn context(&self) -> String {
        match &self.id {
            Some(id) => format!("update '{id}'"),
            None => format!("update #{}", self.index),
        }
    }
}

/// Parse an `updateinfo.xml` (decompressed) into advisories in document order.
///
/// Reads what [`write_updateinfo`] writes and what createrepo_c and bodhi write: dates as
/// `YYYY-MM-DD HH:MM:SS` or seconds, `<severity>None</severity>` as no severity, unknown
/// reference types as [`RefKind::Other`], `<reboot_suggested>` on the update or on any of
/// its packages. Collections are merged; modules, sums and `<rights>` are ignored.
pub fn parse_updateinfo(bytes: &[u8], origin: &str) -> Result<Vec<Advisory>, RpmMdError> {
    let mut x = Xml::new(bytes, origin);
    let mut buf = Vec::new();
    let mut root_seen = false;
    let mut done = false;
    let mut out = Vec::new();
    let mut cur: Option<Builder> = None;
    let mut pkg: Option<AdvisoryPackage> = None;
    let mut field: Option<Field> = None;
    let mut txt = String::new();

    loop {
        let ev = x.reader.read_event_into(&mut buf).map_err(|e| x.error(e))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = local(e);
                if !root_seen {
                    x.expect_root(e, b"updates", "<updates> (updateinfo.xml)")?;
                    root_seen = true;
                    done = empty;
                    continue;
                }
                let Some(b) = cur.as_mut() else {
                    if name == b"update" {
                        let b = start_update(&x, e, out.len() + 1)?;
                        if empty {
                            return Err(x.missing(b.context(), "<id>"));
                        }
                        cur = Some(b);
                    }
                    continue;
                };
                txt.clear();
                field = match name {
                    b"id" if pkg.is_none() => Some(Field::Id),
                    b"title" => Some(Field::Title),
                    b"release" => Some(Field::Release),
                    b"severity" => Some(Field::Severity),
                    b"description" => Some(Field::Description),
                    b"solution" => Some(Field::Solution),
                    b"filename" if pkg.is_some() => Some(Field::Filename),
                    b"reboot_suggested" => Some(Field::Reboot),
                    b"issued" | b"updated" => {
                        let ctx = || format!("{} <{}>", b.context(), String::from_utf8_lossy(name));
                        let date = x
                            .attr(e, b"date")?
                            .ok_or_else(|| x.missing(ctx(), "date attribute"))?;
                        let secs = parse_date(&date).ok_or_else(|| {
                            x.invalid(
                                ctx(),
                                format!(
                                    "date {date:?} is neither YYYY-MM-DD HH:MM:SS (UTC) nor seconds since 1970"
                                ),
                            )
                        })?;
                        if name == b"issued" {
                            b.issued = Some(secs);
                        } else {
                            b.updated = Some(secs);
                        }
                        None
                    }
                    b"reference" => {
                        b.references.push(Reference {
                            kind: RefKind::parse(&x.attr(e, b"type")?.unwrap_or_default()),
                            id: x.attr(e, b"id")?.unwrap_or_default(),
                            href: x.attr(e, b"href")?.unwrap_or_default(),
                            title: x.attr(e, b"title")?.unwrap_or_default(),
                        });
                        None
                    }
                    b"package" if pkg.is_none() => {
                        let p = start_package(&x, e, b)?;
                        if empty {
                            b.packages.push(p);
                        } else {
                            pkg = Some(p);
                        }
                        None
                    }
                    _ => None,
                };
                if empty && let Some(f) = field.take() {
                    set_field(&x, b, pkg.as_mut(), f, String::new())?;
                }
            }
            Event::Text(ref t) if field.is_some() => x.text(t, &mut txt)?,
            Event::CData(ref c) if field.is_some() => x.cdata(c, &mut txt)?,
            Event::End(ref e) => {
                let name = local_end(e.name().0);
                if let Some(f) = field.take() {
                    if let Some(b) = cur.as_mut() {
                        set_field(&x, b, pkg.as_mut(), f, std::mem::take(&mut txt))?;
                    }
                } else if name == b"package" {
                    if let (Some(b), Some(p)) = (cur.as_mut(), pkg.take()) {
                        b.packages.push(p);
                    }
                } else if name == b"update" {
                    if let Some(b) = cur.take() {
                        out.push(finish(&x, b)?);
                    }
                } else if name == b"updates" {
                    done = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_seen {
        return Err(x.truncated("the <updates> root element"));
    }
    if let Some(b) = &cur {
        return Err(x.truncated(format!("the end of {}", b.context())));
    }
    if !done {
        return Err(x.truncated("</updates>"));
    }
    Ok(out)
}

fn start_update(x: &Xml<&[u8]>, e: &BytesStart<'_>, index: usize) -> Result<Builder, RpmMdError> {
    let ctx = || format!("update #{index}");
    let ty = x
        .attr(e, b"type")?
        .ok_or_else(|| x.missing(ctx(), "type attribute"))?;
    let kind = AdvisoryKind::parse(&ty).ok_or_else(|| {
        x.invalid(
            ctx(),
            format!("type={ty:?} is not one of security, bugfix, enhancement, newpackage"),
        )
    })?;
    Ok(Builder {
        index,
        id: None,
        kind,
        from: x.attr(e, b"from")?.unwrap_or_default(),
        status: x.attr(e, b"status")?.unwrap_or_else(default_status),
        severity: None,
        title: String::new(),
        issued: None,
        updated: None,
        description: String::new(),
        solution: None,
        release: None,
        references: Vec::new(),
        packages: Vec::new(),
        reboot: false,
    })
}

fn start_package(
    x: &Xml<&[u8]>,
    e: &BytesStart<'_>,
    b: &Builder,
) -> Result<AdvisoryPackage, RpmMdError> {
    let n = b.packages.len() + 1;
    let ctx = || format!("{} package #{n}", b.context());
    let get = |k: &'static [u8], what: &'static str| -> Result<String, RpmMdError> {
        x.attr(e, k)?.ok_or_else(|| x.missing(ctx(), what))
    };
    let epoch = match x.attr(e, b"epoch")?.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(v) => v
            .parse()
            .map_err(|_| x.invalid(ctx(), format!("epoch {v:?} is not a non-negative integer")))?,
    };
    Ok(AdvisoryPackage {
        name: get(b"name", "name attribute")?,
        epoch,
        version: get(b"version", "version attribute")?,
        release: get(b"release", "release attribute")?,
        arch: get(b"arch", "arch attribute")?,
        src: x.attr(e, b"src")?.unwrap_or_default(),
        filename: String::new(),
    })
}

fn set_field(
    x: &Xml<&[u8]>,
    b: &mut Builder,
    pkg: Option<&mut AdvisoryPackage>,
    f: Field,
    value: String,
) -> Result<(), RpmMdError> {
    match f {
        Field::Id => b.id = Some(value),
        Field::Title => b.title = value,
        Field::Release => b.release = Some(value),
        Field::Description => b.description = value,
        Field::Solution => b.solution = Some(value),
        Field::Filename => {
            if let Some(p) = pkg {
                p.filename = value;
            }
        }
        Field::Reboot => {
            let v = value.trim();
            b.reboot |= v.eq_ignore_ascii_case("true") || v == "1" || v.eq_ignore_ascii_case("yes");
        }
        Field::Severity => {
            let v = value.trim();
            b.severity = match v {
                "" | "None" | "none" | "Unspecified" | "unspecified" => None,
                _ => Some(Severity::parse(v).ok_or_else(|| {
                    x.invalid(
                        format!("{} <severity>", b.context()),
                        format!("{v:?} is not one of Low, Moderate, Important, Critical"),
                    )
                })?),
            };
        }
    }
    Ok(())
}

fn finish(x: &Xml<&[u8]>, b: Builder) -> Result<Advisory, RpmMdError> {
    let Some(id) = b.id.clone().filter(|i| !i.trim().is_empty()) else {
        return Err(x.missing(b.context(), "<id>"));
    };
    let Some(issued) = b.issued else {
        return Err(x.missing(b.context(), "<issued date=...>"));
    };
    Ok(Advisory {
        id,
        kind: b.kind,
        severity: b.severity,
        title: b.title,
        issued,
        updated: b.updated,
        description: b.description,
        solution: b.solution,
        release: b.release,
        from: b.from,
        status: b.status,
        references: b.references,
        packages: b.packages,
        reboot_suggested: b.reboot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Advisory {
        Advisory {
            id: "CAIRN-2026-0001".into(),
            kind: AdvisoryKind::Security,
            severity: Some(Severity::Important),
            title: "hello: fix <overflow> & more".into(),
            issued: 1_767_323_045,
            updated: Some(1_767_409_445),
            description: "Line one.\nLine \"two\".".into(),
            solution: Some("dnf upgrade hello".into()),
            release: Some("Cairn Linux 1".into()),
            from: "security@example.org".into(),
            status: "stable".into(),
            references: vec![
                Reference {
                    kind: RefKind::Cve,
                    id: "CVE-2026-12345".into(),
                    href: "https://www.cve.org/CVERecord?id=CVE-2026-12345&x=1".into(),
                    title: "CVE-2026-12345".into(),
                },
                Reference {
                    kind: RefKind::Bugzilla,
                    id: "42".into(),
                    href: "https://bugs.example.org/42".into(),
                    title: "crash on \"x\"".into(),
                },
            ],
            packages: vec![AdvisoryPackage {
                name: "hello".into(),
                epoch: 0,
                version: "2.0".into(),
                release: "1".into(),
                arch: "x86_64".into(),
                src: "hello-2.0-1.src.rpm".into(),
                filename: "hello-2.0-1.x86_64.rpm".into(),
            }],
            reboot_suggested: true,
        }
    }

    #[test]
    fn dates() {
        for (secs, s) in [
            (0, "1970-01-01 00:00:00"),
            (951_782_400, "2000-02-29 00:00:00"),
            (1_767_323_045, "2026-01-02 03:04:05"),
            (4_107_542_399, "2100-02-28 23:59:59"),
            (4_107_542_400, "2100-03-01 00:00:00"),
            (253_402_300_799, "9999-12-31 23:59:59"),
        ] {
            assert_eq!(format_date(secs), s);
            assert_eq!(parse_date(s), Some(secs), "{s}");
        }
        assert_eq!(parse_date("1767323045"), Some(1_767_323_045));
        assert_eq!(parse_date("2026-01-02"), Some(1_767_312_000));
        assert_eq!(parse_date("2026-01-02T03:04:05Z"), Some(1_767_323_045));
        assert_eq!(parse_date("2026-01-02 03:04:05.123"), Some(1_767_323_045));
        for bad in [
            "",
            "2026-13-01",
            "2026-02-29",
            "1969-12-31",
            "2026-1-2",
            "2026-01-02 3:04:05",
            "2026-01-02 24:00:00",
            "yesterday",
            "2026-01-02 03:04:05 PST",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        // every day of several 400-year cycles survives the round trip
        for day in (0..200_000u64).step_by(7) {
            let s = format_date(day * 86_400 + 3_661);
            assert_eq!(parse_date(&s), Some(day * 86_400 + 3_661), "{s}");
        }
    }

    #[test]
    fn validation_messages() {
        assert!(sample().validate().is_ok());
        type Edit = Box<dyn Fn(&mut Advisory)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|a| a.id.clear()), "id: is empty"),
            (Box::new(|a| a.id = "CAIRN 1".into()), "id: contains ' '"),
            (Box::new(|a| a.id = "CAIRN/1".into()), "id: contains '/'"),
            (
                Box::new(|a| a.packages.clear()),
                "packages: lists no package",
            ),
            (
                Box::new(|a| a.severity = None),
                "severity: a security advisory",
            ),
            (
                Box::new(|a| a.references[0].id = "CVE-26-1".into()),
                "references[0].id: \"CVE-26-1\" is not a CVE id",
            ),
            (
                Box::new(|a| a.references[1].href = "ftp://x".into()),
                "references[1].href: \"ftp://x\" is not an http",
            ),
            (
                Box::new(|a| a.packages[0].filename.clear()),
                "packages[0].filename: is empty",
            ),
            (Box::new(|a| a.title = " ".into()), "title: is empty"),
        ];
        for (edit, want) in cases {
            let mut a = sample();
            edit(&mut a);
            let e = a.validate().unwrap_err().to_string();
            assert!(e.starts_with(&format!("advisory {:?}: ", a.id)), "{e}");
            assert!(e.contains(want), "{e} lacks {want}");
        }
        let mut b = sample();
        b.kind = AdvisoryKind::Bugfix;
        b.severity = None;
        assert!(b.validate().is_ok());
        for ok in ["CVE-2026-1234", "CVE-1999-1234567"] {
            assert!(is_cve_id(ok), "{ok}");
        }
        for bad in [
            "CVE-2026-123",
            "cve-2026-1234",
            "CVE-2026-12a4",
            "CVE-20261-1234",
        ] {
            assert!(!is_cve_id(bad), "{bad}");
        }
        let e = validate_all(&[sample(), b.clone(), sample()]).unwrap_err();
        assert!(matches!(e, UpdateInfoError::Duplicate { .. }), "{e}");
    }

    #[test]
    fn roundtrip_and_order() {
        let mut second = sample();
        second.id = "CAIRN-2025-0009".into();
        second.kind = AdvisoryKind::Enhancement;
        second.severity = None;
        second.references.clear();
        second.reboot_suggested = false;
        second.updated = None;
        second.solution = None;
        second.release = None;
        let xml = write_updateinfo(&[sample(), second.clone()]);
        let back = parse_updateinfo(xml.as_bytes(), "t").unwrap();
        assert_eq!(back, vec![second, sample()]);
        assert_eq!(
            parse_updateinfo(write_updateinfo(&[]).as_bytes(), "t").unwrap(),
            vec![]
        );
    }

    #[test]
    fn reads_other_writers() {
        // bodhi-style: seconds as dates, severity None, update-level reboot flag,
        // unknown reference type, two collections, a module and sums
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="updates@fedoraproject.org" status="stable" type="bugfix" version="2.0">
    <id>FEDORA-2024-0123456789</id>
    <title>foo-1.1-1.fc40</title>
    <issued date="1704067200"/>
    <updated date="2024-01-02 00:00:00"/>
    <rights>Copyright (C) 2024 Red Hat, Inc. and others.</rights>
    <release>Fedora 40</release>
    <pushcount>1</pushcount>
    <severity>None</severity>
    <summary>foo update</summary>
    <description><![CDATA[raw <text>]]></description>
    <solution/>
    <reboot_suggested>True</reboot_suggested>
    <references>
      <reference href="https://bodhi/x" id="x" type="fedora" title="t"/>
    </references>
    <pkglist>
      <collection short="F40">
        <name>Fedora 40</name>
        <module name="m" stream="s" version="1" context="c" arch="x86_64"/>
        <package name="foo" version="1.1" release="1.fc40" epoch="0" arch="x86_64" src="foo-1.1-1.fc40.src.rpm">
          <filename>foo-1.1-1.fc40.x86_64.rpm</filename>
          <sum type="sha256">abc</sum>
        </package>
      </collection>
      <collection short="F40-extra">
        <name>Fedora 40 extra</name>
        <package name="foo-libs" version="1.1" release="1.fc40" arch="i686">
          <filename>foo-libs-1.1-1.fc40.i686.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>"#;
        let a = &parse_updateinfo(xml.as_bytes(), "t").unwrap()[0];
        assert_eq!(a.id, "FEDORA-2024-0123456789");
        assert_eq!(a.kind, AdvisoryKind::Bugfix);
        assert_eq!(a.severity, None);
        assert_eq!((a.issued, a.updated), (1_704_067_200, Some(1_704_153_600)));
        assert_eq!(a.description, "raw <text>");
        assert_eq!(a.solution.as_deref(), Some(""));
        assert_eq!(a.release.as_deref(), Some("Fedora 40"));
        assert!(a.reboot_suggested);
        assert_eq!(a.references[0].kind, RefKind::Other);
        assert_eq!(a.packages.len(), 2);
        assert_eq!(a.packages[1].src, "");
        assert_eq!(a.packages[1].filename, "foo-libs-1.1-1.fc40.i686.rpm");
    }

    #[test]
    fn parse_errors_name_the_update() {
        let good = write_updateinfo(&[sample()]);
        for (from, to, want) in [
            ("<id>CAIRN-2026-0001</id>", "", "update #1 has no <id>"),
            (
                "type=\"security\"",
                "type=\"errata\"",
                "update #1: type=\"errata\" is not one of",
            ),
            (
                "<severity>Important</severity>",
                "<severity>Urgent</severity>",
                "update 'CAIRN-2026-0001' <severity>: \"Urgent\"",
            ),
            (
                "<issued date=\"2026-01-02 03:04:05\"/>",
                "<issued date=\"soon\"/>",
                "update 'CAIRN-2026-0001' <issued>: date \"soon\"",
            ),
            (
                "<issued date=\"2026-01-02 03:04:05\"/>",
                "",
                "update 'CAIRN-2026-0001' has no <issued",
            ),
            (
                " epoch=\"0\"",
                " epoch=\"x\"",
                "update 'CAIRN-2026-0001' package #1: epoch \"x\"",
            ),
            (
                " arch=\"x86_64\"",
                "",
                "update 'CAIRN-2026-0001' package #1 has no arch attribute",
            ),
        ] {
            let bad = good.replace(from, to);
            assert_ne!(bad, good, "{from}");
            let e = parse_updateinfo(bad.as_bytes(), "updateinfo.xml").unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with("updateinfo.xml: "), "{msg}");
            assert!(msg.contains(want), "{msg} lacks {want}");
        }
        let cut = &good[..good.len() / 2];
        let e = parse_updateinfo(cut.as_bytes(), "u").unwrap_err();
        assert!(matches!(e, RpmMdError::Truncated { .. }), "{e}");
        let e = parse_updateinfo(b"<metadata/>", "u").unwrap_err();
        assert!(e.to_string().contains("expected <updates>"), "{e}");
    }

    #[test]
    fn toml_roundtrip_and_unknown_keys() {
        let a = sample();
        let t = toml::to_string(&a).unwrap();
        assert!(t.contains("kind = \"security\""), "{t}");
        assert!(t.contains("severity = \"important\""), "{t}");
        assert!(t.contains("reboot-suggested = true"), "{t}");
        let back: Advisory = toml::from_str(&t).unwrap();
        assert_eq!(back, a);
        let minimal = r#"
id = "CAIRN-2026-0002"
kind = "bugfix"
title = "t"
issued = 1
description = "d"
from = "a@b"
severity = "Low"

[[packages]]
name = "x"
version = "1"
release = "1"
arch = "noarch"
filename = "x-1-1.noarch.rpm"

[[references]]
kind = "self"
id = "CAIRN-2026-0002"
href = "https://example.org/a"
"#;
        let m: Advisory = toml::from_str(minimal).unwrap();
        assert_eq!(m.status, "stable");
        assert_eq!(m.severity, Some(Severity::Low));
        assert_eq!(m.references[0].kind, RefKind::Self_);
        assert!(!m.reboot_suggested);
        assert!(m.validate().is_ok());
        let e = toml::from_str::<Advisory>(&format!("extra = 1\n{minimal}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
