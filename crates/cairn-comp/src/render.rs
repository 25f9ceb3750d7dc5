//! Rendering: the upstream (or local) spec tree, with the component's overlays applied,
//! filtered to what the spec references, written to `specs/<letter>/<name>/` through a
//! temp dir and a rename. Also the lock workflow (`update`, lock checks) and the staleness
//! check behind `render --check`.

use crate::lookaside::{SourceEntry, parse_sources_file, render_sources_file};
use crate::resolve::{PlacedOverlay, Resolved, SpecOrigin, resolve};
use crate::{CompError, DistGit, Distribution};
use cairn_component::{
    ComponentLock, FingerprintInput, LOCK_VERSION, OriginKind, OverlayInput, OverlayKind,
    UpstreamLock, fingerprint,
};
use cairn_package::ChecksumAlgo;
use cairn_spec::{Edit, MacroEnv, Spec};
use cairn_srctree::{FileEdit, Tree};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How the lock is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Re-resolve the upstream commit now (`cairn comp update`).
    Update,
    /// Use the lock when it matches the configuration; otherwise resolve and write it.
    UseOrCreate,
    /// Use the lock; a missing or stale lock is an error (`--locked`, `--check`).
    Locked,
}

#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Never touch the network: dist-git mirrors and lookaside files come from the cache.
    pub offline: bool,
}

/// Renders components of one distribution.
#[derive(Debug)]
pub struct Engine {
    pub dist: Distribution,
    git: DistGit,
    fetcher: cairn_fetch::Fetcher,
    opts: EngineOptions,
}

/// The spec tree a component starts from.
#[derive(Debug, Clone)]
struct Origin {
    tree: PathBuf,
    spec_file: String,
    identity: String,
    commit: Option<String>,
}

/// A rendered component, in a temp dir until committed.
#[derive(Debug)]
pub struct Rendered {
    pub name: String,
    pub resolved: Resolved,
    /// Where the rendered files are now.
    pub dir: tempfile::TempDir,
    pub spec_file: String,
    pub upstream_spec: String,
    pub rendered_spec: String,
    /// Relative paths of the rendered files, sorted.
    pub files: Vec<String>,
    pub fingerprint: String,
    pub commit: Option<String>,
    pub lock: ComponentLock,
    /// True when the lock on disk differs from `lock`.
    pub lock_changed: bool,
    pub sources: Vec<SourceEntry>,
}

