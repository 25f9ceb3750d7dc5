//! Running the host's apt-get with private state, and checking what it fetched.

use crate::{AptError, AptSourceConfig, DebRef, Reporter};
use cairn_cache::{Cache, hash_bytes, hash_reader};
use cairn_deb822::{Paragraph, ParagraphReader, parse_packages, parse_release};
use cairn_package::{Checksum, ChecksumAlgo, RepoId, RepoPackages};
use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs apt-get on behalf of cairn. Each source config gets its own apt state under
/// `<cache>/apt/<hash of the config>/`, so the host's apt state is never read or written.
#[derive(Debug, Clone)]
pub struct AptClient {
    cache: Cache,
    offline: bool,
    apt_get: PathBuf,
}

/// The private directories of one source config.
#[derive(Debug)]
struct Private {
    root: PathBuf,
}

impl Private {
    fn sources(&self) -> PathBuf {
        self.root.join("etc/cairn.sources")
    }
    fn conf(&self) -> PathBuf {
        self.root.join("etc/cairn.conf")
    }
}

/// One `Packages` index apt keeps for a source (from `apt-get indextargets`).
#[derive(Debug)]
struct IndexTarget {
    /// `main/binary-amd64/Packages`
    meta_key: String,
    /// Suite as written in the sources (`bookworm`).
    release: String,
    /// The local file apt stores the index in.
    filename: PathBuf,
}

impl AptClient {
    pub fn new(cache: Cache, offline: bool) -> Self {
        AptClient {
            cache,
            offline,
            apt_get: PathBuf::from("apt-get"),
        }
    }

    /// Use another `apt-get` binary (tests use this to check the "apt missing" error).
    pub fn with_apt_get(mut self, path: impl Into<PathBuf>) -> Self {
        self.apt_get = path.into();
        self
    }

