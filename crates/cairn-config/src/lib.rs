//! The project file, `cairn.toml`: sources of packages and the images built from them.
//!
//! This crate parses and validates the text of a project file into [`Project`], reporting
//! errors with file, line, column and field; it generates the JSON Schema from the same
//! types, and holds the built-in default project used when there is no `cairn.toml`.
//!
//! Pure: it takes text and a file name, never reads the disk or the network; relative
//! paths stay relative to [`Project::dir`] for the caller to resolve.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use toml::Spanned;

mod build;
mod package_build;
pub use build::{
    Build, DEFAULT_OUTPUTS, DirDef, DiskDef, FileDef, Firmware, GroupDef, InitrdKind, OciDef,
    OutputKind, SystemdDef, UserDef, WslDef, parse_mode, parse_size,
};
pub use package_build::{BuildRootSpec, PackageBuild, PackageBuildDef, parse_duration};

/// File name of the project file.
pub const PROJECT_FILE: &str = "cairn.toml";

/// The whole project file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "cairn project file (cairn.toml)")]
pub struct ProjectFile {
    /// Editor hint; ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Further files of distribution definitions (distros, components, groups), as glob
    /// patterns relative to this file: `["distro/*.distro.toml", "comps/**/*.comp.toml"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
    /// Project-wide settings.
    #[serde(default)]
    pub project: ProjectInfo,
    /// Package sources by name (the name is what images and the lock refer to).
    #[serde(default)]
    pub sources: BTreeMap<String, SourceDef>,
    /// Images by name.
    #[serde(default)]
    pub images: BTreeMap<String, ImageDef>,
    /// Distributions: the one being built and the upstreams it takes specs from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub distros: BTreeMap<String, cairn_component::DistroDefinition>,
    /// Components (packages built from upstream or local specs) by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, cairn_component::ComponentConfig>")]
    pub components: BTreeMap<String, Spanned<cairn_component::ComponentConfig>>,
    /// Named groups of components sharing defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub component_groups: BTreeMap<String, cairn_component::ComponentGroupConfig>,
    /// Defaults for every component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_component_config: Option<cairn_component::ComponentConfig>,
    /// Defaults for every binary package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_package_config: Option<cairn_component::PackageConfig>,
    /// Named groups of binary packages.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub package_groups: BTreeMap<String, cairn_component::PackageGroupConfig>,
    /// How `cairn comp build` builds components into RPMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<PackageBuildDef>")]
    pub package_build: Option<Spanned<PackageBuildDef>>,
}

pub use cairn_component::ProjectInfo;

/// Where packages come from.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceDef {
    /// `rpm-md` (a dnf/yum repository), `apt` (a Debian archive, fetched through the host's
    /// apt), or `host-apt` (the apt sources this machine is configured with).
    #[schemars(with = "SourceKind")]
    pub kind: Spanned<SourceKind>,
    /// rpm-md: base URLs of the repository (mirrors, tried in order): `https://`, `http://`
    /// or `file://`. A single string is accepted.
    #[serde(default)]
    #[schemars(with = "OneOrMany")]
    pub baseurl: List,
    /// rpm-md: OpenPGP public key files (armored, like `RPM-GPG-KEY-*`), relative to the
    /// project file, absolute, or `file://` URLs.
    #[serde(default)]
    #[schemars(with = "OneOrMany")]
    pub gpgkey: List,
    /// rpm-md: verify package signatures at install time (dnf's `gpgcheck`). Default true.
    pub gpgcheck: Option<bool>,
    /// rpm-md: verify the signature of `repomd.xml` (dnf's `repo_gpgcheck`). Default true.
    pub repo_gpgcheck: Option<bool>,
    /// rpm-md: extra CA certificates (PEM) trusted for this source's HTTPS mirrors.
    pub sslcacert: Option<String>,
    /// Lower wins when the same package name is in several sources (dnf semantics).
    /// Default 99.
    pub priority: Option<i32>,
    /// Package name globs never taken from this source.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// apt: archive URIs.
    #[serde(default)]
    #[schemars(with = "OneOrMany")]
    pub uris: List,
    /// apt: suites, e.g. `bookworm`, `bookworm-updates`.
    #[serde(default)]
    pub suites: Vec<String>,
    /// apt: components, e.g. `main`.
    #[serde(default)]
    pub components: Vec<String>,
    /// apt: keyrings the archive's `InRelease` must be signed with.
    #[serde(default)]
    #[schemars(with = "OneOrMany")]
    pub signed_by: List,
}

