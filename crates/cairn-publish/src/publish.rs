//! `cairn repo publish`: turn a directory of RPMs into a signed rpm-md repository.
//!
//! Order of work, chosen so that a reader never sees a half-written repository and a
//! publish killed at any point leaves the previous one served:
//!
//! 1. take the repository's publish lock, remove temp files a killed run left;
//! 2. check everything that can fail on input first: the packages to add (each a readable
//!    RPM), the advisories (a security advisory must name packages that will be in the
//!    repository);
//! 3. copy added packages under `Packages/<letter>/` (signed on the way), sign new files
//!    not yet signed by a store key, read every new or changed package's header in
//!    parallel (unchanged ones come from the cache);
//! 4. write `repodata/<sha256>-{primary,filelists,other,updateinfo}.xml.<ext>` beside the
//!    current files (content-addressed names never overwrite what readers use);
//! 5. write `repomd.xml.asc` and `repomd.xml` to temp files, fsync, rename the signature
//!    and then `repomd.xml`: this rename is the moment the new repository appears;
//! 6. delete metadata files superseded longer ago than the retention time.

use crate::atomic::{TMP_PREFIX, sync_dir, tmp_path, write_atomic};
use crate::cache::{self, Entry};
use crate::chunks::{self, ChunkCache, Compressed, Part};
use crate::{PublishError, Signing};
use cairn_rpmmd::updateinfo::{Advisory, AdvisoryKind, write_updateinfo};
use cairn_rpmmd::write::{
    MetaKind, RepoMdEntry, document_header, filelists_entry, other_entry_with, primary_entry,
    write_repomd,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const STATE_DIR: &str = ".cairn";
const CACHE_FILE: &str = "publish-cache";
const CHUNKS_FILE: &str = "publish-chunks";
const STATE_FILE: &str = "publish-state.toml";
const LOCK_FILE: &str = "publish.lock";
const STATE_FORMAT: u32 = 1;
/// createrepo_c's default: the newest ten changelog entries go into other.xml.
const CHANGELOG_LIMIT: usize = 10;

/// Compression of the metadata files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// `.zst`, what Fedora and dnf5 use.
    #[default]
    Zstd,
    /// `.gz`, for old clients.
    Gz,
    /// `.xz`.
    Xz,
}

impl Compression {
    pub fn ext(self) -> &'static str {
        match self {
            Compression::Zstd => "zst",
            Compression::Gz => "gz",
            Compression::Xz => "xz",
        }
    }
}

/// What to publish.
#[derive(Debug)]
pub struct PublishOptions {
    /// The repository root (packages anywhere below it, metadata in `repodata/`).
    pub repo: PathBuf,
    /// RPM files to copy into the repository first.
    pub add: Vec<PathBuf>,
    /// Sign packages and `repomd.xml`; `None` publishes unsigned.
    pub signing: Option<Signing>,
    /// Advisories for `updateinfo.xml`.
    pub advisories: Vec<Advisory>,
    pub compression: Compression,
    /// How long superseded metadata stays for clients mid-update.
    pub keep_old: Duration,
    /// Publish time: `repomd.xml` revision and timestamps (SOURCE_DATE_EPOCH in tests).
    pub now: SystemTime,
    /// Threads reading package headers.
    pub jobs: usize,
    /// Ignore the cache and read every package again.
    pub full: bool,
}

/// Progress and step notifications. Every method has a default that does nothing.
pub trait PublishReporter: Sync {
    /// A step finished (`locked`, `imported`, `read`, `metadata-written`,
    /// `signature-written`, `repomd-written`, `pruned`).
    fn step(&self, _step: &str) {}
    /// Package headers read so far.
    fn read_progress(&self, _done: usize, _total: usize) {}
}

/// A reporter that ignores everything.
#[derive(Debug, Default)]
pub struct NoReport;
impl PublishReporter for NoReport {}

