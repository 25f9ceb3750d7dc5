//! From what was installed to the SBOM's input.

use crate::BuildError;
use crate::pipeline::BuildInput;
use cairn_config::OutputKind;
use cairn_sbom::{
    Checksum, ChecksumAlgorithm, ImageInfo, ImageKind, InstalledPackage, OsRelease, OutputFile,
    PackageKind, SbomInput, Tool,
};

/// The distribution the packages come from (purl vendor and `distro=`), and the image's
/// own identity after branding.
pub(crate) struct Distro {
    pub upstream_id: String,
    pub upstream_version: String,
    pub id: String,
    pub version: String,
    pub name: String,
}

/// Output file names an image gets (the SBOM lists them; their digests are in SHA256SUMS
/// and build.json, written after the SBOM).
pub(crate) fn output_names(image: &str, outputs: &[OutputKind]) -> Vec<String> {
    let mut v = Vec::new();
    for o in outputs {
        match o {
            OutputKind::Dir => v.push("rootfs".to_owned()),
            OutputKind::Oci => {
                v.push(format!("{image}.oci"));
                v.push(format!("{image}.docker.tar"));
            }
            k => v.push(format!("{image}.{}", k.as_str())),
        }
    }
    v
}

fn split_rpm_evr(evr: &str) -> (Option<u64>, String, String) {
    let (epoch, rest) = match evr.split_once(':') {
        Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) => (e.parse().ok(), r),
        _ => (None, evr),
    };
    let (v, r) = rest.rsplit_once('-').unwrap_or((rest, ""));
    (epoch, v.to_owned(), r.to_owned())
}

pub(crate) fn input(
    b: &BuildInput<'_>,
    installed: &[cairn_install::InstalledPackage],
    d: &Distro,
) -> Result<SbomInput, BuildError> {
    // purl namespace and `distro=`: the distribution the packages come from (its
    // os-release ID before branding); a root without os-release falls back to the
    // name of the repository each package came from, without a distro qualifier
    let distro_q = match (d.upstream_id.is_empty(), d.upstream_version.is_empty()) {
        (true, _) => String::new(),
        (false, true) => d.upstream_id.clone(),
        (false, false) => format!("{}-{}", d.upstream_id, d.upstream_version),
    };
    let mut packages = Vec::new();
    for p in installed {
        let from_lock = b
            .packages
            .iter()
            .find(|x| x.locked.name == p.name && x.locked.arch == p.arch)
            .ok_or_else(|| {
                BuildError::Invalid(format!(
                    "package {} {} is installed but not in the lock",
                    p.name, p.arch
                ))
            })?;
        let vendor = if d.upstream_id.is_empty() {
            from_lock.locked.repo.clone()
        } else {
            d.upstream_id.clone()
        };
        let (algo, hex) = from_lock
            .locked
            .checksum
            .split_once(':')
            .unwrap_or(("sha256", &from_lock.locked.checksum));
        let algorithm = match algo {
            "sha1" => ChecksumAlgorithm::Sha1,
            "sha384" => ChecksumAlgorithm::Sha384,
            "sha512" => ChecksumAlgorithm::Sha512,
            _ => ChecksumAlgorithm::Sha256,
        };
        let kind = if b.image.deb {
            PackageKind::Deb {
                vendor,
                version: p.version.clone(),
            }
        } else {
            let (epoch, version, release) = split_rpm_evr(&from_lock.locked.evr);
            PackageKind::Rpm {
                vendor,
                epoch,
                version,
                release,
            }
        };
        packages.push(InstalledPackage {
            name: p.name.clone(),
            kind,
            arch: p.arch.clone(),
            distro: distro_q.clone(),
            license: p.license.clone(),
            source: Some(p.source.clone()).filter(|s| !s.is_empty()),
            checksum: Checksum {
                algorithm,
                hex: hex.to_owned(),
            },
            download_url: from_lock.url.clone(),
            supplier: None,
        });
    }
    let os_image = b
        .outputs
        .iter()
        .any(|o| o.is_disk() || *o == OutputKind::Wsl);
    Ok(SbomInput {
        image: ImageInfo {
            project: b.project.name.clone().unwrap_or_else(|| "cairn".into()),
            name: b.image.name.clone(),
            version: b.image.build.version.clone(),
            kind: if os_image {
                ImageKind::OperatingSystem
            } else {
                ImageKind::Container
            },
            distro: OsRelease {
                id: d.id.clone(),
                version_id: d.version.clone(),
                name: d.name.clone(),
            },
            outputs: output_names(&b.image.name, &b.outputs)
                .into_iter()
                .map(|name| OutputFile { name, sha256: None })
                .collect(),
        },
        packages,
        creator: Tool::cairn(),
        source_date_epoch: b.source_date_epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rpm_evr_splits() {
        assert_eq!(
            split_rpm_evr("1:2.3-4.fc41"),
            (Some(1), "2.3".into(), "4.fc41".into())
        );
        assert_eq!(split_rpm_evr("2.3-4"), (None, "2.3".into(), "4".into()));
    }
}
