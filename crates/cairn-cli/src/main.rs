//! The `cairn` binary: argument parsing, wiring and output. No logic of its own: every
//! operation lives in a library crate; this file turns results into text or JSON.
//! stdout carries data; messages and progress go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod progress;

/// Resolving a large repository allocates millions of small strings; mimalloc cuts the
/// allocator's share of that time (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context as _, Result, bail};
use cairn_lock::{LockedImage, Lockfile};
use cairn_project::{Session, SessionOptions};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "cairn",
    version,
    about = "Build, ship and keep current a curated cloud Linux distribution"
)]
struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', long, global = true, value_name = "DIR")]
    directory: Option<PathBuf>,
    /// Project file (default: ./cairn.toml, else the built-in default project).
    #[arg(long, global = true, value_name = "FILE")]
    project: Option<PathBuf>,
    /// Download cache (default: $CAIRN_CACHE_DIR, $XDG_CACHE_HOME/cairn or ~/.cache/cairn).
    #[arg(long, global = true, env = "CAIRN_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Use only what is in the cache; fail naming what is missing.
    #[arg(long, global = true)]
    offline: bool,
    /// Output format on stdout.
    #[arg(short = 'O', long, global = true, value_enum, default_value = "human")]
    output: Output,
    /// No progress or notes on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Resolve images' package sets and print them (nothing is written).
    Resolve {
        /// Images to resolve (default: all).
        images: Vec<String>,
        /// Do not install weak dependencies (Recommends/Supplements).
        #[arg(long)]
        no_weak_deps: bool,
        /// Print metadata-load and solve times to stderr as a JSON line.
        #[arg(long)]
        timings: bool,
    },
    /// Resolve images and write cairn.lock (sorted, one package per line).
    Lock {
        /// Images to lock (default: all; others keep their entries).
        images: Vec<String>,
        /// Do not write: fail when the lock does not match the project file or the repositories.
        #[arg(long)]
        check: bool,
    },
    /// Download every package cairn.lock pins into the cache, each verified against the
    /// lock's checksum (with --offline: check that all of them are already there).
    Fetch {
        /// Images whose packages to fetch (default: all).
        images: Vec<String>,
    },
    /// Print the JSON Schema of cairn.toml.
    Schema,
    /// Print the project as cairn understands it (after defaults and validation).
    Config,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            if cli.output == Output::Json {
                let v = serde_json::json!({ "error": format!("{e:#}") });
                println!("{v}");
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let dir = match &cli.directory {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("reading the current directory")?,
    };
    if let Command::Schema = cli.command {
        print!("{}", cairn_config::json_schema());
        return Ok(ExitCode::SUCCESS);
    }
    let project = cairn_project::find_project(&dir, cli.project.as_deref())?;
    let note = |msg: &str| {
        if !cli.quiet {
            eprintln!("{msg}");
        }
    };
    if project.builtin {
        note(&format!(
            "note: no {} in {}: using the built-in default project (image `minimal-vm`, packages from this machine's apt sources)",
            cairn_config::PROJECT_FILE,
            dir.display()
        ));
    }
    if let Command::Config = cli.command {
        println!("{}", serde_json::to_string_pretty(&project)?);
        return Ok(ExitCode::SUCCESS);
    }
    let lock_path = project.dir.join("cairn.lock");
    let cache_dir = cli
        .cache_dir
        .clone()
        .unwrap_or_else(cairn_cache::Cache::default_root);
    // The session can hold a universe of 60,000+ packages: let the OS reclaim it at exit
    // instead of freeing it piece by piece (measured: ~16% of a large resolve).
    let mut session = std::mem::ManuallyDrop::new(Session::new(
        project,
        SessionOptions {
            cache_dir,
            offline: cli.offline,
        },
    ));
    let progress = progress::CliProgress::new(cli.quiet || cli.output == Output::Json);

    match &cli.command {
        Command::Resolve {
            images,
            no_weak_deps,
            timings,
        } => {
            if *no_weak_deps {
                for img in session.project.images.values_mut() {
                    img.weak_deps = false;
                }
            }
            let names = image_names(&session, images);
            let mut out = Vec::new();
            for n in &names {
                let r = session.resolve(n, &progress)?;
                if *timings {
                    eprintln!(
                        "{}",
                        serde_json::json!({ "image": n, "timings": r.timings })
                    );
                }
                out.push(r);
            }
            progress.finish();
            match cli.output {
                Output::Json => {
                    let v: Vec<_> = out
                        .iter()
                        .map(|r| {
                            serde_json::json!({
                                "image": r.image,
                                "arch": r.arch,
                                "packages": r.locked.packages,
                                "repos": r.repos,
                                "reasons": r.reasons,
                            })
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                Output::Human => {
                    for r in &out {
                        print_set(&r.image, &r.locked);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lock { images, check } => {
            let previous = cairn_project::read_lock(&lock_path)?;
            if *check {
                let Some(lock) = previous else {
                    progress.finish();
                    bail!(
                        "{} does not exist; run `cairn lock` first",
                        lock_path.display()
                    );
                };
                let problems = session.check(&lock, images, &progress)?;
                progress.finish();
                if cli.output == Output::Json {
                    println!(
                        "{}",
                        serde_json::json!({ "lock": lock_path, "current": problems.is_empty(), "problems": problems })
                    );
                }
                if problems.is_empty() {
                    note(&format!("{} is current", lock_path.display()));
                    return Ok(ExitCode::SUCCESS);
                }
                for p in &problems {
                    eprintln!("stale: {p}");
                }
                return Ok(ExitCode::from(1));
            }
            let (lock, resolved) = session.lock(images, previous.clone(), &progress)?;
            let text = lock.to_toml();
            cairn_project::write_atomic(&lock_path, text.as_bytes())?;
            progress.finish();
            report_lock(cli, &lock_path, previous.as_ref(), &lock, &resolved)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch { images } => {
            let Some(lock) = cairn_project::read_lock(&lock_path)? else {
                progress.finish();
                bail!(
                    "{} does not exist; run `cairn lock` first",
                    lock_path.display()
                );
            };
            let fetched = session.fetch(&lock, images, &progress)?;
            progress.finish();
            let total: u64 = fetched.iter().map(|f| f.package.size).sum();
            match cli.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&fetched)?),
                Output::Human => {
                    for f in &fetched {
                        println!("{}", f.path.display());
                    }
                }
            }
            note(&format!(
                "{} packages ({}) verified in the cache",
                fetched.len(),
                human_size(total)
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema | Command::Config => unreachable!("handled above"),
    }
}

fn image_names(s: &Session, images: &[String]) -> Vec<String> {
    if images.is_empty() {
        s.project.images.keys().cloned().collect()
    } else {
        images.to_vec()
    }
}

fn report_lock(
    cli: &Cli,
    path: &Path,
    previous: Option<&Lockfile>,
    lock: &Lockfile,
    resolved: &[cairn_project::Resolved],
) -> Result<()> {
    if cli.output == Output::Json {
        let v: Vec<_> = resolved
            .iter()
            .map(|r| {
                let old = previous
                    .and_then(|p| p.images.get(&r.image))
                    .map(|i| i.packages.as_slice())
                    .unwrap_or(&[]);
                let d = cairn_lock::PackageDiff::between(old, &r.locked.packages);
                serde_json::json!({
                    "image": r.image,
                    "arch": r.arch,
                    "packages": r.locked.packages,
                    "changes": d.lines(),
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "lock": path, "images": v }));
        return Ok(());
    }
    for r in resolved {
        print_set(&r.image, &lock.images[&r.image]);
        if !cli.quiet {
            let old = previous
                .and_then(|p| p.images.get(&r.image))
                .map(|i| i.packages.as_slice());
            match old {
                None => eprintln!(
                    "locked image `{}`: {} packages (new)",
                    r.image,
                    r.locked.packages.len()
                ),
                Some(old) => {
                    let d = cairn_lock::PackageDiff::between(old, &r.locked.packages);
                    if d.is_empty() {
                        eprintln!("locked image `{}`: unchanged", r.image);
                    } else {
                        eprintln!("locked image `{}`: changes:", r.image);
                        for l in d.lines() {
                            eprintln!("  {l}");
                        }
                    }
                }
            }
        }
    }
    if !cli.quiet {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn print_set(image: &str, img: &LockedImage) {
    let total: u64 = img.packages.iter().map(|p| p.size).sum();
    println!(
        "# image {image} ({}): {} packages, {} to download",
        img.arch,
        img.packages.len(),
        human_size(total)
    );
    let w = img.packages.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let we = img.packages.iter().map(|p| p.evr.len()).max().unwrap_or(0);
    for p in &img.packages {
        println!("{:w$}  {:we$}  {:8}  {}", p.name, p.evr, p.arch, p.repo);
    }
}

fn human_size(b: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}