/// One metadata file written.
#[derive(Debug, Clone, Serialize)]
pub struct MetaFile {
    pub kind: String,
    pub location: String,
    pub size: u64,
    pub open_size: u64,
}

/// What a publish did.
#[derive(Debug, Clone, Serialize)]
pub struct PublishSummary {
    pub repo: PathBuf,
    pub revision: String,
    pub packages: usize,
    /// Packages whose headers were read (new or changed); the rest came from the cache.
    pub read: usize,
    pub reused: usize,
    /// Files copied in by `add`, as repository-relative paths.
    pub added: Vec<String>,
    /// Files signed during this publish.
    pub signed: Vec<String>,
    pub advisories: usize,
    /// Advisory packages left out of updateinfo because the repository does not hold them
    /// (only non-security advisories; for security advisories this is an error).
    pub advisory_packages_missing: Vec<String>,
    pub metadata: Vec<MetaFile>,
    /// Fingerprint of the key that signed `repomd.xml`.
    pub signed_by: Option<String>,
    /// Superseded metadata files deleted after their retention time.
    pub pruned: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    format: u32,
    /// Metadata file (repository-relative) → when it stopped being referenced.
    #[serde(default)]
    superseded: BTreeMap<String, u64>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Publish `opts.repo`. On error nothing that readers use has changed.
pub fn publish(
    opts: &PublishOptions,
    reporter: &dyn PublishReporter,
) -> Result<PublishSummary, PublishError> {
    let repo = &opts.repo;
    if !repo.is_dir() {
        fs_err::create_dir_all(repo)?;
    }
    let state_dir = repo.join(STATE_DIR);
    fs_err::create_dir_all(&state_dir)?;
    let lock_path = state_dir.join(LOCK_FILE);
    let lock = fs_err::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    match fs4::fs_std::FileExt::try_lock_exclusive(lock.file()) {
        Ok(true) => {}
        Ok(false) => return Err(PublishError::Busy { lock: lock_path }),
        Err(e) => {
            return Err(PublishError::Write {
                path: lock_path,
                source: e,
            });
        }
    }
    let repodata = repo.join("repodata");
    fs_err::create_dir_all(&repodata)?;
    remove_leftovers(repo)?;
    reporter.step("locked");

    // Step 2: inputs that can fail, before anything changes.
    let mut imports = Vec::new();
    for src in &opts.add {
        let rec = cairn_rpmfile::read_record(src, "").map_err(PublishError::Rpm)?;
        let file_name = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| PublishError::Input {
                path: src.clone(),
                message: "not a file name".into(),
            })?;
        let letter = rec
            .name
            .chars()
            .next()
            .map_or('_', |c| c.to_ascii_lowercase());
        let rel = format!("Packages/{letter}/{file_name}");
        imports.push((src.clone(), rel, rec));
    }
    for a in &opts.advisories {
        a.validate().map_err(|e| PublishError::AdvisoryInvalid {
            id: a.id.clone(),
            message: e.to_string(),
        })?;
    }

    let store_key_ids: HashSet<String> = opts
        .signing
        .as_ref()
        .map(|s| {
            s.trusted_fingerprints
                .iter()
                .map(|f| f[f.len().saturating_sub(16)..].to_ascii_uppercase())
                .collect()
        })
        .unwrap_or_default();
    let mut signed = Vec::new();
    let mut added = Vec::new();
    // A signature older than its key does not verify: a publish time (SOURCE_DATE_EPOCH)
    // before the key's creation signs at the creation time instead.
    let sig_time = opts
        .signing
        .as_ref()
        .map_or(opts.now, |s| opts.now.max(s.key.created()));

