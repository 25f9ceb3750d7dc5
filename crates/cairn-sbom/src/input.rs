//! What an SBOM is rendered from: the image (the described subject) and its installed
//! packages. Plain data; [`SbomInput::validate`] checks what the formats need.

use crate::SbomError;
use crate::purl::Purl;

/// Everything an SBOM describes. Both renderers sort what they emit, so the order of
/// `packages` and `image.outputs` does not change the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomInput {
    pub image: ImageInfo,
    pub packages: Vec<InstalledPackage>,
    /// The tool that produced the document.
    pub creator: Tool,
    /// Creation time (seconds since the Unix epoch, UTC) written into the document.
    pub source_date_epoch: u64,
}

/// The image: the subject the SBOM describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The cairn project the image belongs to.
    pub project: String,
    /// Image name as the project names it.
    pub name: String,
    /// Image version (free text; empty when the project gives none).
    pub version: String,
    pub kind: ImageKind,
    /// The distribution the image is built from, as its os-release states it.
    pub distro: OsRelease,
    /// The files written for this image (disk images, archives); the SBOM sits beside them.
    pub outputs: Vec<OutputFile>,
}

/// What kind of artifact the image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageKind {
    /// A bootable operating system (disk, WSL, VM images).
    OperatingSystem,
    /// A container image (OCI, tar root filesystems).
    Container,
}

/// The distribution, from os-release.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OsRelease {
    /// `ID` (`fedora`, `debian`).
    pub id: String,
    /// `VERSION_ID` (`41`, `12`).
    pub version_id: String,
    /// `PRETTY_NAME`, else `NAME` (`Fedora Linux 41 (Container Image)`).
    pub name: String,
}

/// One output file of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// File name (no directory).
    pub name: String,
    /// SHA-256 of the file, 64 hex digits, when known.
    pub sha256: Option<String>,
}

/// The tool that created the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// This build of cairn (`cairn` and the workspace version).
    pub fn cairn() -> Tool {
        Tool {
            name: "cairn".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A package installed in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPackage {
    pub name: String,
    /// Format, vendor and version.
    pub kind: PackageKind,
    /// Architecture (`x86_64`, `noarch`, `amd64`, `all`).
    pub arch: String,
    /// The purl `distro` qualifier (`fedora-41`, `debian-12`); empty for none.
    pub distro: String,
    /// The license as the package states it (RPM `License`, or what
    /// [`crate::deb_copyright_licenses`] read from a Debian package's copyright file).
    pub license: Option<String>,
    /// The source package: the RPM `SOURCERPM` file name (`bash-5.2.26-4.fc41.src.rpm`) or
    /// the Debian `Source:` field (`attr` or `attr (1:2.4.47-2)`).
    pub source: Option<String>,
    /// Digest of the downloaded package file.
    pub checksum: Checksum,
    /// Where the package file was downloaded from.
    pub download_url: Option<String>,
    /// Who supplies the package (`Fedora Project`, or a Debian `Maintainer:` such as
    /// `Debian Bash Maintainers <bash@packages.debian.org>`).
    pub supplier: Option<String>,
}

/// Package format with its vendor (the purl namespace) and version.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackageKind {
    Rpm {
        /// purl namespace: `fedora`, `centos`, `opensuse`, ...
        vendor: String,
        /// `None` and `Some(0)` both mean no epoch.
        epoch: Option<u64>,
        version: String,
        release: String,
    },
    Deb {
        /// purl namespace: `debian`, `ubuntu`.
        vendor: String,
        /// The full Debian version, epoch included (`1:2.4.47-2+b1`).
        version: String,
    },
}

/// A digest of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    /// Hex digits (either case; emitted lowercase).
    pub hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl ChecksumAlgorithm {
    /// Digest length in hex digits.
    pub fn hex_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Sha1 => 40,
            ChecksumAlgorithm::Sha256 => 64,
            ChecksumAlgorithm::Sha384 => 96,
            ChecksumAlgorithm::Sha512 => 128,
        }
    }

    pub(crate) fn spdx(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
            ChecksumAlgorithm::Sha384 => "SHA384",
            ChecksumAlgorithm::Sha512 => "SHA512",
        }
    }

    pub(crate) fn cyclonedx(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Sha1 => "SHA-1",
            ChecksumAlgorithm::Sha256 => "SHA-256",
            ChecksumAlgorithm::Sha384 => "SHA-384",
            ChecksumAlgorithm::Sha512 => "SHA-512",
        }
    }
}

/// A source package, as far as the binary package names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SourceRef {
    pub name: String,
    /// The purl version (RPM `version-release`, Debian version).
    pub version: String,
    pub purl: Purl,
}

