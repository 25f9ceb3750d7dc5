//! Loading the distribution definition: `cairn.toml`'s own keys, then every file its
//! `includes` globs name (recursively, depth first, each pattern's matches in path order),
//! merged with azldev's rules: components and groups are defined once across all files
//! (a second definition is an error naming both files), distros merge field by field,
//! project settings override field by field. Overlay files and group spec globs are
//! expanded here too, so everything after this works on plain data.

use crate::CompError;
use cairn_component::{
    ComponentConfig, ComponentGroupConfig, ConfigFragment, DistroDefinition, OverlayFile,
    PackageConfig, PackageGroupConfig, ProjectInfo, parse_fragment, parse_overlay_file,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A component as declared, before inheritance.
#[derive(Debug, Clone)]
pub struct Declared {
    pub config: ComponentConfig,
    /// The file that defines it (for relative paths and messages).
    pub file: PathBuf,
    pub line: usize,
    /// Discovered from a group's `specs` glob or a `{component}` overlay pattern.
    pub implicit: bool,
}

/// An overlay file, loaded.
#[derive(Debug, Clone)]
pub struct LoadedOverlayFile {
    pub path: PathBuf,
    pub file: OverlayFile,
}

/// The whole distribution definition.
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    /// The project directory (where `cairn.toml` is).
    pub dir: PathBuf,
    pub project: ProjectInfo,
    pub distros: BTreeMap<String, DistroDefinition>,
    pub components: BTreeMap<String, Declared>,
    pub groups: BTreeMap<String, (ComponentGroupConfig, PathBuf)>,
    pub default_component_config: Option<ComponentConfig>,
    /// The project `default-component-config`'s `overlay-files` patterns, and the file
    /// that set them.
    pub project_overlay_patterns: Option<(Vec<String>, PathBuf)>,
    pub default_package_config: Option<PackageConfig>,
    pub package_groups: BTreeMap<String, PackageGroupConfig>,
    /// Every configuration file read, in load order.
    pub files: Vec<PathBuf>,
    /// The file each `default-component-config` came from (`project`, or
    /// `distro:NAME:VERSION`), for paths relative to it.
    pub defaults_files: BTreeMap<String, PathBuf>,
}

impl Distribution {
    /// Where rendered specs go.
    pub fn rendered_dir(&self) -> PathBuf {
        self.dir.join(
            self.project
                .rendered_specs_dir
                .as_deref()
                .unwrap_or("specs"),
        )
    }
    /// Where component locks go.
    pub fn lock_dir(&self) -> PathBuf {
        self.dir
            .join(self.project.lock_dir.as_deref().unwrap_or("locks"))
    }
}

fn has_glob_meta(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Expand one glob pattern relative to `base`, sorted by path. A pattern without
/// wildcards must exist.
pub(crate) fn expand_glob(
    base: &Path,
    pattern: &str,
    what: &str,
    from: &Path,
) -> Result<Vec<PathBuf>, CompError> {
    if !has_glob_meta(pattern) {
        let p = base.join(pattern);
        if !p.is_file() {
            return Err(CompError::MissingInclude {
                file: from.to_path_buf(),
                pattern: pattern.to_owned(),
                what: what.to_owned(),
                path: p,
            });
        }
        return Ok(vec![p]);
    }
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| CompError::BadPattern {
            file: from.to_path_buf(),
            pattern: pattern.to_owned(),
            message: e.to_string(),
        })?
        .compile_matcher();
    // Walk only below the longest literal prefix of the pattern.
    let prefix: Vec<&str> = pattern
        .split('/')
        .take_while(|seg| !has_glob_meta(seg))
        .collect();
    let start = base.join(prefix.join("/"));
    let mut out = Vec::new();
    if !start.is_dir() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(&start)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(base) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if glob.is_match(&rel) {
            out.push(entry.path().to_path_buf());
        }
    }
    out.sort();
    Ok(out)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Load the distribution definition of a project.
pub fn load(project: &cairn_config::Project) -> Result<Distribution, CompError> {
    let root_file = project.dir.join(&project.file);
    let root_file = if root_file.is_file() {
        root_file
    } else {
        project.dir.join(cairn_config::PROJECT_FILE)
    };
    let root_text = if project.builtin {
        String::new()
    } else {
        fs_err::read_to_string(&root_file).unwrap_or_default()
    };
    let mut dist = Distribution {
        dir: project.dir.clone(),
        ..Distribution::default()
    };
    let mut seen = Vec::new();
    merge_fragment(
        &mut dist,
        project.dist.clone(),
        &root_file,
        &root_text,
        &mut seen,
        0,
    )?;
    discover(&mut dist)?;
    Ok(dist)
}