/// Kinds of package source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    RpmMd,
    Apt,
    HostApt,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::RpmMd => "rpm-md",
            SourceKind::Apt => "apt",
            SourceKind::HostApt => "host-apt",
        }
    }
    /// Debian-flavoured source?
    pub fn is_deb(self) -> bool {
        matches!(self, SourceKind::Apt | SourceKind::HostApt)
    }
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A list of strings (a single string accepted) that remembers where it was written.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct List(Spanned<Vec<String>>);

impl Default for List {
    fn default() -> Self {
        List(Spanned::new(0..0, Vec::new()))
    }
}

impl List {
    pub fn get_ref(&self) -> &Vec<String> {
        self.0.get_ref()
    }
    /// Where it was written (empty range when absent).
    pub fn span(&self) -> std::ops::Range<usize> {
        self.0.span()
    }
    fn span_or(&self, other: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let s = self.span();
        if s.is_empty() { other } else { s }
    }
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: Spanned<OneOrManyDe> = Deserialize::deserialize(d)?;
        let span = s.span();
        let v = match s.into_inner() {
            OneOrManyDe::One(x) => vec![x],
            OneOrManyDe::Many(v) => v,
        };
        Ok(List(Spanned::new(span, v)))
    }
}

#[derive(Deserialize)]
#[serde(untagged, expecting = "a string or a list of strings")]
enum OneOrManyDe {
    One(String),
    Many(Vec<String>),
}

/// One image: which sources it takes packages from and what to install.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageDef {
    /// Human description.
    pub description: Option<String>,
    /// Names of sources to use (all of one flavour). Default: every source.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub sources: List,
    /// Packages or capabilities to install: `bash`, `systemd >= 254`, `/usr/bin/env`.
    #[schemars(with = "Vec<String>")]
    pub packages: Spanned<Vec<String>>,
    /// Install weak dependencies (Recommends, Supplements). Default true.
    pub weak_deps: Option<bool>,
    /// Package name globs never installed in this image.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// RPM install-only package names (several versions may coexist). Default: the kernel
    /// packages.
    pub installonly: Option<Vec<String>>,
    /// Debian: install every `Essential: yes` package. Default true for apt sources.
    pub essential: Option<bool>,
    /// Debian: install every `Priority: required` package. Default true for apt sources.
    pub priority_required: Option<bool>,

    // ---- what `cairn build` does with the installed root (not part of the lock) ----
    /// Image version (SBOM, os-release `IMAGE_VERSION`, OCI labels). Default "0".
    pub version: Option<String>,
    /// Outputs `cairn build` writes to `out/IMAGE/`: `dir`, `tar`, `wsl`, `oci`, `raw`,
    /// `vhd`, `qcow2`. Default `["tar"]`.
    #[schemars(with = "Option<Vec<OutputKind>>")]
    pub outputs: Option<Spanned<Vec<OutputKind>>>,
    /// `/etc/hostname`.
    #[schemars(with = "Option<String>")]
    pub hostname: Option<Spanned<String>>,
    /// `LANG` in `/etc/locale.conf` (and Debian's `/etc/default/locale`), e.g. `C.UTF-8`.
    pub locale: Option<String>,
    /// Time zone name for `/etc/localtime`, e.g. `UTC` or `Europe/Berlin`.
    pub timezone: Option<String>,
    /// Kernel command line of disk images (cairn adds `root=` itself), e.g.
    /// `["console=ttyS0", "quiet"]`.
    pub kernel_cmdline: Option<Vec<String>>,
    /// os-release fields to set (`NAME`, `ID`, `ID_LIKE`, `VERSION_ID`, `PRETTY_NAME`, …);
    /// the packages' own os-release is the base.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub os_release: Option<Spanned<BTreeMap<String, String>>>,
    /// Users to create.
    #[serde(default)]
    #[schemars(with = "Vec<UserDef>")]
    pub users: Vec<Spanned<UserDef>>,
    /// Groups to create.
    #[serde(default)]
    #[schemars(with = "Vec<GroupDef>")]
    pub groups: Vec<Spanned<GroupDef>>,
    /// Files to write.
    #[serde(default)]
    #[schemars(with = "Vec<FileDef>")]
    pub files: Vec<Spanned<FileDef>>,
    /// Directories to create.
    #[serde(default)]
    #[schemars(with = "Vec<DirDef>")]
    pub directories: Vec<Spanned<DirDef>>,
    /// systemd units to enable, disable or mask.
    #[schemars(with = "Option<SystemdDef>")]
    pub systemd: Option<Spanned<SystemdDef>>,
    /// Paths (globs allowed: `*`, `**`) to delete after installing, e.g. `/usr/share/doc/**`
    /// or the package manager in a minimal image.
    #[schemars(with = "Option<Vec<String>>")]
    pub remove: Option<Spanned<Vec<String>>>,
    /// Commands run once, at the first boot (as root, by `cairn-firstboot.service`), the
    /// hook point for provisioning.
    pub first_boot: Option<Vec<String>>,
    /// Disk layout of `raw`, `vhd`, `qcow2`.
    #[schemars(with = "Option<DiskDef>")]
    pub disk: Option<Spanned<DiskDef>>,
    /// OCI image configuration.
    pub oci: Option<OciDef>,
    /// WSL settings.
    #[schemars(with = "Option<WslDef>")]
    pub wsl: Option<Spanned<WslDef>>,
}

