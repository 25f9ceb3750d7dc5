//! SBOM inputs for the tests.

use cairn_sbom::{
    Checksum, ChecksumAlgorithm, ImageInfo, ImageKind, InstalledPackage, OsRelease, OutputFile,
    PackageKind, SbomInput, Tool,
};
use sha2::{Digest, Sha256, Sha512};

pub fn sha256_of(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn tool() -> Tool {
    Tool {
        name: "cairn".to_owned(),
        version: "0.1.0".to_owned(),
    }
}

pub fn rpm(
    name: &str,
    epoch: Option<u64>,
    version: &str,
    release: &str,
    arch: &str,
) -> InstalledPackage {
    InstalledPackage {
        name: name.to_owned(),
        kind: PackageKind::Rpm {
            vendor: "Fedora".to_owned(),
            epoch,
            version: version.to_owned(),
            release: release.to_owned(),
        },
        arch: arch.to_owned(),
        distro: "fedora-41".to_owned(),
        license: None,
        source: None,
        checksum: Checksum {
            algorithm: ChecksumAlgorithm::Sha256,
            hex: sha256_of(&format!("{name}-{version}-{release}.{arch}.rpm")),
        },
        download_url: None,
        supplier: Some("Fedora Project".to_owned()),
    }
}

pub fn deb(name: &str, version: &str, arch: &str) -> InstalledPackage {
    InstalledPackage {
        name: name.to_owned(),
        kind: PackageKind::Deb {
            vendor: "debian".to_owned(),
            version: version.to_owned(),
        },
        arch: arch.to_owned(),
        distro: "debian-12".to_owned(),
        license: None,
        source: None,
        checksum: Checksum {
            algorithm: ChecksumAlgorithm::Sha256,
            hex: sha256_of(&format!("{name}_{version}_{arch}.deb")),
        },
        download_url: None,
        supplier: None,
    }
}

pub fn image(name: &str, kind: ImageKind, outputs: Vec<OutputFile>) -> ImageInfo {
    ImageInfo {
        project: "demo".to_owned(),
        name: name.to_owned(),
        version: "2024.1".to_owned(),
        kind,
        distro: OsRelease {
            id: "fedora".to_owned(),
            version_id: "41".to_owned(),
            name: "Fedora Linux 41 (Cloud Edition)".to_owned(),
        },
        outputs,
    }
}

pub fn output(name: &str) -> OutputFile {
    OutputFile {
        name: name.to_owned(),
        sha256: Some(sha256_of(name)),
    }
}

/// Two packages, one output: the snapshot documents.
pub fn small_input() -> SbomInput {
    let mut bash = rpm("bash", None, "5.2.32", "1.fc41", "x86_64");
    bash.license = Some("GPL-3.0-or-later".to_owned());
    bash.source = Some("bash-5.2.32-1.fc41.src.rpm".to_owned());
    bash.download_url = Some(
        "https://dl.fedoraproject.org/pub/fedora/linux/releases/41/Everything/x86_64/os/Packages/b/bash-5.2.32-1.fc41.x86_64.rpm"
            .to_owned(),
    );
    let mut libattr = deb("libattr1", "1:2.5.1-4", "amd64");
    libattr.license = Some("GPL-2+ and LGPL-2.1+ or public-domain".to_owned());
    libattr.source = Some("attr".to_owned());
    libattr.supplier = Some("Anibal Monsalve Salazar <anibal@debian.org>".to_owned());
    SbomInput {
        image: image(
            "base",
            ImageKind::OperatingSystem,
            vec![output("base.qcow2")],
        ),
        packages: vec![libattr, bash],
        creator: tool(),
        source_date_epoch: 1_700_000_000,
    }
}

/// Everything awkward at once: epochs, odd characters, missing and unmappable licenses,
/// shared source packages, several outputs, local and public URLs, SHA-512.
pub fn rich_input() -> SbomInput {
    let mut pkgs = Vec::new();

    let mut gcc = rpm("gcc-c++", None, "14.2.1", "3.fc41", "x86_64");
    gcc.license = Some(
        "GPL-3.0-or-later AND LGPL-3.0-or-later AND (GPL-3.0-or-later WITH GCC-exception-3.1)"
            .to_owned(),
    );
    gcc.source = Some("gcc-14.2.1-3.fc41.src.rpm".to_owned());
    pkgs.push(gcc);

    let mut libgcc = rpm("libgcc", None, "14.2.1", "3.fc41", "x86_64");
    libgcc.license = Some("GPL-3.0-or-later WITH GCC-exception-3.1".to_owned());
    libgcc.source = Some("gcc-14.2.1-3.fc41.src.rpm".to_owned());
    pkgs.push(libgcc);

    let mut perl = rpm(
        "perl-Net-SSLeay",
        Some(1),
        "1.94~rc1+git20240101",
        "5.fc41",
        "x86_64",
    );
    perl.license = Some("Artistic 2.0".to_owned());
    perl.source = Some("perl-Net-SSLeay-1.94~rc1+git20240101-5.fc41.src.rpm".to_owned());
    pkgs.push(perl);

    let mut zero_epoch = rpm("tzdata", Some(0), "2024a", "9.fc41", "noarch");
    zero_epoch.license = Some("LicenseRef-Fedora-Public-Domain AND BSD-3-Clause".to_owned());
    pkgs.push(zero_epoch);

    let mut old = rpm("Old_Style", Some(12), "1.0^20240101git", "0.1.fc41", "i686");
    old.license = Some("GPLv2+ and ASL 2.0 and Public Domain and Copyright only".to_owned());
    old.supplier = Some("ACME (Europe) Ltd.".to_owned());
    old.download_url = Some("file:///srv/repo/Packages/Old_Style-1.0-0.1.fc41.i686.rpm".to_owned());
    old.checksum = Checksum {
        algorithm: ChecksumAlgorithm::Sha512,
        hex: hex::encode(Sha512::digest(b"old")).to_ascii_uppercase(),
    };
    pkgs.push(old);

    let mut nolicense = rpm("python3.13-libs", None, "3.13.0", "1.fc41", "x86_64");
    nolicense.supplier = None;
    nolicense.source = Some("python3.13".to_owned());
    pkgs.push(nolicense);

    let mut weird = rpm("we@ird/näme?x#y", Some(3), "1:2", "a b%c", "x86_64");
    weird.license = Some("(MIT".to_owned());
    weird.supplier = Some("  \t ".to_owned());
    pkgs.push(weird);

    let mut attr = deb("libattr1", "1:2.5.1-4+b1", "amd64");
    attr.license = Some("GPL-2+ and LGPL-2.1+".to_owned());
    attr.source = Some("attr (1:2.5.1-4)".to_owned());
    attr.supplier = Some("Anibal Monsalve Salazar <anibal@debian.org>".to_owned());
    attr.download_url = Some(
        "http://deb.debian.org/debian/pool/main/a/attr/libattr1_2.5.1-4+b1_amd64.deb".to_owned(),
    );
    pkgs.push(attr);

    let mut attr_bin = deb("attr", "1:2.5.1-4+b1", "amd64");
    attr_bin.license = Some("GPL-2+".to_owned());
    attr_bin.source = Some("attr (1:2.5.1-4)".to_owned());
    pkgs.push(attr_bin);

    let mut stdcpp = deb("libstdc++6", "14.2.0-4~bpo12+1", "amd64");
    stdcpp.license =
        Some("GPL-3+ with GCC exception or GPL-2+ with OpenSSL exception, and Expat".to_owned());
    stdcpp.source = Some("gcc-14 (14.2.0-4~bpo12+1)".to_owned());
    stdcpp.supplier = Some("Debian GCC Maintainers <debian-gcc@lists.debian.org>".to_owned());
    pkgs.push(stdcpp);

    let mut perlbase = deb("perl-base", "5.36.0-7+deb12u1", "amd64");
    perlbase.license = Some("GPL-1+ or Artistic, and BSD-3-clause, and permissive".to_owned());
    pkgs.push(perlbase);

    let mut tz = deb("tzdata", "2024a-0+deb12u1", "all");
    tz.license = Some("public-domain".to_owned());
    pkgs.push(tz);

    let mut nolic = deb("base-files", "12.4+deb12u8", "amd64");
    nolic.license = Some(String::new());
    pkgs.push(nolic);

    let mut sha1 = deb("ca-certificates", "20230311", "all");
    sha1.license = Some("MPL-2.0 and GPL-2+ with OpenSSL exception".to_owned());
    sha1.checksum = Checksum {
        algorithm: ChecksumAlgorithm::Sha1,
        hex: "da39a3ee5e6b4b0d3255bfef95601890afd80709".to_owned(),
    };
    pkgs.push(sha1);

    let mut img = image(
        "cloud base (ü)",
        ImageKind::OperatingSystem,
        vec![
            output("disk.raw"),
            OutputFile {
                name: "disk.qcow2".to_owned(),
                sha256: None,
            },
            output("disk.vhd"),
        ],
    );
    img.project = "my project/α".to_owned();
    SbomInput {
        image: img,
        packages: pkgs,
        creator: tool(),
        source_date_epoch: 1_736_000_000,
    }
}
