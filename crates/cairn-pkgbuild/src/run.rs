//! Preparing components (sources, spec queries, graph) and running their builds in
//! dependency order on a pool of threads.

use crate::base::{BUILD_ROOT_PACKAGE, Base, BaseMatcher};
use crate::graph::{Graph, Node, capability_names};
use crate::record::{FileKind, KeyOptions, ProducedFile, RECORD_FORMAT, ResultRecord, cache_key};
use crate::repo::{LOCAL_REPO, LocalRepo};
use crate::{Options, Outcome, PkgBuildError, Reporter, Settings, Status, Summary};
use cairn_comp::{Engine, LockMode};
use cairn_component::{BuildRootLock, PinnedPackage};
use cairn_project::{PackageKey, Picked, Session};
use cairn_rpmbuild::{BuildOptions, Isolation, SpecInfo};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// One component, ready to build.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub name: String,
    /// The rendered spec and every source file.
    pub srcdir: PathBuf,
    /// The spec's file name in `srcdir`.
    pub spec: String,
    /// The input fingerprint from its lock.
    pub fingerprint: String,
    /// The lock's build-root pins, as they were before this run.
    pub pins: Option<BuildRootLock>,
    pub info: SpecInfo,
    pub options: BuildOptions,
}

/// Components and their build order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub components: Vec<Prepared>,
    pub graph: Graph,
    /// Indexes into `components`, wave by wave.
    pub waves: Vec<Vec<usize>>,
}

impl Plan {
    /// Component names, wave by wave.
    pub fn wave_names(&self) -> Vec<Vec<String>> {
        self.waves
            .iter()
            .map(|w| w.iter().map(|&i| self.components[i].name.clone()).collect())
            .collect()
    }

    /// Why component `i` waits for others: `(other, capability)`.
    pub fn waits_for(&self, i: usize) -> Vec<(String, String)> {
        self.graph.deps[i]
            .iter()
            .map(|&j| {
                (
                    self.components[j].name.clone(),
                    self.graph.because(i, j).unwrap_or("?").to_owned(),
                )
            })
            .collect()
    }
}

/// `f` over `items` on `jobs` threads; results in the order of `items`.
fn par_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

/// The rpmbuild defines of a component's configuration: `build.defines`, and bconds as
/// `_with_x` / `_without_x`. `build.undefines` cannot be passed to rpmbuild: an error.
fn component_defines(r: &cairn_comp::Resolved) -> Result<Vec<(String, String)>, PkgBuildError> {
    let Some(b) = &r.config.build else {
        return Ok(vec![]);
    };
    if !b.undefines.is_empty() {
        return Err(PkgBuildError::Component {
            component: r.name.clone(),
            message: format!(
                "build.undefines ({}) cannot be applied by `cairn comp build` (rpmbuild takes no --undefine from it); drop them or replace them by an overlay",
                b.undefines.join(", ")
            ),
        });
    }
    let mut out: Vec<(String, String)> = b
        .defines
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for w in &b.with {
        out.push((format!("_with_{w}"), format!("--with-{w}")));
    }
    for w in &b.without {
        out.push((format!("_without_{w}"), format!("--without-{w}")));
    }
    Ok(out)
}

fn build_options(settings: &Settings, defines: Vec<(String, String)>) -> BuildOptions {
    BuildOptions {
        dist: settings.dist.clone(),
        vendor: settings.vendor.clone(),
        distribution: settings.distribution.clone(),
        packager: settings.packager.clone(),
        buildhost: "cairn-build".into(),
        jobs: settings.smp_jobs,
        defines,
        source_date_epoch: None,
        timeout: settings.timeout,
        work_dir: Some(settings.out_dir.join(".work")),
    }
}

/// The spec file in a component's source tree: `<name>.spec`, else the only `*.spec`.
fn find_spec(name: &str, srcdir: &Path) -> Result<String, PkgBuildError> {
    let preferred = format!("{name}.spec");
    if srcdir.join(&preferred).is_file() {
        return Ok(preferred);
    }
    let mut specs: Vec<String> = fs_err::read_dir(srcdir)
        .map_err(|e| PkgBuildError::Io {
            path: srcdir.to_owned(),
            source: e,
        })?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".spec"))
        .collect();
    specs.sort();
    match specs.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(PkgBuildError::Component {
            component: name.to_owned(),
            message: format!(
                "its rendered tree {} has no {preferred} and {} other spec files",
                srcdir.display(),
                specs.len()
            ),
        }),
    }
}

