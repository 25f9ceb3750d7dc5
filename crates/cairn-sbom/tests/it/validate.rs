//! The documents against the real validators, and what they say about the input.

use crate::fixtures::{deb, rich_input, small_input, tool};
use crate::validators::{cyclonedx, cyclonedx_batch, pyspdxtools};
use cairn_sbom::{
    ChecksumAlgorithm, ImageKind, InstalledPackage, OutputFile, SbomError, SbomInput,
    cyclonedx_json, deb_copyright_licenses, license_to_spdx, listed_exceptions, listed_licenses,
    spdx_json,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs_err::write(&p, text).unwrap();
    p
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("output is JSON")
}

fn spdx_package<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["primaryPackagePurpose"] != "SOURCE")
        .unwrap_or_else(|| panic!("no SPDX package {name}"))
}

fn cdx_component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn prop<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

#[test]
fn rich_spdx_is_valid_and_maps_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = rich_input();
    let text = spdx_json(&input).unwrap();
    let file = write(dir.path(), "rich.spdx.json", &text);
    if let Err(e) = pyspdxtools(&file) {
        panic!("{e}\n{text}");
    }
    let doc = json(&text);
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2025-01-04T14:13:20Z");
    assert_eq!(doc["creationInfo"]["creators"][0], "Tool: cairn-0.1.0");
    let ns = doc["documentNamespace"].as_str().unwrap();
    assert!(
        ns.starts_with(
            "https://spdx.cairn.invalid/my%20project%2F%CE%B1/cloud%20base%20%28%C3%BC%29-"
        ),
        "{ns}"
    );

    let image = &doc["packages"][0];
    assert_eq!(image["primaryPackagePurpose"], "OPERATING-SYSTEM");
    assert_eq!(image["versionInfo"], "2024.1");
    let image_id = image["SPDXID"].as_str().unwrap();
    let rels = doc["relationships"].as_array().unwrap();
    assert_eq!(rels[0]["relationshipType"], "DESCRIBES");
    assert_eq!(rels[0]["relatedSpdxElement"], image_id);

    // Three outputs: one FILE package each, generated from the image.
    let outputs: Vec<&Value> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["primaryPackagePurpose"] == "FILE")
        .collect();
    assert_eq!(outputs.len(), 3);
    assert!(
        outputs
            .iter()
            .any(|o| o["packageFileName"] == "disk.qcow2" && o.get("checksums").is_none())
    );

    // Every installed package is contained in the image, with its purl.
    let contained = rels
        .iter()
        .filter(|r| r["relationshipType"] == "CONTAINS" && r["spdxElementId"] == image_id)
        .count();
    assert_eq!(contained, input.packages.len());
    for p in &input.packages {
        let sp = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["externalRefs"][0]["referenceLocator"] == p.purl().to_string())
            .unwrap_or_else(|| panic!("no SPDX package with purl {}", p.purl()));
        assert_eq!(sp["name"], p.name.as_str());
        assert_eq!(sp["filesAnalyzed"], false);
        assert_eq!(sp["licenseConcluded"], "NOASSERTION");
        assert_eq!(
            sp["checksums"][0]["checksumValue"],
            p.checksum.hex.to_ascii_lowercase()
        );
    }

    let perl = spdx_package(&doc, "perl-Net-SSLeay");
    assert_eq!(perl["versionInfo"], "1:1.94~rc1+git20240101-5.fc41");
    assert_eq!(
        perl["externalRefs"][0]["referenceLocator"],
        "pkg:rpm/fedora/perl-Net-SSLeay@1.94~rc1%2Bgit20240101-5.fc41?arch=x86_64&distro=fedora-41&epoch=1"
    );
    assert_eq!(perl["licenseDeclared"], "Artistic-2.0");
    assert_eq!(perl["supplier"], "Organization: Fedora Project");
    let tz = spdx_package(&doc, "tzdata");
    assert!(
        !tz["externalRefs"][0]["referenceLocator"]
            .as_str()
            .unwrap()
            .contains("epoch")
    );
    let old = spdx_package(&doc, "Old_Style");
    assert_eq!(old["downloadLocation"], "NOASSERTION"); // file:// is not an SPDX location
    assert_eq!(old["checksums"][0]["algorithm"], "SHA512");
    assert_eq!(
        old["licenseDeclared"],
        "GPL-2.0-or-later AND Apache-2.0 AND LicenseRef-public-domain AND LicenseRef-copyright-only"
    );
    assert_eq!(
        old["licenseComments"],
        "The package states its license as: GPLv2+ and ASL 2.0 and Public Domain and Copyright only"
    );
    let attr = spdx_package(&doc, "libattr1");
    assert_eq!(
        attr["downloadLocation"],
        "http://deb.debian.org/debian/pool/main/a/attr/libattr1_2.5.1-4+b1_amd64.deb"
    );
    assert_eq!(
        attr["supplier"],
        "Organization: Anibal Monsalve Salazar (anibal@debian.org)"
    );
    assert_eq!(
        attr["sourceInfo"],
        "built from source package attr (1:2.5.1-4)"
    );
    assert_eq!(
        spdx_package(&doc, "base-files")["licenseDeclared"],
        "NOASSERTION"
    );
    assert_eq!(
        spdx_package(&doc, "python3.13-libs")["supplier"],
        "NOASSERTION"
    );
    assert_eq!(
        spdx_package(&doc, "python3.13-libs")["primaryPackagePurpose"],
        "LIBRARY"
    );

    // Binaries of one source share one SOURCE package.
    let sources: Vec<&Value> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["primaryPackagePurpose"] == "SOURCE")
        .collect();
    let attr_src: Vec<_> = sources.iter().filter(|s| s["name"] == "attr").collect();
    assert_eq!(attr_src.len(), 1);
    assert_eq!(attr_src[0]["versionInfo"], "1:2.5.1-4");
    assert_eq!(
        attr_src[0]["externalRefs"][0]["referenceLocator"],
        "pkg:deb/debian/attr@1:2.5.1-4?arch=source&distro=debian-12"
    );
    let gcc_src = sources.iter().find(|s| s["name"] == "gcc").unwrap();
    let gcc_src_id = gcc_src["SPDXID"].as_str().unwrap();
    assert_eq!(
        rels.iter()
            .filter(|r| r["relationshipType"] == "GENERATED_FROM"
                && r["relatedSpdxElement"] == gcc_src_id)
            .count(),
        2
    );

    // Every LicenseRef used is declared once, with the stated text.
    let infos = doc["hasExtractedLicensingInfos"].as_array().unwrap();
    let declared: Vec<&str> = infos
        .iter()
        .map(|i| i["licenseId"].as_str().unwrap())
        .collect();
    for want in [
        "LicenseRef-public-domain",
        "LicenseRef-Fedora-Public-Domain",
        "LicenseRef-gpl-2-with-openssl-exception",
        "LicenseRef-permissive",
        "LicenseRef-mit",
    ] {
        assert!(declared.contains(&want), "{want} not in {declared:?}");
    }
    let pd = infos
        .iter()
        .find(|i| i["licenseId"] == "LicenseRef-public-domain")
        .unwrap();
    let pd_text = pd["extractedText"].as_str().unwrap();
    assert!(
        pd_text.contains("Public Domain") && pd_text.contains("public-domain"),
        "{pd_text}"
    );
}

