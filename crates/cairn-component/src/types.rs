//! The serde types of a distribution definition, field for field compatible with the
//! files azldev reads (`*.distro.toml`, `*.comp.toml`, `*.overlay.toml`), plus cairn's
//! own additions (`archive` on file overlays, `overlay` origins, canonical categories).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// What one configuration file may hold about the distribution. `cairn.toml` holds these
/// keys next to its own; files pulled in by `includes` hold only these.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFragment {
    /// Editor hint; ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Glob patterns of further configuration files, relative to this file. A pattern
    /// without wildcards must name an existing file; a glob may match nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
    /// Project settings (merged field by field across files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectInfo>,
    /// Distributions: the one being built and the upstreams it takes specs from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub distros: BTreeMap<String, DistroDefinition>,
    /// Components by name; each may be defined in exactly one file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, ComponentConfig>")]
    pub components: BTreeMap<String, Spanned<ComponentConfig>>,
    /// Named groups of components sharing default settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub component_groups: BTreeMap<String, ComponentGroupConfig>,
    /// Project-wide defaults for every component (after the distro's, before groups').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_component_config: Option<ComponentConfig>,
    /// Project-wide defaults for every binary package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_package_config: Option<PackageConfig>,
    /// Named groups of binary packages sharing settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub package_groups: BTreeMap<String, PackageGroupConfig>,
}

/// `[project]`: cairn's own keys and azldev's.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProjectInfo {
    /// A name for the distribution or project (cairn.toml only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Target architecture in the sources' own spelling (`x86_64` for RPM, `amd64` for
    /// Debian); default: the build host's (cairn.toml only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The distribution (and version) components are built for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_distro: Option<DistroRef>,
    /// Where `cairn comp render` writes rendered specs. Default `specs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered_specs_dir: Option<String>,
    /// Where component locks live. Default `locks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_dir: Option<String>,
    /// Accepted for azldev compatibility; unused by cairn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dir: Option<String>,
    /// Accepted for azldev compatibility; unused by cairn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_dir: Option<String>,
    /// Accepted for azldev compatibility; cairn writes images to `out/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<String>,
    /// E-mail for generated changelog entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_author_email: Option<String>,
}

/// A distribution: where its dist-git and lookaside cache live and its versions.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DistroDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Version used when a reference names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version: Option<String>,
    /// Dist-git repository URL template; `$pkg` is the upstream package name. Any git URL:
    /// `https://`, `ssh://`, `file://` (offline mirrors) or a path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist_git_base_uri: Option<String>,
    /// Lookaside cache URL template: `$pkg`, `$filename`, `$hashtype` (lower case, e.g.
    /// `sha512`) and `$hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookaside_base_uri: Option<String>,
    /// Package repositories (accepted for azldev compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repos: Option<Vec<PackageRepository>>,
    /// Only take sources from the lookaside cache, never from `source-files` origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_origins: Option<bool>,
    /// Versions by key (`"43"`, `"rawhide"`, `'4.0'`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub versions: BTreeMap<String, DistroVersion>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageRepository {
    pub base_uri: String,
}

/// One version of a distribution.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DistroVersion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The formal release version (`%{?fedora}`-style macros, `$releasever`). Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_ver: Option<String>,
    /// Dist-git branch holding this release's specs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist_git_branch: Option<String>,
    /// Defaults inherited by every component built for this version: typically the spec
    /// source (which upstream release) and build defines (`dist`, `vendor`, `distribution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_component_config: Option<ComponentConfig>,
    /// Accepted for azldev compatibility (mock is not used by cairn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock_config: Option<String>,
    #[serde(
        default,
        rename = "mock-config-x86_64",
        skip_serializing_if = "Option::is_none"
    )]
    pub mock_config_x86_64: Option<String>,
    #[serde(
        default,
        rename = "mock-config-aarch64",
        skip_serializing_if = "Option::is_none"
    )]
    pub mock_config_aarch64: Option<String>,
}

/// A reference to a distribution version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DistroRef {
    pub name: String,
    /// Default: the distro's `default-version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Take the newest dist-git commit not after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// How one component is defined. Every field is optional so the layers (distro version →
/// project → groups → component) can be merged: scalars override, arrays append, maps merge.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComponentConfig {
    /// Where the spec comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecSource>,
    /// How the Release tag is managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseConfig>,
    /// Overlays applied in order (inline ones first, then `overlay-files`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<Overlay>")]
    pub overlays: Vec<Spanned<Overlay>>,
    /// Globs of overlay files (`overlays/*.overlay.toml`), relative to the component's
    /// file; applied in file-name order. At project scope each entry contains
    /// `{component}`. Replaces, not appends to, an inherited list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay_files: Option<Vec<String>>,
    /// Build switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildConfig>,
    /// Rendering switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render: Option<RenderConfig>,
    /// Source files beyond the upstream `sources` list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_files: Vec<SourceFile>,
    /// Per binary package settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages: BTreeMap<String, PackageConfig>,
    /// Publish channels for this component's packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<ComponentPublishConfig>,
}