fn prepare_one(
    engine: &Engine,
    base: &Base,
    settings: &Settings,
    name: &str,
    locked: bool,
) -> Result<Prepared, PkgBuildError> {
    let comp_err = |e| PkgBuildError::Comp {
        component: name.to_owned(),
        source: Box::new(e),
    };
    let resolved = engine.resolve(name).map_err(comp_err)?;
    let defines = component_defines(&resolved)?;
    let mode = if locked {
        let r = engine.render(name, LockMode::Locked).map_err(comp_err)?;
        if r.lock_changed {
            return Err(PkgBuildError::Locked {
                component: name.to_owned(),
                message: format!(
                    "its lock is stale (the inputs' fingerprint is now {}); run `cairn comp update {name}` or build without --locked",
                    r.fingerprint
                ),
            });
        }
        LockMode::Locked
    } else {
        LockMode::UseOrCreate
    };
    let srcdir = settings.out_dir.join(".sources").join(name);
    if srcdir.exists() {
        fs_err::remove_dir_all(&srcdir).map_err(|e| PkgBuildError::Io {
            path: srcdir.clone(),
            source: e,
        })?;
    }
    fs_err::create_dir_all(&srcdir).map_err(|e| PkgBuildError::Io {
        path: srcdir.clone(),
        source: e,
    })?;
    engine
        .fetch_sources(name, mode, Some(&srcdir))
        .map_err(comp_err)?;
    let lock =
        engine
            .read_lock(name)
            .map_err(comp_err)?
            .ok_or_else(|| PkgBuildError::Component {
                component: name.to_owned(),
                message: "it has no lock after fetching its sources".into(),
            })?;
    let spec = find_spec(name, &srcdir)?;
    let options = build_options(settings, defines);
    if let Some(w) = &options.work_dir {
        fs_err::create_dir_all(w).map_err(|e| PkgBuildError::Io {
            path: w.clone(),
            source: e,
        })?;
    }
    let info = cairn_rpmbuild::query_spec(&base.layout, &srcdir, &spec, &options).map_err(|e| {
        PkgBuildError::Rpmbuild {
            component: name.to_owned(),
            source: Box::new(e),
        }
    })?;
    Ok(Prepared {
        name: name.to_owned(),
        srcdir,
        spec,
        fingerprint: lock.input_fingerprint,
        pins: lock.build_root,
        info,
        options,
    })
}

/// Fetch and query every component in `names` (in parallel) and order them. A dependency
/// cycle is an error naming it.
pub fn prepare(
    engine: &Engine,
    base: &Base,
    settings: &Settings,
    names: &[String],
    opts: &Options,
    reporter: &dyn Reporter,
) -> Result<Plan, PkgBuildError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let done = AtomicUsize::new(0);
    // fetching sources and querying specs is light: use every CPU, not just `jobs`
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = par_map(names, opts.jobs.max(cpus), |n| {
        let r = prepare_one(engine, base, settings, n, opts.locked);
        let k = done.fetch_add(1, Ordering::Relaxed) + 1;
        reporter.prepared(n, k, names.len());
        r
    });
    let components = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let nodes = components
        .iter()
        .map(|c| {
            let mut offers: BTreeSet<String> = c.info.packages.iter().cloned().collect();
            for p in &c.info.provides {
                if let Some(first) = p.split_whitespace().next() {
                    offers.insert(first.to_owned());
                }
            }
            let needs: BTreeSet<String> = c
                .info
                .build_requires
                .iter()
                .flat_map(|d| capability_names(d))
                .collect();
            Node {
                name: c.name.clone(),
                needs: needs.into_iter().collect(),
                offers: offers.into_iter().collect(),
            }
        })
        .collect();
    let graph = Graph::new(nodes);
    if let Some(c) = graph.find_cycle() {
        return Err(PkgBuildError::Cycle {
            cycle: c.to_string(),
        });
    }
    let waves = graph.waves().ok_or_else(|| PkgBuildError::Cycle {
        cycle: "(not found)".into(),
    })?;
    Ok(Plan {
        components,
        graph,
        waves,
    })
}

/// The session and whether the local repository changed since it was last loaded.
struct SessionState<'a> {
    session: &'a mut Session,
    local_changed: bool,
}

