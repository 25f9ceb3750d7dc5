//! The `cairn` binary: argument parsing, wiring and output. No logic of its own: every
//! operation lives in a library crate; this file turns results into text or JSON.
//! stdout carries data; messages and progress go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod comp;
mod progress;
mod publish;

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

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum FirmwareArg {
    Bios,
    Uefi,
}

/// Where `cairn build` assembles an image's root.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum ImageRootArg {
    /// In memory when no output needs it on disk and it fits in half the available
    /// memory, else on disk.
    Auto,
    /// In a tmpfs, private to the build.
    Memory,
    /// On disk, in out/.IMAGE.building-PID/root.
    Disk,
}

impl From<ImageRootArg> for cairn_build::ImageRoot {
    fn from(a: ImageRootArg) -> Self {
        match a {
            ImageRootArg::Auto => cairn_build::ImageRoot::Auto,
            ImageRootArg::Memory => cairn_build::ImageRoot::Memory,
            ImageRootArg::Disk => cairn_build::ImageRoot::Disk,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum AccelArg {
    Auto,
    Kvm,
    Tcg,
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
    /// Build images: lock if needed, fetch, install into a root, customize, finalize, and
    /// write the outputs with SBOMs to out/IMAGE/ (replaced only when the build succeeds).
    Build {
        /// Images to build (default: all).
        images: Vec<String>,
        /// Refuse to build when cairn.lock is missing or stale instead of locking.
        #[arg(long)]
        locked: bool,
        /// Outputs to write instead of the images' own (comma-separated: dir, tar, wsl,
        /// oci, raw, vhd, qcow2).
        #[arg(long, value_delimiter = ',', value_name = "KINDS")]
        outputs: Vec<cairn_config::OutputKind>,
        /// Directory for the outputs (default: out/ beside the project file).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Time stamp for everything in the outputs (seconds since 1970). With the same
        /// lock and value, builds are bit-identical. Default: now.
        #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
        source_date_epoch: Option<u64>,
        /// Where the image's root is assembled before the outputs are written from it:
        /// in memory (a private tmpfs, freed when the build ends however it ends) or on
        /// disk beside the outputs. Memory saves dpkg's and rpm's many small writes and
        /// syncs (about half of a minimal image's build time).
        #[arg(
            long,
            value_enum,
            default_value = "auto",
            env = "CAIRN_IMAGE_ROOT",
            value_name = "WHERE"
        )]
        image_root: ImageRootArg,
    },
    /// Boot a built disk image in QEMU with the serial console on this terminal
    /// (Ctrl-a x quits). With --check, wait until it reaches multi-user and exit 0, or
    /// exit 1 on timeout.
    Boot {
        /// Image whose disk to boot (out/IMAGE/IMAGE.raw, else .qcow2, else .vhd).
        image: String,
        /// Firmware: bios (SeaBIOS, with KVM when /dev/kvm works) or uefi (OVMF).
        #[arg(long, value_enum, default_value = "bios")]
        firmware: FirmwareArg,
        /// Wait for multi-user on the serial console, then stop the VM.
        #[arg(long)]
        check: bool,
        /// Seconds --check waits (default: 120 with KVM, 600 under software emulation).
        #[arg(long)]
        timeout: Option<u64>,
        /// kvm, tcg (software emulation), or auto.
        #[arg(long, value_enum, default_value = "auto")]
        accel: AccelArg,
        /// Guest memory in MiB.
        #[arg(long, default_value_t = 1024)]
        memory: u32,
        /// Let the guest write to the image (default: writes go to a throw-away snapshot).
        #[arg(long)]
        persist: bool,
        /// Forward 127.0.0.1:PORT to the guest's SSH port.
        #[arg(long, value_name = "PORT")]
        ssh_port: Option<u16>,
        /// Boot this disk file instead of the image's output.
        #[arg(long, value_name = "FILE")]
        disk: Option<PathBuf>,
        /// Directory with the build outputs (default: out/ beside the project file).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Components: the distribution's packages, defined as upstream specs plus overlays.
    #[command(subcommand, alias = "component")]
    Comp(comp::CompCommand),
    /// rpm-md repositories: publish signed metadata with advisories.
    #[command(subcommand)]
    Repo(publish::RepoCommand),
    /// The signing keys of published repositories: generate, rotate, list, export.
    #[command(subcommand)]
    Key(publish::KeyCommand),
    /// Security, bugfix and enhancement advisories published in updateinfo.xml.
    #[command(subcommand)]
    Advisory(publish::AdvisoryCommand),
    /// Print the JSON Schema of cairn.toml (`--include` for included files,
    /// `--overlay` for overlay files).
    Schema {
        /// The schema of files pulled in by `includes` (distros, components, groups).
        #[arg(long, conflicts_with = "overlay")]
        include: bool,
        /// The schema of `*.overlay.toml` files.
        #[arg(long)]
        overlay: bool,
    },
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
    if let Command::Schema { include, overlay } = cli.command {
        if include {
            print!("{}", cairn_component::json_schema());
        } else if overlay {
            print!("{}", cairn_component::overlay_file_schema());
        } else {
            print!("{}", cairn_config::json_schema());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Key(k) = &cli.command {
        return publish::run_key(cli, k);
    }
    if let Command::Repo(r) = &cli.command {
        // A repository can be published anywhere; advisories default to the project's.
        let project_dir = cairn_project::find_project(&dir, cli.project.as_deref())
            .ok()
            .filter(|p| !p.builtin)
            .map(|p| p.dir);
        return publish::run_repo(cli, project_dir.as_deref(), r);
    }
    let project = cairn_project::find_project(&dir, cli.project.as_deref())?;
    if let Command::Advisory(a) = &cli.command {
        let dir = if project.builtin {
            dir.clone()
        } else {
            project.dir.clone()
        };
        let name = project.name.clone().unwrap_or_else(|| "cairn".into());
        return publish::run_advisory(cli, &dir, &name, a);
    }
    let note = |msg: &str| {
        if !cli.quiet {
            eprintln!("{msg}");
        }
    };
    if project.builtin {
        note(&format!(
            "note: no {} in {}: using the built-in default project (images `minimal-vm` and `minimal-wsl`, packages from this machine's apt sources)",
            cairn_config::PROJECT_FILE,
            dir.display()
        ));
    }
    if let Command::Config = cli.command {
        println!("{}", serde_json::to_string_pretty(&project)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Boot { .. } = cli.command {
        return boot(cli, &project);
    }
    if let Command::Comp(c) = &cli.command {
        return comp::run(cli, &project, c);
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
        Command::Build {
            images,
            locked,
            outputs,
            out_dir,
            source_date_epoch,
            image_root,
        } => {
            let previous = cairn_project::read_lock(&lock_path)?;
            let stale = session.stale_definitions(previous.as_ref(), images)?;
            let lock = if stale.is_empty() {
                previous.expect("no stale images implies a lock")
            } else if *locked {
                progress.finish();
                bail!(
                    "{} is {} for image(s) {}: the image definition changed or was never locked; run `cairn lock` (or build without --locked)",
                    lock_path.display(),
                    if previous.is_some() {
                        "stale"
                    } else {
                        "missing"
                    },
                    stale.join(", ")
                );
            } else {
                note(&format!(
                    "locking {} (new or changed definition)",
                    stale.join(", ")
                ));
                let (lock, resolved) = session.lock(&stale, previous.clone(), &progress)?;
                cairn_project::write_atomic(&lock_path, lock.to_toml().as_bytes())?;
                for r in &resolved {
                    note(&format!(
                        "locked image `{}`: {} packages",
                        r.image,
                        r.locked.packages.len()
                    ));
                }
                lock
            };
            let names = image_names(&session, images);
            let fetched = session.fetch(&lock, &names, &progress)?;
            let by_key: std::collections::HashMap<_, _> = fetched
                .iter()
                .map(|f| (f.package.clone(), f.path.clone()))
                .collect();
            let out = out_dir
                .clone()
                .unwrap_or_else(|| session.project.dir.join("out"));
            let epoch = source_date_epoch.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            });
            let _ = ctrlc::set_handler(cairn_build::request_stop);
            let mut summaries = Vec::new();
            for n in &names {
                let image = &session.project.images[n];
                let li = &lock.images[n];
                let packages = li
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
                let input = cairn_build::BuildInput {
                    project: &session.project,
                    image,
                    arch: li.arch.clone(),
                    packages,
                    outputs: if outputs.is_empty() {
                        image.build.outputs.clone()
                    } else {
                        let mut o = outputs.clone();
                        o.sort();
                        o.dedup();
                        o
                    },
                    out_dir: out.clone(),
                    source_date_epoch: epoch,
                    image_root: (*image_root).into(),
                };
                let r = cairn_build::build_image(&input, &progress);
                let r = match r {
                    Err(e) if cairn_build::interrupted() => {
                        progress.finish();
                        eprintln!("error: {e}");
                        bail!(cairn_build::BuildError::Interrupted);
                    }
                    r => r.with_context(|| format!("building image `{n}`"))?,
                };
                summaries.push(r);
            }
            progress.finish();
            match cli.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&summaries)?),
                Output::Human => {
                    for s in &summaries {
                        print_build(s);
                    }
                    if source_date_epoch.is_none() && !cli.quiet {
                        eprintln!(
                            "note: time stamps are from now; set SOURCE_DATE_EPOCH (or --source-date-epoch) for bit-identical rebuilds"
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { .. }
        | Command::Config
        | Command::Boot { .. }
        | Command::Comp(_)
        | Command::Repo(_)
        | Command::Key(_)
        | Command::Advisory(_) => {
            unreachable!("handled above")
        }
    }
}

fn boot(cli: &Cli, project: &cairn_config::Project) -> Result<ExitCode> {
    let Command::Boot {
        image,
        firmware,
        check,
        timeout,
        accel,
        memory,
        persist,
        ssh_port,
        disk,
        out_dir,
    } = &cli.command
    else {
        unreachable!()
    };
    let out = out_dir.clone().unwrap_or_else(|| project.dir.join("out"));
    let disk = match disk {
        Some(d) => d.clone(),
        None => {
            if !project.images.contains_key(image) {
                let known: Vec<&str> = project.images.keys().map(String::as_str).collect();
                bail!(
                    "no image `{image}` in {}; it has: {}",
                    project.file,
                    known.join(", ")
                );
            }
            let dir = out.join(image);
            ["raw", "qcow2", "vhd"]
                .iter()
                .map(|ext| dir.join(format!("{image}.{ext}")))
                .find(|p| p.is_file())
                .with_context(|| {
                    format!(
                        "{} has no disk image ({image}.raw, .qcow2 or .vhd); add \"raw\" to the image's outputs and run `cairn build {image}`",
                        dir.display()
                    )
                })?
        }
    };
    let fw = match firmware {
        FirmwareArg::Bios => cairn_boot::Firmware::Bios,
        FirmwareArg::Uefi => cairn_boot::Firmware::Uefi,
    };
    let mut o = cairn_boot::BootOptions::new(&disk, fw);
    o.accel = match accel {
        AccelArg::Auto => cairn_boot::Accel::Auto,
        AccelArg::Kvm => cairn_boot::Accel::Kvm,
        AccelArg::Tcg => cairn_boot::Accel::Tcg,
    };
    o.memory_mib = *memory;
    o.persist = *persist;
    o.ssh_port = *ssh_port;
    let acc = cairn_boot::choose_accel(&o)?;
    o.timeout =
        std::time::Duration::from_secs(timeout.unwrap_or(if acc == "kvm" { 120 } else { 600 }));
    if !*check {
        if !cli.quiet {
            eprintln!(
                "booting {} ({fw:?}, {acc}); the serial console follows. Quit with Ctrl-a x.",
                disk.display()
            );
        }
        let st = cairn_boot::run_interactive(&o)?;
        return Ok(if st.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if !cli.quiet {
        eprintln!(
            "booting {} ({fw:?}, {acc}), waiting up to {} s for multi-user",
            disk.display(),
            o.timeout.as_secs()
        );
    }
    let verbose = !cli.quiet && cli.output == Output::Human;
    let r = cairn_boot::check(&o, &mut |l| {
        if verbose {
            eprintln!("  | {l}");
        }
    });
    match r {
        Ok(outcome) => {
            match cli.output {
                Output::Json => println!(
                    "{}",
                    serde_json::json!({
                        "disk": disk,
                        "firmware": format!("{fw:?}").to_lowercase(),
                        "accel": outcome.accel,
                        "reached": "multi-user",
                        "seconds": outcome.elapsed.as_secs_f64(),
                        "matched": outcome.matched,
                    })
                ),
                Output::Human => println!(
                    "{}: reached multi-user in {:.1} s ({fw:?}, {})",
                    disk.display(),
                    outcome.elapsed.as_secs_f64(),
                    outcome.accel
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (cairn_boot::BootError::Timeout { .. } | cairn_boot::BootError::Exited { .. })) => {
            if cli.output == Output::Json {
                println!(
                    "{}",
                    serde_json::json!({ "disk": disk, "reached": null, "error": e.to_string() })
                );
            }
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn print_build(s: &cairn_build::BuildSummary) {
    println!(
        "# image {} {}: {} packages ({} installed) -> {}",
        s.image,
        s.version,
        s.packages,
        human_size(s.installed_bytes),
        s.dir.display()
    );
    for o in &s.outputs {
        println!(
            "{:15} {:>10}  {}  {}",
            o.kind,
            if o.bytes > 0 {
                human_size(o.bytes)
            } else {
                "-".into()
            },
            o.digest.as_deref().unwrap_or("-"),
            o.path.display()
        );
    }
    let phases: Vec<String> = s
        .phases
        .iter()
        .map(|(p, t)| format!("{p} {t:.1}s"))
        .collect();
    println!(
        "# time: {} (root assembled in {})",
        phases.join(", "),
        s.image_root
    );
    for o in &s.outputs {
        let p = o.path.display();
        let hint = match o.kind.as_str() {
            "raw" => format!(
                "cairn boot {}   # serial console; --check waits for multi-user, --firmware uefi",
                s.image
            ),
            "vhd" => format!(
                "az storage blob upload --type page --file {p} ...   # a fixed VHD, ready for Azure"
            ),
            "qcow2" => format!("qemu-system-x86_64 -m 1G -drive file={p},if=virtio -nographic"),
            "wsl" => format!("wsl --install --from-file {p}   # on Windows, WSL 2.4.4 or later"),
            "docker-archive" => format!("podman load -i {p}"),
            "tar" => format!("podman import {p} {}:{}", s.image, s.version),
            _ => continue,
        };
        println!("# try: {hint}");
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
