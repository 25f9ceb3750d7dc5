//! Properties: same input → same bytes (whatever the input order), purls parse back to
//! what was built, and random awkward inputs pass the real validators.

use crate::fixtures::{image, sha256_of, tool};
use crate::validators::{cyclonedx_batch, spdx_batch};
use cairn_sbom::{
    Checksum, ChecksumAlgorithm, ImageKind, InstalledPackage, OutputFile, PackageKind, Purl,
    SbomInput, cyclonedx_json, spdx_json,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::Value;
use std::collections::BTreeSet;

const ODD: &str = "[a-zA-Z0-9][a-zA-Z0-9+._~@:/ %?#&=äß€-]{0,12}";

fn license() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![
            "MIT",
            "GPL-2+",
            "GPLv2+ and BSD",
            "GPL-1+ or Artistic, and BSD-3-clause",
            "LGPL-2.1+ with OpenSSL exception",
            "public-domain",
            "LicenseRef-Fedora-UltraPermissive AND Apache-2.0",
            "(MIT OR Apache-2.0) AND Unicode-DFS-2016",
            "GPL-3.0-or-later WITH Bison-exception-2.2",
            "MPL-1.1+",
            "",
            "((",
            "and or with",
        ])
        .prop_map(|s| Some(s.to_owned())),
        "[ -~]{0,30}".prop_map(Some),
    ]
}

fn package() -> impl Strategy<Value = InstalledPackage> {
    let rpm = (
        "[a-zA-Z]{0,2}",
        prop::option::of(0u64..4),
        "[0-9][0-9a-zA-Z.+~^_]{0,8}",
        "[0-9][0-9a-zA-Z.+~_]{0,6}",
    )
        .prop_map(|(vendor, epoch, version, release)| PackageKind::Rpm {
            vendor: format!("v{vendor}"),
            epoch,
            version,
            release,
        });
    let deb = "([0-9]:)?[0-9][0-9a-zA-Z.+~-]{0,10}".prop_map(|version| PackageKind::Deb {
        vendor: "debian".to_owned(),
        version,
    });
    (
        ODD,
        prop_oneof![rpm, deb],
        prop::sample::select(vec!["x86_64", "noarch", "amd64", "all", "i686", ""]),
        prop::sample::select(vec!["fedora-41", "debian-12", "", "a b&c=d"]),
        license(),
        prop::option::of(prop_oneof![
            Just("src-1.0-1.fc41.src.rpm".to_owned()),
            Just("src (1:2-3)".to_owned()),
            ODD.prop_map(|s| s),
        ]),
        prop::option::of(prop::sample::select(vec![
            "https://mirror.example.org/pool/x.rpm",
            "file:///srv/repo/x.deb",
            "http://10.0.0.1:8080/x",
            "not a url",
        ])),
        prop::option::of(prop::sample::select(vec![
            "Fedora Project",
            "A B <a@b.example>",
            "x (y) <bad email>",
            "\u{7}",
        ])),
        any::<bool>(),
    )
        .prop_map(
            |(name, kind, arch, distro, license, source, url, supplier, sha512)| {
                let algorithm = if sha512 {
                    ChecksumAlgorithm::Sha512
                } else {
                    ChecksumAlgorithm::Sha256
                };
                let h = sha256_of(&name);
                InstalledPackage {
                    checksum: Checksum {
                        algorithm,
                        hex: if sha512 { format!("{h}{h}") } else { h },
                    },
                    name,
                    kind,
                    arch: arch.to_owned(),
                    distro: distro.to_owned(),
                    license,
                    source,
                    download_url: url.map(str::to_owned),
                    supplier: supplier.map(str::to_owned),
                }
            },
        )
}

fn input() -> impl Strategy<Value = SbomInput> {
    (
        prop::collection::vec(package(), 0..8),
        prop::collection::btree_set(ODD, 0..3),
        ODD,
        any::<bool>(),
        0u64..4_000_000_000,
    )
        .prop_map(|(pkgs, outputs, name, container, epoch)| {
            let mut seen = BTreeSet::new();
            let packages = pkgs
                .into_iter()
                .filter(|p| seen.insert(p.purl().to_string()))
                .collect();
            let kind = if container {
                ImageKind::Container
            } else {
                ImageKind::OperatingSystem
            };
            let outputs = outputs
                .into_iter()
                .enumerate()
                .map(|(i, o)| OutputFile {
                    sha256: (i % 2 == 0).then(|| sha256_of(&o)),
                    name: o,
                })
                .collect();
            SbomInput {
                image: image(&name, kind, outputs),
                packages,
                creator: tool(),
                source_date_epoch: epoch,
            }
        })
}

fn reordered(input: &SbomInput) -> SbomInput {
    let mut other = input.clone();
    other.packages.reverse();
    if !other.packages.is_empty() {
        other.packages.rotate_left(1);
    }
    other.image.outputs.reverse();
    other
}

