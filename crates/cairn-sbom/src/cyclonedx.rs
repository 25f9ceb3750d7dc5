//! CycloneDX 1.6 JSON.

use crate::SbomError;
use crate::ident::{iri_ok, rfc3339, split_supplier, uuid_from};
use crate::input::{ImageKind, SbomInput};
use crate::license::{is_listed_license, license_to_spdx};
use crate::spdx::sorted_packages;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<Supplier>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component>,
}

#[derive(Serialize)]
struct Supplier {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contact: Vec<Contact>,
}

#[derive(Serialize)]
struct Contact {
    email: String,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License {
        license: License,
    },
    Expression {
        expression: String,
        acknowledgement: &'static str,
    },
}

#[derive(Serialize)]
struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    acknowledgement: &'static str,
}

#[derive(Serialize)]
struct ExternalReference {
    url: String,
    #[serde(rename = "type")]
    ty: &'static str,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn")]
    depends_on: Vec<String>,
}

fn prop(name: &'static str, value: &str) -> Option<Property> {
    (!value.trim().is_empty()).then(|| Property {
        name,
        value: value.to_owned(),
    })
}

/// Render the CycloneDX 1.6 JSON document (see the crate docs for the field mapping).
pub fn cyclonedx_json(input: &SbomInput) -> Result<String, SbomError> {
    input.validate()?;
    let img = &input.image;
    let image_ref = if img.version.is_empty() {
        format!("cairn-image:{}/{}", img.project, img.name)
    } else {
        format!("cairn-image:{}/{}@{}", img.project, img.name, img.version)
    };
    let mut outputs: Vec<_> = img.outputs.iter().collect();
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    let sha256 = |d: &Option<String>| {
        d.iter()
            .map(|h| Hash {
                alg: "SHA-256",
                content: h.to_ascii_lowercase(),
            })
            .collect::<Vec<_>>()
    };
    let image = Component {
        ty: match img.kind {
            ImageKind::Container => "container",
            ImageKind::OperatingSystem => "operating-system",
        },
        bom_ref: Some(image_ref.clone()),
        name: img.name.clone(),
        version: (!img.version.is_empty()).then(|| img.version.clone()),
        description: Some(crate::image_description(input)),
        hashes: match outputs.as_slice() {
            [one] => sha256(&one.sha256),
            _ => Vec::new(),
        },
        properties: [
            prop("cairn:project", &img.project),
            prop("cairn:distro:id", &img.distro.id),
            prop("cairn:distro:version-id", &img.distro.version_id),
            prop("cairn:distro:name", &img.distro.name),
        ]
        .into_iter()
        .flatten()
        .collect(),
        components: outputs
            .iter()
            .map(|o| Component {
                ty: "file",
                bom_ref: Some(format!("{image_ref}#output:{}", o.name)),
                name: o.name.clone(),
                hashes: sha256(&o.sha256),
                ..Component::default()
            })
            .collect(),
        ..Component::default()
    };

    let mut components = Vec::new();
    for (purl, p) in sorted_packages(input) {
        let licenses = match p.license.as_deref().map(license_to_spdx) {
            Some(l) if l.is_no_assertion() => Vec::new(),
            None => Vec::new(),
            Some(l) => {
                if let Some(id) = l.listed_id().filter(|id| is_listed_license(id)) {
                    vec![LicenseChoice::License {
                        license: License {
                            id: Some(id.to_owned()),
                            name: None,
                            acknowledgement: "declared",
                        },
                    }]
                } else if let Some(r) = l.single_ref() {
                    vec![LicenseChoice::License {
                        license: License {
                            id: None,
                            name: Some(r.stated.clone()),
                            acknowledgement: "declared",
                        },
                    }]
                } else {
                    vec![LicenseChoice::Expression {
                        expression: l.expression().to_owned(),
                        acknowledgement: "declared",
                    }]
                }
            }
        };
        let license_stated = p
            .license
            .as_deref()
            .map(str::trim)
            .filter(|raw| license_to_spdx(raw).expression() != *raw)
            .unwrap_or("");
        let supplier = p
            .supplier
            .as_deref()
            .and_then(split_supplier)
            .map(|(name, email)| Supplier {
                name,
                contact: email.map(|email| Contact { email }).into_iter().collect(),
            });
        let source = p.source_ref();
        let epoch = match &p.kind {
            crate::PackageKind::Rpm { epoch: Some(e), .. } if *e != 0 => e.to_string(),
            _ => String::new(),
        };
        components.push(Component {
            ty: if p.is_library() {
                "library"
            } else {
                "application"
            },
            bom_ref: Some(purl.clone()),
            supplier,
            name: p.name.clone(),
            version: Some(p.display_version()),
            hashes: vec![Hash {
                alg: p.checksum.algorithm.cyclonedx(),
                content: p.checksum.hex.to_ascii_lowercase(),
            }],
            licenses,
            purl: Some(purl),
            external_references: p
                .download_url
                .iter()
                .filter(|u| iri_ok(u))
                .map(|u| ExternalReference {
                    url: u.clone(),
                    ty: "distribution",
                })
                .collect(),
            properties: [
                prop("cairn:package:arch", &p.arch),
                prop("cairn:package:epoch", &epoch),
                prop("cairn:package:license-stated", license_stated),
                prop(
                    "cairn:package:source",
                    p.source.as_deref().map_or("", str::trim),
                ),
                prop(
                    "cairn:package:source-purl",
                    &source.map(|s| s.purl.to_string()).unwrap_or_default(),
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
            ..Component::default()
        });
    }

    let dependencies = vec![Dependency {
        reference: image_ref,
        depends_on: components
            .iter()
            .filter_map(|c| c.bom_ref.clone())
            .collect(),
    }];
    let mut bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: String::new(),
        version: 1,
        metadata: Metadata {
            timestamp: rfc3339(input.source_date_epoch),
            tools: Tools {
                components: vec![Component {
                    ty: "application",
                    name: input.creator.name.clone(),
                    version: (!input.creator.version.is_empty())
                        .then(|| input.creator.version.clone()),
                    ..Component::default()
                }],
            },
            component: image,
        },
        components,
        dependencies,
    };
    let body = render(&bom);
    bom.serial_number = format!(
        "urn:uuid:{}",
        uuid_from(format!("cairn-sbom cyclonedx-1.6\n{body}").as_bytes())
    );
    Ok(render(&bom))
}

fn render(bom: &Bom) -> String {
    let mut s = serde_json::to_string_pretty(bom).expect("CycloneDX model serialises");
    s.push('\n');
    s
}
