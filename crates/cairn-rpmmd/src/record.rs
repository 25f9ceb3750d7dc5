//! What rpm-md metadata says about one RPM file: the record a repository publisher fills
//! from an RPM header (see `cairn-rpmfile`) and the writers in [`crate::write`] turn into
//! `primary.xml`, `filelists.xml` and `other.xml` entries, as createrepo_c writes them.

use serde::{Deserialize, Serialize};

/// One package file in a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpmRecord {
    pub name: String,
    /// 0 when the header has no epoch.
    pub epoch: u32,
    pub version: String,
    pub release: String,
    pub arch: String,
    /// Digest of the whole package file (`pkgid`), lowercase hex.
    pub checksum: String,
    /// Algorithm of [`RpmRecord::checksum`]: `sha256` for everything cairn writes.
    pub checksum_type: String,
    pub summary: String,
    pub description: String,
    pub packager: String,
    pub url: String,
    /// `time file`: the package file's modification time (seconds since the epoch).
    pub time_file: u64,
    /// `time build`: the header's build time.
    pub time_build: u64,
    /// Size of the package file.
    pub size_package: u64,
    /// Sum of the installed file sizes.
    pub size_installed: u64,
    /// Size of the uncompressed payload archive.
    pub size_archive: u64,
    /// Path relative to the repository root, `/`-separated (`Packages/h/hello-1-1.x86_64.rpm`).
    pub location: String,
    pub license: String,
    pub vendor: String,
    pub group: String,
    pub buildhost: String,
    /// Source RPM file name; empty for a source package.
    pub sourcerpm: String,
    /// Byte range of the main header in the file (`rpm:header-range`).
    pub header_start: u64,
    pub header_end: u64,
    pub provides: Vec<RpmDep>,
    pub requires: Vec<RpmDep>,
    pub conflicts: Vec<RpmDep>,
    pub obsoletes: Vec<RpmDep>,
    pub recommends: Vec<RpmDep>,
    pub suggests: Vec<RpmDep>,
    pub supplements: Vec<RpmDep>,
    pub enhances: Vec<RpmDep>,
    /// Every file, directory and ghost the package owns, in header order.
    pub files: Vec<RpmFile>,
    /// Newest first, as in the header.
    pub changelogs: Vec<RpmChangelog>,
}

/// A dependency entry (`rpm:entry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpmDep {
    /// Capability name, or the whole rich dependency `(a if b)`.
    pub name: String,
    /// `EQ`, `LT`, `LE`, `GT`, `GE`; `None` for an unversioned entry.
    pub flags: Option<String>,
    pub epoch: Option<String>,
    pub version: Option<String>,
    pub release: Option<String>,
    /// Requires(pre)/(post)-style scriptlet dependency (`pre="1"`).
    pub pre: bool,
}

/// A path the package owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpmFile {
    pub path: String,
    pub kind: RpmFileKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RpmFileKind {
    File,
    Dir,
    Ghost,
}

/// One `%changelog` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpmChangelog {
    pub author: String,
    /// Seconds since the epoch.
    pub date: u64,
    pub text: String,
}

impl RpmRecord {
    /// `name-[epoch:]version-release.arch`
    pub fn nevra(&self) -> String {
        if self.epoch == 0 {
            format!(
                "{}-{}-{}.{}",
                self.name, self.version, self.release, self.arch
            )
        } else {
            format!(
                "{}-{}:{}-{}.{}",
                self.name, self.epoch, self.version, self.release, self.arch
            )
        }
    }

    /// A source RPM (`arch` is `src`/`nosrc`, or no source RPM is named).
    pub fn is_source(&self) -> bool {
        self.arch == "src" || self.arch == "nosrc"
    }
}