#[test]
fn rich_cyclonedx_is_valid_and_maps_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = rich_input();
    let text = cyclonedx_json(&input).unwrap();
    let file = write(dir.path(), "rich.cdx.json", &text);
    if let Err(e) = cyclonedx(&file) {
        panic!("{e}\n{text}");
    }
    let doc = json(&text);
    assert_eq!(doc["specVersion"], "1.6");
    assert!(
        doc["serialNumber"]
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:")
    );
    assert_eq!(doc["metadata"]["timestamp"], "2025-01-04T14:13:20Z");
    assert_eq!(doc["metadata"]["tools"]["components"][0]["name"], "cairn");
    let image = &doc["metadata"]["component"];
    assert_eq!(image["type"], "operating-system");
    assert_eq!(prop(image, "cairn:distro:id"), Some("fedora"));
    // Several outputs: no single hash on the image, one file component per output.
    assert!(image.get("hashes").is_none());
    assert_eq!(image["components"].as_array().unwrap().len(), 3);

    let comps = doc["components"].as_array().unwrap();
    assert_eq!(comps.len(), input.packages.len());
    let deps = &doc["dependencies"][0];
    assert_eq!(deps["ref"], image["bom-ref"]);
    for p in &input.packages {
        let purl = p.purl().to_string();
        let c = comps.iter().find(|c| c["purl"] == purl.as_str()).unwrap();
        assert_eq!(c["bom-ref"], purl.as_str());
        assert!(
            deps["dependsOn"]
                .as_array()
                .unwrap()
                .contains(&Value::from(purl))
        );
    }
    let libgcc = cdx_component(&doc, "libgcc");
    assert_eq!(libgcc["type"], "library");
    assert_eq!(
        libgcc["licenses"][0]["expression"],
        "GPL-3.0-or-later WITH GCC-exception-3.1"
    );
    assert_eq!(
        prop(libgcc, "cairn:package:source"),
        Some("gcc-14.2.1-3.fc41.src.rpm")
    );
    assert_eq!(
        prop(libgcc, "cairn:package:source-purl"),
        Some("pkg:rpm/fedora/gcc@14.2.1-3.fc41?arch=src&distro=fedora-41")
    );
    let perl = cdx_component(&doc, "perl-Net-SSLeay");
    assert_eq!(perl["type"], "application");
    assert_eq!(perl["licenses"][0]["license"]["id"], "Artistic-2.0");
    assert_eq!(prop(perl, "cairn:package:epoch"), Some("1"));
    assert_eq!(
        prop(perl, "cairn:package:license-stated"),
        Some("Artistic 2.0")
    );
    let tz = comps
        .iter()
        .find(|c| c["name"] == "tzdata" && c["version"] == "2024a-0+deb12u1")
        .unwrap();
    assert_eq!(tz["licenses"][0]["license"]["name"], "public-domain");
    assert!(cdx_component(&doc, "base-files").get("licenses").is_none());
    let old = cdx_component(&doc, "Old_Style");
    assert_eq!(old["hashes"][0]["alg"], "SHA-512");
    assert_eq!(old["externalReferences"][0]["type"], "distribution");
    assert_eq!(old["supplier"]["name"], "ACME (Europe) Ltd.");
    let attr = cdx_component(&doc, "libattr1");
    assert_eq!(attr["supplier"]["contact"][0]["email"], "anibal@debian.org");
    assert_eq!(attr["version"], "1:2.5.1-4+b1");
}