/// Where a component's spec comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SpecSource {
    /// `upstream` (dist-git of an upstream distro), `local` (a spec in this project) or
    /// empty (inherit).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<SpecSourceKind>,
    /// `local`: the spec file, relative to the file that defines the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `upstream`: which distro and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_distro: Option<DistroRef>,
    /// `upstream`: the package's name upstream when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_name: Option<String>,
    /// `upstream`: pin a dist-git commit (7 to 40 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_commit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SpecSourceKind {
    Upstream,
    Local,
    #[serde(rename = "")]
    Inherit,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReleaseConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculation: Option<ReleaseCalculation>,
}

/// How the Release tag is handled (recorded for builds; rendering leaves it as written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseCalculation {
    Auto,
    Autorelease,
    Static,
    Manual,
}

/// Build switches passed to rpmbuild.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildConfig {
    /// `--with` conditionals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
    /// `--without` conditionals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without: Vec<String>,
    /// `--define 'NAME VALUE'`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defines: BTreeMap<String, String>,
    /// `--undefine NAME`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undefines: Vec<String>,
    /// `%check` policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckConfig>,
    /// Expected-failure marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureConfig>,
    /// Scheduling hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<BuildHints>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// Skip `%check` (rendered as `exit 0` at its top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<bool>,
    /// Why; mandatory when `skip = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FailureConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildHints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expensive: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RenderConfig {
    /// Keep every file of the dist-git checkout, not just those the spec references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_file_filter: Option<bool>,
}

/// A source file beyond upstream's `sources` list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceFile {
    pub filename: String,
    /// Expected digest (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_type: Option<HashType>,
    /// Where it comes from: downloaded, or produced by one of the component's overlays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Deliberately replace the upstream `sources` entry of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_upstream: Option<bool>,
    /// Why; mandatory with `replace-upstream = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum HashType {
    #[serde(rename = "SHA256", alias = "sha256")]
    Sha256,
    #[serde(rename = "SHA512", alias = "sha512")]
    Sha512,
}

impl HashType {
    pub fn as_upper(self) -> &'static str {
        match self {
            HashType::Sha256 => "SHA256",
            HashType::Sha512 => "SHA512",
        }
    }
    pub fn as_lower(self) -> &'static str {
        match self {
            HashType::Sha256 => "sha256",
            HashType::Sha512 => "sha512",
        }
    }
    pub fn hex_len(self) -> usize {
        match self {
            HashType::Sha256 => 64,
            HashType::Sha512 => 128,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Origin {
    #[serde(rename = "type")]
    pub kind: OriginKind,
    /// `download`: the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OriginKind {
    /// Downloaded from `uri`.
    #[default]
    Download,
    /// Made by one of the component's overlays (a `file-add`, or an edit inside an
    /// archive); the hash pins the result.
    Overlay,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PackagePublishConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackagePublishConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debuginfo_channel: Option<String>,
    /// Older spelling of `rpm-channel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComponentPublishConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srpm_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debuginfo_channel: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComponentGroupConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Member component names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Globs of local spec files; each match becomes a member component named after the
    /// spec's file stem, with a `local` spec source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specs: Vec<String>,
    /// Globs excluded from `specs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_paths: Vec<String>,
    /// Defaults for every member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_component_config: Option<ComponentConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageGroupConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_package_config: Option<PackageConfig>,
}

/// One overlay: a declarative change to the spec or the files beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Overlay {
    #[serde(rename = "type")]
    #[schemars(with = "OverlayKind")]
    pub kind: Option<OverlayKind>,
    /// Why the change exists (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// File (or glob) beside the spec, or inside `archive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Spec section, e.g. `%build`, `%files`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Subpackage as written in the spec (`devel`, or the `-n` name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Literal replacement text (no `$1` expansion); for `file-rename`, the new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<String>>,
    /// Input file for `file-add` / `patch-add`, relative to the file defining the overlay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// cairn: apply a `file-prepend-lines` / `file-search-replace` inside this source
    /// archive (extracted, edited, repacked with the same compression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// Why and where from (not allowed inside overlay files, whose `[metadata]` applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<OverlayMetadata>,
}

/// The kinds of overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OverlayKind {
    SpecAddTag,
    SpecInsertTag,
    SpecSetTag,
    SpecUpdateTag,
    SpecRemoveTag,
    SpecPrependLines,
    SpecAppendLines,
    SpecSearchReplace,
    SpecRemoveSection,
    SpecRemoveSubpackage,
    PatchAdd,
    PatchRemove,
    FilePrependLines,
    FileSearchReplace,
    FileAdd,
    FileRemove,
    FileRename,
}