    /// Update the source's indices with `apt-get update` (unless offline), verify them,
    /// and load the packages of `src.arch` and `all`.
    ///
    /// Offline, the indices from an earlier update are used; when one is missing the error
    /// names the source and the index.
    pub fn update_and_load(
        &self,
        src: &AptSourceConfig,
        reporter: &dyn Reporter,
    ) -> Result<RepoPackages, AptError> {
        reporter.update_started(&src.id);
        let private = self.prepare(src)?;
        if !self.offline {
            self.run(src, &private, &["update"], None)?;
        }
        let targets = self.index_targets(src, &private)?;
        let mut missing = Vec::new();
        for t in &targets {
            if !t.filename.is_file() {
                missing.push(format!(
                    "{} {} index ({})",
                    t.release,
                    t.meta_key,
                    t.filename.display()
                ));
            }
        }
        for suite in &src.suites {
            if !targets.iter().any(|t| &t.release == suite) {
                for comp in &src.components {
                    missing.push(format!(
                        "{suite} {comp}/binary-{}/Packages index (never fetched)",
                        src.arch
                    ));
                }
            }
        }
        if !missing.is_empty() {
            if self.offline {
                return Err(AptError::OfflineMissing {
                    source_id: src.id.clone(),
                    suites: src.describe(),
                    missing,
                });
            }
            return Err(AptError::Index {
                source_id: src.id.clone(),
                index: missing.join(", "),
                reason: "apt-get update succeeded but did not leave this index".into(),
            });
        }

        let ring = self.keyring(src)?;
        let mut releases = HashMap::new();
        let mut revision_input = Vec::new();
        for suite in &src.suites {
            let Some(first) = targets.iter().find(|t| &t.release == suite) else {
                continue;
            };
            let inrelease = inrelease_path(first)?;
            let raw = fs_err::read(&inrelease).map_err(|e| {
                if self.offline && e.kind() == std::io::ErrorKind::NotFound {
                    AptError::OfflineMissing {
                        source_id: src.id.clone(),
                        suites: src.describe(),
                        missing: vec![format!("{suite} InRelease ({})", inrelease.display())],
                    }
                } else {
                    e.into()
                }
            })?;
            revision_input.extend_from_slice(hash_bytes(ChecksumAlgo::Sha256, &raw).hex.as_bytes());
            let what = format!("{suite} InRelease ({})", inrelease.display());
            let (body, _) = cairn_openpgp::verify_cleartext(&ring, &raw, &what).map_err(|e| {
                AptError::Signature {
                    source_id: src.id.clone(),
                    what: what.clone(),
                    reason: e.to_string(),
                }
            })?;
            releases.insert(suite.clone(), parse_release(&body, &what)?);
        }
        let revision = if src.suites.len() == 1 {
            // The digest of the one InRelease file itself.
            Checksum::new(
                ChecksumAlgo::Sha256,
                String::from_utf8_lossy(&revision_input).into_owned(),
            )
        } else {
            hash_bytes(ChecksumAlgo::Sha256, &revision_input)
        };

        let mut packages = Vec::new();
        for t in &targets {
            let release = &releases[&t.release];
            let Some(entry) = release.file(&t.meta_key) else {
                return Err(AptError::Index {
                    source_id: src.id.clone(),
                    index: format!("{} {}", t.release, t.meta_key),
                    reason: "the suite's InRelease does not list it, so it cannot be checked"
                        .into(),
                });
            };
            let index_err = |reason: String| AptError::Index {
                source_id: src.id.clone(),
                index: t.filename.display().to_string(),
                reason,
            };
            // hash while parsing (no copy of a 90 MB index in memory); a parse error on
            // data that also fails the checksum is reported as the checksum mismatch
            let mut input = BufReader::with_capacity(
                256 * 1024,
                HashCount {
                    inner: open_index(&t.filename, &t.meta_key).map_err(index_err)?,
                    hasher: cairn_cache::Hasher::new(ChecksumAlgo::Sha256),
                    count: 0,
                },
            );
            let origin = format!("{} {} ({})", t.release, t.meta_key, t.filename.display());
            let parsed = parse_packages(&mut input, &origin);
            std::io::copy(&mut input, &mut std::io::sink())
                .map_err(|e| index_err(format!("reading: {e}")))?;
            let hc = input.into_inner();
            let actual = hc.hasher.finish();
            if actual.hex != entry.sha256 || hc.count != entry.size {
                return Err(AptError::ChecksumMismatch {
                    source_id: src.id.clone(),
                    package: format!(
                        "index {} {} ({})",
                        t.release,
                        t.meta_key,
                        t.filename.display()
                    ),
                    expected: format!("{} ({} bytes, from InRelease)", entry.sha256, entry.size),
                    actual: format!("{} ({} bytes)", actual.hex, hc.count),
                });
            }
            packages.extend(
                parsed?
                    .into_iter()
                    .filter(|p| p.arch == src.arch || p.arch == "all"),
            );
        }
        reporter.update_finished(&src.id, packages.len());
        Ok(RepoPackages {
            repo: RepoId(src.id.clone()),
            priority: src.priority,
            revision,
            base_urls: src.uris.clone(),
            packages,
        })
    }