#[test]
fn small_documents_are_valid_and_single_output_hash_is_on_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input();
    let spdx = spdx_json(&input).unwrap();
    let cdx = cyclonedx_json(&input).unwrap();
    pyspdxtools(&write(dir.path(), "small.spdx.json", &spdx)).unwrap();
    cyclonedx(&write(dir.path(), "small.cdx.json", &cdx)).unwrap();
    let digest = input.image.outputs[0].sha256.clone().unwrap();
    let s = json(&spdx);
    assert_eq!(s["packages"][0]["packageFileName"], "base.qcow2");
    assert_eq!(
        s["packages"][0]["checksums"][0]["checksumValue"],
        digest.as_str()
    );
    let c = json(&cdx);
    assert_eq!(
        c["metadata"]["component"]["hashes"][0]["content"],
        digest.as_str()
    );
}

#[test]
fn container_kind_and_no_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = small_input();
    input.image.kind = ImageKind::Container;
    input.image.outputs.clear();
    input.image.version.clear();
    input.packages.clear();
    let spdx = spdx_json(&input).unwrap();
    let cdx = cyclonedx_json(&input).unwrap();
    pyspdxtools(&write(dir.path(), "c.spdx.json", &spdx)).unwrap();
    cyclonedx(&write(dir.path(), "c.cdx.json", &cdx)).unwrap();
    assert_eq!(
        json(&spdx)["packages"][0]["primaryPackagePurpose"],
        "CONTAINER"
    );
    assert_eq!(json(&cdx)["metadata"]["component"]["type"], "container");
}

