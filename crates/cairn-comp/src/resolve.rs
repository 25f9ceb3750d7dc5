//! From a declared component to everything rendering needs: the merged configuration
//! (distro version → project → groups in name order → component), the full overlay list
//! with where each came from, and where the spec comes from.

use crate::CompError;
use crate::load::{Distribution, overlay_files};
use cairn_component::{
    Category, ComponentConfig, Overlay, OverlayMetadata, SpecSourceKind, UpstreamStatus,
    expand_template, merge_component,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The distribution (and version) components are built for.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub distro: String,
    pub version: String,
    pub release_ver: String,
}

/// Where the spec comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SpecOrigin {
    Upstream {
        distro: String,
        version: String,
        /// Package name upstream.
        name: String,
        /// The dist-git repository URL.
        url: String,
        /// Branch followed (from the distro version).
        branch: Option<String>,
        /// Commit pinned in the configuration.
        pinned: Option<String>,
        /// Newest commit not after this time.
        snapshot: Option<String>,
        /// Lookaside URL template.
        lookaside: Option<String>,
    },
    Local {
        /// The spec file.
        spec: PathBuf,
    },
}

/// One overlay and where it was written.
#[derive(Debug, Clone, Serialize)]
pub struct PlacedOverlay {
    pub overlay: Overlay,
    /// The file it is written in.
    pub file: PathBuf,
    /// Index within its file's overlay list (component or overlay file).
    pub index: usize,
    /// Metadata in effect (per-overlay, or the overlay file's).
    pub metadata: OverlayMetadata,
    /// `file` relative to the project directory, for messages.
    pub shown: String,
}

impl PlacedOverlay {
    /// Paths in `source` are relative to the file that declared the overlay.
    pub fn base_dir(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
    }
    pub fn category(&self) -> Option<Category> {
        self.metadata.category
    }
    pub fn status(&self) -> UpstreamStatus {
        self.metadata.status()
    }
    /// "overlay 2 (spec-set-tag) in comps/curl/curl.comp.toml".
    pub fn describe(&self) -> String {
        format!(
            "overlay {} ({}) in {}",
            self.index + 1,
            self.overlay.kind.map_or("?", |k| k.as_str()),
            self.shown
        )
    }
}

/// A component, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub name: String,
    /// The merged configuration (overlays listed separately in `overlays`).
    pub config: ComponentConfig,
    /// Groups it belongs to.
    pub groups: Vec<String>,
    /// The file defining it.
    pub defined_in: PathBuf,
    pub line: usize,
    pub spec: SpecOrigin,
    pub overlays: Vec<PlacedOverlay>,
    pub target: Target,
}

/// The target distro and version from `project.default-distro`.
pub fn target(dist: &Distribution) -> Result<Target, CompError> {
    let Some(r) = &dist.project.default_distro else {
        return Err(CompError::NoDistro);
    };
    let d = dist
        .distros
        .get(&r.name)
        .ok_or_else(|| CompError::UnknownDistro {
            name: r.name.clone(),
            context: "project.default-distro".into(),
        })?;
    let version = r
        .version
        .clone()
        .or_else(|| d.default_version.clone())
        .ok_or_else(|| CompError::UnknownDistro {
            name: r.name.clone(),
            context:
                "project.default-distro names no version and the distro has no default-version"
                    .into(),
        })?;
    let v = d
        .versions
        .get(&version)
        .ok_or_else(|| CompError::UnknownDistro {
            name: format!("{} {}", r.name, version),
            context: "project.default-distro".into(),
        })?;
    Ok(Target {
        distro: r.name.clone(),
        release_ver: v.release_ver.clone().unwrap_or_else(|| version.clone()),
        version,
    })
}