impl InstalledPackage {
    /// The package URL: `pkg:rpm/<vendor>/<name>@<version>-<release>?arch=&distro=&epoch=`
    /// (epoch only when non-zero) or `pkg:deb/<vendor>/<name>@<version>?arch=&distro=`.
    pub fn purl(&self) -> Purl {
        match &self.kind {
            PackageKind::Rpm {
                vendor,
                epoch,
                version,
                release,
            } => {
                let epoch = epoch.filter(|e| *e != 0).map(|e| e.to_string());
                Purl::new(
                    "rpm",
                    vendor,
                    &self.name,
                    Some(&rpm_vr(version, release)),
                    &[
                        ("arch", &self.arch),
                        ("distro", &self.distro),
                        ("epoch", epoch.as_deref().unwrap_or("")),
                    ],
                )
            }
            PackageKind::Deb { vendor, version } => Purl::new(
                "deb",
                vendor,
                &self.name,
                Some(version),
                &[("arch", &self.arch), ("distro", &self.distro)],
            ),
        }
    }

    /// The version as the package manager prints it: RPM `[epoch:]version-release`, or
    /// the Debian version.
    pub fn display_version(&self) -> String {
        match &self.kind {
            PackageKind::Rpm {
                epoch,
                version,
                release,
                ..
            } => match epoch.filter(|e| *e != 0) {
                Some(e) => format!("{e}:{}", rpm_vr(version, release)),
                None => rpm_vr(version, release),
            },
            PackageKind::Deb { version, .. } => version.clone(),
        }
    }

    /// The source package as an element of its own, when it can be named.
    ///
    /// RPM: parsed from `name-version-release.src.rpm` (a `SOURCERPM` that is just a name
    /// takes the binary's version-release); the epoch is the binary's, as every subpackage
    /// of a spec shares it. Debian: `name` or `name (version)`; without a version the
    /// source has the binary's version.
    pub(crate) fn source_ref(&self) -> Option<SourceRef> {
        let raw = self.source.as_deref()?.trim();
        if raw.is_empty() {
            return None;
        }
        match &self.kind {
            PackageKind::Rpm {
                vendor,
                epoch,
                version,
                release,
            } => {
                let stem = raw
                    .strip_suffix(".src.rpm")
                    .or_else(|| raw.strip_suffix(".nosrc.rpm"));
                let (name, vr) = match stem.and_then(split_nvr) {
                    Some((n, v, r)) => (n.to_owned(), rpm_vr(v, r)),
                    None => (stem.unwrap_or(raw).to_owned(), rpm_vr(version, release)),
                };
                if name.is_empty() {
                    return None;
                }
                let epoch = epoch.filter(|e| *e != 0).map(|e| e.to_string());
                let purl = Purl::new(
                    "rpm",
                    vendor,
                    &name,
                    Some(&vr),
                    &[
                        ("arch", "src"),
                        ("distro", &self.distro),
                        ("epoch", epoch.as_deref().unwrap_or("")),
                    ],
                );
                Some(SourceRef {
                    name,
                    version: vr,
                    purl,
                })
            }
            PackageKind::Deb { vendor, version } => {
                let (name, ver) = match raw.split_once('(') {
                    Some((n, v)) => (n.trim(), v.trim_end_matches(')').trim()),
                    None => (raw, version.as_str()),
                };
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return None;
                }
                let ver = if ver.is_empty() {
                    version.as_str()
                } else {
                    ver
                };
                let purl = Purl::new(
                    "deb",
                    vendor,
                    name,
                    Some(ver),
                    &[("arch", "source"), ("distro", &self.distro)],
                );
                Some(SourceRef {
                    name: purl.name.clone(),
                    version: ver.to_owned(),
                    purl,
                })
            }
        }
    }

    /// Whether the package is a library (else an application), from its name: `lib…`,
    /// `…-libs`, `…-lib`, `…-libs-…`.
    pub(crate) fn is_library(&self) -> bool {
        let n = self.name.to_ascii_lowercase();
        n.starts_with("lib") || n.ends_with("-libs") || n.ends_with("-lib") || n.contains("-libs-")
    }

    fn package_format(&self) -> &'static str {
        match self.kind {
            PackageKind::Rpm { .. } => "rpm",
            PackageKind::Deb { .. } => "deb",
        }
    }
}

fn rpm_vr(version: &str, release: &str) -> String {
    if release.is_empty() {
        version.to_owned()
    } else {
        format!("{version}-{release}")
    }
}

/// `name-version-release` → parts (name may contain `-`).
fn split_nvr(nvr: &str) -> Option<(&str, &str, &str)> {
    let (nv, r) = nvr.rsplit_once('-')?;
    let (n, v) = nv.rsplit_once('-')?;
    (!n.is_empty() && !v.is_empty() && !r.is_empty()).then_some((n, v, r))
}

