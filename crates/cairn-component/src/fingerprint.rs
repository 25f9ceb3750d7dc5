//! The input fingerprint of a component: SHA-256 over everything that changes what a build
//! of it produces — the resolved configuration (minus descriptions, metadata, publish
//! channels and scheduling hints), the spec source's identity (dist-git commit or the
//! hash of a local spec directory), the content of files overlays add, the distro name,
//! version and release version, and the manual bump counter. Written `v1:sha256:<hex>`;
//! the projection is a struct with fixed field order, so it does not depend on map
//! ordering features or on the machine.

use crate::types::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One overlay's contribution: its fields plus the hash of the file it adds, if any.
#[derive(Debug, Clone)]
pub struct OverlayInput<'a> {
    pub overlay: &'a Overlay,
    /// SHA-256 (hex) of the `source` file's content, for `file-add` and `patch-add`.
    pub source_sha256: Option<String>,
}

/// Everything the fingerprint covers.
#[derive(Debug, Clone)]
pub struct FingerprintInput<'a> {
    /// The component's resolved configuration (all layers merged).
    pub config: &'a ComponentConfig,
    /// The overlays to apply, in order (inline and from overlay files).
    pub overlays: Vec<OverlayInput<'a>>,
    /// `git:<commit>` for upstream specs, `local:sha256:<hex>` for local ones.
    pub source_identity: &'a str,
    pub distro: &'a str,
    pub distro_version: &'a str,
    pub release_ver: &'a str,
    pub manual_bump: u32,
}

#[derive(Serialize)]
struct Projection<'a> {
    build: BuildP<'a>,
    distro: [&'a str; 3],
    manual_bump: u32,
    overlays: Vec<OverlayP<'a>>,
    release: Option<&'a str>,
    skip_file_filter: bool,
    source: &'a str,
    source_files: Vec<SourceFileP<'a>>,
    spec: SpecP<'a>,
}

#[derive(Serialize)]
struct BuildP<'a> {
    check_skip: bool,
    defines: BTreeMap<&'a str, &'a str>,
    undefines: Vec<&'a str>,
    with: Vec<&'a str>,
    without: Vec<&'a str>,
}

#[derive(Serialize)]
struct SpecP<'a> {
    kind: &'a str,
}

#[derive(Serialize)]
struct SourceFileP<'a> {
    filename: &'a str,
    hash: Option<&'a str>,
    hash_type: Option<&'a str>,
    origin: &'a str,
    replace_upstream: bool,
    uri: Option<&'a str>,
}

#[derive(Serialize)]
struct OverlayP<'a> {
    archive: Option<&'a str>,
    file: Option<&'a str>,
    kind: &'a str,
    lines: Option<&'a [String]>,
    package: Option<&'a str>,
    regex: Option<&'a str>,
    replacement: Option<&'a str>,
    section: Option<&'a str>,
    source_sha256: Option<&'a str>,
    tag: Option<&'a str>,
    value: Option<&'a str>,
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The canonical JSON the fingerprint hashes (exposed for `cairn comp query`).
pub fn projection_json(input: &FingerprintInput<'_>) -> String {
    let c = input.config;
    let empty = BuildConfig::default();
    let b = c.build.as_ref().unwrap_or(&empty);
    let spec = c.spec.clone().unwrap_or_default();
    let spec_kind = match spec.kind {
        Some(SpecSourceKind::Local) => "local",
        _ => "upstream",
    };
    let p = Projection {
        build: BuildP {
            check_skip: b.check.as_ref().and_then(|c| c.skip).unwrap_or(false),
            defines: b
                .defines
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            undefines: sorted(&b.undefines),
            with: sorted(&b.with),
            without: sorted(&b.without),
        },
        distro: [input.distro, input.distro_version, input.release_ver],
        manual_bump: input.manual_bump,
        overlays: input
            .overlays
            .iter()
            .map(|o| {
                let ov = o.overlay;
                OverlayP {
                    archive: ov.archive.as_deref(),
                    file: ov.file.as_deref(),
                    kind: ov.kind.map_or("", OverlayKind::as_str),
                    lines: ov.lines.as_deref(),
                    package: ov.package.as_deref(),
                    regex: ov.regex.as_deref(),
                    replacement: ov.replacement.as_deref(),
                    section: ov.section.as_deref(),
                    source_sha256: o.source_sha256.as_deref(),
                    tag: ov.tag.as_deref(),
                    value: ov.value.as_deref(),
                }
            })
            .collect(),
        release: c
            .release
            .as_ref()
            .and_then(|r| r.calculation)
            .map(|r| match r {
                ReleaseCalculation::Auto => "auto",
                ReleaseCalculation::Autorelease => "autorelease",
                ReleaseCalculation::Static => "static",
                ReleaseCalculation::Manual => "manual",
            }),
        skip_file_filter: c
            .render
            .as_ref()
            .and_then(|r| r.skip_file_filter)
            .unwrap_or(false),
        source: input.source_identity,
        source_files: c
            .source_files
            .iter()
            .map(|s| SourceFileP {
                filename: &s.filename,
                hash: s.hash.as_deref(),
                hash_type: s.hash_type.map(HashType::as_upper),
                origin: match s.origin.as_ref().map(|o| o.kind) {
                    Some(OriginKind::Overlay) => "overlay",
                    _ => "download",
                },
                replace_upstream: s.replace_upstream.unwrap_or(false),
                // With a hash the content is pinned; where it is mirrored does not matter.
                uri: if s.hash.is_some() {
                    None
                } else {
                    s.origin.as_ref().and_then(|o| o.uri.as_deref())
                },
            })
            .collect(),
        // The spec's location is covered by the source identity (commit or content
        // hash); the projection records only its kind, so moving a local spec or
        // renaming a mirror does not force a rebuild.
        spec: SpecP { kind: spec_kind },
    };
    serde_json::to_string(&p).unwrap_or_default()
}

/// `v1:sha256:<hex>` over [`projection_json`].
pub fn fingerprint(input: &FingerprintInput<'_>) -> String {
    let json = projection_json(input);
    let mut h = Sha256::new();
    h.update(b"cairn-component-fingerprint-v1\0");
    h.update(json.as_bytes());
    format!("v1:sha256:{}", hex::encode(h.finalize()))
}