    /// Make sure every wanted `.deb` is in the cache, downloading the missing ones with
    /// `apt-get download`, and return their cache paths in the order of `wanted`.
    ///
    /// Offline, all of them must already be cached; the error lists the missing ones.
    pub fn fetch_debs(
        &self,
        src: &AptSourceConfig,
        wanted: &[DebRef],
        reporter: &dyn Reporter,
    ) -> Result<Vec<PathBuf>, AptError> {
        let mut paths: Vec<Option<PathBuf>> = Vec::with_capacity(wanted.len());
        let mut missing = Vec::new();
        for (i, d) in wanted.iter().enumerate() {
            let found = self.cache.get(&d.checksum, false)?;
            if found.is_some() {
                reporter.package_ready(&src.id, &d.name, true);
            } else {
                missing.push(i);
            }
            paths.push(found);
        }
        if missing.is_empty() {
            return Ok(paths.into_iter().flatten().collect());
        }
        if self.offline {
            return Err(AptError::OfflineMissing {
                source_id: src.id.clone(),
                suites: src.describe(),
                missing: missing.iter().map(|&i| wanted[i].spec()).collect(),
            });
        }
        reporter.download_started(&src.id, missing.len());
        let private = self.prepare(src)?;
        if !self.has_lists(src, &private)? {
            self.run(src, &private, &["update"], None)?;
        }
        let scratch = self.cache.tempdir()?;
        let mut args = vec!["download".to_owned()];
        args.extend(missing.iter().map(|&i| wanted[i].spec()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(src, &private, &args, Some(scratch.path()))?;

        // Match downloaded files to requests by content: apt's file names escape epochs.
        let mut by_hash: HashMap<String, PathBuf> = HashMap::new();
        let mut files = Vec::new();
        for e in fs_err::read_dir(scratch.path())? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "deb") {
                let sum = hash_reader(
                    ChecksumAlgo::Sha256,
                    BufReader::new(fs_err::File::open(&p)?),
                )?;
                by_hash.insert(sum.hex.clone(), p.clone());
                files.push((p, sum));
            }
        }
        for &i in &missing {
            let d = &wanted[i];
            let Some(file) = by_hash.get(&d.checksum.hex) else {
                let prefix = format!("{}_", d.name);
                let got = files.iter().find(|(p, _)| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                });
                return Err(match got {
                    Some((p, sum)) => AptError::ChecksumMismatch {
                        source_id: src.id.clone(),
                        package: format!("{} ({})", d.spec(), p.display()),
                        expected: d.checksum.hex.clone(),
                        actual: sum.hex.clone(),
                    },
                    None => AptError::NotInSource {
                        source_id: src.id.clone(),
                        suites: src.describe(),
                        missing: vec![d.spec()],
                    },
                });
            };
            let origin = format!("{} from source {}", d.spec(), src.id);
            let (_, path) = self.cache.insert(
                BufReader::new(fs_err::File::open(file)?),
                Some(&d.checksum),
                &origin,
            )?;
            reporter.package_ready(&src.id, &d.name, false);
            paths[i] = Some(path);
        }
        Ok(paths.into_iter().flatten().collect())
    }

    /// The keyring made of the source's Signed-By files.
    fn keyring(&self, src: &AptSourceConfig) -> Result<cairn_openpgp::Keyring, AptError> {
        let mut ring = cairn_openpgp::Keyring::new();
        for path in &src.signed_by {
            ring.add_file(path).map_err(|e| AptError::Signature {
                source_id: src.id.clone(),
                what: format!("keyring {}", path.display()),
                reason: e.to_string(),
            })?;
        }
        Ok(ring)
    }

    /// Create the private directories and write the sources list and config for `src`.
    fn prepare(&self, src: &AptSourceConfig) -> Result<Private, AptError> {
        if src.suites.is_empty() || src.uris.is_empty() {
            return Err(AptError::Config {
                path: PathBuf::from(&src.id),
                reason: "a Debian source needs at least one URI and one suite".into(),
            });
        }
        if src.signed_by.is_empty() {
            return Err(AptError::Config {
                path: PathBuf::from(&src.id),
                reason:
                    "a Debian source needs Signed-By keyrings; cairn does not use unsigned archives"
                        .into(),
            });
        }
        for k in &src.signed_by {
            if !k.is_absolute() || !k.is_file() {
                return Err(AptError::Config {
                    path: k.clone(),
                    reason: format!(
                        "keyring of source {} is not an existing absolute path",
                        src.id
                    ),
                });
            }
        }
        let sources = sources_text(src);
        let key = hash_bytes(ChecksumAlgo::Sha256, sources.as_bytes()).hex;
        let private = Private {
            root: self.cache.root().join("apt").join(&key[..32]),
        };
        for d in [
            "etc/preferences.d",
            "state/lists/partial",
            "cache/archives/partial",
        ] {
            fs_err::create_dir_all(private.root.join(d))?;
        }
        write_if_changed(&private.sources(), &sources)?;
        write_if_changed(&private.conf(), CONF)?;
        write_if_changed(&private.root.join("etc/preferences"), "")?;
        let status = private.root.join("state/status");
        if !status.exists() {
            write_if_changed(&status, "")?;
        }
        Ok(private)
    }

    /// `-c <conf> -o …`: everything that keeps apt inside the private directories.
    fn options(&self, src: &AptSourceConfig, p: &Private) -> Vec<String> {
        let r = p.root.display();
        let mut v = vec!["-c".to_owned(), p.conf().display().to_string()];
        for (k, val) in [
            ("Dir::State", format!("{r}/state")),
            ("Dir::State::Lists", format!("{r}/state/lists")),
            ("Dir::State::status", format!("{r}/state/status")),
            ("Dir::Cache", format!("{r}/cache")),
            ("Dir::Cache::archives", format!("{r}/cache/archives")),
            ("Dir::Etc::SourceList", p.sources().display().to_string()),
            ("Dir::Etc::SourceParts", "/dev/null".to_owned()),
            ("Dir::Etc::Preferences", format!("{r}/etc/preferences")),
            (
                "Dir::Etc::PreferencesParts",
                format!("{r}/etc/preferences.d"),
            ),
            ("APT::Architecture", src.arch.clone()),
            ("APT::Architectures", src.arch.clone()),
            ("Acquire::Languages", "none".to_owned()),
            ("Acquire::GzipIndexes", "false".to_owned()),
        ] {
            v.push("-o".to_owned());
            v.push(format!("{k}={val}"));
        }
        v
    }

    fn run(
        &self,
        src: &AptSourceConfig,
        p: &Private,
        args: &[&str],
        cwd: Option<&Path>,
    ) -> Result<String, AptError> {
        let mut cmd = Command::new(&self.apt_get);
        cmd.args(self.options(src, p))
            .arg("-q")
            .args(args)
            .env("LC_ALL", "C.UTF-8");
        if let Some(d) = cwd {
            cmd.current_dir(d);
        }
        let command = format!(
            "{} {}",
            self.apt_get.display(),
            cmd.get_args()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let out = cmd.output().map_err(|e| AptError::AptMissing {
            reason: format!("{}: {e}", self.apt_get.display()),
        })?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && !stderr.lines().any(|l| l.starts_with("E:")) {
            return Ok(stdout);
        }
        // apt signals bad signatures on stderr and keeps the old lists; name it as such.
        if let Some(line) = stderr.lines().find(|l| is_signature_problem(l)) {
            return Err(AptError::Signature {
                source_id: src.id.clone(),
                what: format!("{} InRelease (checked by apt)", src.suites.join(", ")),
                reason: line
                    .trim_start_matches("W: ")
                    .trim_start_matches("E: ")
                    .to_owned(),
            });
        }
        let not_found: Vec<String> = stderr.lines().filter_map(not_found_spec).collect();
        if !not_found.is_empty() {
            return Err(AptError::NotInSource {
                source_id: src.id.clone(),
                suites: src.describe(),
                missing: not_found,
            });
        }
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        Err(AptError::AptGet {
            command,
            status: out.status.to_string(),
            stderr_tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        })
    }

    /// The `Packages` indices apt keeps for `src` (for `src.arch`), from `apt-get
    /// indextargets`, which reads only local files.
    fn index_targets(
        &self,
        src: &AptSourceConfig,
        p: &Private,
    ) -> Result<Vec<IndexTarget>, AptError> {
        // `apt-get indextargets` builds apt's whole package cache in memory first (~0.7 s
        // for bookworm). Its answer only changes when `apt-get update` runs, so it is kept
        // beside the private state and reused offline.
        let saved = p.root.join("indextargets");
        let out = match fs_err::read_to_string(&saved) {
            Ok(text) if self.offline => text,
            _ => {
                let out = self.run(src, p, &["indextargets", "Identifier: Packages"], None)?;
                let mut tmp = tempfile::NamedTempFile::new_in(&p.root)?;
                std::io::Write::write_all(&mut tmp, out.as_bytes())?;
                tmp.as_file().sync_all()?;
                tmp.persist(&saved).map_err(|e| e.error)?;
                out
            }
        };
        let mut rd = ParagraphReader::new(out.as_bytes(), "apt-get indextargets");
        let mut para = Paragraph::default();
        let mut v = Vec::new();
        while rd.read_into(&mut para)? {
            let get = |f: &str| para.get(f).unwrap_or_default().to_owned();
            if para.get("Architecture").is_some_and(|a| a != src.arch) {
                continue;
            }
            v.push(IndexTarget {
                meta_key: get("MetaKey"),
                release: get("Release"),
                filename: PathBuf::from(get("Filename")),
            });
        }
        Ok(v)
    }

    fn has_lists(&self, src: &AptSourceConfig, p: &Private) -> Result<bool, AptError> {
        let t = self.index_targets(src, p)?;
        Ok(!t.is_empty() && t.iter().all(|t| t.filename.is_file()))
    }
}