/// Why a committed render is stale.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Staleness {
    /// Never rendered.
    Missing,
    /// Files differ.
    Differs {
        added: Vec<String>,
        removed: Vec<String>,
        changed: Vec<String>,
    },
    /// The lock's fingerprint does not match the inputs.
    Lock { why: String },
    /// A rendered directory with no component behind it.
    Orphan { path: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub component: String,
    pub stale: Vec<Staleness>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdateResult {
    pub component: String,
    pub commit: Option<String>,
    pub previous_commit: Option<String>,
    pub input_fingerprint: String,
    pub manual_bump: u32,
    pub changed: bool,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CompError + '_ {
    move |e| CompError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// All regular files under `dir`, relative, sorted (`.git` and cairn markers skipped).
pub fn list_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
        .filter_map(Result::ok)
    {
        if !e.file_type().is_file() {
            continue;
        }
        if let Ok(rel) = e.path().strip_prefix(dir) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel != ".cairn-complete" {
                out.push(rel);
            }
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), CompError> {
    for rel in list_files(from) {
        let src = from.join(&rel);
        let dst = to.join(&rel);
        if let Some(p) = dst.parent() {
            fs_err::create_dir_all(p).map_err(|e| io(p)(e))?;
        }
        fs_err::copy(&src, &dst).map_err(|e| io(&src)(e))?;
    }
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String, CompError> {
    let bytes = fs_err::read(path).map_err(|e| io(path)(e))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// `local:sha256:<hex>` over a directory's files (names and contents).
fn dir_identity(dir: &Path) -> Result<String, CompError> {
    let mut h = Sha256::new();
    for rel in list_files(dir) {
        let bytes = fs_err::read(dir.join(&rel)).map_err(|e| io(dir)(e))?;
        h.update(rel.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(format!("local:sha256:{}", hex::encode(h.finalize())))
}

/// The macro environment a component builds with.
pub fn macro_env(r: &Resolved) -> MacroEnv {
    let b = r.config.build.clone().unwrap_or_default();
    MacroEnv {
        defines: b.defines.clone(),
        undefines: b.undefines.clone(),
        with: b.with.clone(),
        without: b.without.clone(),
        arch: "x86_64".into(),
    }
}

impl Engine {
    pub fn new(
        dist: Distribution,
        cache: cairn_cache::Cache,
        opts: EngineOptions,
    ) -> Result<Engine, CompError> {
        let git = DistGit::new(cache.root(), opts.offline);
        let fetcher = cairn_fetch::Fetcher::new(
            cache,
            cairn_fetch::FetchOptions {
                offline: opts.offline,
                ..Default::default()
            },
        )?;
        Ok(Engine {
            dist,
            git,
            fetcher,
            opts,
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.dist.components.keys().cloned().collect()
    }

    pub fn resolve(&self, name: &str) -> Result<Resolved, CompError> {
        resolve(&self.dist, name)
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.dist.lock_dir().join(format!("{name}.lock"))
    }

    pub fn read_lock(&self, name: &str) -> Result<Option<ComponentLock>, CompError> {
        let p = self.lock_path(name);
        match fs_err::read_to_string(&p) {
            Ok(t) => Ok(Some(ComponentLock::parse(&t, &p.to_string_lossy())?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&p)(e)),
        }
    }

    /// Where the spec comes from, at which commit, honouring the lock mode.
    fn origin(
        &self,
        r: &Resolved,
        lock: Option<&ComponentLock>,
        mode: LockMode,
    ) -> Result<Origin, CompError> {
        match &r.spec {
            SpecOrigin::Local { spec } => {
                let dir = spec.parent().unwrap_or(Path::new(".")).to_path_buf();
                if !spec.is_file() {
                    return Err(CompError::Component {
                        component: r.name.clone(),
                        message: format!("local spec {} does not exist", spec.display()),
                    });
                }
                Ok(Origin {
                    identity: dir_identity(&dir)?,
                    spec_file: spec
                        .file_name()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    tree: dir,
                    commit: None,
                })
            }
            SpecOrigin::Upstream {
                url,
                branch,
                pinned,
                snapshot,
                name,
                ..
            } => {
                let want_branch = if pinned.is_some() {
                    None
                } else {
                    branch.clone()
                };
                let matches = lock.and_then(|l| l.upstream.as_ref()).filter(|u| {
                    u.url == *url
                        && u.branch == want_branch
                        && pinned
                            .as_ref()
                            .is_none_or(|p| u.commit.starts_with(p.as_str()))
                });
                let commit = match (mode, matches) {
                    (LockMode::Update, _) | (LockMode::UseOrCreate, None) => match pinned {
                        Some(p) => self.git.ensure_commit(url, p)?,
                        None => {
                            let b = branch.as_deref().ok_or_else(|| CompError::Component {
                                component: r.name.clone(),
                                message: format!(
                                    "upstream distro {} {} has no dist-git-branch; set it or pin `upstream-commit`",
                                    r.target.distro, r.target.version
                                ),
                            })?;
                            self.git.resolve_branch(url, b, snapshot.as_deref())?
                        }
                    },
                    (_, Some(u)) => u.commit.clone(),
                    (LockMode::Locked, None) => {
                        let path = self.lock_path(&r.name);
                        return Err(match lock.and_then(|l| l.upstream.as_ref()) {
                            None => CompError::NoLock {
                                component: r.name.clone(),
                                path,
                            },
                            Some(u) => CompError::StaleLock {
                                component: r.name.clone(),
                                path,
                                why: format!(
                                    "it records {} {} but the configuration asks for {} {}",
                                    u.url,
                                    u.branch.as_deref().unwrap_or("(pinned)"),
                                    url,
                                    pinned
                                        .as_deref()
                                        .map(|p| format!("commit {p}"))
                                        .or(want_branch.clone())
                                        .unwrap_or_default()
                                ),
                            },
                        });
                    }
                };
                let tree = self.git.tree(url, &commit)?;
                let preferred = format!("{name}.spec");
                let spec_file = if tree.join(&preferred).is_file() {
                    preferred
                } else {
                    let specs: Vec<String> = list_files(&tree)
                        .into_iter()
                        .filter(|f| f.ends_with(".spec") && !f.contains('/'))
                        .collect();
                    match specs.as_slice() {
                        [one] => one.clone(),
                        _ => {
                            return Err(CompError::Component {
                                component: r.name.clone(),
                                message: format!(
                                    "commit {commit} of {url} has no {preferred} (spec files there: {})",
                                    if specs.is_empty() {
                                        "none".into()
                                    } else {
                                        specs.join(", ")
                                    }
                                ),
                            });
                        }
                    }
                };
                Ok(Origin {
                    identity: format!("git:{commit}"),
                    tree,
                    spec_file,
                    commit: Some(commit),
                })
            }
        }
    }

    /// The fingerprint of a resolved component given its origin and bump counter.
    fn fingerprint(&self, r: &Resolved, identity: &str, bump: u32) -> Result<String, CompError> {
        let mut inputs = Vec::new();
        for o in &r.overlays {
            let source_sha256 = match (&o.overlay.source, o.overlay.kind) {
                (Some(s), Some(OverlayKind::FileAdd | OverlayKind::PatchAdd)) => {
                    let p = o.base_dir().join(s);
                    Some(sha256_file(&p).map_err(|_| CompError::Overlay {
                        component: r.name.clone(),
                        overlay: o.describe(),
                        message: format!("source file {} does not exist", p.display()),
                    })?)
                }
                _ => None,
            };
            inputs.push(OverlayInput {
                overlay: &o.overlay,
                source_sha256,
            });
        }
        Ok(fingerprint(&FingerprintInput {
            config: &r.config,
            overlays: inputs,
            source_identity: identity,
            distro: &r.target.distro,
            distro_version: &r.target.version,
            release_ver: &r.target.release_ver,
            manual_bump: bump,
        }))
    }

    /// Render one component into a temp dir beside the rendered-specs directory.
    pub fn render(&self, name: &str, mode: LockMode) -> Result<Rendered, CompError> {
        let r = self.resolve(name)?;
        let old_lock = self.read_lock(name)?;
        let origin = self.origin(&r, old_lock.as_ref(), mode)?;
        let bump = old_lock.as_ref().map_or(0, |l| l.manual_bump);
        let fp = self.fingerprint(&r, &origin.identity, bump)?;
        let lock = lock_for(&r, &origin, fp.clone(), bump, old_lock.as_ref());
        let lock_changed = old_lock.as_ref() != Some(&lock);

        let out_root = self.dist.rendered_dir();
        fs_err::create_dir_all(&out_root).map_err(|e| io(&out_root)(e))?;
        let work = tempfile::Builder::new()
            .prefix(&format!(".render-{}-{name}-", std::process::id()))
            .tempdir_in(&out_root)
            .map_err(io(&out_root))?;
        copy_tree(&origin.tree, work.path())?;
        let spec_path = work.path().join(&origin.spec_file);
        let upstream_spec = fs_err::read_to_string(&spec_path).map_err(|e| io(&spec_path)(e))?;
        let mut spec = Spec::parse(&upstream_spec);
        let env = macro_env(&r);

        // Lookaside entries, as upstream lists them.
        let sources_path = work.path().join("sources");
        let upstream_sources_text = fs_err::read_to_string(&sources_path).ok();
        let mut sources = match &upstream_sources_text {
            Some(t) => parse_sources_file(t, &format!("{name}: sources"))?,
            None => Vec::new(),
        };
        let mut sources_changed = false;
        let mut keep: BTreeSet<String> = BTreeSet::new();
        let tree = Tree::new(work.path(), vec![origin.spec_file.clone()]);

        for o in &r.overlays {
            self.apply_overlay(
                &r,
                o,
                &mut spec,
                &tree,
                work.path(),
                &mut sources,
                &mut sources_changed,
                &mut keep,
            )?;
        }

        // %check skipping.
        if let Some(check) = r.config.build.as_ref().and_then(|b| b.check.as_ref())
            && check.skip == Some(true)
            && spec.has_section("%check", None)
        {
            let reason = check.skip_reason.clone().unwrap_or_default();
            spec.apply(&Edit::PrependLines {
                section: Some("%check".into()),
                package: None,
                lines: vec![format!("# skipped by cairn: {reason}"), "exit 0".into()],
            })
            .map_err(|e| CompError::Component {
                component: name.to_owned(),
                message: format!("cannot skip %check: {e}"),
            })?;
        }

        // Extra source files from the configuration.
        for sf in &r.config.source_files {
            let origin_kind = sf.origin.as_ref().map_or(OriginKind::Download, |o| o.kind);
            let existing = sources.iter().position(|e| e.filename == sf.filename);
            if let Some(i) = existing {
                if sf.replace_upstream != Some(true) {
                    return Err(CompError::Component {
                        component: name.to_owned(),
                        message: format!(
                            "source-files entry `{}` collides with the upstream sources entry of the same name; set `replace-upstream = true` and `replace-reason` to replace it deliberately",
                            sf.filename
                        ),
                    });
                }
                sources.remove(i);
            } else if sf.replace_upstream == Some(true) {
                return Err(CompError::Component {
                    component: name.to_owned(),
                    message: format!(
                        "source-files entry `{}` has `replace-upstream = true`, but upstream's sources list no such file",
                        sf.filename
                    ),
                });
            }
            if origin_kind == OriginKind::Overlay {
                let produced = work.path().join(&sf.filename);
                let (Some(h), Some(t)) = (&sf.hash, sf.hash_type) else {
                    continue;
                };
                let got = match t {
                    cairn_component::HashType::Sha256 => sha256_file(&produced),
                    cairn_component::HashType::Sha512 => fs_err::read(&produced)
                        .map(|b| hex::encode(sha2::Sha512::digest(&b)))
                        .map_err(|e| io(&produced)(e)),
                }
                .map_err(|_| CompError::Component {
                    component: name.to_owned(),
                    message: format!(
                        "source-files entry `{}` is to be produced by an overlay, but no overlay created it",
                        sf.filename
                    ),
                })?;
                if !got.eq_ignore_ascii_case(h) {
                    return Err(CompError::HashMismatch {
                        component: name.to_owned(),
                        file: sf.filename.clone(),
                        detail: format!(
                            "{} mismatch: expected {}, got {} (from {})",
                            t.as_upper(),
                            h.clone(),
                            got,
                            "the component's overlays"
                        ),
                    });
                }
                keep.insert(sf.filename.clone());
            } else if let (Some(h), Some(t)) = (&sf.hash, sf.hash_type) {
                sources.push(SourceEntry {
                    filename: sf.filename.clone(),
                    hash_type: t.as_lower().into(),
                    hash: h.to_ascii_lowercase(),
                });
                sources_changed = true;
            }
            if existing.is_some() {
                sources_changed = true;
            }
        }

        let rendered_spec = spec.render();
        if rendered_spec != upstream_spec {
            crate::write_file(&spec_path, rendered_spec.as_bytes())?;
        }
        if sources_changed {
            crate::write_file(&sources_path, render_sources_file(&sources).as_bytes())?;
        }

        // Keep only what the spec references (plus `sources` and what overlays added).
        let skip_filter = r
            .config
            .render
            .as_ref()
            .and_then(|x| x.skip_file_filter)
            .unwrap_or(false);
        if !skip_filter {
            let mut referenced: BTreeSet<String> = keep;
            referenced.insert(origin.spec_file.clone());
            referenced.insert("sources".into());
            let mut unexpandable = false;
            for v in spec
                .sources()
                .into_iter()
                .map(|t| t.value)
                .chain(spec.patches().into_iter().map(|p| p.value))
            {
                let x = spec.expand(&env, &v);
                if x.contains('%') {
                    unexpandable = true;
                }
                let base = x.rsplit('/').next().unwrap_or(&x).trim().to_owned();
                referenced.insert(base);
            }
            if !unexpandable {
                for f in list_files(work.path()) {
                    if !referenced.contains(&f) {
                        let p = work.path().join(&f);
                        fs_err::remove_file(&p).map_err(|e| io(&p)(e))?;
                    }
                }
                remove_empty_dirs(work.path());
            }
        }
        let files = list_files(work.path());
        Ok(Rendered {
            name: name.to_owned(),
            resolved: r,
            dir: work,
            spec_file: origin.spec_file,
            upstream_spec,
            rendered_spec,
            files,
            fingerprint: fp,
            commit: origin.commit,
            lock,
            lock_changed,
            sources,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_overlay(
        &self,
        r: &Resolved,
        o: &PlacedOverlay,
        spec: &mut Spec,
        tree: &Tree,
        work: &Path,
        sources: &mut [SourceEntry],
        sources_changed: &mut bool,
        keep: &mut BTreeSet<String>,
    ) -> Result<(), CompError> {
        let ov = &o.overlay;
        // Messages name the component's files, not the temp dir they are edited in.
        let work_shown = format!("{}/", work.display());
        let fail = |message: String| CompError::Overlay {
            component: r.name.clone(),
            overlay: o.describe(),
            message: message
                .replace(&work_shown, "")
                .replace(&work.display().to_string(), "the component's sources"),
        };
        let s = |x: &Option<String>| x.clone().unwrap_or_default();
        let Some(kind) = ov.kind else {
            return Err(fail("no `type`".into()));
        };
        use OverlayKind as K;
        let spec_edit = match kind {
            K::SpecAddTag => Some(Edit::AddTag {
                package: ov.package.clone(),
                tag: s(&ov.tag),
                value: s(&ov.value),
            }),
            K::SpecInsertTag => Some(Edit::InsertTag {
                package: ov.package.clone(),
                tag: s(&ov.tag),
                value: s(&ov.value),
            }),
            K::SpecSetTag => Some(Edit::SetTag {
                package: ov.package.clone(),
                tag: s(&ov.tag),
                value: s(&ov.value),
            }),
            K::SpecUpdateTag => Some(Edit::UpdateTag {
                package: ov.package.clone(),
                tag: s(&ov.tag),
                value: s(&ov.value),
            }),
            K::SpecRemoveTag => Some(Edit::RemoveTag {
                package: ov.package.clone(),
                tag: s(&ov.tag),
                value: ov.value.clone(),
            }),
            K::SpecPrependLines => Some(Edit::PrependLines {
                section: ov.section.clone(),
                package: ov.package.clone(),
                lines: ov.lines.clone().unwrap_or_default(),
            }),
            K::SpecAppendLines => Some(Edit::AppendLines {
                section: ov.section.clone(),
                package: ov.package.clone(),
                lines: ov.lines.clone().unwrap_or_default(),
            }),
            K::SpecSearchReplace => Some(Edit::SearchReplace {
                section: ov.section.clone(),
                package: ov.package.clone(),
                regex: s(&ov.regex),
                replacement: s(&ov.replacement),
            }),
            K::SpecRemoveSection => Some(Edit::RemoveSection {
                section: s(&ov.section),
                package: ov.package.clone(),
            }),
            K::SpecRemoveSubpackage => Some(Edit::RemoveSubpackage {
                package: s(&ov.package),
            }),
            _ => None,
        };
        if let Some(edit) = spec_edit {
            spec.apply(&edit).map_err(|e| fail(e.to_string()))?;
            return Ok(());
        }
        match kind {
            K::PatchAdd => {
                let src = o.base_dir().join(s(&ov.source));
                let dest = ov.file.clone().unwrap_or_else(|| {
                    src.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
                let bytes = fs_err::read(&src)
                    .map_err(|_| fail(format!("patch {} does not exist", src.display())))?;
                let to = work.join(&dest);
                if to.exists() {
                    return Err(fail(format!(
                        "a file named `{dest}` is already beside the spec"
                    )));
                }
                crate::write_file(&to, &bytes)?;
                spec.apply(&Edit::AddPatch {
                    filename: dest.clone(),
                })
                .map_err(|e| fail(e.to_string()))?;
                keep.insert(dest);
            }
            K::PatchRemove => {
                let removed = match spec
                    .apply(&Edit::RemovePatches { glob: s(&ov.file) })
                    .map_err(|e| fail(e.to_string()))?
                {
                    cairn_spec::Applied::PatchesRemoved(v) => v,
                    _ => Vec::new(),
                };
                for f in removed {
                    let p = work.join(&f);
                    if p.is_file() {
                        fs_err::remove_file(&p).map_err(|e| io(&p)(e))?;
                    }
                }
            }
            K::FileAdd => {
                let src = o.base_dir().join(s(&ov.source));
                let bytes = fs_err::read(&src)
                    .map_err(|_| fail(format!("source file {} does not exist", src.display())))?;
                let file = s(&ov.file);
                tree.apply(&FileEdit::Add {
                    file: file.clone(),
                    contents: bytes,
                })
                .map_err(|e| fail(e.to_string()))?;
                keep.insert(file);
            }
            K::FileRemove => {
                tree.apply(&FileEdit::Remove { glob: s(&ov.file) })
                    .map_err(|e| fail(e.to_string()))?;
            }
            K::FileRename => {
                let file = s(&ov.file);
                let to = s(&ov.replacement);
                tree.apply(&FileEdit::Rename {
                    file: file.clone(),
                    to: to.clone(),
                })
                .map_err(|e| fail(e.to_string()))?;
                let dir = file
                    .rsplit_once('/')
                    .map(|(d, _)| format!("{d}/"))
                    .unwrap_or_default();
                keep.insert(format!("{dir}{to}"));
            }
            K::FilePrependLines | K::FileSearchReplace => {
                let edit = if kind == K::FilePrependLines {
                    FileEdit::PrependLines {
                        glob: s(&ov.file),
                        lines: ov.lines.clone().unwrap_or_default(),
                    }
                } else {
                    FileEdit::SearchReplace {
                        glob: s(&ov.file),
                        regex: s(&ov.regex),
                        replacement: s(&ov.replacement),
                    }
                };
                match &ov.archive {
                    None => {
                        tree.apply(&edit).map_err(|e| fail(e.to_string()))?;
                    }
                    Some(archive) => {
                        let idx = sources.iter().position(|e| e.filename == *archive).ok_or_else(|| {
                            fail(format!(
                                "`{archive}` is not in the component's sources file (lookaside files: {})",
                                sources.iter().map(|e| e.filename.as_str()).collect::<Vec<_>>().join(", ")
                            ))
                        })?;
                        let src = self.lookaside_file(r, &sources[idx])?;
                        let tmp = tempfile::Builder::new()
                            .prefix(".archive-")
                            .tempdir_in(work)
                            .map_err(io(work))?;
                        let path = tmp.path().join(archive);
                        fs_err::copy(&src, &path).map_err(|e| io(&src)(e))?;
                        cairn_srctree::edit_archive(&path, std::slice::from_ref(&edit)).map_err(
                            |e| fail(e.to_string().replace(&path.display().to_string(), archive)),
                        )?;
                        let bytes = fs_err::read(&path).map_err(|e| io(&path)(e))?;
                        let algo = ChecksumAlgo::parse(&sources[idx].hash_type)
                            .unwrap_or(ChecksumAlgo::Sha512);
                        let algo = if matches!(algo, ChecksumAlgo::Md5 | ChecksumAlgo::Sha1) {
                            ChecksumAlgo::Sha512
                        } else {
                            algo
                        };
                        let (sum, _) = self
                            .fetcher
                            .cache()
                            .insert(
                                bytes.as_slice(),
                                Some(&cairn_cache::hash_bytes(algo, &bytes)),
                                &format!("overlay:{}:{archive}", r.name),
                            )
                            .map_err(|e| fail(e.to_string()))?;
                        sources[idx].hash_type = sum.algo.as_str().to_owned();
                        sources[idx].hash = sum.hex.clone();
                        *sources_changed = true;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A lookaside file, from the cache or the distro's lookaside URL, hash verified.
    pub fn lookaside_file(&self, r: &Resolved, e: &SourceEntry) -> Result<PathBuf, CompError> {
        let sum = e.checksum().ok_or_else(|| CompError::Component {
            component: r.name.clone(),
            message: format!(
                "sources: unsupported hash type `{}` for {}",
                e.hash_type, e.filename
            ),
        })?;
        if let Some(p) =
            self.fetcher
                .cache()
                .get(&sum, true)
                .map_err(|err| CompError::Component {
                    component: r.name.clone(),
                    message: err.to_string(),
                })?
        {
            return Ok(p);
        }
        let (template, pkg) = match &r.spec {
            SpecOrigin::Upstream {
                lookaside: Some(t),
                name,
                ..
            } => (t.clone(), name.clone()),
            _ => {
                return Err(CompError::Component {
                    component: r.name.clone(),
                    message: format!(
                        "{} is not cached and the component has no lookaside cache to fetch it from",
                        e.filename
                    ),
                });
            }
        };
        let url = cairn_component::expand_template(
            &template,
            &[
                ("pkg", &pkg),
                ("filename", &e.filename),
                ("hashtype", &e.hash_type),
                ("hash", &e.hash),
            ],
        );
        let parsed = cairn_fetch::parse_location(&url)?;
        match self
            .fetcher
            .fetch(&[parsed], "", &sum, &cairn_fetch::NoReporter)
        {
            Ok(p) => Ok(p),
            Err(cairn_fetch::FetchError::ChecksumMismatch { actual, .. }) => {
                Err(CompError::HashMismatch {
                    component: r.name.clone(),
                    file: e.filename.clone(),
                    detail: format!(
                        "{} mismatch: expected {}, got {} (from {})",
                        e.hash_type.to_ascii_uppercase(),
                        e.hash.clone(),
                        actual.hex,
                        url
                    ),
                })
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Fetch everything a component's build needs (dist-git tree, lookaside files, extra
    /// source files) and, with `out`, put the rendered tree plus every source file there.
    pub fn fetch_sources(
        &self,
        name: &str,
        mode: LockMode,
        out: Option<&Path>,
    ) -> Result<Vec<String>, CompError> {
        let rendered = self.render(name, mode)?;
        let r = &rendered.resolved;
        let mut files = Vec::new();
        for e in &rendered.sources {
            let from_config = r
                .config
                .source_files
                .iter()
                .find(|s| s.filename == e.filename);
            let path = match from_config.and_then(|s| s.origin.as_ref()) {
                Some(o) if o.kind == OriginKind::Download => {
                    let sum = e.checksum().ok_or_else(|| CompError::Component {
                        component: name.into(),
                        message: format!("unsupported hash for {}", e.filename),
                    })?;
                    let url = cairn_fetch::parse_location(o.uri.as_deref().unwrap_or_default())?;
                    match self.fetcher.fetch(
                        std::slice::from_ref(&url),
                        "",
                        &sum,
                        &cairn_fetch::NoReporter,
                    ) {
                        Ok(p) => p,
                        Err(cairn_fetch::FetchError::ChecksumMismatch { actual, .. }) => {
                            return Err(CompError::HashMismatch {
                                component: name.into(),
                                file: e.filename.clone(),
                                detail: format!(
                                    "{} mismatch: expected {}, got {} (from {})",
                                    e.hash_type.to_ascii_uppercase(),
                                    e.hash,
                                    actual.hex,
                                    url
                                ),
                            });
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
                _ => self.lookaside_file(r, e)?,
            };
            if let Some(out) = out {
                let dst = out.join(&e.filename);
                fs_err::create_dir_all(out).map_err(|e| io(out)(e))?;
                fs_err::copy(&path, &dst).map_err(|e| io(&path)(e))?;
            }
            files.push(e.filename.clone());
        }
        if let Some(out) = out {
            copy_tree(rendered.dir.path(), out)?;
        }
        if rendered.lock_changed && mode != LockMode::Locked {
            self.write_lock(name, &rendered.lock)?;
        }
        Ok(files)
    }

    fn write_lock(&self, name: &str, lock: &ComponentLock) -> Result<(), CompError> {
        let p = self.lock_path(name);
        if let Some(d) = p.parent() {
            fs_err::create_dir_all(d).map_err(|e| io(d)(e))?;
        }
        cairn_project::write_atomic(&p, lock.render(name).as_bytes()).map_err(|e| CompError::Io {
            path: p.clone(),
            source: std::io::Error::other(e.to_string()),
        })
    }

    /// Record (or, with `None`, drop) the build-root pins in a component's lock, keeping
    /// everything else. The lock must exist (render or update the component first).
    /// Returns whether the file changed.
    pub fn set_build_root(
        &self,
        name: &str,
        build_root: Option<cairn_component::BuildRootLock>,
    ) -> Result<bool, CompError> {
        let Some(mut lock) = self.read_lock(name)? else {
            return Err(CompError::NoLock {
                component: name.to_owned(),
                path: self.lock_path(name),
            });
        };
        if lock.build_root == build_root {
            return Ok(false);
        }
        lock.build_root = build_root;
        lock.version = lock.format_version();
        self.write_lock(name, &lock)?;
        Ok(true)
    }

    /// The committed output directory of a component.
    pub fn output_dir(&self, name: &str) -> PathBuf {
        self.dist
            .rendered_dir()
            .join(cairn_component::rendered_subdir(name))
    }

    /// Move a render into place (replacing the previous one) and write its lock.
    pub fn commit(&self, rendered: Rendered) -> Result<bool, CompError> {
        let dest = self.output_dir(&rendered.name);
        let changed = compare_dirs(rendered.dir.path(), &dest).is_some();
        if changed {
            let parent = dest.parent().unwrap_or(Path::new("."));
            fs_err::create_dir_all(parent).map_err(|e| io(parent)(e))?;
            let fresh = rendered.dir.keep();
            let old = parent.join(format!(".{}.old-{}", rendered.name, std::process::id()));
            if dest.exists() {
                fs_err::rename(&dest, &old).map_err(|e| io(&dest)(e))?;
            }
            if let Err(e) = fs_err::rename(&fresh, &dest) {
                // Put the previous render back.
                let _ = fs_err::rename(&old, &dest);
                let _ = fs_err::remove_dir_all(&fresh);
                return Err(io(&dest)(e));
            }
            if old.exists() {
                fs_err::remove_dir_all(&old).map_err(|e| io(&old)(e))?;
            }
            if let Ok(d) = fs_err::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        if rendered.lock_changed {
            self.write_lock(&rendered.name, &rendered.lock)?;
        }
        Ok(changed)
    }

    /// Is the committed render of `name` (and its lock) current?
    pub fn check(&self, name: &str) -> Result<CheckResult, CompError> {
        let rendered = match self.render(name, LockMode::Locked) {
            Ok(r) => r,
            Err(e @ (CompError::NoLock { .. } | CompError::StaleLock { .. })) => {
                let mut stale = vec![Staleness::Lock { why: e.to_string() }];
                if !self.output_dir(name).is_dir() {
                    stale.insert(0, Staleness::Missing);
                }
                return Ok(CheckResult {
                    component: name.to_owned(),
                    stale,
                });
            }
            Err(e) => return Err(e),
        };
        let mut stale = Vec::new();
        if let Some(s) = compare_dirs(rendered.dir.path(), &self.output_dir(name)) {
            stale.push(s);
        }
        if rendered.lock_changed {
            stale.push(Staleness::Lock {
                why: format!(
                    "the inputs' fingerprint is now {}; run `cairn comp update {name}`",
                    rendered.fingerprint
                ),
            });
        }
        Ok(CheckResult {
            component: name.to_owned(),
            stale,
        })
    }

    /// Remove what killed renders left in the rendered-specs directory (`.render-PID-…`
    /// and `.NAME.old-PID` of processes that no longer run). Returns what was removed.
    pub fn clean_interrupted(&self) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        let mut dirs = vec![self.dist.rendered_dir()];
        if let Ok(rd) = fs_err::read_dir(&dirs[0]) {
            dirs.extend(
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_dir()),
            );
        }
        for d in dirs {
            let Ok(rd) = fs_err::read_dir(&d) else {
                continue;
            };
            for e in rd.filter_map(Result::ok) {
                let n = e.file_name().to_string_lossy().into_owned();
                let pid = if let Some(rest) = n.strip_prefix(".render-") {
                    rest.split('-').next().and_then(|p| p.parse::<u32>().ok())
                } else if n.starts_with('.') && n.contains(".old-") {
                    n.rsplit(".old-").next().and_then(|p| p.parse::<u32>().ok())
                } else {
                    None
                };
                let Some(pid) = pid else { continue };
                if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                    let p = e.path();
                    if fs_err::remove_dir_all(&p).is_ok() {
                        removed.push(p);
                    }
                }
            }
        }
        removed
    }

    /// Rendered directories that no component owns (for `--all` checks and cleanup).
    pub fn orphans(&self) -> Vec<PathBuf> {
        let root = self.dist.rendered_dir();
        let mut out = Vec::new();
        let Ok(letters) = fs_err::read_dir(&root) else {
            return out;
        };
        for l in letters.filter_map(Result::ok) {
            if !l.path().is_dir() || l.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(names) = fs_err::read_dir(l.path()) else {
                continue;
            };
            for n in names.filter_map(Result::ok) {
                let name = n.file_name().to_string_lossy().into_owned();
                if n.path().is_dir()
                    && !name.starts_with('.')
                    && !self.dist.components.contains_key(&name)
                {
                    out.push(n.path());
                }
            }
        }
        out.sort();
        out
    }

    /// Re-resolve the upstream commit (or bump) and write the lock.
    pub fn update(&self, name: &str, bump: bool) -> Result<UpdateResult, CompError> {
        let r = self.resolve(name)?;
        let old = self.read_lock(name)?;
        let origin = self.origin(&r, old.as_ref(), LockMode::Update)?;
        let manual_bump = old.as_ref().map_or(0, |l| l.manual_bump) + u32::from(bump);
        let fp = self.fingerprint(&r, &origin.identity, manual_bump)?;
        let lock = lock_for(&r, &origin, fp.clone(), manual_bump, old.as_ref());
        let changed = old.as_ref() != Some(&lock);
        if changed {
            self.write_lock(name, &lock)?;
        }
        Ok(UpdateResult {
            component: name.to_owned(),
            previous_commit: old.and_then(|l| l.upstream.map(|u| u.commit)),
            commit: origin.commit,
            input_fingerprint: fp,
            manual_bump,
            changed,
        })
    }

    /// Remove lock files of components that no longer exist.
    pub fn prune_locks(&self) -> Result<Vec<String>, CompError> {
        let dir = self.dist.lock_dir();
        let mut removed = Vec::new();
        let Ok(rd) = fs_err::read_dir(&dir) else {
            return Ok(removed);
        };
        for e in rd.filter_map(Result::ok) {
            let f = e.file_name().to_string_lossy().into_owned();
            if let Some(n) = f.strip_suffix(".lock")
                && !self.dist.components.contains_key(n)
            {
                fs_err::remove_file(e.path()).map_err(|err| io(&e.path())(err))?;
                removed.push(n.to_owned());
            }
        }
        removed.sort();
        Ok(removed)
    }

    /// The upstream spec tree of a component (for diffs), at its locked commit.
    pub fn upstream_tree(&self, name: &str) -> Result<Option<(PathBuf, String)>, CompError> {
        let r = self.resolve(name)?;
        if matches!(r.spec, SpecOrigin::Local { .. }) {
            return Ok(None);
        }
        let lock = self.read_lock(name)?;
        let o = self.origin(&r, lock.as_ref(), LockMode::UseOrCreate)?;
        Ok(Some((o.tree, o.spec_file)))
    }

    pub fn offline(&self) -> bool {
        self.opts.offline
    }
}

/// The lock recording `origin` and the fingerprint. The build-root pins of the previous
/// lock are kept as they are: they belong to `cairn comp build`, which checks them against
/// the spec's BuildRequires itself.
fn lock_for(
    r: &Resolved,
    origin: &Origin,
    fingerprint: String,
    manual_bump: u32,
    previous: Option<&ComponentLock>,
) -> ComponentLock {
    let upstream = match (&r.spec, &origin.commit) {
        (
            SpecOrigin::Upstream {
                url,
                branch,
                pinned,
                ..
            },
            Some(c),
        ) => Some(UpstreamLock {
            url: url.clone(),
            // A pinned commit follows no branch.
            branch: if pinned.is_some() {
                None
            } else {
                branch.clone()
            },
            commit: c.clone(),
        }),
        _ => None,
    };
    let mut lock = ComponentLock {
        version: LOCK_VERSION,
        upstream,
        local_content: origin
            .identity
            .starts_with("local:")
            .then(|| origin.identity.clone()),
        input_fingerprint: fingerprint,
        manual_bump,
        build_root: previous.and_then(|p| p.build_root.clone()),
    };
    lock.version = lock.format_version();
    lock
}

fn remove_empty_dirs(root: &Path) {
    let mut dirs: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .map(|e| e.path().to_path_buf())
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        let _ = fs_err::remove_dir(&d);
    }
}

/// Compare a fresh render with the committed one; `None` when identical.
fn compare_dirs(fresh: &Path, committed: &Path) -> Option<Staleness> {
    if !committed.is_dir() {
        return Some(Staleness::Missing);
    }
    let a: BTreeMap<String, ()> = list_files(fresh).into_iter().map(|f| (f, ())).collect();
    let b: BTreeMap<String, ()> = list_files(committed).into_iter().map(|f| (f, ())).collect();
    let added: Vec<String> = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    let removed: Vec<String> = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    let changed: Vec<String> = a
        .keys()
        .filter(|k| b.contains_key(*k))
        .filter(|k| fs_err::read(fresh.join(k)).ok() != fs_err::read(committed.join(k)).ok())
        .cloned()
        .collect();
    if added.is_empty() && removed.is_empty() && changed.is_empty() {
        None
    } else {
        Some(Staleness::Differs {
            added,
            removed,
            changed,
        })
    }
}