/// What the validators would check, cheaply: ids well-formed and unique, every reference
/// resolves, every LicenseRef declared.
fn check_structure(spdx: &str, cdx: &str) {
    let s: Value = serde_json::from_str(spdx).unwrap();
    let mut ids = BTreeSet::new();
    for p in s["packages"].as_array().unwrap() {
        let id = p["SPDXID"].as_str().unwrap();
        let body = id.strip_prefix("SPDXRef-").unwrap();
        assert!(
            !body.is_empty()
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b)),
            "{id}"
        );
        assert!(ids.insert(id.to_owned()), "duplicate {id}");
    }
    for r in s["relationships"].as_array().unwrap() {
        for end in ["spdxElementId", "relatedSpdxElement"] {
            let id = r[end].as_str().unwrap();
            assert!(
                id == "SPDXRef-DOCUMENT" || ids.contains(id),
                "dangling {id}"
            );
        }
    }
    let declared: BTreeSet<&str> = s["hasExtractedLicensingInfos"]
        .as_array()
        .map(|a| a.iter().map(|i| i["licenseId"].as_str().unwrap()).collect())
        .unwrap_or_default();
    for p in s["packages"].as_array().unwrap() {
        for word in p["licenseDeclared"]
            .as_str()
            .unwrap()
            .split([' ', '(', ')'])
        {
            if word.starts_with("LicenseRef-") {
                assert!(declared.contains(word), "{word} not declared");
            }
        }
    }
    let c: Value = serde_json::from_str(cdx).unwrap();
    let refs: BTreeSet<&str> = c["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), c["components"].as_array().unwrap().len());
    for d in c["dependencies"][0]["dependsOn"].as_array().unwrap() {
        assert!(refs.contains(d.as_str().unwrap()));
    }
}

proptest! {
    #[test]
    fn same_input_same_bytes_in_any_order(input in input()) {
        let spdx = spdx_json(&input).unwrap();
        let cdx = cyclonedx_json(&input).unwrap();
        prop_assert_eq!(&spdx, &spdx_json(&input).unwrap());
        prop_assert_eq!(&cdx, &cyclonedx_json(&input).unwrap());
        let other = reordered(&input);
        prop_assert_eq!(&spdx, &spdx_json(&other).unwrap());
        prop_assert_eq!(&cdx, &cyclonedx_json(&other).unwrap());
        check_structure(&spdx, &cdx);
    }

    #[test]
    fn different_input_different_ids(input in input(), delta in 1u64..1000) {
        let mut other = input.clone();
        other.source_date_epoch += delta;
        let ns = |s: &str| serde_json::from_str::<Value>(s).unwrap()["documentNamespace"].clone();
        let sn = |s: &str| serde_json::from_str::<Value>(s).unwrap()["serialNumber"].clone();
        prop_assert_ne!(ns(&spdx_json(&input).unwrap()), ns(&spdx_json(&other).unwrap()));
        prop_assert_ne!(sn(&cyclonedx_json(&input).unwrap()), sn(&cyclonedx_json(&other).unwrap()));
    }

    #[test]
    fn purls_round_trip(p in package()) {
        let purl = p.purl();
        let text = purl.to_string();
        let back = Purl::parse(&text).unwrap();
        prop_assert_eq!(&back, &purl);
        prop_assert_eq!(back.to_string(), text.clone());
        // Only the permitted characters appear unencoded.
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_~%:/@?=&".contains(&b)), "{}", text);
        match &p.kind {
            PackageKind::Rpm { vendor, epoch, version, release } => {
                prop_assert_eq!(&back.ty, "rpm");
                prop_assert_eq!(&back.namespace, &vendor.to_lowercase());
                prop_assert_eq!(&back.name, &p.name);
                prop_assert_eq!(back.version.clone(), Some(format!("{version}-{release}")));
                let want_epoch = epoch.filter(|e| *e != 0).map(|e| e.to_string());
                prop_assert_eq!(back.qualifier("epoch").map(str::to_owned), want_epoch);
            }
            PackageKind::Deb { vendor, version } => {
                prop_assert_eq!(&back.ty, "deb");
                prop_assert_eq!(&back.namespace, vendor);
                prop_assert_eq!(&back.name, &p.name.to_lowercase());
                prop_assert_eq!(back.version.as_deref(), Some(version.as_str()));
            }
            _ => unreachable!(),
        }
        prop_assert_eq!(back.qualifier("arch"), (!p.arch.is_empty()).then_some(p.arch.as_str()));
        prop_assert_eq!(back.qualifier("distro"), (!p.distro.is_empty()).then_some(p.distro.as_str()));
    }
}

/// Random awkward inputs (fixed seed) through the real validators, in one process each.
#[test]
fn random_inputs_pass_the_real_validators() {
    let dir = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::deterministic();
    let strategy = input();
    let (mut spdx_files, mut cdx_files) = (Vec::new(), Vec::new());
    for i in 0..32 {
        let input = strategy.new_tree(&mut runner).unwrap().current();
        let s = dir.path().join(format!("r{i}.spdx.json"));
        let c = dir.path().join(format!("r{i}.cdx.json"));
        fs_err::write(&s, spdx_json(&input).unwrap()).unwrap();
        fs_err::write(&c, cyclonedx_json(&input).unwrap()).unwrap();
        spdx_files.push(s);
        cdx_files.push(c);
    }
    let mut failures = Vec::new();
    for r in spdx_batch(&spdx_files)
        .into_iter()
        .chain(cyclonedx_batch(&cdx_files))
    {
        if let Err(e) = r {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