/// Extra apt configuration read after the host's: drop the host's update hooks (they
/// clean the host's archive cache and poke PackageKit), keep everything else (registry and
/// proxy settings).
const CONF: &str = "// written by cairn: private apt configuration for one Debian source\n\
#clear APT::Update::Pre-Invoke;\n\
#clear APT::Update::Post-Invoke;\n\
#clear APT::Update::Post-Invoke-Success;\n\
#clear DPkg::Pre-Invoke;\n\
#clear DPkg::Post-Invoke;\n";

/// The deb822 sources file apt gets: only `Packages` targets, signed by the keyrings.
fn sources_text(src: &AptSourceConfig) -> String {
    let keys: Vec<String> = src
        .signed_by
        .iter()
        .map(|k| k.display().to_string())
        .collect();
    format!(
        "Types: deb\nURIs: {}\nSuites: {}\nComponents: {}\nArchitectures: {}\nSigned-By: {}\nTargets: Packages\n",
        src.uris.join(" "),
        src.suites.join(" "),
        src.components.join(" "),
        src.arch,
        keys.join(" "),
    )
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), AptError> {
    if fs_err::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    fs_err::write(&tmp, text)?;
    fs_err::rename(&tmp, path)?;
    Ok(())
}

/// apt stores `<mangled suite URI><mangled meta key>[.ext]`; the suite's InRelease sits
/// beside it as `<mangled suite URI>InRelease`.
fn inrelease_path(t: &IndexTarget) -> Result<PathBuf, AptError> {
    let name = t
        .filename
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let key = t.meta_key.replace('/', "_");
    let Some(pos) = name.rfind(&key) else {
        return Err(AptError::Index {
            source_id: String::new(),
            index: t.filename.display().to_string(),
            reason: format!("apt's file name does not contain {key:?}"),
        });
    };
    Ok(t.filename
        .with_file_name(format!("{}InRelease", &name[..pos])))
}

