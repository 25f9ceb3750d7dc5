//! SPDX 2.3 JSON.

use crate::SbomError;
use crate::ident::{SpdxIds, rfc3339, spdx_download_location_ok, split_supplier, uuid_from};
use crate::input::{ImageKind, InstalledPackage, SbomInput};
use crate::license::license_to_spdx;
use crate::purl::encode;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where document namespaces live: `<base><project>/<image>-<uuid>`. Never dereferenced;
/// SPDX only needs a unique absolute URI.
pub const SPDX_NAMESPACE_BASE: &str = "https://spdx.cairn.invalid/";

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    package_file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<String>,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: String,
    license_declared: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    license_comments: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
    comment: &'static str,
}

fn rel(a: &str, ty: &'static str, b: &str) -> Relationship {
    Relationship {
        spdx_element_id: a.to_owned(),
        relationship_type: ty,
        related_spdx_element: b.to_owned(),
    }
}

pub(crate) fn sorted_packages(input: &SbomInput) -> Vec<(String, &InstalledPackage)> {
    let mut pkgs: Vec<(String, &InstalledPackage)> = input
        .packages
        .iter()
        .map(|p| (p.purl().to_string(), p))
        .collect();
    pkgs.sort_by(|a, b| a.0.cmp(&b.0));
    pkgs
}