/// Resolve one component.
pub fn resolve(dist: &Distribution, name: &str) -> Result<Resolved, CompError> {
    let decl = dist
        .components
        .get(name)
        .ok_or_else(|| CompError::UnknownComponent {
            name: name.to_owned(),
            known: dist.components.len(),
        })?;
    let target = target(dist)?;
    // Layer the configuration, remembering which file each inline overlay is in.
    let mut layers: Vec<(ComponentConfig, PathBuf)> = Vec::new();
    if let Some(c) = dist
        .distros
        .get(&target.distro)
        .and_then(|d| d.versions.get(&target.version))
        .and_then(|v| v.default_component_config.clone())
    {
        let file = dist
            .defaults_files
            .get(&format!("distro:{}:{}", target.distro, target.version))
            .cloned()
            .unwrap_or_default();
        layers.push((c, file));
    }
    if let Some(c) = &dist.default_component_config {
        let file = dist
            .defaults_files
            .get("project")
            .cloned()
            .unwrap_or_default();
        layers.push((c.clone(), file));
    }
    let mut groups = Vec::new();
    for (gname, (g, gfile)) in &dist.groups {
        if g.components.iter().any(|c| c == name) {
            groups.push(gname.clone());
            if let Some(c) = &g.default_component_config {
                layers.push((c.clone(), gfile.clone()));
            }
        }
    }
    layers.push((decl.config.clone(), decl.file.clone()));

    let mut merged = ComponentConfig::default();
    let mut overlays = Vec::new();
    for (layer, file) in &layers {
        for (i, o) in layer.overlays.iter().enumerate() {
            overlays.push(PlacedOverlay {
                overlay: o.get_ref().clone(),
                file: file.clone(),
                index: i,
                metadata: o.get_ref().metadata.clone().unwrap_or_default(),
                shown: shown(dist, file),
            });
        }
        merged = merge_component(&merged, layer);
    }
    merged.overlays.clear();

    // Overlay files: the component's own patterns, or the project's `{component}` ones.
    let (patterns, base, from) = match &decl.config.overlay_files {
        Some(p) => (
            p.clone(),
            decl.file.parent().unwrap_or(Path::new(".")).to_path_buf(),
            decl.file.clone(),
        ),
        None => match &dist.project_overlay_patterns {
            Some((p, f)) => (
                p.iter().map(|x| x.replace("{component}", name)).collect(),
                f.parent().unwrap_or(Path::new(".")).to_path_buf(),
                f.clone(),
            ),
            None => (Vec::new(), PathBuf::new(), PathBuf::new()),
        },
    };
    for of in overlay_files(&patterns, &base, &from)? {
        for (i, o) in of.file.overlays.iter().enumerate() {
            overlays.push(PlacedOverlay {
                overlay: o.get_ref().clone(),
                file: of.path.clone(),
                index: i,
                metadata: of.file.metadata.clone(),
                shown: shown(dist, &of.path),
            });
        }
    }

    let spec = spec_origin(dist, name, &merged, decl.file.as_path())?;
    Ok(Resolved {
        name: name.to_owned(),
        config: merged,
        groups,
        defined_in: decl.file.clone(),
        line: decl.line,
        spec,
        overlays,
        target,
    })
}

fn shown(dist: &Distribution, file: &Path) -> String {
    file.strip_prefix(&dist.dir)
        .unwrap_or(file)
        .display()
        .to_string()
}

fn spec_origin(
    dist: &Distribution,
    name: &str,
    c: &ComponentConfig,
    file: &Path,
) -> Result<SpecOrigin, CompError> {
    let s = c.spec.clone().unwrap_or_default();
    match s.kind {
        Some(SpecSourceKind::Local) => {
            let path = s.path.ok_or_else(|| CompError::Config {
                file: file.to_path_buf(),
                message: format!("component `{name}`: a local spec needs `spec.path`"),
            })?;
            Ok(SpecOrigin::Local {
                spec: file.parent().unwrap_or(Path::new(".")).join(path),
            })
        }
        _ => {
            let r = s.upstream_distro.ok_or_else(|| CompError::Config {
                file: file.to_path_buf(),
                message: format!(
                    "component `{name}` has no spec source: set `spec` on it, or `spec = {{ type = \"upstream\", upstream-distro = {{ name = …, version = … }} }}` in the distro version's default-component-config"
                ),
            })?;
            let d = dist
                .distros
                .get(&r.name)
                .ok_or_else(|| CompError::UnknownDistro {
                    name: r.name.clone(),
                    context: format!("component `{name}` spec.upstream-distro"),
                })?;
            let version = r
                .version
                .clone()
                .or_else(|| d.default_version.clone())
                .unwrap_or_default();
            let v = d
                .versions
                .get(&version)
                .ok_or_else(|| CompError::UnknownDistro {
                    name: format!("{} {version}", r.name),
                    context: format!("component `{name}` spec.upstream-distro"),
                })?;
            let upstream_name = s.upstream_name.clone().unwrap_or_else(|| name.to_owned());
            let template = d.dist_git_base_uri.clone().ok_or_else(|| CompError::Config {
                file: file.to_path_buf(),
                message: format!(
                    "distro `{}` has no dist-git-base-uri, so component `{name}` cannot be fetched",
                    r.name
                ),
            })?;
            let url = expand_template(&template, &[("pkg", &upstream_name)]);
            Ok(SpecOrigin::Upstream {
                distro: r.name.clone(),
                version,
                name: upstream_name,
                url,
                branch: v.dist_git_branch.clone(),
                pinned: s.upstream_commit.clone(),
                snapshot: r.snapshot.clone(),
                lookaside: d.lookaside_base_uri.clone(),
            })
        }
    }
}