/// The uncompressed bytes of an index apt stored (plain, or lz4 when the host's apt
/// configuration makes apt keep it compressed), as a stream.
fn open_index(path: &Path, meta_key: &str) -> Result<Box<dyn Read>, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    if name.ends_with(".lz4") {
        Ok(Box::new(lz4_flex::frame::FrameDecoder::new(
            BufReader::new(file),
        )))
    } else if name.ends_with(&meta_key.replace('/', "_")) {
        Ok(Box::new(file))
    } else {
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        Err(format!(
            "apt kept it compressed as .{ext}, which cairn does not read"
        ))
    }
}

/// Counts and hashes what passes through.
struct HashCount {
    inner: Box<dyn Read>,
    hasher: cairn_cache::Hasher,
    count: u64,
}

impl Read for HashCount {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

fn is_signature_problem(line: &str) -> bool {
    [
        "NO_PUBKEY",
        "GPG error",
        "is not signed",
        "BADSIG",
        "EXPKEYSIG",
        "signature",
        "Signed-By",
    ]
    .iter()
    .any(|m| line.contains(m))
        && (line.starts_with("W:") || line.starts_with("E:"))
}

/// `E: Version '9.9' for 'hostname' was not found` → `hostname=9.9`;
/// `E: Unable to locate package foo` → `foo`.
fn not_found_spec(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("E: Version '") {
        let (version, rest) = rest.split_once("' for '")?;
        let (name, _) = rest.split_once("' was not found")?;
        return Some(format!("{name}={version}"));
    }
    line.strip_prefix("E: Unable to locate package ")
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_messages() {
        assert_eq!(
            not_found_spec("E: Version '9.9' for 'hostname' was not found").as_deref(),
            Some("hostname=9.9")
        );
        assert_eq!(
            not_found_spec("E: Unable to locate package nosuch").as_deref(),
            Some("nosuch")
        );
        assert_eq!(not_found_spec("W: something"), None);
        assert!(is_signature_problem(
            "W: GPG error: http://x bookworm InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 1"
        ));
        assert!(!is_signature_problem(
            "E: Some index files failed to download"
        ));
    }

    #[test]
    fn inrelease_beside_index() {
        let t = IndexTarget {
            meta_key: "main/binary-amd64/Packages".into(),
            release: "bookworm".into(),
            filename: "/l/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
                .into(),
        };
        assert_eq!(
            inrelease_path(&t).unwrap(),
            PathBuf::from("/l/deb.debian.org_debian_dists_bookworm_InRelease")
        );
    }
}
