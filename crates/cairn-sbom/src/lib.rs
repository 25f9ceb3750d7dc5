//! Software bills of materials for a cairn image: SPDX 2.3 JSON and CycloneDX 1.6 JSON,
//! rendered from the image (the described subject) and the packages installed in it.
//!
//! Pure: it takes an [`SbomInput`] and returns strings. It must not read or write files,
//! run programs, look at the clock or the environment: the creation time is
//! [`SbomInput::source_date_epoch`], and the SPDX document namespace and the CycloneDX serial
//! number are UUIDs derived with SHA-256 from the document body, so the same input always
//! gives the same bytes (package and output order in the input does not matter; both
//! renderers sort). Callers write the strings to disk (`cairn-build` writes one beside
//! each output).
//!
//! Also here: package URLs ([`Purl`], per the purl specification's canonical form and its
//! `rpm`/`deb` type rules), [`license_to_spdx`] (package license strings → SPDX
//! expressions) and [`deb_copyright_licenses`] (the licenses of a machine-readable Debian
//! copyright file).
//!
//! # Field mapping
//!
//! | Input | SPDX 2.3 | CycloneDX 1.6 |
//! |---|---|---|
//! | document | `documentNamespace` = `https://spdx.cairn.invalid/<project>/<image>-<uuid>`, `name` = `<project>-<image>-<version>`, `dataLicense` `CC0-1.0` | `serialNumber` = `urn:uuid:<uuid>`, `version` 1 |
//! | `source_date_epoch` | `creationInfo.created` (`YYYY-MM-DDThh:mm:ssZ`) | `metadata.timestamp` |
//! | `creator` | `creationInfo.creators` = `Tool: <name>-<version>` | `metadata.tools.components[]` (type `application`) |
//! | image | package `SPDXRef-Image-<name>`; `DOCUMENT DESCRIBES` it | `metadata.component`, `bom-ref` = `cairn-image:<project>/<image>@<version>` |
//! | image kind | `primaryPackagePurpose` `CONTAINER` / `OPERATING-SYSTEM` | `type` `container` / `operating-system` |
//! | image version | `versionInfo` | `version` |
//! | project, os-release | `description` (`<distro name> image <image> of cairn project <project>`) | same `description`; properties `cairn:project`, `cairn:distro:id`, `cairn:distro:version-id`, `cairn:distro:name` |
//! | one output file | image `packageFileName`, `checksums` SHA256 | image `hashes` SHA-256; also a nested `file` component |
//! | several output files | one package each (`FILE`, `packageFileName`, `checksums`), `GENERATED_FROM` the image | nested `file` components of `metadata.component` with `hashes` |
//! | package | package `SPDXRef-Package-<rpm\|deb>-<name>-<version>-<arch>` (sanitised, `-2`… on clashes); image `CONTAINS` it | `components[]`, `bom-ref` = purl; image `dependsOn` it in `dependencies` |
//! | name / version | `name`; `versionInfo` = `[epoch:]version-release` or the Debian version | `name`; `version` (same text) |
//! | purl | `externalRefs` `PACKAGE-MANAGER` `purl` | `purl` |
//! | role | `primaryPackagePurpose` `LIBRARY` for `lib…`/`…-libs`, else `APPLICATION` | `type` `library` / `application`, same rule |
//! | checksum | `checksums` (`SHA1`/`SHA256`/`SHA384`/`SHA512`, lowercase hex) | `hashes` (`SHA-1`/`SHA-256`/…) |
//! | license | `licenseDeclared` = [`license_to_spdx`]; `licenseConcluded` `NOASSERTION` (cairn concludes nothing); `licenseComments` keeps the stated text when it changed; each `LicenseRef-…` in `hasExtractedLicensingInfos` (stated text as `extractedText`) | `licenses`: one listed id → `license.id`; one `LicenseRef-…` → `license.name` = stated text; anything else → `expression`; all with `acknowledgement` `declared`; property `cairn:package:license-stated` when the text changed |
//! | no license | `licenseDeclared` `NOASSERTION` | no `licenses` |
//! | source package | `sourceInfo` = `built from source package <as stated>`; a `SOURCE` package per source (purl `arch=src` / `arch=source`), binary `GENERATED_FROM` it | properties `cairn:package:source`, `cairn:package:source-purl` |
//! | arch, epoch | in the purl | properties `cairn:package:arch`, `cairn:package:epoch` (non-zero only) |
//! | download URL | `downloadLocation` when SPDX tools accept it (public `http(s)`/`ftp`/`git`… URL with a DNS host), else `NOASSERTION` | `externalReferences[]` type `distribution` when it is a valid IRI (so `file://` too) |
//! | supplier | `supplier` = `Organization: <name> (<email>)` (`Name <email>` split), else `NOASSERTION` | `supplier.name`, `supplier.contact[].email` |
//!
//! The `cairn:` property namespace: `cairn:project`, `cairn:distro:id`,
//! `cairn:distro:version-id`, `cairn:distro:name` on the image; `cairn:package:arch`,
//! `cairn:package:epoch`, `cairn:package:license-stated`, `cairn:package:source`,
//! `cairn:package:source-purl` on packages. Properties with empty values are left out.

mod cyclonedx;
mod ident;
mod input;
mod license;
mod purl;
mod spdx;
mod spdx_ids;

pub use cyclonedx::cyclonedx_json;
pub use input::{
    Checksum, ChecksumAlgorithm, ImageInfo, ImageKind, InstalledPackage, OsRelease, OutputFile,
    PackageKind, SbomInput, Tool,
};
pub use license::{
    LicenseRef, SpdxLicense, deb_copyright_licenses, license_to_spdx, listed_exceptions,
    listed_licenses,
};
pub use purl::{Purl, PurlParseError};
pub use spdx::{SPDX_NAMESPACE_BASE, spdx_json};

/// Input an SBOM cannot be rendered from. Each variant names the image, package or output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    #[error("SBOM input: {what}: field `{field}` is empty")]
    EmptyField { what: String, field: &'static str },
    #[error(
        "SBOM input: package {package}: {algorithm} checksum {value:?} is not {expected_len} \
         hexadecimal digits"
    )]
    BadChecksum {
        package: String,
        algorithm: &'static str,
        value: String,
        expected_len: usize,
    },
    #[error("SBOM input: output file {file}: SHA-256 {value:?} is not 64 hexadecimal digits")]
    BadOutputDigest { file: String, value: String },
    #[error("SBOM input: package {purl} is listed twice; each installed package must appear once")]
    DuplicatePackage { purl: String },
    #[error("SBOM input: output file {name:?} is listed twice")]
    DuplicateOutput { name: String },
    #[error(
        "SBOM input: source_date_epoch {source_date_epoch} is after 9999-12-31T23:59:59Z; \
         expected seconds since 1970-01-01 UTC"
    )]
    TimeOutOfRange { source_date_epoch: u64 },
}

fn image_description(input: &SbomInput) -> String {
    let img = &input.image;
    let distro = [&img.distro.name, &img.distro.id]
        .into_iter()
        .find(|s| !s.trim().is_empty())
        .map_or_else(|| "Linux".to_owned(), |s| s.trim().to_owned());
    format!(
        "{distro} image {} of cairn project {}",
        img.name, img.project
    )
}
