//! `cairn repo publish`, `cairn key …` and `cairn advisory …`: signed rpm-md repositories,
//! their signing keys and their security advisories.

use crate::{Cli, Output};
use anyhow::{Context as _, Result, bail};
use cairn_openpgp::KeyAlgo;
use cairn_publish::{Compression, KeyStore, PublishOptions, PublishReporter, Signing};
use cairn_rpmmd::updateinfo::{
    Advisory, AdvisoryKind, AdvisoryPackage, RefKind, Reference, Severity,
};
use clap::{Subcommand, ValueEnum};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// Write (or update) an rpm-md repository from the RPMs in DIR: metadata in
    /// repodata/, packages and repomd.xml signed with the active key of the key store,
    /// advisories in updateinfo.xml. Readers never see a half-written repository.
    Publish {
        /// Repository directory (packages anywhere below it).
        dir: PathBuf,
        /// Copy these RPMs into DIR/Packages/<letter>/ first (signed on the way).
        #[arg(long, value_name = "RPM")]
        add: Vec<PathBuf>,
        /// Key store whose active key signs (see `cairn key generate`).
        #[arg(long, env = "CAIRN_KEYS", value_name = "DIR")]
        keys: Option<PathBuf>,
        /// Publish without signatures (clients then need gpgcheck=0 and repo_gpgcheck=0).
        #[arg(long, conflicts_with = "keys")]
        no_sign: bool,
        /// Advisory records to publish in updateinfo.xml (default: advisories/ beside the
        /// project file when it exists).
        #[arg(long, value_name = "DIR")]
        advisories: Option<PathBuf>,
        /// Compression of the metadata files.
        #[arg(long, value_enum, default_value = "zstd")]
        compress: CompressArg,
        /// How long superseded metadata stays for clients mid-update (e.g. 30m, 24h, 2d; 0
        /// removes it at once).
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        keep_old: Duration,
        /// Read every package again instead of reusing cached metadata.
        #[arg(long)]
        full: bool,
        /// Threads reading package headers (default: the number of CPUs).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// Name of the public key file written into DIR.
        #[arg(long, default_value = "RPM-GPG-KEY-cairn")]
        key_file: String,
        /// Publish time (seconds since 1970): repomd revision, timestamps and signatures.
        #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
        source_date_epoch: Option<u64>,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompressArg {
    Zstd,
    Gz,
    Xz,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlgoArg {
    Ed25519,
    Rsa4096,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create the key store's first signing key (secret key mode 0600, directory 0700).
    Generate {
        #[arg(long, env = "CAIRN_KEYS", value_name = "DIR")]
        keys: PathBuf,
        /// Key owner, e.g. "Example Linux <security@example.org>".
        #[arg(long)]
        user_id: String,
        #[arg(long, value_enum, default_value = "ed25519")]
        algo: AlgoArg,
    },
    /// Generate a new active key and retire the current one (still exported, so packages
    /// it signed stay trusted until `cairn key remove`).
    Rotate {
        #[arg(long, env = "CAIRN_KEYS", value_name = "DIR")]
        keys: PathBuf,
        /// Owner of the new key (default: the current key's).
        #[arg(long)]
        user_id: Option<String>,
        #[arg(long, value_enum, default_value = "ed25519")]
        algo: AlgoArg,
    },
    /// List the keys of the store.
    List {
        #[arg(long, env = "CAIRN_KEYS", value_name = "DIR")]
        keys: PathBuf,
    },
    /// Print the armored public keys clients import (active first, then retired).
    Export {
        #[arg(long, env = "CAIRN_KEYS", value_name = "DIR")]
        keys: PathBuf,
    },
    /// Delete a retired key: clients refreshing the key file stop trusting it.
    Remove {
        #[arg(long, env = "CAIRN_KEYS", value_name = "DIR")]
        keys: PathBuf,
        fingerprint: String,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Security,
    Bugfix,
    Enhancement,
    Newpackage,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Low,
    Moderate,
    Important,
    Critical,
}

// Parsed once per process: the size of the biggest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum AdvisoryCommand {
    /// Record an advisory in advisories/<ID>.toml; the next publish puts it into
    /// updateinfo.xml.
    New {
        /// Advisory id (default: the next PREFIX-YEAR-NNNN).
        #[arg(long)]
        id: Option<String>,
        /// Prefix of generated ids (default: the project name in capitals).
        #[arg(long)]
        prefix: Option<String>,
        #[arg(long = "type", value_enum)]
        kind: KindArg,
        /// Required for security advisories.
        #[arg(long, value_enum)]
        severity: Option<SeverityArg>,
        #[arg(long)]
        title: String,
        #[arg(long, conflicts_with = "description_file")]
        description: Option<String>,
        #[arg(long, value_name = "FILE")]
        description_file: Option<PathBuf>,
        /// CVE fixed (repeatable).
        #[arg(long, value_name = "CVE-YYYY-NNNN")]
        cve: Vec<String>,
        /// Bug tracker URL (repeatable).
        #[arg(long, value_name = "URL")]
        bug: Vec<String>,
        /// Other reference URL (repeatable).
        #[arg(long = "ref", value_name = "URL")]
        reference: Vec<String>,
        /// Fixed package as NAME-[EPOCH:]VERSION-RELEASE.ARCH (repeatable, at least one).
        #[arg(long = "package", value_name = "NEVRA", required = true)]
        packages: Vec<String>,
        /// A reboot is suggested after applying it (kernels, glibc, systemd).
        #[arg(long)]
        reboot_suggested: bool,
        /// Issuer, e.g. security@example.org.
        #[arg(long)]
        from: Option<String>,
        /// Release the advisory belongs to, e.g. "Example Linux 1".
        #[arg(long)]
        release: Option<String>,
        /// Advisory directory (default: advisories/ beside the project file).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Issue time (seconds since 1970; default now).
        #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
        issued: Option<u64>,
    },
    /// List recorded advisories.
    List {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Parse `90s`, `30m`, `24h`, `2d` or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        Some((i, 'd')) => (&s[..i], 86_400),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (expected e.g. 90s, 30m, 24h, 2d)"))?;
    Ok(Duration::from_secs(n * mult))
}

fn time_of(secs: Option<u64>) -> SystemTime {
    secs.map_or_else(SystemTime::now, |s| UNIX_EPOCH + Duration::from_secs(s))
}

fn algo(a: AlgoArg) -> KeyAlgo {
    match a {
        AlgoArg::Ed25519 => KeyAlgo::Ed25519,
        AlgoArg::Rsa4096 => KeyAlgo::Rsa4096,
    }
}

struct StepReporter {
    show: bool,
}

impl PublishReporter for StepReporter {
    fn step(&self, step: &str) {
        // A test hook: die without cleanup at a named step, like a SIGKILL there.
        if std::env::var("CAIRN_TEST_ABORT_AT").is_ok_and(|s| s == step) {
            std::process::abort();
        }
        if self.show {
            eprintln!("publish: {step}");
        }
    }
    fn read_progress(&self, done: usize, total: usize) {
        if self.show && (done == total || done.is_multiple_of(500)) {
            eprintln!("publish: read {done}/{total} package headers");
        }
    }
}

pub fn run_repo(cli: &Cli, project_dir: Option<&Path>, cmd: &RepoCommand) -> Result<ExitCode> {
    let RepoCommand::Publish {
        dir,
        add,
        keys,
        no_sign,
        advisories,
        compress,
        keep_old,
        full,
        jobs,
        key_file,
        source_date_epoch,
    } = cmd;
    let signing = match (keys, no_sign) {
        (_, true) => None,
        (Some(k), false) => {
            let store = KeyStore::open(k)?;
            Some(Signing::from_store(&store, key_file)?)
        }
        (None, false) => bail!(
            "no signing key: pass --keys DIR (or set CAIRN_KEYS) with a key store made by \
             `cairn key generate`, or publish unsigned with --no-sign"
        ),
    };
    let adv_dir = advisories
        .clone()
        .or_else(|| project_dir.map(|d| d.join("advisories")));
    let advisories = match &adv_dir {
        Some(d) => cairn_publish::load_advisories(d)?,
        None => Vec::new(),
    };
    let opts = PublishOptions {
        repo: dir.clone(),
        add: add.clone(),
        signing,
        advisories,
        compression: match compress {
            CompressArg::Zstd => Compression::Zstd,
            CompressArg::Gz => Compression::Gz,
            CompressArg::Xz => Compression::Xz,
        },
        keep_old: *keep_old,
        now: time_of(*source_date_epoch),
        jobs: jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        full: *full,
    };
    let rep = StepReporter {
        show: !cli.quiet && cli.output == Output::Human && std::io::stderr().is_terminal(),
    };
    let summary = cairn_publish::publish(&opts, &rep)?;
    match cli.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        Output::Human => {
            println!(
                "published {}: {} packages ({} read, {} from cache), {} advisories, revision {}",
                summary.repo.display(),
                summary.packages,
                summary.read,
                summary.reused,
                summary.advisories,
                summary.revision
            );
            for m in &summary.metadata {
                println!("  {:<10} {} ({} bytes)", m.kind, m.location, m.size);
            }
            match &summary.signed_by {
                Some(f) => println!("  signed by {f}"),
                None => println!("  unsigned"),
            }
            for s in &summary.advisory_packages_missing {
                eprintln!("warning: advisory package not in the repository, left out: {s}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_key(cli: &Cli, cmd: &KeyCommand) -> Result<ExitCode> {
    let now = SystemTime::now();
    match cmd {
        KeyCommand::Generate {
            keys,
            user_id,
            algo: a,
        } => {
            let mut store = KeyStore::open(keys)?;
            let e = store.generate(user_id, algo(*a), now)?;
            print_entry(cli, &e)?;
            if !cli.quiet {
                eprintln!(
                    "secret key: {} (mode 0600); keep it out of version control",
                    keys.join(format!("{}.secret.asc", e.fingerprint)).display()
                );
            }
        }
        KeyCommand::Rotate {
            keys,
            user_id,
            algo: a,
        } => {
            let mut store = KeyStore::open(keys)?;
            let (new, old) = store.rotate(user_id.as_deref(), algo(*a), now)?;
            print_entry(cli, &new)?;
            if let Some(o) = old
                && !cli.quiet
            {
                eprintln!(
                    "retired {}; it stays in the exported key file until `cairn key remove`",
                    o.fingerprint
                );
            }
        }
        KeyCommand::List { keys } => {
            let store = KeyStore::open(keys)?;
            match cli.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(store.entries())?),
                Output::Human => {
                    for e in store.entries() {
                        println!(
                            "{} {:<7} {:<8} {}",
                            e.fingerprint,
                            format!("{:?}", e.status).to_lowercase(),
                            e.algorithm,
                            e.user_id
                        );
                    }
                }
            }
        }
        KeyCommand::Export { keys } => {
            let store = KeyStore::open(keys)?;
            if store.entries().is_empty() {
                bail!("{}: the key store holds no keys", keys.display());
            }
            print!("{}", store.public_keys_armored()?);
        }
        KeyCommand::Remove { keys, fingerprint } => {
            let mut store = KeyStore::open(keys)?;
            let e = store.remove(fingerprint)?;
            print_entry(cli, &e)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_entry(cli: &Cli, e: &cairn_publish::KeyEntry) -> Result<()> {
    match cli.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(e)?),
        Output::Human => println!("{} {}", e.fingerprint, e.user_id),
    }
    Ok(())
}

/// Split `name-[epoch:]version-release.arch`.
fn parse_nevra(s: &str) -> Result<AdvisoryPackage> {
    let bad = || {
        anyhow::anyhow!(
            "--package {s}: expected NAME-[EPOCH:]VERSION-RELEASE.ARCH, e.g. hello-2.1-3.cn1.x86_64"
        )
    };
    let (rest, arch) = s.rsplit_once('.').ok_or_else(bad)?;
    let (rest, release) = rest.rsplit_once('-').ok_or_else(bad)?;
    let (name, ev) = rest.rsplit_once('-').ok_or_else(bad)?;
    let (epoch, version) = match ev.split_once(':') {
        Some((e, v)) => (e.parse::<u32>().map_err(|_| bad())?, v),
        None => (0, ev),
    };
    if name.is_empty() || version.is_empty() || release.is_empty() || arch.is_empty() {
        return Err(bad());
    }
    Ok(AdvisoryPackage {
        name: name.to_owned(),
        epoch,
        version: version.to_owned(),
        release: release.to_owned(),
        arch: arch.to_owned(),
        src: String::new(),
        // the usual file name; publish replaces it with the repository's actual one
        filename: format!("{name}-{version}-{release}.{arch}.rpm"),
    })
}

pub fn run_advisory(
    cli: &Cli,
    project_dir: &Path,
    project_name: &str,
    cmd: &AdvisoryCommand,
) -> Result<ExitCode> {
    match cmd {
        AdvisoryCommand::New {
            id,
            prefix,
            kind,
            severity,
            title,
            description,
            description_file,
            cve,
            bug,
            reference,
            packages,
            reboot_suggested,
            from,
            release,
            dir,
            issued,
        } => {
            let dir = dir
                .clone()
                .unwrap_or_else(|| project_dir.join("advisories"));
            let issued = issued.unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
            let id = match id {
                Some(i) => i.clone(),
                None => {
                    let prefix = prefix.clone().unwrap_or_else(|| {
                        project_name
                            .chars()
                            .map(|c| {
                                if c.is_ascii_alphanumeric() {
                                    c.to_ascii_uppercase()
                                } else {
                                    '-'
                                }
                            })
                            .collect()
                    });
                    let year = year_of(issued).unwrap_or(1970);
                    cairn_publish::next_advisory_id(&dir, &prefix, year)?
                }
            };
            let description = match (description, description_file) {
                (Some(d), _) => d.clone(),
                (None, Some(f)) => fs_err::read_to_string(f)?,
                (None, None) => {
                    bail!("an advisory needs --description TEXT or --description-file FILE")
                }
            };
            let mut references = Vec::new();
            for c in cve {
                references.push(Reference {
                    kind: RefKind::Cve,
                    id: c.clone(),
                    href: format!("https://www.cve.org/CVERecord?id={c}"),
                    title: c.clone(),
                });
            }
            for b in bug {
                references.push(Reference {
                    kind: RefKind::Bugzilla,
                    id: b.rsplit(['/', '=']).next().unwrap_or(b).to_owned(),
                    href: b.clone(),
                    title: String::new(),
                });
            }
            for r in reference {
                references.push(Reference {
                    kind: RefKind::Other,
                    id: r.clone(),
                    href: r.clone(),
                    title: String::new(),
                });
            }
            let packages = packages
                .iter()
                .map(|p| parse_nevra(p))
                .collect::<Result<Vec<_>>>()?;
            let advisory = Advisory {
                id,
                kind: match kind {
                    KindArg::Security => AdvisoryKind::Security,
                    KindArg::Bugfix => AdvisoryKind::Bugfix,
                    KindArg::Enhancement => AdvisoryKind::Enhancement,
                    KindArg::Newpackage => AdvisoryKind::Newpackage,
                },
                severity: severity.map(|s| match s {
                    SeverityArg::Low => Severity::Low,
                    SeverityArg::Moderate => Severity::Moderate,
                    SeverityArg::Important => Severity::Important,
                    SeverityArg::Critical => Severity::Critical,
                }),
                title: title.clone(),
                issued,
                updated: None,
                description,
                solution: None,
                release: release.clone(),
                from: from.clone().unwrap_or_default(),
                status: "stable".into(),
                references,
                packages,
                reboot_suggested: *reboot_suggested,
            };
            let path = cairn_publish::write_new_advisory(&dir, &advisory)?;
            match cli.output {
                Output::Json => println!(
                    "{}",
                    serde_json::json!({ "id": advisory.id, "path": path, "advisory": advisory })
                ),
                Output::Human => println!("{} {}", advisory.id, path.display()),
            }
        }
        AdvisoryCommand::List { dir } => {
            let dir = dir
                .clone()
                .unwrap_or_else(|| project_dir.join("advisories"));
            let all = cairn_publish::load_advisories(&dir)
                .with_context(|| format!("reading advisories in {}", dir.display()))?;
            match cli.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&all)?),
                Output::Human => {
                    for a in &all {
                        println!(
                            "{:<20} {:<12} {:<10} {}",
                            a.id,
                            format!("{:?}", a.kind).to_lowercase(),
                            a.severity
                                .map(|s| format!("{s:?}").to_lowercase())
                                .unwrap_or_else(|| "-".into()),
                            a.title
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The civil (UTC) year of a time stamp.
fn year_of(secs: u64) -> Option<i64> {
    let days = i64::try_from(secs / 86_400).ok()?;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    Some(if m <= 2 { y + 1 } else { y })
}
