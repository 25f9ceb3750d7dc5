//! Project-level operations: find and read `cairn.toml` (or take the built-in default),
//! load the sources it declares, resolve its images and write or check `cairn.lock`.
//!
//! This crate wires the format crates (config, lock, package) to the behaviour crates
//! (fetch, repo, apt, solve). It must not print: progress goes through [`Progress`], and
//! results come back as values for the binary to render.

use cairn_config::{Image, Project, Source};
use cairn_lock::{LockedImage, LockedPackage, LockedRepo, Lockfile, PackageDiff};
use cairn_package::RepoPackages;
use cairn_solve::{Request, Solution, SolveError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Progress of project operations; every method has a no-op default.
pub trait Progress: cairn_fetch::Reporter {
    /// A named step starts (`loading source fedora`, `resolving image base`).
    fn phase(&self, what: &str) {
        let _ = what;
    }
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;
impl cairn_fetch::Reporter for Quiet {}
impl Progress for Quiet {}

/// Errors of project operations. Each names the file, source, image or package at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    #[error("{0}")]
    Config(#[from] cairn_config::ConfigError),
    #[error("{0}")]
    Lock(#[from] cairn_lock::LockError),
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cache: {0}")]
    Cache(#[from] cairn_cache::CacheError),
    #[error("source `{source_name}`: {message}")]
    Source {
        source_name: String,
        message: String,
    },
    #[error("image `{image}`: {source}")]
    Solve { image: String, source: SolveError },
    /// A request that is not an image's (e.g. a component's BuildRequires) cannot be solved.
    #[error("{what}: {source}")]
    Request { what: String, source: SolveError },
    #[error("image `{image}` is not in {lock}; run `cairn lock`")]
    NotLocked { image: String, lock: String },
    #[error("fetching {package}: {message}")]
    Fetch { package: String, message: String },
    #[error("no image named `{name}`; the project defines: {known}")]
    UnknownImage { name: String, known: String },
}

/// Find the project: `explicit` if given, else `dir/cairn.toml`, else the built-in default.
pub fn find_project(dir: &Path, explicit: Option<&Path>) -> Result<Project, ProjectError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = dir.join(cairn_config::PROJECT_FILE);
            if !p.exists() {
                return Ok(cairn_config::builtin_project(dir.to_path_buf()));
            }
            p
        }
    };
    let text = fs_err::read_to_string(&path).map_err(|e| ProjectError::Read {
        path: path.clone(),
        source: e,
    })?;
    let base = path
        .parent()
        .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
    let base = if base.as_os_str().is_empty() {
        dir.to_path_buf()
    } else {
        base
    };
    Ok(cairn_config::parse_project(
        &text,
        &path.display().to_string(),
        base,
    )?)
}

/// The host's architecture in the flavour's spelling.
pub fn host_arch(deb: bool) -> String {
    let a = std::env::consts::ARCH;
    if !deb {
        return a.to_owned();
    }
    match a {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "i386",
        "powerpc64" => "ppc64el",
        other => other,
    }
    .to_owned()
}

/// Options for a [`Session`].
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub cache_dir: PathBuf,
    pub offline: bool,
}

/// One repository as loaded for solving.
#[derive(Debug)]
struct LoadedSource {
    kind: &'static str,
    repos: Vec<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    packages: RepoPackages,
    /// The solver's index of `packages`, built once when they are loaded.
    index: Option<cairn_solve::RepoIndex>,
    /// Kept for lazy filelists.
    rpm: Option<(cairn_repo::LoadedRepo, cairn_fetch::Fetcher)>,
    filelists: bool,
}

/// Operations on one project with one cache. Sources are loaded once per session.
#[derive(Debug)]
pub struct Session {
    pub project: Project,
    opts: SessionOptions,
    loaded: BTreeMap<String, LoadedSource>,
    /// Sources added with [`Session::add_source`] whose mirrors are all `file://`: read
    /// even offline (they are local output that may have changed since the last read).
    local: std::collections::BTreeSet<String>,
}

/// The result of resolving an image.
#[derive(Debug)]
pub struct Resolved {
    pub image: String,
    pub arch: String,
    pub locked: LockedImage,
    /// Repositories the packages came from, as the lock records them.
    pub repos: BTreeMap<String, LockedRepo>,
    /// Why each package is in, by NEVRA.
    pub reasons: BTreeMap<String, String>,
    /// Time spent loading metadata and solving, for `--timings` and benchmarks.
    pub timings: Timings,
}

