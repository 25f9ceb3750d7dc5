//! The package model: what an RPM repository or a Debian archive says about one binary
//! package, in one shape for both flavours. Sources produce [`Package`]s; the solver reads
//! them; the lock records a few of their fields.
//!
//! Pure: types and small helpers only. It must not parse repository formats (that is
//! `cairn-rpmmd` / `cairn-deb822`) nor fetch anything.

pub use cairn_deps::{Atom, Dep, Flavor};
pub use cairn_version::Version;
use std::fmt;

/// Digest algorithms found in repository metadata.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumAlgo {
    Sha256,
    Sha384,
    Sha512,
    Sha224,
    Sha1,
    Md5,
}

impl ChecksumAlgo {
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgo::Sha256 => "sha256",
            ChecksumAlgo::Sha384 => "sha384",
            ChecksumAlgo::Sha512 => "sha512",
            ChecksumAlgo::Sha224 => "sha224",
            ChecksumAlgo::Sha1 => "sha1",
            ChecksumAlgo::Md5 => "md5",
        }
    }
    /// Accepts rpm-md spellings (`sha256`, `sha`, `SHA256`...).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "sha256" => ChecksumAlgo::Sha256,
            "sha384" => ChecksumAlgo::Sha384,
            "sha512" => ChecksumAlgo::Sha512,
            "sha224" => ChecksumAlgo::Sha224,
            "sha1" | "sha" => ChecksumAlgo::Sha1,
            "md5" => ChecksumAlgo::Md5,
            _ => return None,
        })
    }
    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            ChecksumAlgo::Sha256 => 64,
            ChecksumAlgo::Sha384 => 96,
            ChecksumAlgo::Sha512 => 128,
            ChecksumAlgo::Sha224 => 56,
            ChecksumAlgo::Sha1 => 40,
            ChecksumAlgo::Md5 => 32,
        }
    }
}

/// A digest as `algo:hex` (lowercase hex).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Checksum {
    pub algo: ChecksumAlgo,
    pub hex: String,
}

impl Checksum {
    pub fn new(algo: ChecksumAlgo, hex: impl Into<String>) -> Self {
        Checksum {
            algo,
            hex: hex.into().to_ascii_lowercase(),
        }
    }
    /// Parse `algo:hex`, checking the hex length.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, h) = s.split_once(':')?;
        let algo = ChecksumAlgo::parse(a)?;
        (h.len() == algo.hex_len() && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Checksum::new(algo, h))
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo.as_str(), self.hex)
    }
}

/// One binary package as a repository describes it.
///
/// Dependencies are already parsed. For Debian, `requires` holds `Depends` and
/// `Pre-Depends` (`pre_requires` marks which), `conflicts` holds `Conflicts` and `Breaks`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Package {
    pub name: String,
    pub version: Version,
    /// `x86_64`, `noarch`, `amd64`, `all`, ...
    pub arch: String,
    pub provides: Vec<Dep>,
    pub requires: Vec<Dep>,
    pub conflicts: Vec<Dep>,
    pub obsoletes: Vec<Dep>,
    pub recommends: Vec<Dep>,
    pub suggests: Vec<Dep>,
    pub supplements: Vec<Dep>,
    pub enhances: Vec<Dep>,
    /// File paths this package is known to own: the primary subset until filelists are
    /// loaded, then all of them.
    pub files: Vec<String>,
    /// Path of the package file relative to the repository base URL (rpm-md `location
    /// href`, Debian `Filename`).
    pub location: String,
    pub checksum: Checksum,
    /// Size of the package file in bytes.
    pub size: u64,
    pub installed_size: Option<u64>,
    /// Source package name (rpm: source RPM file name; Debian: `Source` or the name).
    pub source: Option<String>,
    pub license: Option<String>,
    pub summary: Option<String>,
    /// Debian `Essential: yes`.
    pub essential: bool,
    /// Debian `Priority`.
    pub priority: Option<String>,
    /// Debian `Multi-Arch`.
    pub multi_arch: Option<String>,
}

impl Package {
    pub fn flavor(&self) -> Flavor {
        match self.version {
            Version::Rpm(_) => Flavor::Rpm,
            Version::Deb(_) => Flavor::Deb,
        }
    }

    /// `name-evr.arch` (RPM) or `name_version_arch` (Debian): unique in a repository.
    pub fn nevra(&self) -> String {
        match self.flavor() {
            Flavor::Rpm => format!("{}-{}.{}", self.name, self.version, self.arch),
            Flavor::Deb => format!("{}_{}_{}", self.name, self.version, self.arch),
        }
    }

    /// Drop spare capacity from the dependency and file lists. Parsers call this once per
    /// package: a 60,000-package universe holds about 450,000 dependency entries, and
    /// the slack of growing vectors is a tenth of its memory.
    pub fn shrink(&mut self) {
        for v in [
            &mut self.provides,
            &mut self.requires,
            &mut self.conflicts,
            &mut self.obsoletes,
            &mut self.recommends,
            &mut self.suggests,
            &mut self.supplements,
            &mut self.enhances,
        ] {
            v.shrink_to_fit();
        }
        self.files.shrink_to_fit();
    }

    /// A package without dependencies, for building test universes and lock entries.
    pub fn bare(name: impl Into<String>, version: Version, arch: impl Into<String>) -> Self {
        Package {
            name: name.into(),
            version,
            arch: arch.into(),
            provides: vec![],
            requires: vec![],
            conflicts: vec![],
            obsoletes: vec![],
            recommends: vec![],
            suggests: vec![],
            supplements: vec![],
            enhances: vec![],
            files: vec![],
            location: String::new(),
            checksum: Checksum::new(ChecksumAlgo::Sha256, "0".repeat(64)),
            size: 0,
            installed_size: None,
            source: None,
            license: None,
            summary: None,
            essential: false,
            priority: None,
            multi_arch: None,
        }
    }
}

/// Identity of the repository a package came from, as the lock records it.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct RepoId(pub String);

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A repository's packages after loading: what a source hands the solver.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RepoPackages {
    pub repo: RepoId,
    /// Lower is preferred (dnf semantics); default 99.
    pub priority: i32,
    /// Digest of the repository's top-level metadata (`repomd.xml` / `InRelease`), so a
    /// lock can tell when the repository changed.
    pub revision: Checksum,
    /// Base URLs (mirrors) packages are fetched from, in order of preference.
    pub base_urls: Vec<String>,
    pub packages: Vec<Package>,
}