/// The checks above can fail: documents broken on purpose are rejected.
#[test]
fn validators_reject_broken_documents() {
    let dir = tempfile::tempdir().unwrap();
    let input = small_input();
    let spdx_doc = json(&spdx_json(&input).unwrap());
    let cdx_doc = json(&cyclonedx_json(&input).unwrap());

    let mut bad_license = spdx_doc.clone();
    bad_license["packages"][1]["licenseDeclared"] = "Not-A-License-123".into();
    let mut bad_id = spdx_doc.clone();
    bad_id["packages"][1]["SPDXID"] = "SPDXRef-has space".into();
    let mut undeclared_ref = spdx_doc.clone();
    undeclared_ref["hasExtractedLicensingInfos"] = Value::Array(vec![]);
    for (n, doc) in [bad_license, bad_id, undeclared_ref].iter().enumerate() {
        let f = write(dir.path(), &format!("bad{n}.spdx.json"), &doc.to_string());
        let err = pyspdxtools(&f).expect_err(&format!("pyspdxtools accepted broken document {n}"));
        assert!(
            err.contains("The document is invalid") && err.contains("exit status: 1"),
            "{err}"
        );
    }

    let mut bad_serial = cdx_doc.clone();
    bad_serial["serialNumber"] = "urn:uuid:not-a-uuid".into();
    let mut bad_license_id = cdx_doc.clone();
    bad_license_id["components"][1]["licenses"] =
        serde_json::json!([{"license": {"id": "Not-A-License-123"}}]);
    let mut unknown_field = cdx_doc.clone();
    unknown_field["metadata"]["component"]["cairn"] = "x".into();
    let files: Vec<PathBuf> = [bad_serial, bad_license_id, unknown_field]
        .iter()
        .enumerate()
        .map(|(n, d)| write(dir.path(), &format!("bad{n}.cdx.json"), &d.to_string()))
        .collect();
    for (n, r) in cyclonedx_batch(&files).into_iter().enumerate() {
        assert!(
            r.is_err(),
            "CycloneDX validator accepted broken document {n}"
        );
    }
}

/// Every id the crate may emit as a listed license or exception is accepted by both
/// validators (the list in `src/spdx_ids.rs` agrees with the installed validators).
#[test]
fn every_listed_license_and_exception_validates() {
    let dir = tempfile::tempdir().unwrap();
    let mut packages = Vec::new();
    for (i, id) in listed_licenses().iter().enumerate() {
        let mut p = deb(&format!("lic{i}"), "1", "all");
        p.license = Some((*id).to_owned());
        packages.push(p);
    }
    for (i, e) in listed_exceptions().iter().enumerate() {
        let mut p = deb(&format!("exc{i}"), "1", "all");
        p.license = Some(format!("GPL-2.0-or-later WITH {e}"));
        packages.push(p);
    }
    let input = SbomInput {
        packages,
        ..small_input()
    };
    let spdx = write(dir.path(), "all.spdx.json", &spdx_json(&input).unwrap());
    let cdx = write(dir.path(), "all.cdx.json", &cyclonedx_json(&input).unwrap());
    let text = fs_err::read_to_string(&spdx).unwrap();
    assert!(
        !text.contains("LicenseRef-"),
        "a listed id became a LicenseRef"
    );
    if let Err(e) = pyspdxtools(&spdx) {
        panic!("{}", &e[..e.len().min(4000)]);
    }
    cyclonedx(&cdx).unwrap();
}