impl OverlayKind {
    pub const ALL: [OverlayKind; 17] = [
        OverlayKind::SpecAddTag,
        OverlayKind::SpecInsertTag,
        OverlayKind::SpecSetTag,
        OverlayKind::SpecUpdateTag,
        OverlayKind::SpecRemoveTag,
        OverlayKind::SpecPrependLines,
        OverlayKind::SpecAppendLines,
        OverlayKind::SpecSearchReplace,
        OverlayKind::SpecRemoveSection,
        OverlayKind::SpecRemoveSubpackage,
        OverlayKind::PatchAdd,
        OverlayKind::PatchRemove,
        OverlayKind::FilePrependLines,
        OverlayKind::FileSearchReplace,
        OverlayKind::FileAdd,
        OverlayKind::FileRemove,
        OverlayKind::FileRename,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OverlayKind::SpecAddTag => "spec-add-tag",
            OverlayKind::SpecInsertTag => "spec-insert-tag",
            OverlayKind::SpecSetTag => "spec-set-tag",
            OverlayKind::SpecUpdateTag => "spec-update-tag",
            OverlayKind::SpecRemoveTag => "spec-remove-tag",
            OverlayKind::SpecPrependLines => "spec-prepend-lines",
            OverlayKind::SpecAppendLines => "spec-append-lines",
            OverlayKind::SpecSearchReplace => "spec-search-replace",
            OverlayKind::SpecRemoveSection => "spec-remove-section",
            OverlayKind::SpecRemoveSubpackage => "spec-remove-subpackage",
            OverlayKind::PatchAdd => "patch-add",
            OverlayKind::PatchRemove => "patch-remove",
            OverlayKind::FilePrependLines => "file-prepend-lines",
            OverlayKind::FileSearchReplace => "file-search-replace",
            OverlayKind::FileAdd => "file-add",
            OverlayKind::FileRemove => "file-remove",
            OverlayKind::FileRename => "file-rename",
        }
    }
}

/// Why an overlay exists and when it can go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OverlayMetadata {
    /// What kind of deviation this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Where the change stands upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<UpstreamStatus>,
    /// azldev's older boolean form of `upstream-status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstreamable: Option<bool>,
    /// Upstream commit URLs this change backports or implements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// Bug tracker entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<BugRef>,
}

impl OverlayMetadata {
    /// The effective upstream status (`upstreamable = true/false` maps onto it).
    pub fn status(&self) -> UpstreamStatus {
        match (self.upstream_status, self.upstreamable) {
            (Some(s), _) => s,
            (None, Some(true)) => UpstreamStatus::Upstreamable,
            (None, Some(false)) => UpstreamStatus::Inapplicable,
            (None, None) => UpstreamStatus::Unknown,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BugRef {
    pub url: String,
}

/// Categories of deviation from upstream. azldev's spellings are accepted and mapped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A fix taken from upstream (or sent there) ahead of the release that has it.
    #[serde(alias = "backport-dist-git")]
    Backport,
    /// Removing what the distribution does not ship: subpackages, dependencies, features.
    #[serde(alias = "azl-pruning")]
    Pruning,
    /// Making the component build or run in this distribution's environment.
    #[serde(alias = "azl-compatibility")]
    Compatibility,
    /// A stopgap to drop once its cause is fixed (e.g. a missing dependency).
    #[serde(alias = "azl-dep-missing-workaround", alias = "temporary workaround")]
    TemporaryWorkaround,
    /// Names, paths and vendor strings of this distribution.
    #[serde(alias = "azl-branding-policy")]
    Branding,
    /// FIPS, crypto policy, hardening.
    #[serde(alias = "azl-security-compliance", alias = "security/compliance")]
    SecurityCompliance,
    /// Architecture- or platform-specific adjustments.
    #[serde(alias = "azl-platform-adaptation")]
    PlatformAdaptation,
    /// Tests skipped because they are flaky or cannot run in the build environment.
    #[serde(
        alias = "azl-disable-flaky-tests",
        alias = "azl-disable-unsupported-tests"
    )]
    TestAdjustment,
    /// Release and changelog mechanics.
    #[serde(alias = "azl-release-management")]
    ReleaseManagement,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Backport => "backport",
            Category::Pruning => "pruning",
            Category::Compatibility => "compatibility",
            Category::TemporaryWorkaround => "temporary-workaround",
            Category::Branding => "branding",
            Category::SecurityCompliance => "security-compliance",
            Category::PlatformAdaptation => "platform-adaptation",
            Category::TestAdjustment => "test-adjustment",
            Category::ReleaseManagement => "release-management",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamStatus {
    /// Already upstream (drop when rebasing past it).
    Upstreamed,
    /// Could go upstream.
    Upstreamable,
    /// Only makes sense for this distribution.
    Inapplicable,
    /// Not assessed.
    #[default]
    Unknown,
}

impl UpstreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamStatus::Upstreamed => "upstreamed",
            UpstreamStatus::Upstreamable => "upstreamable",
            UpstreamStatus::Inapplicable => "inapplicable",
            UpstreamStatus::Unknown => "unknown",
        }
    }
}

/// A file of overlays for one logical change (`overlays/0001-foo.overlay.toml`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OverlayFile {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Applies to every overlay in the file.
    #[serde(default)]
    pub metadata: OverlayMetadata,
    #[schemars(with = "Vec<Overlay>")]
    pub overlays: Vec<Spanned<Overlay>>,
}
