//! `primary.xml`: one `<package>` per binary package with its dependencies and the subset of
//! its files that createrepo_c deems interesting (`/etc`, `*bin/`, `/usr/lib/sendmail`).

use crate::RpmMdError;
use crate::xml::{Xml, attrs, local, local_end};
use cairn_deps::{Atom, Constraint, Dep, Op};
use cairn_package::{Package, Version};
use cairn_version::Evr;
use quick_xml::events::{BytesStart, Event};
use std::io::BufRead;

/// Parse a whole (decompressed) `primary.xml` into packages, in document order.
pub fn parse_primary(input: impl BufRead, origin: &str) -> Result<Vec<Package>, RpmMdError> {
    let mut out = Vec::new();
    let hint = std::cell::Cell::new(0usize);
    parse_primary_sized(
        input,
        origin,
        |n| hint.set(usize::try_from(n).unwrap_or(0).min(1 << 20)),
        |p| {
            if out.capacity() == 0 {
                out.reserve_exact(hint.get());
            }
            out.push(p);
        },
    )?;
    Ok(out)
}

/// Stream a (decompressed) `primary.xml`, handing each package to `f` as soon as its
/// `</package>` is read, so callers can filter without holding dropped packages.
///
/// Requires on `rpmlib(...)` are skipped; `pre="1"` is ignored; entry names starting with
/// `(` are rich dependencies parsed with [`cairn_deps::parse_rpm_dep`]. A missing entry
/// epoch is 0 and a missing release is "any release".
pub fn parse_primary_each(
    input: impl BufRead,
    origin: &str,
    f: impl FnMut(Package),
) -> Result<usize, RpmMdError> {
    parse_primary_sized(input, origin, |_| {}, f)
}