struct Ctx<'a> {
    engine: &'a Engine,
    session: Mutex<SessionState<'a>>,
    base: &'a Base,
    matcher: BaseMatcher,
    settings: &'a Settings,
    opts: &'a Options,
    repo: LocalRepo,
    /// Serializes commits and publishes of the local repository.
    commit: Mutex<()>,
    started: Instant,
    /// Sources BuildRequires resolve against, in order.
    sources: Vec<String>,
}

impl<'a> Ctx<'a> {
    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn session(&self) -> std::sync::MutexGuard<'_, SessionState<'a>> {
        let mut g = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.local_changed {
            g.session.reload_source(LOCAL_REPO);
            g.local_changed = false;
        }
        g
    }
}

/// The build root of one component: what to install, as pins and as picked packages.
struct Root {
    picked: Vec<Picked>,
    pins: Vec<PinnedPackage>,
    written: bool,
}

fn pin_of(p: &Picked) -> PinnedPackage {
    PinnedPackage {
        name: p.package.name.clone(),
        evr: p.package.evr.clone(),
        arch: p.package.arch.clone(),
        repo: p.package.repo.clone(),
        checksum: p.package.checksum.clone(),
    }
}

fn resolve_root(ctx: &Ctx<'_>, c: &Prepared) -> Result<Root, PkgBuildError> {
    let mut build_requires = c.info.build_requires.clone();
    build_requires.sort();
    build_requires.dedup();
    let locked_err = |m: String| PkgBuildError::Locked {
        component: c.name.clone(),
        message: m,
    };
    if ctx.opts.locked {
        let lock_file = format!("locks/{}.lock", c.name);
        let Some(pins) = &c.pins else {
            return Err(locked_err(format!(
                "{lock_file} has no [build-root] pins; run `cairn comp build {}` without --locked first",
                c.name
            )));
        };
        if pins.base != ctx.base.identity {
            return Err(locked_err(format!(
                "{lock_file} pins a build root over base {}, but the base is now {}",
                pins.base, ctx.base.identity
            )));
        }
        if pins.build_requires != build_requires {
            return Err(locked_err(format!(
                "{lock_file} pins the BuildRequires [{}], but the spec now has [{}]",
                pins.build_requires.join(", "),
                build_requires.join(", ")
            )));
        }
        let mut picked = Vec::new();
        let mut g = ctx.session();
        for p in &pins.packages {
            let key = PackageKey {
                repo: &p.repo,
                name: &p.name,
                evr: &p.evr,
                arch: &p.arch,
            };
            let found = g
                .session
                .find_package(
                    &ctx.sources,
                    &ctx.settings.arch,
                    &key,
                    &cairn_project::Quiet,
                )?
                .filter(|f| f.package.checksum == p.checksum);
            let Some(f) = found else {
                return Err(locked_err(format!(
                    "the pinned package {} ({}) is no longer in repository `{}`; run without --locked to resolve the build root again",
                    p.nevra(),
                    p.checksum,
                    p.repo
                )));
            };
            picked.push(f);
        }
        return Ok(Root {
            picked,
            pins: pins.packages.clone(),
            written: false,
        });
    }
    let unmet: Vec<String> = build_requires
        .iter()
        .filter(|d| !ctx.matcher.satisfies(d))
        .cloned()
        .collect();
    let mut picked = Vec::new();
    if !unmet.is_empty() {
        let mut req = cairn_solve::Request::new(ctx.settings.arch.clone());
        req.weak_deps = false;
        req.install = unmet;
        req.install.push(BUILD_ROOT_PACKAGE.to_owned());
        let what = format!(
            "component `{}`: its BuildRequires cannot be resolved (looked in {})",
            c.name,
            describe_sources(&ctx.sources)
        );
        let mut g = ctx.session();
        picked = g
            .session
            .resolve_request(&what, &ctx.sources, &req, &cairn_project::Quiet)?;
        picked.retain(|p| p.package.repo != BUILD_ROOT_PACKAGE);
    }
    let mut pins: Vec<PinnedPackage> = picked.iter().map(pin_of).collect();
    pins.sort();
    let lock = BuildRootLock {
        base: ctx.base.identity.clone(),
        build_requires,
        packages: pins.clone(),
    };
    let written = ctx
        .engine
        .set_build_root(&c.name, Some(lock))
        .map_err(|e| PkgBuildError::Comp {
            component: c.name.clone(),
            source: Box::new(e),
        })?;
    Ok(Root {
        picked,
        pins,
        written,
    })
}