/// A validated project.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    /// The file it came from (`<built-in>` for the default).
    pub file: String,
    /// Directory relative paths are resolved against.
    pub dir: PathBuf,
    /// True for the built-in default.
    pub builtin: bool,
    pub name: Option<String>,
    pub arch: Option<String>,
    pub sources: BTreeMap<String, Source>,
    pub images: BTreeMap<String, Image>,
    /// The distribution definitions written in this file (its `includes` are loaded by
    /// `cairn-comp`).
    pub dist: cairn_component::ConfigFragment,
    /// `[package-build]` with defaults applied.
    pub package_build: PackageBuild,
}

/// A validated source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    RpmMd(RpmMdSource),
    Apt(AptSource),
    HostApt { priority: i32, exclude: Vec<String> },
}

impl Source {
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::RpmMd(_) => SourceKind::RpmMd,
            Source::Apt(_) => SourceKind::Apt,
            Source::HostApt { .. } => SourceKind::HostApt,
        }
    }
    pub fn priority(&self) -> i32 {
        match self {
            Source::RpmMd(s) => s.priority,
            Source::Apt(s) => s.priority,
            Source::HostApt { priority, .. } => *priority,
        }
    }
    pub fn exclude(&self) -> &[String] {
        match self {
            Source::RpmMd(s) => &s.exclude,
            Source::Apt(s) => &s.exclude,
            Source::HostApt { exclude, .. } => exclude,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpmMdSource {
    pub baseurl: Vec<String>,
    pub gpgkey: Vec<String>,
    pub gpgcheck: bool,
    pub repo_gpgcheck: bool,
    pub sslcacert: Option<String>,
    pub priority: i32,
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AptSource {
    pub uris: Vec<String>,
    pub suites: Vec<String>,
    pub components: Vec<String>,
    pub signed_by: Vec<String>,
    pub priority: i32,
    pub exclude: Vec<String>,
}

/// A validated image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    pub name: String,
    pub description: Option<String>,
    pub sources: Vec<String>,
    pub packages: Vec<String>,
    pub weak_deps: bool,
    pub exclude: Vec<String>,
    pub installonly: Vec<String>,
    pub essential: bool,
    pub priority_required: bool,
    /// Debian or RPM, from its sources.
    pub deb: bool,
    /// What `cairn build` does beyond installing packages (not part of the lock).
    pub build: Build,
}

/// Default RPM install-only names (dnf's `installonlypkgs` default).
pub const DEFAULT_INSTALLONLY: &[&str] = &[
    "kernel",
    "kernel-core",
    "kernel-modules",
    "kernel-modules-core",
    "kernel-modules-extra",
    "installonlypkg(kernel)",
    "installonlypkg(kernel-module)",
    "installonlypkg(vm)",
    "multiversion(kernel)",
];

/// An error in a project file, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `sources.fedora.baseurl`, when known.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        cairn_component::line_col(self.text, offset)
    }
    fn err(
        &self,
        span: std::ops::Range<usize>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = self.line_col(span.start);
        ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            field: Some(field.into()),
            message: msg.into(),
        }
    }
}

