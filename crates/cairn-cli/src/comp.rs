//! `cairn comp …`: components, their overlays, locks, renders, deviation reports and
//! package builds (`cairn comp build`, with the image build roots it needs).

use crate::progress::CliProgress;
use crate::{Cli, Output};
use anyhow::{Context as _, Result, bail};
use cairn_comp::{Engine, EngineOptions, LockMode, Staleness};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
pub struct Select {
    /// Component names.
    names: Vec<String>,
    /// Every component.
    #[arg(short = 'a', long)]
    all: bool,
    /// Every member of this component group (repeatable).
    #[arg(short = 'g', long = "group", value_name = "GROUP")]
    groups: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum CompCommand {
    /// List components: where each spec comes from, its groups and overlay count.
    List {
        /// Only members of this group.
        #[arg(short = 'g', long = "group", value_name = "GROUP")]
        groups: Vec<String>,
    },
    /// Show a component as cairn resolves it: merged configuration, spec origin and lock,
    /// overlays with their metadata, source files and binary packages.
    Query { names: Vec<String> },
    /// Render specs with their overlays to specs/<letter>/<name>/ (never edit those by hand).
    Render {
        #[command(flatten)]
        select: Select,
        /// Change nothing: exit 1 when a committed render or lock is stale.
        #[arg(long)]
        check: bool,
        /// Refuse to resolve upstream commits: use the locks as they are.
        #[arg(long)]
        locked: bool,
        /// With --all: remove rendered directories of components that no longer exist
        /// (with --check: report them as stale).
        #[arg(long)]
        clean_stale: bool,
        /// Components rendered at once (default: the number of CPUs).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
    },
    /// Show how the rendered spec differs from upstream's (unified diff).
    Diff { name: String },
    /// Resolve upstream commits again and write the component locks.
    Update {
        #[command(flatten)]
        select: Select,
        /// Raise the manual bump counter (forces a rebuild of unchanged inputs).
        #[arg(long)]
        bump: bool,
        /// Components resolved at once (default: the number of CPUs).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
    },
    /// Report every deviation from upstream (Markdown; JSON with -O json).
    Deviations {
        #[command(flatten)]
        select: Select,
    },
    /// Fetch a component's sources (dist-git tree, lookaside files, extra source files)
    /// into the cache, verifying every hash; with --out, also write the rendered tree and
    /// all source files there (ready for `rpmbuild -bs`).
    Sources {
        #[command(flatten)]
        select: Select,
        /// Directory to write `<name>/` trees into.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Build components into binary and source RPMs in dependency order, each in a fresh
    /// isolated build root with its BuildRequires resolved and pinned in its lock; results
    /// are cached and published as a local repository in the output directory. Needs root.
    Build {
        #[command(flatten)]
        select: Select,
        /// Components built at once (each build uses `smp-jobs` of [package-build]).
        #[arg(short = 'j', long, default_value_t = 1)]
        jobs: usize,
        /// After a failure, keep starting builds that do not depend on it.
        #[arg(long)]
        keep_going: bool,
        /// Use the build-root pins of the component locks (and cairn.lock for an image
        /// root) as they are; refuse missing or stale ones.
        #[arg(long)]
        locked: bool,
        /// Output directory (default: [package-build] out-dir, `build/` beside the project
        /// file).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Print the build order (waves of components that can build in parallel) and
        /// exit without building.
        #[arg(long)]
        plan: bool,
    },
}

fn select(engine: &Engine, s: &Select) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    if s.all {
        names = engine.names();
    }
    for g in &s.groups {
        let Some((group, _)) = engine.dist.groups.get(g) else {
            bail!(
                "no component group `{g}` (groups: {})",
                engine
                    .dist
                    .groups
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        names.extend(group.components.iter().cloned());
    }
    for n in &s.names {
        if !engine.dist.components.contains_key(n) {
            bail!(
                "no component named `{n}` ({} are defined; `cairn comp list` shows them)",
                engine.dist.components.len()
            );
        }
        names.push(n.clone());
    }
    if names.is_empty() && !s.all {
        bail!("name components, or pass --all or --group GROUP");
    }
    names.sort();
    names.dedup();
    Ok(names)
}

pub fn run(cli: &Cli, project: &cairn_config::Project, cmd: &CompCommand) -> Result<ExitCode> {
    if let CompCommand::Build { .. } = cmd {
        // before anything is fetched or written
        cairn_pkgbuild::require_root()?;
    }
    let dist = cairn_comp::load(project)?;
    let cache_dir = cli
        .cache_dir
        .clone()
        .unwrap_or_else(cairn_cache::Cache::default_root);
    let cache = cairn_cache::Cache::open(cache_dir)?;
    let engine = Engine::new(
        dist,
        cache,
        EngineOptions {
            offline: cli.offline,
        },
    )?;
    let json = cli.output == Output::Json;
    let progress = CliProgress::new(cli.quiet || json);
    let note = |m: &str| {
        if !cli.quiet {
            eprintln!("{m}");
        }
    };
    match cmd {
        CompCommand::List { groups } => {
            let mut rows = Vec::new();
            for name in engine.names() {
                let r = engine.resolve(&name)?;
                if !groups.is_empty() && !r.groups.iter().any(|g| groups.contains(g)) {
                    continue;
                }
                let origin = match &r.spec {
                    cairn_comp::SpecOrigin::Upstream {
                        name,
                        distro,
                        version,
                        pinned,
                        ..
                    } => match pinned {
                        Some(c) => format!("{distro} {version} {name} @{c}"),
                        None => format!("{distro} {version} {name}"),
                    },
                    cairn_comp::SpecOrigin::Local { spec } => format!(
                        "local {}",
                        spec.strip_prefix(&engine.dist.dir)
                            .unwrap_or(spec)
                            .display()
                    ),
                };
                rows.push(serde_json::json!({
                    "name": name,
                    "spec": origin,
                    "groups": r.groups,
                    "overlays": r.overlays.len(),
                    "file": r.defined_in.strip_prefix(&engine.dist.dir).unwrap_or(&r.defined_in),
                }));
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for r in &rows {
                    println!(
                        "{:<28} {:<40} overlays={:<3} {}",
                        r["name"].as_str().unwrap_or_default(),
                        r["spec"].as_str().unwrap_or_default(),
                        r["overlays"],
                        r["groups"]
                            .as_array()
                            .map(|g| g
                                .iter()
                                .filter_map(|x| x.as_str())
                                .collect::<Vec<_>>()
                                .join(","))
                            .unwrap_or_default()
                    );
                }
                note(&format!("{} components", rows.len()));
            }
            Ok(ExitCode::SUCCESS)
        }
        CompCommand::Query { names } => {
            if names.is_empty() {
                bail!("name the components to query");
            }
            let mut out = Vec::new();
            for n in names {
                let rendered = engine.render(n, LockMode::UseOrCreate)?;
                let r = &rendered.resolved;
                let env = cairn_comp::macro_env(r);
                let packages = cairn_spec::Spec::parse(&rendered.rendered_spec).packages(&env);
                out.push(serde_json::json!({
                    "name": n,
                    "defined-in": r.defined_in,
                    "groups": r.groups,
                    "spec": r.spec,
                    "spec-file": rendered.spec_file,
                    "commit": rendered.commit,
                    "input-fingerprint": rendered.fingerprint,
                    "lock-current": !rendered.lock_changed,
                    "config": r.config,
                    "overlays": r.overlays.iter().map(|o| serde_json::json!({
                        "overlay": o.overlay,
                        "file": o.file,
                        "index": o.index,
                        "metadata": o.metadata,
                    })).collect::<Vec<_>>(),
                    "sources": rendered.sources,
                    "rendered-files": rendered.files,
                    "packages": packages,
                }));
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        CompCommand::Render {
            select: s,
            check,
            locked,
            clean_stale,
            jobs,
        } => {
            let jobs = jobs_or_cpus(*jobs);
            let names = select(&engine, s)?;
            if *clean_stale && !s.all {
                bail!(
                    "--clean-stale needs --all (only then is every component known to be rendered)"
                );
            }
            let start = std::time::Instant::now();
            if *check {
                let mut stale = Vec::new();
                for r in par_map(&names, jobs, (&progress, "checking"), |n| engine.check(n)) {
                    let r = r?;
                    if !r.stale.is_empty() {
                        stale.push(r);
                    }
                }
                if s.all && *clean_stale {
                    for o in engine.orphans() {
                        stale.push(cairn_comp::CheckResult {
                            component: o
                                .file_name()
                                .map(|f| f.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                            stale: vec![Staleness::Orphan {
                                path: o.display().to_string(),
                            }],
                        });
                    }
                }
                let secs = start.elapsed().as_secs_f64();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({ "checked": names.len(), "seconds": secs, "stale": stale })
                    );
                }
                for r in &stale {
                    for s in &r.stale {
                        let what = match s {
                            Staleness::Missing => "not rendered".to_owned(),
                            Staleness::Differs {
                                added,
                                removed,
                                changed,
                            } => format!(
                                "rendered output differs (new: [{}], gone: [{}], changed: [{}])",
                                added.join(", "),
                                removed.join(", "),
                                changed.join(", ")
                            ),
                            Staleness::Lock { why } => format!("lock is stale: {why}"),
                            Staleness::Orphan { path } => format!("{path} belongs to no component"),
                        };
                        eprintln!("stale: {}: {what}", r.component);
                    }
                }
                if stale.is_empty() {
                    note(&format!(
                        "{} components: rendered specs and locks are current ({:.2} s, {:.2} ms per component)",
                        names.len(),
                        secs,
                        secs * 1000.0 / names.len().max(1) as f64
                    ));
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!("run `cairn comp render` (and commit the result) to refresh them");
                return Ok(ExitCode::from(1));
            }
            for p in engine.clean_interrupted() {
                note(&format!(
                    "removed {} (left by an interrupted render)",
                    p.display()
                ));
            }
            let mode = if *locked {
                LockMode::Locked
            } else {
                LockMode::UseOrCreate
            };
            let mut results = Vec::new();
            let done = par_map(&names, jobs, (&progress, "rendering"), |n| {
                let rendered = engine.render(n, mode)?;
                let lock_changed = rendered.lock_changed;
                let changed = engine.commit(rendered)?;
                Ok::<_, cairn_comp::CompError>((changed, lock_changed))
            });
            for (n, r) in names.iter().zip(done) {
                let (changed, lock_changed) = r?;
                let dir = engine.output_dir(n);
                results.push(serde_json::json!({
                    "component": n, "dir": dir, "changed": changed, "lock-written": lock_changed,
                }));
                if !json && changed {
                    println!("{}", dir.display());
                }
            }
            let mut removed = Vec::new();
            if *clean_stale {
                for o in engine.orphans() {
                    fs_err::remove_dir_all(&o)
                        .with_context(|| format!("removing {}", o.display()))?;
                    removed.push(o);
                }
                removed.extend(
                    engine
                        .prune_locks()?
                        .into_iter()
                        .map(|n| engine.dist.lock_dir().join(format!("{n}.lock"))),
                );
            }
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "rendered": results, "removed": removed })
                );
            }
            let changed = results.iter().filter(|r| r["changed"] == true).count();
            note(&format!(
                "{} components rendered, {changed} changed, in {}",
                names.len(),
                engine.dist.rendered_dir().display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        CompCommand::Diff { name } => {
            let rendered = engine.render(name, LockMode::UseOrCreate)?;
            let up_label = match &rendered.commit {
                Some(c) => format!("upstream/{} @{}", rendered.spec_file, &c[..c.len().min(12)]),
                None => format!("local/{}", rendered.spec_file),
            };
            let diff =
                similar::TextDiff::from_lines(&rendered.upstream_spec, &rendered.rendered_spec);
            let text = diff
                .unified_diff()
                .context_radius(3)
                .header(&up_label, &format!("rendered/{}", rendered.spec_file))
                .to_string();
            // Files beside the spec.
            let upstream_files: Vec<String> = match engine.upstream_tree(name)? {
                Some((tree, _)) => cairn_comp::list_files(&tree),
                None => Vec::new(),
            };
            let added: Vec<&String> = rendered
                .files
                .iter()
                .filter(|f| !upstream_files.contains(f))
                .collect();
            let dropped: Vec<&String> = upstream_files
                .iter()
                .filter(|f| !rendered.files.contains(f))
                .collect();
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "component": name, "spec-diff": text, "files-added": added, "files-dropped": dropped })
                );
            } else {
                print!("{text}");
                for f in &added {
                    println!("+ file {f}");
                }
                for f in &dropped {
                    println!("- file {f}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CompCommand::Update {
            select: s,
            bump,
            jobs,
        } => {
            let names = select(&engine, s)?;
            let mut out = Vec::new();
            let done = par_map(&names, jobs_or_cpus(*jobs), (&progress, "resolving"), |n| {
                engine.update(n, *bump)
            });
            for (n, u) in names.iter().zip(done) {
                let u = u?;
                if !json && u.changed {
                    match (&u.previous_commit, &u.commit) {
                        (Some(a), Some(b)) if a != b => {
                            println!("{n}: {} -> {}", short(a), short(b))
                        }
                        (None, Some(b)) => println!("{n}: locked at {}", short(b)),
                        _ => println!("{n}: {}", u.input_fingerprint),
                    }
                }
                out.push(u);
            }
            let pruned = if s.all && !*bump {
                engine.prune_locks()?
            } else {
                Vec::new()
            };
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "updated": out, "pruned": pruned })
                );
            }
            for p in &pruned {
                note(&format!(
                    "removed the lock of `{p}` (no such component any more)"
                ));
            }
            note(&format!(
                "{} locks checked, {} written",
                out.len(),
                out.iter().filter(|u| u.changed).count()
            ));
            Ok(ExitCode::SUCCESS)
        }
        CompCommand::Deviations { select: s } => {
            let names = if s.names.is_empty() && s.groups.is_empty() {
                engine.names()
            } else {
                select(&engine, s)?
            };
            let report = cairn_comp::deviations(&engine, &names)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.markdown());
            }
            Ok(ExitCode::SUCCESS)
        }
        CompCommand::Sources { select: s, out } => {
            let names = select(&engine, s)?;
            let mut all = Vec::new();
            for n in &names {
                let dest = out.as_ref().map(|o| o.join(n));
                if let Some(d) = &dest
                    && d.exists()
                {
                    bail!(
                        "{} already exists; remove it or choose another --out",
                        d.display()
                    );
                }
                let files = engine.fetch_sources(n, LockMode::UseOrCreate, dest.as_deref())?;
                all.push(serde_json::json!({ "component": n, "files": files, "dir": dest }));
                if !json {
                    for f in &files {
                        println!("{n}\t{f}");
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            }
            note(&format!(
                "{} components: every source file verified",
                names.len()
            ));
            Ok(ExitCode::SUCCESS)
        }
        CompCommand::Build {
            select: s,
            jobs,
            keep_going,
            locked,
            out_dir,
            plan,
        } => {
            let names = select(&engine, s)?;
            let opts = cairn_pkgbuild::Options {
                jobs: (*jobs).max(1),
                keep_going: *keep_going,
                locked: *locked,
            };
            build(
                cli,
                project,
                &engine,
                &names,
                &opts,
                out_dir.as_deref(),
                *plan,
            )
        }
    }
}