/// The packages installed on this (Debian) host, with the licenses of their
/// `/usr/share/doc/<pkg>/copyright` files: real versions, sources, maintainers and DEP-5
/// license fields.
#[test]
fn host_dpkg_packages_and_copyright_files_validate() {
    let out = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\t${Maintainer}\\n",
        ])
        .output()
        .expect("dpkg-query (Debian's dpkg) must be installed: run `bash scripts/setup-host.sh`");
    assert!(out.status.success(), "dpkg-query failed");
    let list = String::from_utf8_lossy(&out.stdout);
    let (mut packages, mut machine_readable, mut mapped) = (Vec::new(), 0, 0);
    for line in list.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, version, arch, src, src_ver, maint] = f[..] else {
            continue;
        };
        let mut p = deb(name, version, arch);
        p.source = Some(if src_ver == version {
            src.to_owned()
        } else {
            format!("{src} ({src_ver})")
        });
        p.supplier = Some(maint.to_owned());
        let copyright = Path::new("/usr/share/doc").join(name).join("copyright");
        if let Ok(bytes) = fs_err::read(&copyright) {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(lic) = deb_copyright_licenses(&text) {
                machine_readable += 1;
                if license_to_spdx(&lic).license_refs().is_empty() {
                    mapped += 1;
                }
                p.license = Some(lic);
            }
        }
        if !packages
            .iter()
            .any(|q: &InstalledPackage| q.purl() == p.purl())
        {
            packages.push(p);
        }
    }
    assert!(
        packages.len() >= 50,
        "only {} packages from dpkg-query",
        packages.len()
    );
    assert!(
        machine_readable >= 20,
        "only {machine_readable} DEP-5 copyright files"
    );
    assert!(
        mapped >= 1,
        "no copyright file mapped to listed SPDX ids only"
    );
    let input = SbomInput {
        packages,
        ..small_input()
    };
    let dir = tempfile::tempdir().unwrap();
    let spdx = write(dir.path(), "host.spdx.json", &spdx_json(&input).unwrap());
    let cdx = write(
        dir.path(),
        "host.cdx.json",
        &cyclonedx_json(&input).unwrap(),
    );
    if let Err(e) = pyspdxtools(&spdx) {
        panic!("{}", &e[..e.len().min(4000)]);
    }
    cyclonedx(&cdx).unwrap();
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut input = small_input();
    input.packages[0].checksum.hex = "xyz".to_owned();
    assert!(matches!(
        spdx_json(&input),
        Err(SbomError::BadChecksum {
            expected_len: 64,
            ..
        })
    ));
    let mut input = small_input();
    input.packages[1].checksum.algorithm = ChecksumAlgorithm::Sha512;
    let err = cyclonedx_json(&input).unwrap_err();
    assert!(err.to_string().contains("bash 5.2.32-1.fc41"), "{err}");

    let mut input = small_input();
    let dup = input.packages[0].clone();
    input.packages.push(dup);
    let err = spdx_json(&input).unwrap_err();
    assert!(matches!(err, SbomError::DuplicatePackage { .. }), "{err}");

    let mut input = small_input();
    input.image.outputs.push(OutputFile {
        name: "x".to_owned(),
        sha256: Some("00".to_owned()),
    });
    assert!(matches!(
        spdx_json(&input),
        Err(SbomError::BadOutputDigest { .. })
    ));

    let mut input = small_input();
    input.packages[0].name = " ".to_owned();
    let err = spdx_json(&input).unwrap_err();
    assert!(err.to_string().contains("field `name` is empty"), "{err}");

    let mut input = small_input();
    input.source_date_epoch = 253_402_300_799;
    let c = json(&cyclonedx_json(&input).unwrap());
    assert_eq!(c["metadata"]["timestamp"], "9999-12-31T23:59:59Z");
    input.source_date_epoch += 1;
    assert!(matches!(
        cyclonedx_json(&input),
        Err(SbomError::TimeOutOfRange { .. })
    ));

    let input = SbomInput {
        creator: cairn_sbom::Tool {
            name: String::new(),
            ..tool()
        },
        ..small_input()
    };
    assert!(spdx_json(&input).is_err());
}