/// [`parse_primary_each`], also telling `on_count` the package count the document declares
/// (`<metadata packages="N">`) before the first package, so a caller can reserve space
/// once instead of growing (and copying) a large vector.
pub fn parse_primary_sized(
    input: impl BufRead,
    origin: &str,
    mut on_count: impl FnMut(u64),
    mut f: impl FnMut(Package),
) -> Result<usize, RpmMdError> {
    let mut x = Xml::new(input, origin);
    let mut buf = Vec::new();
    let mut root_seen = false;
    let mut done = false;
    let mut declared: Option<u64> = None;
    let mut count = 0usize;
    let mut pkg: Option<Builder> = None;
    let mut field: Option<Field> = None;
    let mut section: Option<usize> = None;
    let mut text = String::new();
    // dependency lists are collected here and copied out at exact size per package
    let mut scratch: [Vec<Dep>; 8] = Default::default();

    loop {
        let ev = x.reader.read_event_into(&mut buf).map_err(|e| x.error(e))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = local(e);
                if !root_seen {
                    x.expect_root(e, b"metadata", "<metadata> (primary.xml)")?;
                    root_seen = true;
                    declared = x.u64_attr(e, b"packages", || "<metadata>".to_owned())?;
                    if let Some(n) = declared {
                        on_count(n);
                    }
                    continue;
                }
                let Some(p) = pkg.as_mut() else {
                    if name == b"package" {
                        pkg = Some(Builder::new(count + 1));
                        if empty {
                            return Err(x.missing(format!("package #{}", count + 1), "<name>"));
                        }
                    }
                    continue;
                };
                if let Some(s) = section {
                    if name == b"entry"
                        && let Some(dep) = entry(&x, e, p, s)?
                    {
                        scratch[s].push(dep);
                    }
                    continue;
                }
                text.clear();
                match name {
                    b"name" => field = Some(Field::Name),
                    b"arch" => field = Some(Field::Arch),
                    b"summary" => field = Some(Field::Summary),
                    b"license" => field = Some(Field::License),
                    b"sourcerpm" => field = Some(Field::SourceRpm),
                    b"file" => field = Some(Field::File),
                    b"checksum" => {
                        field = Some(Field::Checksum);
                        p.checksum_type = x.attr(e, b"type")?;
                    }
                    b"version" => p.version = Some(pkg_version(&x, e, p)?),
                    b"size" => {
                        p.size = x.u64_attr(e, b"package", || p.context())?;
                        p.installed = x.u64_attr(e, b"installed", || p.context())?;
                    }
                    b"location" => p.location = x.attr(e, b"href")?,
                    _ => {
                        if let Some(s) = section_index(name)
                            && !empty
                        {
                            section = Some(s);
                        }
                    }
                }
                if empty && let Some(fd) = field.take() {
                    p.set(fd, String::new());
                }
            }
            Event::Text(ref t) if field.is_some() => x.text(t, &mut text)?,
            Event::CData(ref c) if field.is_some() => x.cdata(c, &mut text)?,
            Event::End(ref e) => {
                let name = local_end(e.name().0);
                if let Some(fd) = field.take() {
                    if let Some(p) = pkg.as_mut() {
                        p.set(fd, std::mem::take(&mut text));
                    }
                } else if section.is_some() && section_index(name).is_some() {
                    section = None;
                } else if name == b"package" {
                    if let Some(p) = pkg.take() {
                        f(p.finish(&x, &mut scratch)?);
                        count += 1;
                    }
                } else if name == b"metadata" {
                    done = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_seen {
        return Err(x.truncated("the <metadata> root element"));
    }
    if let Some(p) = &pkg {
        return Err(x.truncated(format!("the end of {}", p.context())));
    }
    if !done {
        return Err(x.truncated("</metadata>"));
    }
    if let Some(n) = declared
        && n != count as u64
    {
        return Err(x.invalid(
            "<metadata>",
            format!("declares packages=\"{n}\" but holds {count} packages"),
        ));
    }
    Ok(count)
}

#[derive(Clone, Copy)]
enum Field {
    Name,
    Arch,
    Checksum,
    Summary,
    License,
    SourceRpm,
    File,
}

const SECTIONS: [&[u8]; 8] = [
    b"provides",
    b"requires",
    b"conflicts",
    b"obsoletes",
    b"recommends",
    b"suggests",
    b"supplements",
    b"enhances",
];
const REQUIRES: usize = 1;

fn section_index(name: &[u8]) -> Option<usize> {
    SECTIONS.iter().position(|s| *s == name)
}

struct Builder {
    index: usize,
    name: Option<String>,
    arch: Option<String>,
    version: Option<Evr>,
    checksum_type: Option<String>,
    checksum_hex: Option<String>,
    summary: Option<String>,
    license: Option<String>,
    sourcerpm: Option<String>,
    location: Option<String>,
    size: Option<u64>,
    installed: Option<u64>,
    files: Vec<String>,
}

impl Builder {
    fn new(index: usize) -> Self {
        Builder {
            index,
            name: None,
            arch: None,
            version: None,
            checksum_type: None,
            checksum_hex: None,
            summary: None,
            license: None,
            sourcerpm: None,
            location: None,
            size: None,
            installed: None,
            files: Vec::new(),
        }
    }

    fn context(&self) -> String {
        match &self.name {
            Some(n) => format!("package '{n}'"),
            None => format!("package #{}", self.index),
        }
    }

    fn set(&mut self, f: Field, text: String) {
        let opt = |t: String| (!t.is_empty()).then_some(t);
        match f {
            Field::Name => self.name = Some(text),
            Field::Arch => self.arch = Some(text),
            Field::Checksum => self.checksum_hex = Some(text),
            Field::Summary => self.summary = opt(text),
            Field::License => self.license = opt(text),
            Field::SourceRpm => self.sourcerpm = opt(text),
            Field::File => self.files.push(text),
        }
    }

    fn finish<R: BufRead>(
        self,
        x: &Xml<R>,
        scratch: &mut [Vec<Dep>; 8],
    ) -> Result<Package, RpmMdError> {
        // check first, so the error context is only formatted for an error
        if self.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(x.missing(self.context(), "<name>"));
        }
        if self.arch.is_none() {
            return Err(x.missing(self.context(), "<arch>"));
        }
        if self.version.is_none() {
            return Err(x.missing(self.context(), "<version>"));
        }
        let Some(hex) = &self.checksum_hex else {
            return Err(x.missing(self.context(), "<checksum>"));
        };
        let checksum = x.checksum_lazy(self.checksum_type.as_deref(), hex, || {
            format!("{} <checksum>", self.context())
        })?;
        if self.location.is_none() {
            return Err(x.missing(self.context(), "<location href=...>"));
        }
        if self.size.is_none() {
            return Err(x.missing(self.context(), "<size package=...>"));
        }
        let (Some(name), Some(arch), Some(version), Some(location), Some(size)) =
            (self.name, self.arch, self.version, self.location, self.size)
        else {
            unreachable!("checked above")
        };
        let [
            provides,
            requires,
            conflicts,
            obsoletes,
            recommends,
            suggests,
            supplements,
            enhances,
        ] = scratch.each_mut().map(|v| {
            // exact size, and the scratch buffer keeps its capacity for the next package
            let mut out = Vec::with_capacity(v.len());
            out.append(v);
            out
        });
        let mut p = Package {
            name,
            version: Version::Rpm(version),
            arch,
            provides,
            requires,
            conflicts,
            obsoletes,
            recommends,
            suggests,
            supplements,
            enhances,
            files: self.files,
            location,
            checksum,
            size,
            installed_size: self.installed,
            source: self.sourcerpm,
            license: self.license,
            summary: self.summary,
            essential: false,
            priority: None,
            multi_arch: None,
        };
        p.shrink();
        Ok(p)
    }
}

fn parse_epoch<R: BufRead>(
    x: &Xml<R>,
    epoch: Option<&str>,
    ctx: impl Fn() -> String,
) -> Result<u64, RpmMdError> {
    match epoch.map(str::trim) {
        None | Some("") => Ok(0),
        Some(e) => e
            .parse()
            .map_err(|_| x.invalid(ctx(), format!("epoch {e:?} is not a non-negative integer"))),
    }
}

fn pkg_version<R: BufRead>(x: &Xml<R>, e: &BytesStart<'_>, p: &Builder) -> Result<Evr, RpmMdError> {
    let ver = x
        .attr(e, b"ver")?
        .ok_or_else(|| x.missing(p.context(), "<version ver=...>"))?;
    if ver.is_empty() {
        return Err(x.invalid(p.context(), "<version ver=\"\"> is empty"));
    }
    let epoch = parse_epoch(x, x.attr(e, b"epoch")?.as_deref(), || p.context())?;
    let rel = x.attr(e, b"rel")?;
    Ok(Evr::new(epoch, ver, rel))
}

/// One `<rpm:entry>` as a dependency; `None` for entries that are skipped.
fn entry<R: BufRead>(
    x: &Xml<R>,
    e: &BytesStart<'_>,
    p: &Builder,
    section: usize,
) -> Result<Option<Dep>, RpmMdError> {
    let (mut name, mut ver, mut rel) = (None, None, None);
    // flags and epoch are only read, never kept: no allocation for them
    let (mut flags, mut epoch): (
        Option<std::borrow::Cow<'_, str>>,
        Option<std::borrow::Cow<'_, str>>,
    ) = (None, None);
    for a in attrs(e) {
        let a = a.map_err(|err| x.error(err.into()))?;
        let key = a.key.local_name();
        let slot = match key.as_ref() {
            b"name" => &mut name,
            b"ver" => &mut ver,
            b"rel" => &mut rel,
            b"flags" => {
                flags = Some(a.unescape_value().map_err(|err| x.error(err))?);
                continue;
            }
            b"epoch" => {
                epoch = Some(a.unescape_value().map_err(|err| x.error(err))?);
                continue;
            }
            _ => continue,
        };
        *slot = Some(a.unescape_value().map_err(|err| x.error(err))?.into_owned());
    }
    let ctx = || {
        let sect = String::from_utf8_lossy(SECTIONS[section]);
        format!("{} <{sect}> entry", p.context())
    };
    let Some(name) = name else {
        return Err(x.missing(ctx(), "name attribute"));
    };
    if section == REQUIRES && name.starts_with("rpmlib(") {
        return Ok(None);
    }
    if name.starts_with('(') {
        let dep = cairn_deps::parse_rpm_dep(&name).map_err(|source| RpmMdError::Dep {
            origin: x.origin.clone(),
            package: p.name.clone().unwrap_or_else(|| format!("#{}", p.index)),
            source: Box::new(source),
        })?;
        return Ok(Some(dep));
    }
    let constraint = match flags {
        None => None,
        Some(fl) => {
            let op = Op::from_rpmmd_flag(&fl).ok_or_else(|| {
                x.invalid(
                    ctx(),
                    format!("{name}: flags={fl:?} is not one of EQ, LT, LE, GT, GE"),
                )
            })?;
            let Some(ver) = ver else {
                return Err(x.invalid(ctx(), format!("{name}: flags={fl:?} without ver")));
            };
            let epoch = parse_epoch(x, epoch.as_deref(), ctx)?;
            Some(Constraint {
                op,
                version: Version::Rpm(Evr::new(epoch, ver, rel)),
            })
        }
    };
    Ok(Some(Dep::Atom(Atom {
        name,
        constraint: constraint.map(Box::new),
        arch: None,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(packages: &str, n: usize) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="{n}">
{packages}
</metadata>"#
        )
    }

    const FOO: &str = r#"<package type="rpm">
  <name>foo</name>
  <arch>x86_64</arch>
  <version epoch="2" ver="1.0" rel="3.fc40"/>
  <checksum type="sha256" pkgid="YES">ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789</checksum>
  <summary>Foo &amp; friends</summary>
  <description>long</description>
  <size package="1234" installed="5678" archive="9"/>
  <location href="Packages/f/foo-1.0-3.fc40.x86_64.rpm"/>
  <format>
    <rpm:license>MIT AND (BSD-2-Clause OR GPL-2.0-or-later)</rpm:license>
    <rpm:sourcerpm>foo-1.0-3.fc40.src.rpm</rpm:sourcerpm>
    <rpm:provides>
      <rpm:entry name="foo" flags="EQ" epoch="2" ver="1.0" rel="3.fc40"/>
      <rpm:entry name="libfoo.so.1()(64bit)"/>
    </rpm:provides>
    <rpm:requires>
      <rpm:entry name="rpmlib(CompressedFileNames)" flags="LE" epoch="0" ver="3.0.4" rel="1"/>
      <rpm:entry name="/bin/sh" pre="1"/>
      <rpm:entry name="bar" flags="GE" ver="2.1"/>
      <rpm:entry name="baz" flags="LT" epoch="1" ver="3" rel="1"/>
    </rpm:requires>
    <rpm:conflicts><rpm:entry name="oldfoo" flags="LT" epoch="0" ver="1"/></rpm:conflicts>
    <rpm:obsoletes><rpm:entry name="foo-compat"/></rpm:obsoletes>
    <rpm:recommends><rpm:entry name="foo-doc"/></rpm:recommends>
    <rpm:suggests><rpm:entry name="foo-extras"/></rpm:suggests>
    <rpm:supplements><rpm:entry name="qux"/></rpm:supplements>
    <rpm:enhances><rpm:entry name="quux"/></rpm:enhances>
    <file>/usr/bin/foo</file>
    <file type="dir">/etc/foo.d</file>
    <file type="ghost">/var/log/foo.log</file>
  </format>
</package>"#;

    fn atom(name: &str, op: Op, e: u64, v: &str, r: Option<&str>) -> Dep {
        Dep::Atom(Atom {
            name: name.into(),
            constraint: Some(Box::new(Constraint {
                op,
                version: Version::Rpm(Evr::new(e, v, r.map(str::to_owned))),
            })),
            arch: None,
        })
    }

    #[test]
    fn parses_every_field() {
        let pk = parse_primary(wrap(FOO, 1).as_bytes(), "t").unwrap();
        assert_eq!(pk.len(), 1);
        let p = &pk[0];
        assert_eq!(p.name, "foo");
        assert_eq!(p.arch, "x86_64");
        assert_eq!(
            p.version,
            Version::Rpm(Evr::new(2, "1.0", Some("3.fc40".into())))
        );
        assert_eq!(p.nevra(), "foo-2:1.0-3.fc40.x86_64");
        assert_eq!(
            p.checksum.to_string(),
            "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
        );
        assert_eq!(p.summary.as_deref(), Some("Foo & friends"));
        assert_eq!(
            p.license.as_deref(),
            Some("MIT AND (BSD-2-Clause OR GPL-2.0-or-later)")
        );
        assert_eq!(p.source.as_deref(), Some("foo-1.0-3.fc40.src.rpm"));
        assert_eq!((p.size, p.installed_size), (1234, Some(5678)));
        assert_eq!(p.location, "Packages/f/foo-1.0-3.fc40.x86_64.rpm");
        assert_eq!(
            p.provides,
            vec![
                atom("foo", Op::Eq, 2, "1.0", Some("3.fc40")),
                Dep::atom("libfoo.so.1()(64bit)")
            ]
        );
        assert_eq!(
            p.requires,
            vec![
                Dep::atom("/bin/sh"),
                atom("bar", Op::Ge, 0, "2.1", None),
                atom("baz", Op::Lt, 1, "3", Some("1")),
            ]
        );
        assert_eq!(p.conflicts, vec![atom("oldfoo", Op::Lt, 0, "1", None)]);
        assert_eq!(p.obsoletes, vec![Dep::atom("foo-compat")]);
        assert_eq!(p.recommends, vec![Dep::atom("foo-doc")]);
        assert_eq!(p.suggests, vec![Dep::atom("foo-extras")]);
        assert_eq!(p.supplements, vec![Dep::atom("qux")]);
        assert_eq!(p.enhances, vec![Dep::atom("quux")]);
        assert_eq!(
            p.files,
            vec!["/usr/bin/foo", "/etc/foo.d", "/var/log/foo.log"]
        );
    }

    #[test]
    fn missing_epoch_is_zero_and_missing_release_is_any() {
        let x = FOO.replace(r#"epoch="2" ver="1.0" rel="3.fc40"/>"#, r#"ver="1.0"/>"#);
        let p = &parse_primary(wrap(&x, 1).as_bytes(), "t").unwrap()[0];
        assert_eq!(p.version, Version::Rpm(Evr::new(0, "1.0", None)));
    }

    #[test]
    fn rich_dependencies_go_through_parse_rpm_dep() {
        let rich = "(foo-libs if (bar &gt;= 2 or baz))";
        let x = FOO.replace(
            r#"<rpm:entry name="foo-doc"/>"#,
            &format!(r#"<rpm:entry name="{rich}"/>"#),
        );
        let unescaped = "(foo-libs if (bar >= 2 or baz))";
        let p = parse_primary(wrap(&x, 1).as_bytes(), "t").unwrap();
        let want = cairn_deps::parse_rpm_dep(unescaped).unwrap();
        assert!(matches!(want, Dep::If { .. }), "{want:?}");
        assert_eq!(p[0].recommends, vec![want]);

        // A rich dependency that does not parse is an error naming the package.
        let bad = FOO.replace(
            r#"<rpm:entry name="foo-doc"/>"#,
            r#"<rpm:entry name="(foo-libs if"/>"#,
        );
        let e = parse_primary(wrap(&bad, 1).as_bytes(), "t").unwrap_err();
        assert!(matches!(e, RpmMdError::Dep { .. }), "{e}");
        assert!(e.to_string().starts_with("t: package 'foo': "), "{e}");
    }

    #[test]
    fn many_packages_and_count_check() {
        let two = format!(
            "{FOO}\n{}",
            FOO.replace("<name>foo</name>", "<name>foo2</name>")
        );
        let pk = parse_primary(wrap(&two, 2).as_bytes(), "t").unwrap();
        assert_eq!(
            pk.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["foo", "foo2"]
        );
        let e = parse_primary(wrap(&two, 3).as_bytes(), "t").unwrap_err();
        assert!(
            e.to_string()
                .contains("declares packages=\"3\" but holds 2"),
            "{e}"
        );
    }

    #[test]
    fn missing_required_elements_are_named() {
        for (cut, what) in [
            (
                "<version epoch=\"2\" ver=\"1.0\" rel=\"3.fc40\"/>",
                "has no <version>",
            ),
            ("<arch>x86_64</arch>", "has no <arch>"),
            (
                r#"<location href="Packages/f/foo-1.0-3.fc40.x86_64.rpm"/>"#,
                "has no <location",
            ),
            (
                r#"<size package="1234" installed="5678" archive="9"/>"#,
                "has no <size package",
            ),
        ] {
            let x = FOO.replace(cut, "");
            let e = parse_primary(wrap(&x, 1).as_bytes(), "primary.xml.gz from https://m/r")
                .unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.starts_with("primary.xml.gz from https://m/r: package 'foo'"),
                "{msg}"
            );
            assert!(msg.contains(what), "{msg}");
        }
        let x = FOO.replace("<name>foo</name>", "");
        let e = parse_primary(wrap(&x, 1).as_bytes(), "t").unwrap_err();
        assert!(e.to_string().contains("package #1 has no <name>"), "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        let x = FOO.replace(r#"type="sha256" pkgid"#, r#"type="blake3" pkgid"#);
        let e = parse_primary(wrap(&x, 1).as_bytes(), "t").unwrap_err();
        assert!(matches!(e, RpmMdError::UnknownChecksum { .. }), "{e}");
        assert!(e.to_string().contains("package 'foo' <checksum>"), "{e}");

        let x = FOO.replace(r#"flags="GE" ver="2.1""#, r#"flags="XX" ver="2.1""#);
        let e = parse_primary(wrap(&x, 1).as_bytes(), "t").unwrap_err();
        assert!(
            e.to_string()
                .contains("package 'foo' <requires> entry: bar: flags=\"XX\""),
            "{e}"
        );

        let x = FOO.replace(
            r#"epoch="2" ver="1.0" rel="3.fc40"/>"#,
            r#"epoch="x" ver="1"/>"#,
        );
        let e = parse_primary(wrap(&x, 1).as_bytes(), "t").unwrap_err();
        assert!(e.to_string().contains("epoch \"x\""), "{e}");

        let x = FOO.replace(r#"package="1234""#, r#"package="-1""#);
        let e = parse_primary(wrap(&x, 1).as_bytes(), "t").unwrap_err();
        assert!(
            e.to_string()
                .contains("package=\"-1\" is not a non-negative integer"),
            "{e}"
        );
    }

    #[test]
    fn truncated_input_is_an_error_at_every_cut() {
        let full = wrap(FOO, 1);
        // Every prefix that drops the closing tag must fail, never yield a partial list.
        for cut in (0..full.len() - "</metadata>".len()).step_by(7) {
            let r = parse_primary(&full.as_bytes()[..cut], "t");
            assert!(r.is_err(), "prefix of {cut} bytes parsed");
        }
        let cut = full.find("<file type=\"dir\">").unwrap();
        let e = parse_primary(&full.as_bytes()[..cut], "t").unwrap_err();
        assert!(
            matches!(e, RpmMdError::Truncated { .. }) && e.to_string().contains("package 'foo'"),
            "{e}"
        );
    }

    #[test]
    fn garbage_and_wrong_documents() {
        let e = parse_primary(&b"\x1f\x8b\x08\x00garbage"[..], "t").unwrap_err();
        assert!(
            matches!(e, RpmMdError::Xml { .. } | RpmMdError::Truncated { .. }),
            "{e}"
        );
        let e = parse_primary(
            &b"<metadata><package><name>x</arch></package></metadata>"[..],
            "t",
        )
        .unwrap_err();
        assert!(matches!(e, RpmMdError::Xml { .. }), "{e}");
        assert!(e.to_string().starts_with("t: malformed XML at byte"), "{e}");
        let e = parse_primary(&b"<filelists/>"[..], "t").unwrap_err();
        assert!(
            e.to_string().contains("expected <metadata> (primary.xml)"),
            "{e}"
        );
    }

    #[test]
    fn empty_repository() {
        let pk = parse_primary(wrap("", 0).as_bytes(), "t").unwrap();
        assert!(pk.is_empty());
    }
}