fn merge_fragment(
    dist: &mut Distribution,
    frag: ConfigFragment,
    file: &Path,
    text: &str,
    seen: &mut Vec<PathBuf>,
    depth: usize,
) -> Result<(), CompError> {
    if depth > 32 {
        return Err(CompError::IncludeLoop {
            file: file.to_path_buf(),
        });
    }
    dist.files.push(file.to_path_buf());
    if let Some(p) = frag.project {
        if depth > 0 && (p.name.is_some() || p.arch.is_some()) {
            return Err(CompError::Config {
                file: file.to_path_buf(),
                message:
                    "project.name and project.arch belong in cairn.toml, not in an included file"
                        .into(),
            });
        }
        let d = &mut dist.project;
        macro_rules! over {
            ($($f:ident),*) => { $( if p.$f.is_some() { d.$f = p.$f.clone(); } )* };
        }
        over!(
            name,
            arch,
            description,
            default_distro,
            rendered_specs_dir,
            lock_dir,
            log_dir,
            work_dir,
            output_dir,
            default_author_email
        );
    }
    for (name, d) in frag.distros {
        let e = dist.distros.entry(name.clone()).or_default();
        macro_rules! over {
            ($($f:ident),*) => { $( if d.$f.is_some() { e.$f = d.$f.clone(); } )* };
        }
        over!(
            description,
            default_version,
            dist_git_base_uri,
            lookaside_base_uri,
            repos,
            disable_origins
        );
        for (v, ver) in d.versions {
            if ver.default_component_config.is_some() {
                dist.defaults_files
                    .insert(format!("distro:{name}:{v}"), file.to_path_buf());
            }
            let ev = e.versions.entry(v).or_default();
            macro_rules! overv {
                ($($f:ident),*) => { $( if ver.$f.is_some() { ev.$f = ver.$f.clone(); } )* };
            }
            overv!(
                description,
                release_ver,
                dist_git_branch,
                default_component_config,
                mock_config,
                mock_config_x86_64,
                mock_config_aarch64
            );
        }
    }
    for (name, c) in frag.components {
        let line = line_of(text, c.span().start);
        if let Some(prev) = dist.components.get(&name) {
            return Err(CompError::Duplicate {
                what: "component",
                name,
                first: prev.file.clone(),
                second: file.to_path_buf(),
            });
        }
        dist.components.insert(
            name,
            Declared {
                config: c.into_inner(),
                file: file.to_path_buf(),
                line,
                implicit: false,
            },
        );
    }
    for (name, g) in frag.component_groups {
        if let Some((_, prev)) = dist.groups.get(&name) {
            return Err(CompError::Duplicate {
                what: "component group",
                name,
                first: prev.clone(),
                second: file.to_path_buf(),
            });
        }
        dist.groups.insert(name, (g, file.to_path_buf()));
    }
    if let Some(mut c) = frag.default_component_config {
        dist.defaults_files
            .insert("project".into(), file.to_path_buf());
        if let Some(pats) = c.overlay_files.take() {
            dist.project_overlay_patterns = Some((pats, file.to_path_buf()));
        }
        dist.default_component_config = Some(match dist.default_component_config.take() {
            Some(prev) => cairn_component::merge_component(&prev, &c),
            None => c,
        });
    }
    if frag.default_package_config.is_some() {
        dist.default_package_config = frag.default_package_config;
    }
    for (name, g) in frag.package_groups {
        if dist.package_groups.contains_key(&name) {
            return Err(CompError::Duplicate {
                what: "package group",
                name,
                first: PathBuf::from("an earlier file"),
                second: file.to_path_buf(),
            });
        }
        dist.package_groups.insert(name, g);
    }
    let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    for pattern in &frag.includes {
        for inc in expand_glob(&base, pattern, "included file", file)? {
            let canon = fs_err::canonicalize(&inc).unwrap_or(inc.clone());
            if seen.contains(&canon) {
                continue;
            }
            seen.push(canon);
            let text = fs_err::read_to_string(&inc).map_err(|e| CompError::Io {
                path: inc.clone(),
                source: e,
            })?;
            let frag = parse_fragment(&text, &inc.to_string_lossy()).map_err(CompError::from)?;
            merge_fragment(dist, frag, &inc, &text, seen, depth + 1)?;
        }
    }
    Ok(())
}