    // Step 3a: copy additions in, signed.
    for (src, rel, _) in &imports {
        let dest = repo.join(rel);
        if let Some(dir) = dest.parent() {
            fs_err::create_dir_all(dir)?;
        }
        let tmp = tmp_path(&dest);
        let r = (|| -> Result<(), PublishError> {
            fs_err::copy(src, &tmp)?;
            if let Some(s) = &opts.signing
                && !signed_by_store(&tmp, &store_key_ids)?
            {
                cairn_rpmfile::sign_in_place(&tmp, &s.key, sig_time).map_err(PublishError::Rpm)?;
            }
            fs_err::File::open(&tmp)?.sync_all()?;
            if dest.exists() && !same_package_file(&dest, &tmp)? {
                return Err(PublishError::Input {
                    path: src.clone(),
                    message: format!(
                        "{rel} is already published with different content; \
                         a published file name is never reused for other bytes (bump the release)"
                    ),
                });
            }
            fs_err::rename(&tmp, &dest)?;
            sync_dir(&dest);
            Ok(())
        })();
        if r.is_err() {
            let _ = fs_err::remove_file(&tmp);
        }
        r?;
        added.push(rel.clone());
    }
    reporter.step("imported");

    // Step 3b: scan and read.
    let cache_bytes = if opts.full {
        Vec::new()
    } else {
        fs_err::read(state_dir.join(CACHE_FILE)).unwrap_or_default()
    };
    let mut old_cache = cache::decode(&cache_bytes).unwrap_or_default();
    let old_locations: HashSet<String> = old_cache.keys().cloned().collect();
    let files = scan(repo)?;
    let mut entries: Vec<Option<Entry>> = Vec::with_capacity(files.len());
    let mut todo = Vec::new();
    for (i, (rel, meta)) in files.iter().enumerate() {
        let mtime_ns = (meta.mtime() as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.mtime_nsec() as u64);
        match old_cache.get(rel) {
            Some(e) if e.size == meta.len() && e.mtime_ns == mtime_ns && e.ino == meta.ino() => {
                // moved out, not copied: the cache holds every package's text
                entries.push(old_cache.remove(rel));
            }
            _ => {
                entries.push(None);
                todo.push(i);
            }
        }
    }
    // What is left of the cache: changed or removed files, whose entries a file with the
    // same bytes may reuse.
    let by_checksum: HashMap<&str, &Entry> = old_cache
        .values()
        .map(|e| (e.checksum.as_str(), e))
        .collect();
    // Files not yet in the metadata and not signed by a store key get signed now: they
    // are not served yet, so rewriting them cannot break a reader.
    if let Some(s) = &opts.signing {
        for &i in &todo {
            let path = repo.join(&files[i].0);
            if !signed_by_store(&path, &store_key_ids)? {
                if old_locations.contains(&files[i].0) {
                    return Err(PublishError::Input {
                        path,
                        message: "this published package changed and is not signed by a key \
                                  in the store; sign it or remove it"
                            .into(),
                    });
                }
                sign_atomically(&path, s, sig_time)?;
                signed.push(files[i].0.clone());
            }
        }
    }
    let read_count = todo.len();
    let done = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<Entry, PublishError>)>> = Mutex::new(Vec::new());
    let jobs = opts.jobs.max(1).min(todo.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = todo.get(k) else { break };
                    let (rel, _) = &files[i];
                    let r = read_entry(repo, rel, &by_checksum);
                    let failed = r.is_err();
                    results.lock().map(|mut v| v.push((i, r))).ok();
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    reporter.read_progress(d, todo.len());
                    if failed {
                        next.store(usize::MAX / 2, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    for (i, r) in results {
        entries[i] = Some(r?);
    }
    let entries: Vec<Entry> = entries.into_iter().flatten().collect();
    if entries.len() != files.len() {
        return Err(PublishError::Input {
            path: repo.clone(),
            message: "reading the package headers stopped early".into(),
        });
    }
    // One file per NEVRA.
    let mut seen: HashMap<String, &str> = HashMap::new();
    for e in &entries {
        if let Some(other) = seen.insert(e.nevra(), &e.location) {
            return Err(PublishError::Input {
                path: repo.join(&e.location),
                message: format!(
                    "{} is also in {other}: a repository holds one file per package",
                    e.nevra()
                ),
            });
        }
    }
    reporter.step("read");

    // Advisories against the package set.
    let by_nevra: HashMap<String, &Entry> = entries.iter().map(|e| (e.nevra(), e)).collect();
    let mut advisories = opts.advisories.clone();
    let mut missing = Vec::new();
    for a in &mut advisories {
        let mut keep = Vec::new();
        for p in std::mem::take(&mut a.packages) {
            let key = cache::nevra(&p.name, u64::from(p.epoch), &p.version, &p.release, &p.arch);
            match by_nevra.get(&key) {
                Some(e) => {
                    let mut p = p;
                    p.filename = e
                        .location
                        .rsplit('/')
                        .next()
                        .unwrap_or(&e.location)
                        .to_owned();
                    if p.src.is_empty() {
                        p.src = e.sourcerpm.clone();
                    }
                    keep.push(p);
                }
                None if a.kind == AdvisoryKind::Security => {
                    return Err(PublishError::AdvisoryPackage {
                        id: a.id.clone(),
                        nevra: key,
                        repo: repo.clone(),
                    });
                }
                None => missing.push(format!("{}: {key}", a.id)),
            }
        }
        a.packages = keep;
    }
    advisories.retain(|a| !a.packages.is_empty());

    // Step 4: metadata files.
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.location.cmp(&b.location));
    let now = secs(opts.now);
    let old_chunks = if opts.full {
        ChunkCache::default()
    } else {
        fs_err::read(state_dir.join(CHUNKS_FILE))
            .map(|b| ChunkCache::decode(&b))
            .unwrap_or_default()
    };
    let ranges = chunks::cut(&sorted);
    let kinds = [
        (MetaKind::Primary, Part::Primary),
        (MetaKind::Filelists, Part::Filelists),
        (MetaKind::Other, Part::Other),
    ];
    // The three documents side by side; each also spreads its chunks over the threads.
    let per_doc_jobs = opts.jobs.max(1).div_ceil(2);
    let results: Vec<Result<_, PublishError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = kinds
            .iter()
            .map(|&(kind, part)| {
                let (sorted, ranges, old_chunks) = (&sorted, &ranges, &old_chunks);
                scope.spawn(move || {
                    let header = document_header(kind, sorted.len());
                    let input = chunks::DocInput {
                        header: &header,
                        footer: kind.footer(),
                        part,
                        entries: sorted,
                        ranges,
                    };
                    chunks::document(input, opts.compression, old_chunks, per_doc_jobs)
                        .map(|(c, used)| (kind.as_str(), c, used))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(PublishError::Input {
                        path: opts.repo.clone(),
                        message: "a compression thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut docs = Vec::new();
    let mut used_chunks = Vec::new();
    for r in results {
        let (kind, c, used) = r?;
        docs.push((kind, c));
        used_chunks.extend(used);
    }
    if !advisories.is_empty() {
        let text = write_updateinfo(&advisories);
        docs.push((
            "updateinfo",
            Compressed {
                bytes: chunks::compress(text.as_bytes(), opts.compression)?,
                open_checksum: hex::encode(Sha256::digest(text.as_bytes())),
                open_size: text.len() as u64,
            },
        ));
    }
    let mut md_entries = Vec::new();
    let mut metadata = Vec::new();
    for (kind, c) in &docs {
        let checksum = hex::encode(Sha256::digest(&c.bytes));
        let location = format!("repodata/{checksum}-{kind}.xml.{}", opts.compression.ext());
        let path = repo.join(&location);
        if !path.exists() {
            write_atomic(&path, &c.bytes)?;
        }
        md_entries.push(RepoMdEntry {
            kind: (*kind).to_owned(),
            location: location.clone(),
            checksum,
            open_checksum: c.open_checksum.clone(),
            size: c.bytes.len() as u64,
            open_size: c.open_size,
            timestamp: now,
        });
        metadata.push(MetaFile {
            kind: (*kind).to_owned(),
            location,
            size: c.bytes.len() as u64,
            open_size: c.open_size,
        });
    }
    drop(docs);
    reporter.step("metadata-written");

    // Step 5: repomd.xml (+ signature), the switch.
    let revision = now.to_string();
    let repomd = write_repomd(&revision, &md_entries);
    let repomd_path = repodata.join("repomd.xml");
    let asc_path = repodata.join("repomd.xml.asc");
    let mut signed_by = None;
    let asc_tmp = tmp_path(&asc_path);
    if let Some(s) = &opts.signing {
        let sig = s
            .key
            .sign_detached_armored(repomd.as_bytes(), sig_time)
            .map_err(|e| PublishError::Pgp {
                what: repomd_path.display().to_string(),
                source: e,
            })?;
        write_synced(&asc_tmp, sig.as_bytes())?;
        signed_by = Some(s.key.fingerprint());
        write_atomic(&repo.join(&s.public_key_file), s.public_keys.as_bytes())?;
    }
    reporter.step("signature-written");
    let repomd_tmp = tmp_path(&repomd_path);
    write_synced(&repomd_tmp, repomd.as_bytes())?;
    if opts.signing.is_some() {
        fs_err::rename(&asc_tmp, &asc_path)?;
    }
    fs_err::rename(&repomd_tmp, &repomd_path)?;
    if opts.signing.is_none() {
        match fs_err::remove_file(&asc_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PublishError::Io(e)),
        }
    }
    sync_dir(&repomd_path);
    reporter.step("repomd-written");

    // The caches follow the published state. They are only caches (a damaged one is
    // detected and ignored), so they are replaced by rename without an fsync; an
    // unchanged package set keeps the package cache as it is.
    let unchanged = read_count == 0 && old_locations.len() == sorted.len();
    if !unchanged {
        write_cache_with(&state_dir.join(CACHE_FILE), |w| {
            cache::encode_to(w, &sorted)
        })?;
    }
    let chunks = ChunkCache::from_used(used_chunks).encode();
    write_cache_with(&state_dir.join(CHUNKS_FILE), |w| w.write_all(&chunks))?;

    // Step 6: retention.
    let state_path = state_dir.join(STATE_FILE);
    let mut state: State = fs_err::read_to_string(&state_path)
        .ok()
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default();
    state.format = STATE_FORMAT;
    let current: HashSet<String> = md_entries.iter().map(|e| e.location.clone()).collect();
    let mut pruned = Vec::new();
    let mut still = BTreeMap::new();
    for entry in fs_err::read_dir(&repodata)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "repomd.xml" || name == "repomd.xml.asc" || name.starts_with('.') {
            continue;
        }
        let rel = format!("repodata/{name}");
        if current.contains(&rel) {
            continue;
        }
        let since = state.superseded.get(&rel).copied().unwrap_or(now);
        if now.saturating_sub(since) >= opts.keep_old.as_secs() {
            fs_err::remove_file(entry.path())?;
            pruned.push(rel);
        } else {
            still.insert(rel, since);
        }
    }
    state.superseded = still;
    let text = toml::to_string(&state).map_err(|e| PublishError::Input {
        path: state_path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&state_path, text.as_bytes())?;
    reporter.step("pruned");

    Ok(PublishSummary {
        repo: repo.clone(),
        revision,
        packages: entries.len(),
        read: read_count,
        reused: entries.len() - read_count,
        added,
        signed,
        advisories: advisories.len(),
        advisory_packages_missing: missing,
        metadata,
        signed_by,
        pruned,
    })
}

/// Replace a cache file by rename, without an fsync (see the caller).
fn write_cache_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<fs_err::File>) -> std::io::Result<()>,
) -> Result<(), PublishError> {
    let tmp = tmp_path(path);
    let r = (|| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, fs_err::File::create(&tmp)?);
        fill(&mut w)?;
        w.flush()?;
        drop(w);
        fs_err::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = fs_err::remove_file(&tmp);
    }
    r.map_err(|e| PublishError::Write {
        path: path.to_path_buf(),
        source: e,
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let r = (|| -> std::io::Result<()> {
        let mut f = fs_err::File::create(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    r.map_err(|e| PublishError::Write {
        path: path.to_path_buf(),
        source: e,
    })
}

fn sign_atomically(path: &Path, s: &Signing, now: SystemTime) -> Result<(), PublishError> {
    cairn_rpmfile::sign_in_place(path, &s.key, now).map_err(PublishError::Rpm)
}

fn signed_by_store(path: &Path, ids: &HashSet<String>) -> Result<bool, PublishError> {
    let found = cairn_rpmfile::signer_key_ids(path).map_err(PublishError::Rpm)?;
    Ok(found.iter().any(|k| ids.contains(&k.to_ascii_uppercase())))
}

fn same_package_file(a: &Path, b: &Path) -> Result<bool, PublishError> {
    let da = Sha256::digest(fs_err::read(a)?);
    let db = Sha256::digest(fs_err::read(b)?);
    Ok(da == db)
}

fn read_entry<'a>(
    repo: &Path,
    rel: &str,
    by_checksum: &HashMap<&str, &Entry<'a>>,
) -> Result<Entry<'a>, PublishError> {
    let path = repo.join(rel);
    let meta = fs_err::metadata(&path)?;
    let mtime_ns = (meta.mtime() as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec() as u64);
    let rec = cairn_rpmfile::read_record(&path, rel).map_err(PublishError::Rpm)?;
    // Same bytes as a cached entry at the same location: reuse its rendering.
    if let Some(e) = by_checksum.get(rec.checksum.as_str())
        && e.location == rel
    {
        let mut e = (*e).clone();
        e.size = meta.len();
        e.mtime_ns = mtime_ns;
        e.ino = meta.ino();
        return Ok(e);
    }
    let mut primary = String::new();
    primary_entry(&rec, &mut primary);
    let mut filelists = String::new();
    filelists_entry(&rec, &mut filelists);
    let mut other = String::new();
    other_entry_with(&rec, CHANGELOG_LIMIT, &mut other);
    Ok(Entry {
        location: rel.to_owned(),
        size: meta.len(),
        mtime_ns,
        ino: meta.ino(),
        checksum: rec.checksum,
        name: rec.name,
        epoch: u64::from(rec.epoch),
        version: rec.version,
        release: rec.release,
        arch: rec.arch,
        sourcerpm: rec.sourcerpm,
        primary: primary.into(),
        filelists: filelists.into(),
        other: other.into(),
    })
}

/// Every `*.rpm` below the repository (not in `repodata/`, hidden directories or temp
/// files), repository-relative, sorted.
fn scan(repo: &Path) -> Result<Vec<(String, std::fs::Metadata)>, PublishError> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(repo)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !(name.starts_with('.') || e.depth() == 1 && name == "repodata")
        });
    for entry in walker {
        let entry = entry.map_err(|e| PublishError::Input {
            path: e
                .path()
                .map_or_else(|| repo.to_path_buf(), Path::to_path_buf),
            message: e.to_string(),
        })?;
        if !entry.file_type().is_file() || !entry.file_name().to_string_lossy().ends_with(".rpm") {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(repo)
            .map_err(|_| PublishError::Input {
                path: entry.path().to_path_buf(),
                message: "outside the repository".into(),
            })?
            .to_string_lossy()
            .into_owned();
        let meta = entry.metadata().map_err(|e| PublishError::Input {
            path: entry.path().to_path_buf(),
            message: e.to_string(),
        })?;
        out.push((rel, meta));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Remove temp files of a killed publish.
fn remove_leftovers(repo: &Path) -> Result<(), PublishError> {
    for entry in walkdir::WalkDir::new(repo).max_depth(3) {
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_file()
            && entry.file_name().to_string_lossy().starts_with(TMP_PREFIX)
        {
            fs_err::remove_file(entry.path())?;
        }
    }
    Ok(())
}
