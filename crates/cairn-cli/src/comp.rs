//! `cairn comp …`: components, their overlays, locks, renders and deviation reports.

use crate::progress::CliProgress;
use crate::{Cli, Output};
use anyhow::{Context as _, Result, bail};
use cairn_comp::{Engine, EngineOptions, LockMode, Staleness};
use clap::{Args, Subcommand};
use std::path::PathBuf;
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
    }
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