fn describe_sources(sources: &[String]) -> String {
    let mut named: Vec<String> = sources
        .iter()
        .map(|s| match s.as_str() {
            LOCAL_REPO => "the local repository".to_owned(),
            BUILD_ROOT_PACKAGE => "what the build root base has".to_owned(),
            other => format!("source `{other}`"),
        })
        .collect();
    match named.pop() {
        Some(last) if !named.is_empty() => format!("{} and {last}", named.join(", ")),
        Some(last) => last,
        None => "nothing".into(),
    }
}

/// The files to install: local packages straight from the repository (checked against
/// their pinned digests), others fetched into the cache.
fn install_paths(ctx: &Ctx<'_>, c: &Prepared, root: &Root) -> Result<Vec<PathBuf>, PkgBuildError> {
    let mut out = Vec::new();
    let mut remote = Vec::new();
    for p in &root.picked {
        if p.package.repo == LOCAL_REPO {
            let path = ctx.repo.dir().join(&p.package.location);
            let want = p
                .package
                .checksum
                .strip_prefix("sha256:")
                .unwrap_or_default();
            let got = crate::record::sha256_file(&path).ok();
            if got.as_deref() != Some(want) {
                return Err(PkgBuildError::Component {
                    component: c.name.clone(),
                    message: format!(
                        "{} in the local repository does not match its metadata (sha256:{want}); run the build again",
                        path.display()
                    ),
                });
            }
            out.push(path);
        } else {
            remote.push(p.clone());
        }
    }
    if !remote.is_empty() {
        let mut g = ctx.session();
        let fetched = g
            .session
            .fetch_picked(&remote, &ctx.settings.arch, &cairn_project::Quiet)?;
        out.extend(fetched.into_iter().map(|f| f.path));
    }
    Ok(out)
}