/// Parse and validate a project file. `file` names it in errors; `dir` is where relative
/// paths in it are resolved from.
pub fn parse_project(text: &str, file: &str, dir: PathBuf) -> Result<Project, ConfigError> {
    let loc = Locator { file, text };
    let raw: ProjectFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| loc.line_col(s.start));
        ConfigError {
            file: file.to_owned(),
            line,
            column,
            field: None,
            message: friendly(e.message().trim()),
        }
    })?;
    validate(raw, &loc, dir, false)
}

/// serde names Rust types; users wrote TOML.
fn friendly(msg: &str) -> String {
    msg.replace("expected i32", "expected an integer")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected a boolean", "expected true or false")
}

fn validate(
    raw: ProjectFile,
    loc: &Locator<'_>,
    dir: PathBuf,
    builtin: bool,
) -> Result<Project, ConfigError> {
    let mut sources = BTreeMap::new();
    for (name, def) in &raw.sources {
        let field = |f: &str| format!("sources.{name}.{f}");
        check_name(loc, def.kind.span(), &format!("sources.{name}"), name)?;
        let priority = def.priority.unwrap_or(99);
        let kind = *def.kind.get_ref();
        // fields that belong to another kind are mistakes, not silently ignored
        let rpm_only: [(&str, bool); 5] = [
            ("baseurl", !def.baseurl.get_ref().is_empty()),
            ("gpgkey", !def.gpgkey.get_ref().is_empty()),
            ("gpgcheck", def.gpgcheck.is_some()),
            ("repo-gpgcheck", def.repo_gpgcheck.is_some()),
            ("sslcacert", def.sslcacert.is_some()),
        ];
        let apt_only: [(&str, bool); 4] = [
            ("uris", !def.uris.get_ref().is_empty()),
            ("suites", !def.suites.is_empty()),
            ("components", !def.components.is_empty()),
            ("signed-by", !def.signed_by.get_ref().is_empty()),
        ];
        let wrong: Vec<&str> = match kind {
            SourceKind::RpmMd => apt_only.iter().filter(|x| x.1).map(|x| x.0).collect(),
            SourceKind::Apt => rpm_only.iter().filter(|x| x.1).map(|x| x.0).collect(),
            SourceKind::HostApt => rpm_only
                .iter()
                .chain(apt_only.iter())
                .filter(|x| x.1)
                .map(|x| x.0)
                .collect(),
        };
        if let Some(w) = wrong.first() {
            return Err(loc.err(
                def.kind.span(),
                field(w),
                format!(
                    "`{w}` does not apply to a source of kind `{}`",
                    kind.as_str()
                ),
            ));
        }
        let source = match kind {
            SourceKind::RpmMd => {
                if def.baseurl.get_ref().is_empty() {
                    return Err(loc.err(
                        def.kind.span(),
                        field("baseurl"),
                        "an rpm-md source needs at least one baseurl",
                    ));
                }
                for u in def.baseurl.get_ref() {
                    check_url(loc, def.baseurl.span(), &field("baseurl"), u)?;
                }
                let gpgcheck = def.gpgcheck.unwrap_or(true);
                let repo_gpgcheck = def.repo_gpgcheck.unwrap_or(true);
                if (gpgcheck || repo_gpgcheck) && def.gpgkey.get_ref().is_empty() {
                    return Err(loc.err(
                        def.kind.span(),
                        field("gpgkey"),
                        "signature checks are on (gpgcheck / repo-gpgcheck default to true) but no gpgkey is given; \
                         add the repository's public key file, or set gpgcheck = false and repo-gpgcheck = false",
                    ));
                }
                Source::RpmMd(RpmMdSource {
                    baseurl: def.baseurl.get_ref().clone(),
                    gpgkey: def.gpgkey.get_ref().clone(),
                    gpgcheck,
                    repo_gpgcheck,
                    sslcacert: def.sslcacert.clone(),
                    priority,
                    exclude: def.exclude.clone(),
                })
            }
            SourceKind::Apt => {
                for (f, empty) in [
                    ("uris", def.uris.get_ref().is_empty()),
                    ("suites", def.suites.is_empty()),
                    ("components", def.components.is_empty()),
                    ("signed-by", def.signed_by.get_ref().is_empty()),
                ] {
                    if empty {
                        return Err(loc.err(
                            def.kind.span(),
                            field(f),
                            format!("an apt source needs `{f}`"),
                        ));
                    }
                }
                for u in def.uris.get_ref() {
                    check_url(loc, def.uris.span(), &field("uris"), u)?;
                }
                Source::Apt(AptSource {
                    uris: def.uris.get_ref().clone(),
                    suites: def.suites.clone(),
                    components: def.components.clone(),
                    signed_by: def.signed_by.get_ref().clone(),
                    priority,
                    exclude: def.exclude.clone(),
                })
            }
            SourceKind::HostApt => Source::HostApt {
                priority,
                exclude: def.exclude.clone(),
            },
        };
        sources.insert(name.clone(), source);
    }

    let mut images = BTreeMap::new();
    for (name, def) in &raw.images {
        let field = |f: &str| format!("images.{name}.{f}");
        check_name(loc, def.packages.span(), &format!("images.{name}"), name)?;
        let srcs: Vec<String> = if def.sources.get_ref().is_empty() {
            sources.keys().cloned().collect()
        } else {
            def.sources.get_ref().clone()
        };
        if srcs.is_empty() {
            return Err(loc.err(
                def.packages.span(),
                field("sources"),
                "the project declares no sources",
            ));
        }
        for s in &srcs {
            if !sources.contains_key(s) {
                let known: Vec<&str> = sources.keys().map(String::as_str).collect();
                return Err(loc.err(
                    def.sources.span_or(def.packages.span()),
                    field("sources"),
                    format!(
                        "unknown source `{s}`; the project declares: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        let kinds: Vec<bool> = srcs.iter().map(|s| sources[s].kind().is_deb()).collect();
        if kinds.iter().any(|k| *k != kinds[0]) {
            return Err(loc.err(
                def.sources.span_or(def.packages.span()),
                field("sources"),
                "an image cannot mix RPM (rpm-md) and Debian (apt) sources",
            ));
        }
        let deb = kinds[0];
        if def.packages.get_ref().is_empty() && !(deb && def.essential != Some(false)) {
            return Err(loc.err(
                def.packages.span(),
                field("packages"),
                "list at least one package",
            ));
        }
        for p in def.packages.get_ref() {
            if p.trim().is_empty() {
                return Err(loc.err(def.packages.span(), field("packages"), "empty package name"));
            }
        }
        if !deb && (def.essential.is_some() || def.priority_required.is_some()) {
            return Err(loc.err(
                def.packages.span(),
                field(if def.essential.is_some() {
                    "essential"
                } else {
                    "priority-required"
                }),
                "only applies to images built from apt sources",
            ));
        }
        if deb && def.installonly.is_some() {
            return Err(loc.err(
                def.packages.span(),
                field("installonly"),
                "only applies to images built from rpm-md sources",
            ));
        }
        let build = build::validate_build(
            build::RawBuild {
                version: &def.version,
                outputs: &def.outputs,
                hostname: &def.hostname,
                locale: &def.locale,
                timezone: &def.timezone,
                kernel_cmdline: &def.kernel_cmdline,
                os_release: &def.os_release,
                users: &def.users,
                groups: &def.groups,
                files: &def.files,
                directories: &def.directories,
                systemd: &def.systemd,
                remove: &def.remove,
                first_boot: &def.first_boot,
                disk: &def.disk,
                oci: &def.oci,
                wsl: &def.wsl,
            },
            loc,
            name,
            def.packages.span(),
        )?;
        images.insert(
            name.clone(),
            Image {
                name: name.clone(),
                description: def.description.clone(),
                sources: srcs,
                packages: def.packages.get_ref().clone(),
                weak_deps: def.weak_deps.unwrap_or(true),
                exclude: def.exclude.clone(),
                installonly: def.installonly.clone().unwrap_or_else(|| {
                    if deb {
                        vec![]
                    } else {
                        DEFAULT_INSTALLONLY
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect()
                    }
                }),
                essential: deb && def.essential.unwrap_or(true),
                priority_required: deb && def.priority_required.unwrap_or(true),
                deb,
                build,
            },
        );
    }
    let image_names: Vec<String> = images.keys().cloned().collect();
    let package_build = package_build::validate_package_build(
        raw.package_build.as_ref(),
        loc,
        &sources,
        &image_names,
    )?;
    let dist = cairn_component::ConfigFragment {
        schema: None,
        includes: raw.includes.clone(),
        project: Some(raw.project.clone()),
        distros: raw.distros.clone(),
        components: raw.components.clone(),
        component_groups: raw.component_groups.clone(),
        default_component_config: raw.default_component_config.clone(),
        default_package_config: raw.default_package_config.clone(),
        package_groups: raw.package_groups.clone(),
    };
    cairn_component::validate_fragment(&dist, loc.text, loc.file).map_err(|e| ConfigError {
        file: e.file,
        line: e.line,
        column: e.column,
        field: e.field,
        message: e.message,
    })?;
    let defines_distribution = !dist.includes.is_empty() || !dist.components.is_empty();
    if images.is_empty() && !defines_distribution {
        return Err(ConfigError {
            file: loc.file.to_owned(),
            line: 1,
            column: 1,
            field: Some("images".into()),
            message: "the project declares no images; add an [images.NAME] table".into(),
        });
    }
    Ok(Project {
        file: loc.file.to_owned(),
        dir,
        builtin,
        name: raw.project.name.clone(),
        arch: raw.project.arch.clone(),
        sources,
        images,
        dist,
        package_build,
    })
}

fn check_name(
    loc: &Locator<'_>,
    span: std::ops::Range<usize>,
    field: &str,
    name: &str,
) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(loc.err(
            span,
            field,
            format!("name `{name}` must be ASCII letters, digits, `-`, `_` or `.`"),
        ))
    }
}

fn check_url(
    loc: &Locator<'_>,
    span: std::ops::Range<usize>,
    field: &str,
    url: &str,
) -> Result<(), ConfigError> {
    let ok = ["http://", "https://", "file://"]
        .iter()
        .any(|p| url.starts_with(p) && url.len() > p.len());
    if ok {
        Ok(())
    } else {
        Err(loc.err(
            span,
            field,
            format!("`{url}` is not an http://, https:// or file:// URL"),
        ))
    }
}

/// The JSON Schema of `cairn.toml`, generated from the types.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ProjectFile);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// Text of the built-in default project: a minimal VM image from the host's apt sources.
pub const BUILTIN_PROJECT: &str = include_str!("builtin.toml");

/// The built-in default project (used when there is no `cairn.toml`).
pub fn builtin_project(dir: PathBuf) -> Project {
    let loc = Locator {
        file: "<built-in>",
        text: BUILTIN_PROJECT,
    };
    let raw: ProjectFile = toml::from_str(BUILTIN_PROJECT)
        .unwrap_or_else(|e| panic!("built-in project is invalid: {e}"));
    validate(raw, &loc, dir, true).unwrap_or_else(|e| panic!("built-in project is invalid: {e}"))
}