/// Render the SPDX 2.3 JSON document (see the crate docs for the field mapping).
pub fn spdx_json(input: &SbomInput) -> Result<String, SbomError> {
    input.validate()?;
    let img = &input.image;
    let mut ids = SpdxIds::default();
    let image_id = ids.take("Image", &img.name);
    let mut packages = Vec::new();
    let mut relationships = vec![rel("SPDXRef-DOCUMENT", "DESCRIBES", &image_id)];
    let mut extracted: BTreeMap<String, Vec<String>> = BTreeMap::new();

    let mut outputs: Vec<_> = img.outputs.iter().collect();
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    let single = match outputs.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let digest = |d: &Option<String>| {
        d.iter()
            .map(|h| Checksum {
                algorithm: "SHA256",
                checksum_value: h.to_ascii_lowercase(),
            })
            .collect::<Vec<_>>()
    };
    packages.push(Package {
        name: img.name.clone(),
        spdx_id: image_id.clone(),
        version_info: (!img.version.is_empty()).then(|| img.version.clone()),
        package_file_name: single.map(|o| o.name.clone()),
        supplier: None,
        download_location: NOASSERTION.to_owned(),
        files_analyzed: false,
        checksums: single.map(|o| digest(&o.sha256)).unwrap_or_default(),
        source_info: None,
        license_concluded: NOASSERTION.to_owned(),
        license_declared: NOASSERTION.to_owned(),
        license_comments: None,
        description: Some(crate::image_description(input)),
        external_refs: Vec::new(),
        primary_package_purpose: match img.kind {
            ImageKind::Container => "CONTAINER",
            ImageKind::OperatingSystem => "OPERATING-SYSTEM",
        },
    });
    if outputs.len() > 1 {
        for o in &outputs {
            let id = ids.take("Output", &o.name);
            packages.push(Package {
                name: o.name.clone(),
                spdx_id: id.clone(),
                version_info: (!img.version.is_empty()).then(|| img.version.clone()),
                package_file_name: Some(o.name.clone()),
                supplier: None,
                download_location: NOASSERTION.to_owned(),
                files_analyzed: false,
                checksums: digest(&o.sha256),
                source_info: None,
                license_concluded: NOASSERTION.to_owned(),
                license_declared: NOASSERTION.to_owned(),
                license_comments: None,
                description: Some(format!("Output file of image {}", img.name)),
                external_refs: Vec::new(),
                primary_package_purpose: "FILE",
            });
            relationships.push(rel(&id, "GENERATED_FROM", &image_id));
        }
    }

    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let mut source_packages = Vec::new();
    let mut generated = Vec::new();
    for (purl, p) in sorted_packages(input) {
        let fmt = match p.kind {
            crate::PackageKind::Rpm { .. } => "rpm",
            crate::PackageKind::Deb { .. } => "deb",
        };
        let version = p.display_version();
        let id = ids.take(
            &format!("Package-{fmt}"),
            &format!("{}-{version}-{}", p.name, p.arch),
        );
        let license = p.license.as_deref().map(license_to_spdx);
        for r in license.iter().flat_map(|l| l.license_refs()) {
            let texts = extracted.entry(r.id.clone()).or_default();
            if !texts.contains(&r.stated) {
                texts.push(r.stated.clone());
            }
        }
        let license_comments = match (&license, p.license.as_deref()) {
            (Some(l), Some(raw)) if l.expression() != raw.trim() => {
                Some(format!("The package states its license as: {}", raw.trim()))
            }
            _ => None,
        };
        let supplier = match p.supplier.as_deref().and_then(split_supplier) {
            Some((name, Some(email))) => format!("Organization: {name} ({email})"),
            Some((name, None)) => format!("Organization: {name}"),
            None => NOASSERTION.to_owned(),
        };
        let download_location = p
            .download_url
            .as_deref()
            .filter(|u| spdx_download_location_ok(u))
            .unwrap_or(NOASSERTION)
            .to_owned();
        let source = p.source_ref();
        if let Some(s) = &source {
            let key = s.purl.to_string();
            let sid = match sources.get(&key) {
                Some(sid) => sid.clone(),
                None => {
                    let sid = ids.take(
                        &format!("Source-{fmt}"),
                        &format!("{}-{}", s.name, s.version),
                    );
                    sources.insert(key.clone(), sid.clone());
                    source_packages.push(Package {
                        name: s.name.clone(),
                        spdx_id: sid.clone(),
                        version_info: Some(s.version.clone()),
                        package_file_name: None,
                        supplier: None,
                        download_location: NOASSERTION.to_owned(),
                        files_analyzed: false,
                        checksums: Vec::new(),
                        source_info: None,
                        license_concluded: NOASSERTION.to_owned(),
                        license_declared: NOASSERTION.to_owned(),
                        license_comments: None,
                        description: None,
                        external_refs: vec![ExternalRef {
                            reference_category: "PACKAGE-MANAGER",
                            reference_type: "purl",
                            reference_locator: key,
                        }],
                        primary_package_purpose: "SOURCE",
                    });
                    sid
                }
            };
            generated.push(rel(&id, "GENERATED_FROM", &sid));
        }
        relationships.push(rel(&image_id, "CONTAINS", &id));
        packages.push(Package {
            name: p.name.clone(),
            spdx_id: id,
            version_info: Some(version),
            package_file_name: None,
            supplier: Some(supplier),
            download_location,
            files_analyzed: false,
            checksums: vec![Checksum {
                algorithm: p.checksum.algorithm.spdx(),
                checksum_value: p.checksum.hex.to_ascii_lowercase(),
            }],
            source_info: p
                .source
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| format!("built from source package {s}")),
            license_concluded: NOASSERTION.to_owned(),
            license_declared: license
                .as_ref()
                .map_or(NOASSERTION, |l| l.expression())
                .to_owned(),
            license_comments,
            description: None,
            external_refs: vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: purl,
            }],
            primary_package_purpose: if p.is_library() {
                "LIBRARY"
            } else {
                "APPLICATION"
            },
        });
    }
    packages.extend(source_packages);
    relationships.extend(generated);

    let name = if img.version.is_empty() {
        format!("{}-{}", img.project, img.name)
    } else {
        format!("{}-{}-{}", img.project, img.name, img.version)
    };
    let mut doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name,
        document_namespace: String::new(),
        creation_info: CreationInfo {
            created: rfc3339(input.source_date_epoch),
            creators: vec![match input.creator.version.trim() {
                "" => format!("Tool: {}", input.creator.name.trim()),
                v => format!("Tool: {}-{v}", input.creator.name.trim()),
            }],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: extracted
            .into_iter()
            .map(|(id, texts)| ExtractedLicense {
                license_id: id,
                extracted_text: texts
                    .iter()
                    .map(|t| format!("The package states its license as: {t}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                name: texts.join(" / "),
                comment: "cairn found no SPDX license list id for this license name; the \
                          license text itself was not available to it",
            })
            .collect(),
    };
    let body = render(&doc);
    let uuid = uuid_from(format!("cairn-sbom spdx-2.3\n{body}").as_bytes());
    doc.document_namespace = format!(
        "{SPDX_NAMESPACE_BASE}{}/{}-{uuid}",
        encode(&img.project),
        encode(&img.name)
    );
    Ok(render(&doc))
}

fn render(doc: &Document) -> String {
    let mut s = serde_json::to_string_pretty(doc).expect("SPDX model serialises");
    s.push('\n');
    s
}
