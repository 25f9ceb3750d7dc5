//! Binary `Packages` indices into [`cairn_package::Package`].

use crate::Deb822Error;
use crate::paragraph::{Paragraph, ParagraphReader, fold};
use cairn_deps::{Dep, parse_deb_relations};
use cairn_package::{Checksum, ChecksumAlgo, Package};
use cairn_version::{DebVersion, Version};
use std::io::BufRead;

/// Parse a whole `Packages` index (uncompressed) from `reader`. `origin` names the file or
/// URL in errors.
pub fn parse_packages(reader: impl BufRead, origin: &str) -> Result<Vec<Package>, Deb822Error> {
    let mut rd = ParagraphReader::new(reader, origin);
    let mut para = Paragraph::default();
    let mut out = Vec::new();
    while rd.read_into(&mut para)? {
        out.push(package_from_paragraph(&para, origin)?);
    }
    Ok(out)
}

/// Convert one `Packages` paragraph.
pub fn package_from_paragraph(p: &Paragraph, origin: &str) -> Result<Package, Deb822Error> {
    let Some(name) = p.get("Package") else {
        return Err(Deb822Error::Syntax {
            origin: origin.to_owned(),
            line: p.line(),
            reason: "paragraph has no Package field".into(),
        });
    };
    let missing = |field: &'static str| Deb822Error::MissingField {
        origin: origin.to_owned(),
        package: name.to_owned(),
        field,
    };
    let bad = |field: &'static str, value: &str, reason: String| Deb822Error::BadField {
        origin: origin.to_owned(),
        package: name.to_owned(),
        field,
        value: value.to_owned(),
        reason,
    };

    let mut version = None;
    let mut arch = None;
    let mut pre_depends = Vec::new();
    let mut depends = Vec::new();
    let mut conflicts = Vec::new();
    let mut provides = Vec::new();
    let mut recommends = Vec::new();
    let mut suggests = Vec::new();
    let mut enhances = Vec::new();
    let mut essential = false;
    let mut priority = None;
    let mut multi_arch = None;
    let mut location = None;
    let mut size = None;
    let mut checksum = None;
    let mut installed_size = None;
    let mut source = None;
    let mut summary = None;

    let rel = |field: &'static str, value: &str| -> Result<Vec<Dep>, Deb822Error> {
        let v = fold(value);
        if v.trim().is_empty() {
            return Ok(Vec::new());
        }
        parse_deb_relations(&v).map_err(|e| bad(field, value, e.to_string()))
    };

    for (field, value) in p.fields() {
        // Match the canonical spelling first (what archives write), then case-insensitively.
        let key = KNOWN
            .iter()
            .find(|k| **k == field)
            .or_else(|| KNOWN.iter().find(|k| k.eq_ignore_ascii_case(field)))
            .copied();
        let Some(key) = key else { continue };
        match key {
            "Version" => {
                version = Some(
                    DebVersion::parse(value).map_err(|e| bad("Version", value, e.to_string()))?,
                )
            }
            "Architecture" => arch = Some(value),
            "Pre-Depends" => pre_depends = rel("Pre-Depends", value)?,
            "Depends" => depends = rel("Depends", value)?,
            "Conflicts" => conflicts.extend(rel("Conflicts", value)?),
            "Breaks" => conflicts.extend(rel("Breaks", value)?),
            "Provides" => provides = rel("Provides", value)?,
            "Recommends" => recommends = rel("Recommends", value)?,
            "Suggests" => suggests = rel("Suggests", value)?,
            "Enhances" => enhances = rel("Enhances", value)?,
            "Essential" => essential = value.eq_ignore_ascii_case("yes"),
            "Priority" => priority = Some(value.to_owned()),
            "Multi-Arch" => multi_arch = Some(value.to_owned()),
            "Filename" => location = Some(value.to_owned()),
            "Size" => {
                size = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| bad("Size", value, "expected a byte count".into()))?,
                )
            }
            "SHA256" => {
                if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad("SHA256", value, "expected 64 hex digits".into()));
                }
                checksum = Some(Checksum::new(ChecksumAlgo::Sha256, value));
            }
            "Installed-Size" => {
                let kib = value
                    .parse::<u64>()
                    .map_err(|_| bad("Installed-Size", value, "expected a size in KiB".into()))?;
                installed_size = Some(kib * 1024);
            }
            "Source" => {
                let src = value.split_once(' ').map_or(value, |(n, _)| n).trim();
                if src.is_empty() {
                    return Err(bad("Source", value, "expected `name [(version)]`".into()));
                }
                source = Some(src.to_owned());
            }
            "Description" => {
                let first = value.split('\n').next().unwrap_or("").trim();
                if !first.is_empty() {
                    summary = Some(first.to_owned());
                }
            }
            _ => {}
        }
    }

    let mut requires = pre_depends;
    requires.extend(depends);
    let mut pkg = Package::bare(
        name,
        Version::Deb(version.ok_or_else(|| missing("Version"))?),
        arch.ok_or_else(|| missing("Architecture"))?,
    );
    pkg.requires = requires;
    pkg.conflicts = conflicts;
    pkg.provides = provides;
    pkg.recommends = recommends;
    pkg.suggests = suggests;
    pkg.enhances = enhances;
    pkg.essential = essential;
    pkg.priority = priority;
    pkg.multi_arch = multi_arch;
    pkg.location = location.ok_or_else(|| missing("Filename"))?;
    pkg.size = size.ok_or_else(|| missing("Size"))?;
    pkg.checksum = checksum.ok_or_else(|| missing("SHA256"))?;
    pkg.installed_size = installed_size;
    pkg.source = Some(source.unwrap_or_else(|| name.to_owned()));
    pkg.summary = summary;
    pkg.shrink();
    Ok(pkg)
}

const KNOWN: &[&str] = &[
    "Version",
    "Architecture",
    "Depends",
    "Pre-Depends",
    "Conflicts",
    "Breaks",
    "Provides",
    "Recommends",
    "Suggests",
    "Enhances",
    "Essential",
    "Priority",
    "Multi-Arch",
    "Filename",
    "Size",
    "SHA256",
    "Installed-Size",
    "Source",
    "Description",
];