/// Progress lines of `cairn comp build` on stderr: time since the start, component, what
/// happened.
struct BuildLines {
    quiet: bool,
    start: std::time::Instant,
}

impl BuildLines {
    fn line(&self, at: f64, msg: &str) {
        if !self.quiet {
            eprintln!("[{at:7.1}s] {msg}");
        }
    }
}

impl cairn_pkgbuild::Reporter for BuildLines {
    fn prepared(&self, component: &str, done: usize, total: usize) {
        self.line(
            self.start.elapsed().as_secs_f64(),
            &format!("{component}: sources and spec query done ({done}/{total})"),
        );
    }
    fn started(&self, component: &str) {
        self.line(
            self.start.elapsed().as_secs_f64(),
            &format!("{component}: started"),
        );
    }
    fn finished(&self, o: &cairn_pkgbuild::Outcome) {
        let at = self.start.elapsed().as_secs_f64();
        let name = &o.component;
        let msg = match o.status {
            cairn_pkgbuild::Status::Built => format!(
                "{name}: built in {:.1}s ({}{})",
                o.duration,
                rpm_count(o.rpms.len()),
                if o.srpm.is_some() {
                    " + source RPM"
                } else {
                    ""
                }
            ),
            cairn_pkgbuild::Status::Cached => {
                format!(
                    "{name}: cached ({}, inputs unchanged)",
                    rpm_count(o.rpms.len())
                )
            }
            cairn_pkgbuild::Status::Failed => format!(
                "{name}: FAILED after {:.1}s: {}{}",
                o.finished.unwrap_or(0.0) - o.started.unwrap_or(0.0),
                o.reason.as_deref().unwrap_or("unknown error"),
                o.log
                    .as_ref()
                    .map(|l| format!("\n    log kept at {}", l.display()))
                    .unwrap_or_default()
            ),
            cairn_pkgbuild::Status::Skipped => format!(
                "{name}: skipped: {}",
                o.reason.as_deref().unwrap_or("a dependency failed")
            ),
        };
        self.line(at, &msg);
    }
}