/// 9999-12-31T23:59:59Z: the last time both formats' four-digit years can carry.
const MAX_EPOCH: u64 = 253_402_300_799;

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl SbomInput {
    /// Check what the SPDX and CycloneDX documents need: non-empty names, well-formed
    /// digests, each package and output listed once.
    pub fn validate(&self) -> Result<(), SbomError> {
        let empty = |what: String, field: &'static str| SbomError::EmptyField { what, field };
        let img = &self.image;
        if img.project.trim().is_empty() {
            return Err(empty(format!("image {:?}", img.name), "project"));
        }
        if img.name.trim().is_empty() {
            return Err(empty(format!("project {:?}", img.project), "image name"));
        }
        if self.creator.name.trim().is_empty() {
            return Err(empty("creator tool".to_owned(), "name"));
        }
        if self.source_date_epoch > MAX_EPOCH {
            return Err(SbomError::TimeOutOfRange {
                source_date_epoch: self.source_date_epoch,
            });
        }
        let mut names = std::collections::BTreeSet::new();
        for out in &img.outputs {
            if out.name.trim().is_empty() {
                return Err(empty(format!("image {:?} output", img.name), "file name"));
            }
            if !names.insert(out.name.as_str()) {
                return Err(SbomError::DuplicateOutput {
                    name: out.name.clone(),
                });
            }
            if let Some(d) = &out.sha256
                && !is_hex(d, 64)
            {
                return Err(SbomError::BadOutputDigest {
                    file: out.name.clone(),
                    value: d.clone(),
                });
            }
        }
        let mut purls = std::collections::BTreeSet::new();
        for (i, p) in self.packages.iter().enumerate() {
            let what = || format!("{} package #{} {:?}", p.package_format(), i + 1, p.name);
            if p.name.trim().is_empty() {
                return Err(empty(what(), "name"));
            }
            let (vendor, version) = match &p.kind {
                PackageKind::Rpm {
                    vendor, version, ..
                }
                | PackageKind::Deb { vendor, version } => (vendor, version),
            };
            if vendor.trim().is_empty() {
                return Err(empty(what(), "vendor"));
            }
            if version.trim().is_empty() {
                return Err(empty(what(), "version"));
            }
            if !is_hex(&p.checksum.hex, p.checksum.algorithm.hex_len()) {
                return Err(SbomError::BadChecksum {
                    package: format!("{} {}", p.name, p.display_version()),
                    algorithm: p.checksum.algorithm.spdx(),
                    value: p.checksum.hex.clone(),
                    expected_len: p.checksum.algorithm.hex_len(),
                });
            }
            let purl = p.purl().to_string();
            if !purls.insert(purl.clone()) {
                return Err(SbomError::DuplicatePackage { purl });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpm(name: &str, epoch: Option<u64>, source: Option<&str>) -> InstalledPackage {
        InstalledPackage {
            name: name.to_owned(),
            kind: PackageKind::Rpm {
                vendor: "Fedora".to_owned(),
                epoch,
                version: "1.2+git3".to_owned(),
                release: "4.fc41".to_owned(),
            },
            arch: "x86_64".to_owned(),
            distro: "fedora-41".to_owned(),
            license: None,
            source: source.map(str::to_owned),
            checksum: Checksum {
                algorithm: ChecksumAlgorithm::Sha256,
                hex: "ab".repeat(32),
            },
            download_url: None,
            supplier: None,
        }
    }

    #[test]
    fn rpm_purl_epoch_only_when_non_zero() {
        assert_eq!(
            rpm("foo", Some(0), None).purl().to_string(),
            "pkg:rpm/fedora/foo@1.2%2Bgit3-4.fc41?arch=x86_64&distro=fedora-41"
        );
        assert_eq!(
            rpm("foo", Some(2), None).purl().to_string(),
            "pkg:rpm/fedora/foo@1.2%2Bgit3-4.fc41?arch=x86_64&distro=fedora-41&epoch=2"
        );
        assert_eq!(
            rpm("foo", Some(2), None).display_version(),
            "2:1.2+git3-4.fc41"
        );
    }

    #[test]
    fn rpm_source_from_srpm_name() {
        let p = rpm(
            "python3-libs",
            Some(1),
            Some("python3.13-3.13.0-1.fc41.src.rpm"),
        );
        let s = p.source_ref().unwrap();
        assert_eq!(s.name, "python3.13");
        assert_eq!(s.version, "3.13.0-1.fc41");
        assert_eq!(
            s.purl.to_string(),
            "pkg:rpm/fedora/python3.13@3.13.0-1.fc41?arch=src&distro=fedora-41&epoch=1"
        );
        let bare = rpm("x", None, Some("x-src")).source_ref().unwrap();
        assert_eq!(
            (bare.name.as_str(), bare.version.as_str()),
            ("x-src", "1.2+git3-4.fc41")
        );
    }

    #[test]
    fn deb_source_with_and_without_version() {
        let mut p = rpm("libattr1", None, Some("attr (1:2.4.47-2)"));
        p.kind = PackageKind::Deb {
            vendor: "debian".to_owned(),
            version: "1:2.4.47-2+b1".to_owned(),
        };
        let s = p.source_ref().unwrap();
        assert_eq!(
            s.purl.to_string(),
            "pkg:deb/debian/attr@1:2.4.47-2?arch=source&distro=fedora-41"
        );
        p.source = Some("attr".to_owned());
        assert_eq!(p.source_ref().unwrap().version, "1:2.4.47-2+b1");
        p.source = Some("  ".to_owned());
        assert!(p.source_ref().is_none());
    }

    #[test]
    fn library_heuristic() {
        assert!(rpm("libgcc", None, None).is_library());
        assert!(rpm("python3-libs", None, None).is_library());
        assert!(!rpm("bash", None, None).is_library());
    }
}