fn rel(out_dir: &Path, p: &Path) -> String {
    p.strip_prefix(out_dir)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

fn build_one(ctx: &Ctx<'_>, c: &Prepared) -> Outcome {
    let mut o = Outcome::new(&c.name, Status::Failed);
    o.started = Some(ctx.now());
    if let Err(e) = build_inner(ctx, c, &mut o) {
        o.status = Status::Failed;
        o.reason = Some(e.to_string());
    }
    o.finished = Some(ctx.now());
    o
}

fn build_inner(ctx: &Ctx<'_>, c: &Prepared, o: &mut Outcome) -> Result<(), PkgBuildError> {
    let out_dir = &ctx.settings.out_dir;
    let root = resolve_root(ctx, c)?;
    o.pins_written = root.written;
    o.build_root = root
        .pins
        .iter()
        .map(|p| format!("{} ({})", p.nevra(), p.repo))
        .collect();
    let key = cache_key(
        &c.fingerprint,
        &ctx.base.identity,
        &root.pins,
        &KeyOptions {
            arch: &ctx.settings.arch,
            dist: &c.options.dist,
            vendor: &c.options.vendor,
            distribution: &c.options.distribution,
            packager: &c.options.packager,
            buildhost: &c.options.buildhost,
            jobs: c.options.jobs,
            defines: &c.options.defines,
        },
    );
    o.cache_key = Some(key.clone());
    let log = out_dir.join("logs").join(format!("{}.log", c.name));
    if let Some(rec) = ResultRecord::read(out_dir, &c.name)
        && rec.cache_key == key
        && rec.files_intact(out_dir)
    {
        o.status = Status::Cached;
        for f in &rec.files {
            let p = out_dir.join(&f.path);
            match f.kind {
                FileKind::Rpm => o.rpms.push(p),
                FileKind::Srpm => o.srpm = Some(p),
            }
        }
        o.log = Some(out_dir.join(&rec.log)).filter(|p| p.is_file());
        return Ok(());
    }
    let install = install_paths(ctx, c, &root)?;
    let staging = ctx.repo.staging(&c.name)?;
    o.log = Some(log.clone());
    let built = cairn_rpmbuild::build(
        &ctx.base.layout,
        &c.srcdir,
        &c.spec,
        &install,
        &c.options,
        &staging,
        &log,
    );
    let built = match built {
        Ok(b) => b,
        Err(e) => {
            let _ = fs_err::remove_dir_all(&staging);
            return Err(PkgBuildError::Rpmbuild {
                component: c.name.clone(),
                source: Box::new(e),
            });
        }
    };
    o.duration = built.duration.as_secs_f64();
    let _guard = ctx
        .commit
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let committed = match ctx.repo.commit(&c.name, &staging) {
        Ok(p) => p,
        Err(e) => {
            let _ = fs_err::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let srpm_name = built.srpm.file_name().map(|n| n.to_owned());
    let mut files = Vec::new();
    for p in &committed {
        let is_srpm = p.file_name().map(|n| n.to_owned()) == srpm_name;
        files.push(ProducedFile {
            path: rel(out_dir, p),
            sha256: crate::record::sha256_file(p)?,
            kind: if is_srpm {
                FileKind::Srpm
            } else {
                FileKind::Rpm
            },
        });
        if is_srpm {
            o.srpm = Some(p.clone());
        } else {
            o.rpms.push(p.clone());
        }
    }
    let record = ResultRecord {
        format: RECORD_FORMAT,
        component: c.name.clone(),
        cache_key: key,
        input_fingerprint: c.fingerprint.clone(),
        base: ctx.base.identity.clone(),
        build_requires: c.info.build_requires.clone(),
        build_root: root.pins.clone(),
        files,
        duration: o.duration,
        isolation: match built.isolation {
            Isolation::Overlay => "overlay".into(),
            Isolation::Copy => "copy".into(),
        },
        log: rel(out_dir, &log),
        source_date_epoch: c.info.source_date_epoch,
    };
    record.write(out_dir)?;
    ctx.repo.publish()?;
    ctx.session
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .local_changed = true;
    o.status = Status::Built;
    Ok(())
}

/// Build the plan's components in dependency order on `opts.jobs` threads. Resolution,
/// build and commit failures are per component (see [`Outcome`]); errors are what stops
/// the whole run before it starts (the local repository cannot be published).
pub fn build(
    plan: &Plan,
    engine: &Engine,
    session: &mut Session,
    base: &Base,
    settings: &Settings,
    opts: &Options,
    reporter: &dyn Reporter,
) -> Result<Summary, PkgBuildError> {
    for reserved in [LOCAL_REPO, BUILD_ROOT_PACKAGE] {
        if session.project.sources.contains_key(reserved) {
            return Err(PkgBuildError::Config {
                message: format!(
                    "{}: the source name `{reserved}` is reserved for `cairn comp build`; rename the source",
                    session.project.file
                ),
            });
        }
    }
    let repo = LocalRepo::new(&settings.out_dir);
    repo.clean_stale();
    for d in ["logs", "results"] {
        let p = settings.out_dir.join(d);
        fs_err::create_dir_all(&p).map_err(|e| PkgBuildError::Io { path: p, source: e })?;
    }
    // the metadata always matches what is in the repository when a run starts
    repo.publish()?;
    let priority = settings
        .repos
        .iter()
        .filter_map(|r| session.project.sources.get(r))
        .map(cairn_config::Source::priority)
        .min()
        .unwrap_or(99)
        .min(99)
        - 1;
    session.add_source(
        LOCAL_REPO,
        cairn_config::Source::RpmMd(cairn_config::RpmMdSource {
            baseurl: vec![repo.url()?],
            gpgkey: vec![],
            gpgcheck: false,
            repo_gpgcheck: false,
            sslcacert: None,
            priority,
            exclude: vec![],
        }),
    );
    session.add_virtual_source(BUILD_ROOT_PACKAGE, base.virtual_repo());
    let mut sources = vec![LOCAL_REPO.to_owned()];
    sources.extend(settings.repos.iter().cloned());
    sources.push(BUILD_ROOT_PACKAGE.to_owned());

    let ctx = Ctx {
        engine,
        session: Mutex::new(SessionState {
            session,
            local_changed: false,
        }),
        base,
        matcher: base.matcher(),
        settings,
        opts,
        repo,
        commit: Mutex::new(()),
        started: Instant::now(),
        sources,
    };
    let names: Vec<String> = plan.components.iter().map(|c| c.name.clone()).collect();
    let order: Vec<usize> = plan.waves.iter().flatten().copied().collect();
    let outcomes = crate::sched::schedule(
        &crate::sched::Jobs {
            names: &names,
            graph: &plan.graph,
            order: &order,
            jobs: opts.jobs,
            keep_going: opts.keep_going,
        },
        &|| ctx.now(),
        &|i| {
            reporter.started(&names[i]);
            build_one(&ctx, &plan.components[i])
        },
        &|o| reporter.finished(o),
    );
    Ok(Summary {
        out_dir: settings.out_dir.clone(),
        base: base.identity.clone(),
        waves: plan.wave_names(),
        components: outcomes,
    })
}