/// Components implied by group `specs` globs and project `{component}` overlay patterns.
fn discover(dist: &mut Distribution) -> Result<(), CompError> {
    let groups: Vec<_> = dist
        .groups
        .iter()
        .map(|(n, (g, f))| (n.clone(), g.clone(), f.clone()))
        .collect();
    for (gname, g, gfile) in groups {
        let base = gfile.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut excluded = globset::GlobSetBuilder::new();
        for e in &g.excluded_paths {
            excluded.add(
                globset::GlobBuilder::new(e)
                    .literal_separator(true)
                    .build()
                    .map_err(|err| CompError::BadPattern {
                        file: gfile.clone(),
                        pattern: e.clone(),
                        message: err.to_string(),
                    })?,
            );
        }
        let excluded = excluded.build().map_err(|err| CompError::BadPattern {
            file: gfile.clone(),
            pattern: g.excluded_paths.join(", "),
            message: err.to_string(),
        })?;
        for pattern in &g.specs {
            for spec in expand_glob(&base, pattern, "spec", &gfile)? {
                let rel = spec
                    .strip_prefix(&base)
                    .unwrap_or(&spec)
                    .to_string_lossy()
                    .into_owned();
                if excluded.is_match(&rel) {
                    continue;
                }
                let name = spec
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if dist.components.contains_key(&name) {
                    continue;
                }
                dist.components.insert(
                    name.clone(),
                    Declared {
                        config: ComponentConfig {
                            spec: Some(cairn_component::SpecSource {
                                kind: Some(cairn_component::SpecSourceKind::Local),
                                path: Some(rel),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        file: gfile.clone(),
                        line: 1,
                        implicit: true,
                    },
                );
                if let Some((grp, _)) = dist.groups.get_mut(&gname)
                    && !grp.components.contains(&name)
                {
                    grp.components.push(name);
                }
            }
        }
    }
    if let Some((patterns, file)) = dist.project_overlay_patterns.clone() {
        let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut found: BTreeMap<String, String> = BTreeMap::new();
        for p in &patterns {
            let (prefix, _) = p.split_once("{component}").unwrap_or((p, ""));
            let pattern = p.replace("{component}", "*");
            for path in expand_glob(&base, &pattern, "overlay file", &file)? {
                let rel = path
                    .strip_prefix(&base)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                let Some(after) = rel.strip_prefix(prefix) else {
                    continue;
                };
                let name = after.split('/').next().unwrap_or_default().to_owned();
                if !cairn_component::valid_component_name(&name) {
                    continue;
                }
                if let Some(prev) = found.get(&name)
                    && prev != p
                {
                    return Err(CompError::Config {
                        file: file.clone(),
                        message: format!(
                            "component `{name}` is discovered by two overlay-files patterns: `{prev}` and `{p}`"
                        ),
                    });
                }
                found.insert(name.clone(), p.clone());
                dist.components.entry(name).or_insert_with(|| Declared {
                    config: ComponentConfig::default(),
                    file: file.clone(),
                    line: 1,
                    implicit: true,
                });
            }
        }
    }
    for (gname, (g, gfile)) in &dist.groups {
        for m in &g.components {
            if !dist.components.contains_key(m) {
                return Err(CompError::Config {
                    file: gfile.clone(),
                    message: format!(
                        "component group `{gname}` lists `{m}`, which no file defines (add `[components.{m}]`)"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Load the overlay files a component's `overlay-files` patterns name, in order.
pub fn overlay_files(
    patterns: &[String],
    base: &Path,
    from: &Path,
) -> Result<Vec<LoadedOverlayFile>, CompError> {
    let mut out: Vec<LoadedOverlayFile> = Vec::new();
    for p in patterns {
        let mut matches = expand_glob(base, p, "overlay file", from)?;
        // File-name order within a pattern, full path breaking ties.
        matches.sort_by(|a, b| a.file_name().cmp(&b.file_name()).then(a.cmp(b)));
        for path in matches {
            if out.iter().any(|o| o.path == path) {
                continue;
            }
            let text = fs_err::read_to_string(&path).map_err(|e| CompError::Io {
                path: path.clone(),
                source: e,
            })?;
            let file =
                parse_overlay_file(&text, &path.to_string_lossy()).map_err(CompError::from)?;
            out.push(LoadedOverlayFile { path, file });
        }
    }
    Ok(out)
}