/// Wall-clock time per phase of a resolution.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Timings {
    pub load_ms: u128,
    pub solve_ms: u128,
}

impl Session {
    pub fn new(project: Project, opts: SessionOptions) -> Self {
        Session {
            project,
            opts,
            loaded: BTreeMap::new(),
            local: std::collections::BTreeSet::new(),
        }
    }

    fn cache(&self) -> Result<cairn_cache::Cache, ProjectError> {
        Ok(cairn_cache::Cache::open(&self.opts.cache_dir)?)
    }

    fn resolve_path(&self, p: &str) -> PathBuf {
        let p = p.strip_prefix("file://").unwrap_or(p);
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.project.dir.join(path)
        }
    }

    /// The image's target architecture.
    pub fn arch_for(&self, image: &Image) -> String {
        self.project
            .arch
            .clone()
            .unwrap_or_else(|| host_arch(image.deb))
    }

    fn image(&self, name: &str) -> Result<&Image, ProjectError> {
        self.project
            .images
            .get(name)
            .ok_or_else(|| ProjectError::UnknownImage {
                name: name.to_owned(),
                known: self
                    .project
                    .images
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The apt source configurations a project source stands for: one for an `apt`
    /// source, one per enabled host source for `host-apt`. Repository ids are prefixed
    /// with the project source name.
    fn apt_configs(
        &self,
        name: &str,
        arch: &str,
    ) -> Result<Vec<cairn_apt::AptSourceConfig>, ProjectError> {
        let err = |m: String| ProjectError::Source {
            source_name: name.to_owned(),
            message: m,
        };
        match &self.project.sources[name] {
            Source::Apt(a) => Ok(vec![cairn_apt::AptSourceConfig {
                id: name.to_owned(),
                uris: a.uris.clone(),
                suites: a.suites.clone(),
                components: a.components.clone(),
                signed_by: a.signed_by.iter().map(|k| self.resolve_path(k)).collect(),
                arch: arch.to_owned(),
                priority: a.priority,
            }]),
            Source::HostApt { priority, .. } => {
                let mut configs = cairn_apt::host_sources(arch).map_err(|e| err(e.to_string()))?;
                if configs.is_empty() {
                    return Err(err("this machine has no enabled apt sources \
                         (/etc/apt/sources.list, /etc/apt/sources.list.d)"
                        .into()));
                }
                for cfg in &mut configs {
                    cfg.id = format!("{name}-{}", cfg.id);
                    cfg.priority = *priority;
                }
                Ok(configs)
            }
            Source::RpmMd(_) => Ok(vec![]),
        }
    }

    /// A fetcher for the rpm-md source `name` (with its own extra CA certificates).
    fn rpm_fetcher(
        &self,
        name: &str,
        r: &cairn_config::RpmMdSource,
    ) -> Result<cairn_fetch::Fetcher, String> {
        let cache = self.cache().map_err(|e| e.to_string())?;
        cairn_fetch::Fetcher::new(
            cache,
            cairn_fetch::FetchOptions {
                offline: self.opts.offline && !self.local.contains(name),
                extra_ca_certs: r.sslcacert.iter().map(|c| self.resolve_path(c)).collect(),
                ..cairn_fetch::FetchOptions::default()
            },
        )
        .map_err(|e| e.to_string())
    }

    fn load_source(
        &mut self,
        name: &str,
        arch: &str,
        progress: &dyn Progress,
    ) -> Result<(), ProjectError> {
        if self.loaded.contains_key(name) {
            return Ok(());
        }
        let Some(src) = self.project.sources.get(name).cloned() else {
            return Err(ProjectError::Source {
                source_name: name.to_owned(),
                message: format!(
                    "no such source; the project declares: {}",
                    self.project
                        .sources
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        };
        progress.phase(&format!("loading source {name}"));
        let err = |m: String| ProjectError::Source {
            source_name: name.to_owned(),
            message: m,
        };
        let excludes = globs(src.exclude()).map_err(|e| err(format!("exclude: {e}")))?;
        let loaded = match &src {
            Source::RpmMd(r) => {
                let base_urls = r
                    .baseurl
                    .iter()
                    .map(|u| url::Url::parse(u).map_err(|e| err(format!("baseurl `{u}`: {e}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                let cfg = cairn_repo::RpmMdRepoConfig {
                    id: name.to_owned(),
                    base_urls,
                    gpgcheck: r.gpgcheck,
                    repo_gpgcheck: r.repo_gpgcheck,
                    gpgkeys: r.gpgkey.iter().map(|k| self.resolve_path(k)).collect(),
                    priority: r.priority,
                    excludes: r.exclude.clone(),
                    arches: rpm_arches(arch),
                };
                let fetcher = self.rpm_fetcher(name, r).map_err(err)?;
                let mut repo = cairn_repo::load_repo(&fetcher, &cfg, progress)
                    .map_err(|e| err(e.to_string()))?;
                // the session owns the package list; the repo keeps only its metadata
                // (one copy of a 60,000-package universe, not two)
                let packages = take_repo_packages(&mut repo.packages);
                LoadedSource {
                    kind: "rpm-md",
                    repos: vec![Loaded {
                        packages,
                        index: None,
                        rpm: Some((repo, fetcher)),
                        filelists: false,
                    }],
                }
            }
            Source::Apt(_) | Source::HostApt { .. } => {
                let client = cairn_apt::AptClient::new(self.cache()?, self.opts.offline);
                let mut repos = Vec::new();
                for cfg in self.apt_configs(name, arch)? {
                    let packages = client
                        .update_and_load(&cfg, progress)
                        .map_err(|e| err(e.to_string()))?;
                    repos.push(Loaded {
                        packages,
                        index: None,
                        rpm: None,
                        filelists: true,
                    });
                }
                LoadedSource { kind: "apt", repos }
            }
        };
        let mut loaded = loaded;
        for l in &mut loaded.repos {
            if !excludes.is_empty() {
                l.packages.packages.retain(|p| !excludes.is_match(&p.name));
            }
        }
        index_all(&mut loaded.repos);
        self.loaded.insert(name.to_owned(), loaded);
        Ok(())
    }

    /// Resolve one image against its sources.
    pub fn resolve(
        &mut self,
        image_name: &str,
        progress: &dyn Progress,
    ) -> Result<Resolved, ProjectError> {
        let image = self.image(image_name)?.clone();
        let arch = self.arch_for(&image);
        let mut timings = Timings::default();
        let t0 = std::time::Instant::now();
        for s in &image.sources {
            self.load_source(s, &arch, progress)?;
        }
        timings.load_ms = t0.elapsed().as_millis();
        let mut req = Request::new(arch.clone());
        req.install = image.packages.clone();
        req.weak_deps = image.weak_deps;
        req.excludes = image.exclude.clone();
        req.installonly = image.installonly.clone();
        req.essential = image.essential;
        req.priority_required = image.priority_required;
        progress.phase(&format!("resolving image {image_name}"));
        let wrap = |e| ProjectError::Solve {
            image: image_name.to_owned(),
            source: e,
        };
        let (solution, repos) =
            self.solve_in(&image.sources, &mut req, &mut timings, &wrap, progress)?;
        let mut r = self.to_resolved(&image, arch, &solution, &repos);
        self.put_packages(&image.sources, repos);
        r.timings = timings;
        Ok(r)
    }

    /// Solve `req` against the loaded `sources` (loading filelists when a file dependency
    /// needs them). On success the packages stay moved out: hand them back with
    /// `put_packages` after reading the solution.
    fn solve_in(
        &mut self,
        sources: &[String],
        req: &mut Request,
        timings: &mut Timings,
        wrap: &dyn Fn(SolveError) -> ProjectError,
        progress: &dyn Progress,
    ) -> Result<(Solution, Vec<RepoPackages>), ProjectError> {
        loop {
            req.filelists_loaded = sources
                .iter()
                .all(|s| self.loaded[s].repos.iter().all(|l| l.filelists));
            // move the packages out for the solver (no copy of large universes), then back
            let owned = self.take_packages(sources);
            let t1 = std::time::Instant::now();
            let indexes: Option<Vec<&cairn_solve::RepoIndex>> = sources
                .iter()
                .flat_map(|s| self.loaded[s].repos.iter().map(|l| l.index.as_ref()))
                .collect();
            let res = match indexes {
                Some(ix) => cairn_solve::solve_indexed(&owned, &ix, req),
                None => cairn_solve::solve(&owned, req),
            };
            timings.solve_ms += t1.elapsed().as_millis();
            match res {
                Ok(sol) => return Ok((sol, owned)),
                Err(SolveError::NeedFilelists { .. }) if !req.filelists_loaded => {
                    self.put_packages(sources, owned);
                    progress.phase("loading filelists");
                    let t2 = std::time::Instant::now();
                    for s in sources {
                        let src = self.loaded.get_mut(s).expect("loaded above");
                        for l in &mut src.repos {
                            if let Some((repo, fetcher)) = &mut l.rpm {
                                // filelists attach to the packages: hand them back first
                                repo.packages.packages = std::mem::take(&mut l.packages.packages);
                                repo.load_filelists(fetcher, progress).map_err(|e| {
                                    ProjectError::Source {
                                        source_name: s.clone(),
                                        message: e.to_string(),
                                    }
                                })?;
                                l.packages = take_repo_packages(&mut repo.packages);
                            }
                            l.filelists = true;
                        }
                    }
                    timings.load_ms += t2.elapsed().as_millis();
                }
                Err(e) => {
                    self.put_packages(sources, owned);
                    return Err(wrap(e));
                }
            }
        }
    }

    /// Add (or replace) a source that is not in the project file, e.g. a repository of
    /// packages built locally. It is loaded when a resolution first needs it. An rpm-md
    /// source whose mirrors are all `file://` is read even offline: it is local output
    /// that may have changed since cairn last read it.
    pub fn add_source(&mut self, name: &str, source: Source) {
        let local = matches!(&source, Source::RpmMd(r)
            if r.baseurl.iter().all(|u| u.starts_with("file://")));
        if local {
            self.local.insert(name.to_owned());
        } else {
            self.local.remove(name);
        }
        self.project.sources.insert(name.to_owned(), source);
        self.loaded.remove(name);
    }

    /// Add (or replace) a source whose packages are given, not loaded from anywhere (an
    /// in-memory repository, e.g. what a build root already offers). Its packages cannot
    /// be fetched.
    pub fn add_virtual_source(&mut self, name: &str, packages: RepoPackages) {
        let mut repos = vec![Loaded {
            packages,
            index: None,
            rpm: None,
            filelists: true,
        }];
        index_all(&mut repos);
        self.loaded.insert(
            name.to_owned(),
            LoadedSource {
                kind: VIRTUAL,
                repos,
            },
        );
    }

    /// Forget the loaded metadata of a source, so the next resolution reads it again (its
    /// repository changed). Virtual sources are kept.
    pub fn reload_source(&mut self, name: &str) {
        if self.loaded.get(name).is_some_and(|l| l.kind != VIRTUAL) {
            self.loaded.remove(name);
        }
    }

    /// Resolve an arbitrary request against `sources` (project sources, sources added
    /// with [`Session::add_source`] or virtual ones), in that order. `what` names the
    /// request in errors (`BuildRequires of component \`curl\``). Returns the chosen
    /// packages, each with its repository and why it was chosen, sorted.
    pub fn resolve_request(
        &mut self,
        what: &str,
        sources: &[String],
        req: &Request,
        progress: &dyn Progress,
    ) -> Result<Vec<Picked>, ProjectError> {
        for s in sources {
            self.load_source(s, &req.arch, progress)?;
        }
        let mut req = req.clone();
        let mut timings = Timings::default();
        let wrap = |e| ProjectError::Request {
            what: what.to_owned(),
            source: e,
        };
        let (solution, repos) = self.solve_in(sources, &mut req, &mut timings, &wrap, progress)?;
        let owners = self.owners(sources);
        let mut out = Vec::new();
        for c in &solution.packages {
            let r = &repos[c.repo];
            out.push(picked(
                r,
                &r.packages[c.package],
                &owners,
                reason_text(&c.reason),
            ));
        }
        self.put_packages(sources, repos);
        out.sort_by(|a, b| a.package.cmp(&b.package));
        Ok(out)
    }

    /// Find one package by repository id, name, EVR and arch among `sources` (loaded for
    /// `arch` if needed); `None` when no such package is there any more.
    pub fn find_package(
        &mut self,
        sources: &[String],
        arch: &str,
        key: &PackageKey<'_>,
        progress: &dyn Progress,
    ) -> Result<Option<Picked>, ProjectError> {
        for s in sources {
            self.load_source(s, arch, progress)?;
        }
        let owners = self.owners(sources);
        for s in sources {
            for l in &self.loaded[s].repos {
                let r = &l.packages;
                if r.repo.0 != key.repo {
                    continue;
                }
                if let Some(p) = r.packages.iter().find(|p| {
                    p.name == key.name && p.arch == key.arch && p.version.to_string() == key.evr
                }) {
                    return Ok(Some(picked(r, p, &owners, "pinned".into())));
                }
            }
        }
        Ok(None)
    }

    /// Which source (and of which kind) each loaded repository of `sources` belongs to.
    fn owners(&self, sources: &[String]) -> BTreeMap<String, (String, String)> {
        let mut owner = BTreeMap::new();
        for s in sources {
            if let Some(l) = self.loaded.get(s) {
                for r in &l.repos {
                    owner.insert(r.packages.repo.0.clone(), (s.clone(), l.kind.to_owned()));
                }
            }
        }
        owner
    }

    fn take_packages(&mut self, sources: &[String]) -> Vec<RepoPackages> {
        let mut out = Vec::new();
        for s in sources {
            for l in &mut self.loaded.get_mut(s).expect("loaded").repos {
                out.push(take_repo_packages(&mut l.packages));
            }
        }
        out
    }

    fn put_packages(&mut self, sources: &[String], repos: Vec<RepoPackages>) {
        let mut it = repos.into_iter();
        for s in sources {
            for l in &mut self.loaded.get_mut(s).expect("loaded").repos {
                if let Some(p) = it.next() {
                    l.packages = p;
                }
            }
        }
    }

    fn to_resolved(
        &self,
        image: &Image,
        arch: String,
        solution: &Solution,
        repos: &[RepoPackages],
    ) -> Resolved {
        let mut locked_repos = BTreeMap::new();
        let mut packages = Vec::new();
        let mut reasons = BTreeMap::new();
        // which source each repo belongs to
        let mut owner: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
        for s in &image.sources {
            let l = &self.loaded[s];
            for r in &l.repos {
                owner.insert(r.packages.repo.0.as_str(), (s.as_str(), l.kind));
            }
        }
        for c in &solution.packages {
            let r = &repos[c.repo];
            let p = &r.packages[c.package];
            let (source, kind) = owner.get(r.repo.0.as_str()).copied().unwrap_or(("?", "?"));
            locked_repos
                .entry(r.repo.0.clone())
                .or_insert_with(|| LockedRepo {
                    source: source.to_owned(),
                    kind: kind.to_owned(),
                    urls: r.base_urls.clone(),
                    revision: r.revision.to_string(),
                });
            reasons.insert(p.nevra(), reason_text(&c.reason));
            packages.push(LockedPackage {
                name: p.name.clone(),
                evr: p.version.to_string(),
                arch: p.arch.clone(),
                repo: r.repo.0.clone(),
                location: p.location.clone(),
                checksum: p.checksum.to_string(),
                size: p.size,
            });
        }
        packages.sort();
        Resolved {
            image: image.name.clone(),
            locked: LockedImage {
                inputs: self.fingerprint(image, &arch),
                arch: arch.clone(),
                packages,
            },
            arch,
            repos: locked_repos,
            reasons,
            timings: Timings::default(),
        }
    }

    /// Fingerprint of everything the resolution of `image` depends on in the project file.
    pub fn fingerprint(&self, image: &Image, arch: &str) -> String {
        let sources: BTreeMap<&String, &Source> = image
            .sources
            .iter()
            .filter_map(|s| self.project.sources.get_key_value(s))
            .collect();
        // what `cairn build` does after installing never changes the package set
        let mut image_doc = serde_json::to_value(image).unwrap_or_default();
        if let Some(m) = image_doc.as_object_mut() {
            m.remove("build");
        }
        let doc = serde_json::json!({
            "lock-version": cairn_lock::LOCK_VERSION,
            "arch": arch,
            "image": image_doc,
            "sources": sources,
        });
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&doc).unwrap_or_default());
        format!("sha256:{}", hex::encode(h.finalize()))
    }

    /// Resolve `images` (all when empty) and merge them into `previous` (other images kept).
    pub fn lock(
        &mut self,
        images: &[String],
        previous: Option<Lockfile>,
        progress: &dyn Progress,
    ) -> Result<(Lockfile, Vec<Resolved>), ProjectError> {
        let names = self.image_names(images)?;
        let mut lock = previous.unwrap_or_default();
        lock.images
            .retain(|k, _| self.project.images.contains_key(k));
        let mut out = Vec::new();
        for n in &names {
            let r = self.resolve(n, progress)?;
            lock.images.insert(n.clone(), r.locked.clone());
            for (k, v) in &r.repos {
                lock.repos.insert(k.clone(), v.clone());
            }
            out.push(r);
        }
        lock.prune_repos();
        lock.normalize();
        Ok((lock, out))
    }

    /// Download every package `lock` pins for `images` (all when empty) into the cache,
    /// each verified against the checksum in the lock. Offline, everything must already
    /// be cached; the error names what is missing.
    pub fn fetch(
        &mut self,
        lock: &Lockfile,
        images: &[String],
        progress: &dyn Progress,
    ) -> Result<Vec<Fetched>, ProjectError> {
        let names = self.image_names(images)?;
        // (repo id, arch) -> packages, each once
        let mut groups: Groups<'_> = BTreeMap::new();
        for n in &names {
            let img = lock.images.get(n).ok_or_else(|| ProjectError::NotLocked {
                image: n.clone(),
                lock: "cairn.lock".into(),
            })?;
            for p in &img.packages {
                groups
                    .entry((p.repo.as_str(), img.arch.as_str()))
                    .or_default()
                    .insert(p);
            }
        }
        self.fetch_groups(groups, &lock.repos, progress)
    }

    /// Download packages a [`Session::resolve_request`] or [`Session::find_package`]
    /// picked (for `arch`) into the cache, each verified against its checksum. Packages of
    /// virtual sources cannot be fetched: an error names them.
    pub fn fetch_picked(
        &mut self,
        picked: &[Picked],
        arch: &str,
        progress: &dyn Progress,
    ) -> Result<Vec<Fetched>, ProjectError> {
        let mut repos = BTreeMap::new();
        let mut groups: Groups<'_> = BTreeMap::new();
        for p in picked {
            if p.repo.kind == VIRTUAL {
                return Err(ProjectError::Fetch {
                    package: format!("{} {} {}", p.package.name, p.package.evr, p.package.arch),
                    message: format!(
                        "it belongs to the virtual source `{}`, which has no files",
                        p.repo.source
                    ),
                });
            }
            repos.insert(p.package.repo.clone(), p.repo.clone());
            groups
                .entry((p.package.repo.as_str(), arch))
                .or_default()
                .insert(&p.package);
        }
        self.fetch_groups(groups, &repos, progress)
    }

    fn fetch_groups(
        &mut self,
        groups: Groups<'_>,
        repos: &BTreeMap<String, LockedRepo>,
        progress: &dyn Progress,
    ) -> Result<Vec<Fetched>, ProjectError> {
        let mut out = Vec::new();
        for ((repo_id, arch), pkgs) in groups {
            let repo = &repos[repo_id];
            let fetch_err = |p: &LockedPackage, m: String| ProjectError::Fetch {
                package: format!("{} {} {} from {repo_id}", p.name, p.evr, p.arch),
                message: m,
            };
            let Some(source) = self.project.sources.get(&repo.source).cloned() else {
                return Err(ProjectError::Source {
                    source_name: repo.source.clone(),
                    message: format!(
                        "the lock takes packages from it (repository `{repo_id}`) but the project no longer declares it; run `cairn lock`"
                    ),
                });
            };
            progress.phase(&format!("fetching {} packages from {repo_id}", pkgs.len()));
            match &source {
                Source::RpmMd(r) => {
                    let fetcher =
                        self.rpm_fetcher(&repo.source, r)
                            .map_err(|m| ProjectError::Source {
                                source_name: repo.source.clone(),
                                message: m,
                            })?;
                    let urls = repo
                        .urls
                        .iter()
                        .map(|u| url::Url::parse(u))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| ProjectError::Source {
                            source_name: repo.source.clone(),
                            message: format!("lock URL: {e}"),
                        })?;
                    for p in pkgs {
                        let sum = cairn_package::Checksum::parse(&p.checksum).ok_or_else(|| {
                            fetch_err(
                                p,
                                format!("the lock's checksum {:?} is not algo:hex", p.checksum),
                            )
                        })?;
                        let path = cairn_repo::fetch_package(
                            &fetcher,
                            &urls,
                            &p.location,
                            &sum,
                            p.size,
                            progress,
                        )
                        .map_err(|e| fetch_err(p, e.to_string()))?;
                        out.push(Fetched {
                            package: p.clone(),
                            path,
                        });
                    }
                }
                Source::Apt(_) | Source::HostApt { .. } => {
                    let cfg = self
                        .apt_configs(&repo.source, arch)?
                        .into_iter()
                        .find(|c| c.id == repo_id)
                        .ok_or_else(|| ProjectError::Source {
                            source_name: repo.source.clone(),
                            message: format!(
                                "it no longer has the repository `{repo_id}` the lock refers to; run `cairn lock`"
                            ),
                        })?;
                    let mut refs = Vec::new();
                    for p in &pkgs {
                        let checksum =
                            cairn_package::Checksum::parse(&p.checksum).ok_or_else(|| {
                                fetch_err(
                                    p,
                                    format!("the lock's checksum {:?} is not algo:hex", p.checksum),
                                )
                            })?;
                        refs.push(cairn_apt::DebRef {
                            name: p.name.clone(),
                            version: p.evr.clone(),
                            arch: p.arch.clone(),
                            checksum,
                        });
                    }
                    let client = cairn_apt::AptClient::new(self.cache()?, self.opts.offline);
                    let paths = client.fetch_debs(&cfg, &refs, progress).map_err(|e| {
                        ProjectError::Source {
                            source_name: repo.source.clone(),
                            message: e.to_string(),
                        }
                    })?;
                    for (p, path) in pkgs.into_iter().zip(paths) {
                        out.push(Fetched {
                            package: p.clone(),
                            path,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.package.cmp(&b.package));
        Ok(out)
    }

    fn image_names(&self, images: &[String]) -> Result<Vec<String>, ProjectError> {
        if images.is_empty() {
            return Ok(self.project.images.keys().cloned().collect());
        }
        for i in images {
            self.image(i)?;
        }
        Ok(images.to_vec())
    }

    /// Images of `images` (all when empty) whose entry in `lock` is missing or was
    /// resolved from a different definition (no network: fingerprints only). A build
    /// relocks these, or refuses with `--locked`.
    pub fn stale_definitions(
        &self,
        lock: Option<&Lockfile>,
        images: &[String],
    ) -> Result<Vec<String>, ProjectError> {
        let mut out = Vec::new();
        for n in self.image_names(images)? {
            let image = self.image(&n)?;
            let arch = self.arch_for(image);
            let current = lock
                .and_then(|l| l.images.get(&n))
                .is_some_and(|l| l.inputs == self.fingerprint(image, &arch));
            if !current {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Check that `lock` matches the project file and the repositories as they are now.
    /// Returns the problems found (empty: the lock is current).
    pub fn check(
        &mut self,
        lock: &Lockfile,
        images: &[String],
        progress: &dyn Progress,
    ) -> Result<Vec<String>, ProjectError> {
        let names = self.image_names(images)?;
        let mut problems = Vec::new();
        if images.is_empty() {
            for k in lock.images.keys() {
                if !self.project.images.contains_key(k) {
                    problems.push(format!(
                        "image `{k}` is in the lock but no longer in the project file"
                    ));
                }
            }
        }
        for n in &names {
            let Some(locked) = lock.images.get(n) else {
                problems.push(format!("image `{n}` is not locked; run `cairn lock`"));
                continue;
            };
            let image = self.image(n)?.clone();
            let arch = self.arch_for(&image);
            if locked.inputs != self.fingerprint(&image, &arch) {
                problems.push(format!(
                    "image `{n}`: its definition or its sources changed in {} since the lock was written; run `cairn lock`",
                    self.project.file
                ));
                continue;
            }
            let r = self.resolve(n, progress)?;
            let diff = PackageDiff::between(&locked.packages, &r.locked.packages);
            if !diff.is_empty() {
                let mut msg = format!(
                    "image `{n}`: the repositories now resolve to a different set; run `cairn lock`:"
                );
                for l in diff.lines() {
                    msg.push_str("\n    ");
                    msg.push_str(&l);
                }
                problems.push(msg);
            }
        }
        Ok(problems)
    }
}

/// Builds the solver's index of each repository, in parallel.
fn index_all(repos: &mut [Loaded]) {
    std::thread::scope(|scope| {
        let mut rest = repos.iter_mut();
        let first = rest.next();
        for l in rest {
            scope.spawn(move || l.index = Some(cairn_solve::RepoIndex::build(&l.packages)));
        }
        if let Some(l) = first {
            l.index = Some(cairn_solve::RepoIndex::build(&l.packages));
        }
    });
}

/// Move the packages out of `r`, leaving its identity (id, priority, revision, URLs).
fn take_repo_packages(r: &mut RepoPackages) -> RepoPackages {
    RepoPackages {
        repo: r.repo.clone(),
        priority: r.priority,
        revision: r.revision.clone(),
        base_urls: r.base_urls.clone(),
        packages: std::mem::take(&mut r.packages),
    }
}

/// The kind of sources added with [`Session::add_virtual_source`].
const VIRTUAL: &str = "virtual";

type Groups<'a> = BTreeMap<(&'a str, &'a str), std::collections::BTreeSet<&'a LockedPackage>>;

/// A package a request resolved to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Picked {
    /// The package as a lock would record it.
    pub package: LockedPackage,
    /// Its repository: source name, kind (`rpm-md`, `apt`, `virtual`), URLs, revision.
    pub repo: LockedRepo,
    /// Why it was chosen (`requested`, `required by …`, `pinned`).
    pub reason: String,
}

/// Which package [`Session::find_package`] looks for.
#[derive(Debug, Clone, Copy)]
pub struct PackageKey<'a> {
    /// Repository id (the source name for rpm-md sources).
    pub repo: &'a str,
    pub name: &'a str,
    pub evr: &'a str,
    pub arch: &'a str,
}

fn picked(
    r: &RepoPackages,
    p: &cairn_package::Package,
    owners: &BTreeMap<String, (String, String)>,
    reason: String,
) -> Picked {
    let (source, kind) = owners
        .get(&r.repo.0)
        .cloned()
        .unwrap_or_else(|| ("?".into(), "?".into()));
    Picked {
        package: LockedPackage {
            name: p.name.clone(),
            evr: p.version.to_string(),
            arch: p.arch.clone(),
            repo: r.repo.0.clone(),
            location: p.location.clone(),
            checksum: p.checksum.to_string(),
            size: p.size,
        },
        repo: LockedRepo {
            source,
            kind,
            urls: r.base_urls.clone(),
            revision: r.revision.to_string(),
        },
        reason,
    }
}

/// A package the lock pins, now in the cache.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fetched {
    #[serde(flatten)]
    pub package: LockedPackage,
    pub path: PathBuf,
}

fn reason_text(r: &cairn_solve::Reason) -> String {
    match r {
        cairn_solve::Reason::Requested => "requested".into(),
        cairn_solve::Reason::Dependency { of } => format!("required by {of}"),
        cairn_solve::Reason::Weak { of } => format!("recommended by {of}"),
        cairn_solve::Reason::Essential => "essential".into(),
        #[allow(unreachable_patterns)]
        _ => "dependency".into(),
    }
}

fn rpm_arches(arch: &str) -> Vec<String> {
    vec![arch.to_owned(), "noarch".to_owned()]
}

fn globs(pats: &[String]) -> Result<globset::GlobSet, globset::Error> {
    let mut b = globset::GlobSetBuilder::new();
    for p in pats {
        b.add(globset::Glob::new(p)?);
    }
    b.build()
}

/// Read a lock file if it exists.
pub fn read_lock(path: &Path) -> Result<Option<Lockfile>, ProjectError> {
    match fs_err::read_to_string(path) {
        Ok(t) => Ok(Some(Lockfile::parse(&t, &path.display().to_string())?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ProjectError::Read {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Write `bytes` to `path` atomically: temp file beside it, fsync, rename, fsync the dir.
/// A failure leaves the previous file untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ProjectError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let werr = |e: std::io::Error| ProjectError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".cairn-tmp-")
        .tempfile_in(dir)
        .map_err(werr)?;
    tmp.write_all(bytes).map_err(werr)?;
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(path).map_err(|e| werr(e.error))?;
    if let Ok(d) = fs_err::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