fn rpm_count(n: usize) -> String {
    if n == 1 {
        "1 RPM".into()
    } else {
        format!("{n} RPMs")
    }
}

/// `cairn comp build`.
fn build(
    cli: &Cli,
    project: &cairn_config::Project,
    engine: &Engine,
    names: &[String],
    opts: &cairn_pkgbuild::Options,
    out_dir: Option<&Path>,
    plan_only: bool,
) -> Result<ExitCode> {
    let json = cli.output == Output::Json;
    let note = |m: &str| {
        if !cli.quiet {
            eprintln!("{m}");
        }
    };
    let settings = cairn_pkgbuild::Settings::from_project(project, out_dir);
    fs_err::create_dir_all(&settings.out_dir)?;
    let cache_dir = cli
        .cache_dir
        .clone()
        .unwrap_or_else(cairn_cache::Cache::default_root);
    let mut session = cairn_project::Session::new(
        project.clone(),
        cairn_project::SessionOptions {
            cache_dir: cache_dir.clone(),
            offline: cli.offline,
        },
    );
    let base = match &project.package_build.root {
        cairn_config::BuildRootSpec::Host => {
            note(
                "build root base: this machine's / (read-only; not hermetic: its toolchain is whatever the host has)",
            );
            cairn_pkgbuild::Base::host(&settings.arch)?
        }
        cairn_config::BuildRootSpec::Image(image) => {
            let progress = CliProgress::new(cli.quiet || json);
            let r = image_root(cli, &mut session, &cache_dir, image, opts.locked, &progress);
            progress.finish();
            let (root, identity) = r?;
            note(&format!(
                "build root base: image `{image}` ({identity}) at {}",
                root.display()
            ));
            cairn_pkgbuild::Base::image_root(&root, &identity, &settings.arch)?
        }
    };
    let lines = BuildLines {
        quiet: cli.quiet,
        start: std::time::Instant::now(),
    };
    let plan = cairn_pkgbuild::prepare(engine, &base, &settings, names, opts, &lines)?;
    if plan_only {
        if json {
            let waves = plan.wave_names();
            let edges: Vec<_> = plan
                .components
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    serde_json::json!({
                        "component": c.name,
                        "after": plan.waits_for(i).into_iter().map(|(d, cap)| serde_json::json!({"component": d, "because": cap})).collect::<Vec<_>>(),
                        "build-requires": c.info.build_requires,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({ "base": base.identity, "waves": waves, "components": edges })
                )?
            );
        } else {
            for (k, wave) in plan.waves.iter().enumerate() {
                println!("wave {}:", k + 1);
                for &i in wave {
                    let after: Vec<String> = plan
                        .waits_for(i)
                        .into_iter()
                        .map(|(d, cap)| format!("{d} ({cap})"))
                        .collect();
                    if after.is_empty() {
                        println!("  {}", plan.components[i].name);
                    } else {
                        println!("  {}  after {}", plan.components[i].name, after.join(", "));
                    }
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summary =
        cairn_pkgbuild::build(&plan, engine, &mut session, &base, &settings, opts, &lines)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for o in &summary.components {
            let status = match o.status {
                cairn_pkgbuild::Status::Built => "built",
                cairn_pkgbuild::Status::Cached => "cached",
                cairn_pkgbuild::Status::Failed => "failed",
                cairn_pkgbuild::Status::Skipped => "skipped",
            };
            println!("{status:8} {}", o.component);
            for r in o.rpms.iter().chain(o.srpm.iter()) {
                println!("         {}", r.display());
            }
        }
    }
    let count =
        |st: cairn_pkgbuild::Status| summary.components.iter().filter(|o| o.status == st).count();
    note(&format!(
        "{} components: {} built, {} cached, {} failed, {} skipped; repository {}",
        summary.components.len(),
        count(cairn_pkgbuild::Status::Built),
        count(cairn_pkgbuild::Status::Cached),
        count(cairn_pkgbuild::Status::Failed),
        count(cairn_pkgbuild::Status::Skipped),
        settings.out_dir.join("repo").display()
    ));
    Ok(if summary.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The installed root of image `image`, for use as a build root base: locked (unless
/// `locked`, which refuses a missing or stale entry in cairn.lock), fetched and built
/// with cairn's own image pipeline as a `dir` output into
/// `<cache>/buildroots/<image>-<hash>/`, once per image identity (the exact package
/// set); later runs reuse it. Returns the root and the identity.
fn image_root(
    cli: &Cli,
    session: &mut cairn_project::Session,
    cache_dir: &Path,
    image: &str,
    locked: bool,
    progress: &CliProgress,
) -> Result<(PathBuf, String)> {
    let lock_path = session.project.dir.join("cairn.lock");
    let previous = cairn_project::read_lock(&lock_path)?;
    let names = vec![image.to_owned()];
    let stale = session.stale_definitions(previous.as_ref(), &names)?;
    let lock = match previous {
        Some(l) if stale.is_empty() => l,
        previous => {
            if locked {
                bail!(
                    "{} is {} for the build root image `{image}`; run `cairn lock {image}` (or build without --locked)",
                    lock_path.display(),
                    if previous.is_some() {
                        "stale"
                    } else {
                        "missing"
                    },
                );
            }
            if !cli.quiet {
                eprintln!("locking image `{image}` (the build root base)");
            }
            let (lock, _) = session.lock(&names, previous, progress)?;
            cairn_project::write_atomic(&lock_path, lock.to_toml().as_bytes())?;
            lock
        }
    };
    let fetched = session.fetch(&lock, &names, progress)?;
    let by_key: std::collections::HashMap<_, _> = fetched
        .iter()
        .map(|f| (f.package.clone(), f.path.clone()))
        .collect();
    let li = &lock.images[image];
    let packages: Vec<cairn_build::BuildPackage> = li
        .packages
        .iter()
        .map(|p| {
            let url = lock
                .repos
                .get(&p.repo)
                .and_then(|r| r.urls.first())
                .map(|u| format!("{}/{}", u.trim_end_matches('/'), p.location));
            cairn_build::BuildPackage {
                locked: p.clone(),
                path: by_key[p].clone(),
                url,
            }
        })
        .collect();
    let def = &session.project.images[image];
    let identity = cairn_build::identity(&session.project, def, &packages);
    let hash = identity.rsplit('/').next().unwrap_or("root");
    let out = cache_dir.join("buildroots").join(format!("{image}-{hash}"));
    let done = out.join(image);
    let root = done.join("rootfs");
    if done.join("build.json").is_file() && root.is_dir() {
        return Ok((root, identity));
    }
    if !cli.quiet {
        eprintln!(
            "building the root of image `{image}` ({} packages) into {}",
            packages.len(),
            out.display()
        );
    }
    let input = cairn_build::BuildInput {
        project: &session.project,
        image: def,
        arch: li.arch.clone(),
        packages,
        outputs: vec![cairn_config::OutputKind::Dir],
        out_dir: out.clone(),
        // time stamps in a build root do not reach any package
        source_date_epoch: 0,
        // the root itself is the result (a `dir` output)
        image_root: cairn_build::ImageRoot::Disk,
    };
    cairn_build::build_image(&input, progress)
        .with_context(|| format!("building the root of image `{image}`"))?;
    Ok((root, identity))
}

fn jobs_or_cpus(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// `f` over `names` on `jobs` threads; results in the order of `names`.
fn par_map<T: Send>(
    names: &[String],
    jobs: usize,
    progress: (&CliProgress, &str),
    f: impl Fn(&str) -> T + Sync,
) -> Vec<T> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = names.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.min(names.len()).max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let r = f(name);
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress.0.item(progress.1, n, names.len(), name);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    progress.0.finish();
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .expect("every component was processed")
        })
        .collect()
}

fn short(c: &str) -> &str {
    &c[..c.len().min(12)]
}
