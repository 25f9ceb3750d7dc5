//! File edits inside a source archive (`foo-1.2.tar.gz` and friends): the archive is
//! decompressed and its regular files extracted into a temporary directory, the [`FileEdit`]s
//! run there through a [`Tree`], and the archive is rebuilt member by member in the original
//! order and compression, then swapped in atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use fs_err::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::compress::Compression;
use crate::error::SrcTreeError;
use crate::tar_raw::{self, Format, Kind, Layout, NewMember};
use crate::tree::{ArchiveRules, Change, FileEdit, Tree};

/// What [`edit_archive`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEdited {
    /// The archive's compression, kept for the rewritten archive.
    pub compression: Compression,
    /// Member paths (normalised, without a leading `./`) that the edits changed, sorted.
    pub changed: Vec<String>,
}

/// Edits files inside the tar archive `archive` and rewrites it in place.
///
/// * Compression is recognised from the magic bytes, never the file name: plain tar, gzip, xz,
///   bzip2 and zstd. Zip and anything else is refused.
/// * Globs and paths in `edits` are relative to the archive root, i.e. paths as stored in the
///   archive (`foo-1.2/src/config.h`, so `*/src/config.h` also works); a leading `./` on
///   stored paths is ignored. Only regular-file members can be edited or match a glob.
/// * Members are written back in their original order. A member nothing changed is copied byte
///   for byte, extension headers included. An edited member keeps its header (mode, owner
///   ids and names, mtime, type, GNU long-name or pax records) with the size, and for a
///   rename the path, updated. Removed members are dropped. Added files go at the end, after
///   entries for any directories `Add` created; they get mode 0644 (directories 0755), the
///   owner of the first member of the archive and the newest mtime found in it, so the result
///   does not depend on the clock.
/// * The output is deterministic: the same input and edits give the same bytes. Compression
///   settings are fixed: gzip level 9 with mtime 0 and no file name in the header, xz preset 6,
///   bzip2 level 9, zstd level 19 with a content checksum.
/// * Archives with an absolute member path or a `..` component are refused; nothing is ever
///   extracted as a symlink, so no edit can reach outside the temporary directory. Removing or
///   renaming a file that a hardlink member refers to is refused.
/// * All or nothing: any failing edit returns an error and leaves the archive untouched. On
///   success the new archive is written to a temporary file beside it, fsynced, and renamed over
///   it (keeping its permissions). With no edits the archive is only checked, not rewritten.
pub fn edit_archive(archive: &Path, edits: &[FileEdit]) -> Result<ArchiveEdited, SrcTreeError> {
    let target = fs::canonicalize(archive).map_err(|e| SrcTreeError::io("open", archive, e))?;
    let compression = detect(&target, archive)?;
    let work = tempfile::Builder::new()
        .prefix("cairn-srctree-")
        .tempdir()
        .map_err(|e| {
            SrcTreeError::io("create a temporary directory in", std::env::temp_dir(), e)
        })?;
    let tar_path = work.path().join("archive.tar");
    decompress(&target, archive, compression, &tar_path)?;
    let mut tar = File::open(&tar_path).map_err(SrcTreeError::Fs)?;
    let layout =
        tar_raw::scan(BufReader::new(&tar)).map_err(|message| corrupt(archive, message))?;
    let members = classify(&layout, archive)?;
    let root = work.path().join("root");
    extract(&mut tar, &layout, &members, &root, archive)?;

    let tree = Tree::for_archive(root.clone(), members.rules.clone());
    let mut state = State::new(&members);
    let mut changed = BTreeSet::new();
    for edit in edits {
        for change in tree.apply_changes(edit)? {
            changed.extend(change.paths());
            state.record(change);
        }
    }
    if !edits.is_empty() {
        write_archive(&target, compression, |out| {
            repack(out, &mut tar, &layout, &members, &state, &root)
        })?;
    }
    Ok(ArchiveEdited {
        compression,
        changed: changed.into_iter().collect(),
    })
}

fn corrupt(archive: &Path, message: impl Into<String>) -> SrcTreeError {
    SrcTreeError::CorruptArchive {
        archive: archive.to_path_buf(),
        message: message.into(),
    }
}

fn detect(target: &Path, archive: &Path) -> Result<Compression, SrcTreeError> {
    let mut head = Vec::with_capacity(tar_raw::BLOCK);
    File::open(target)
        .and_then(|f| f.take(tar_raw::BLOCK as u64).read_to_end(&mut head))
        .map_err(SrcTreeError::Fs)?;
    Compression::detect(&head).map_err(|found| SrcTreeError::UnsupportedArchive {
        archive: archive.to_path_buf(),
        found,
    })
}

fn decompress(
    source: &Path,
    archive: &Path,
    compression: Compression,
    dest: &Path,
) -> Result<(), SrcTreeError> {
    let input = File::open(source).map_err(SrcTreeError::Fs)?;
    let mut reader = compression
        .decoder(BufReader::new(input))
        .map_err(|e| corrupt(archive, format!("cannot start {compression} decoding: {e}")))?;
    let out = File::create(dest).map_err(SrcTreeError::Fs)?;
    let mut out = BufWriter::new(out);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(corrupt(
                    archive,
                    format!("{compression} data is damaged: {e}"),
                ));
            }
        };
        out.write_all(&buf[..n])
            .map_err(|e| SrcTreeError::io("write", dest, e))?;
    }
    out.flush().map_err(|e| SrcTreeError::io("write", dest, e))
}

/// How each member takes part in the edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A regular file extracted for editing.
    File,
    /// A directory, created in the temporary tree.
    Dir,
    /// Anything else: kept exactly as it is.
    Kept,
}

#[derive(Debug)]
struct Members {
    /// Normalised path per member (`None` for the root entry `./` and non-UTF-8 names).
    paths: Vec<Option<String>>,
    roles: Vec<Role>,
    rules: ArchiveRules,
}

/// Splits a stored path into its components, refusing absolute paths and `..`.
fn clean_components(raw: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    if raw.first() == Some(&b'/') {
        return Err("an absolute path");
    }
    let parts: Vec<&[u8]> = raw
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if parts.iter().any(|c| *c == b"..") {
        return Err("a `..` component");
    }
    Ok(parts)
}

fn normalized(raw: &[u8]) -> Result<Option<String>, &'static str> {
    let parts = clean_components(raw)?;
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(std::str::from_utf8(&parts.join(&b'/'))
        .ok()
        .map(str::to_owned))
}

fn classify(layout: &Layout, archive: &Path) -> Result<Members, SrcTreeError> {
    let unsafe_entry = |raw: &[u8], reason| SrcTreeError::UnsafeEntry {
        archive: archive.to_path_buf(),
        entry: String::from_utf8_lossy(raw).into_owned(),
        reason,
    };
    let mut rules = ArchiveRules {
        archive: archive.to_path_buf(),
        ..ArchiveRules::default()
    };
    let mut files = BTreeSet::new();
    let mut paths = Vec::with_capacity(layout.members.len());
    let mut roles = Vec::with_capacity(layout.members.len());
    for m in &layout.members {
        let path = normalized(&m.path).map_err(|reason| unsafe_entry(&m.path, reason))?;
        let role = match (&path, m.kind) {
            (Some(p), Kind::Regular) => {
                if !files.insert(p.clone()) {
                    return Err(SrcTreeError::DuplicateEntry {
                        archive: archive.to_path_buf(),
                        entry: p.clone(),
                    });
                }
                Role::File
            }
            (Some(_), Kind::Directory) => Role::Dir,
            _ => Role::Kept,
        };
        if role == Role::Kept
            && let Some(p) = &path
        {
            rules.occupied.insert(p.clone());
        }
        if m.kind == Kind::Hardlink
            && let Some(link) = &m.link
        {
            let target = normalized(link)
                .map_err(|_| unsafe_entry(&m.path, "a hardlink target outside the archive"))?;
            if let (Some(target), Some(p)) = (target, &path) {
                rules.hardlinked.entry(target).or_insert_with(|| p.clone());
            }
        }
        paths.push(path);
        roles.push(role);
    }
    Ok(Members {
        paths,
        roles,
        rules,
    })
}

fn extract(
    tar: &mut File,
    layout: &Layout,
    members: &Members,
    root: &Path,
    archive: &Path,
) -> Result<(), SrcTreeError> {
    fs::create_dir(root).map_err(|e| SrcTreeError::io("create directory", root, e))?;
    for (i, m) in layout.members.iter().enumerate() {
        let Some(rel) = &members.paths[i] else {
            continue;
        };
        let path = root.join(rel);
        let cannot = |e: io::Error| corrupt(archive, format!("cannot extract `{rel}`: {e}"));
        let dir = match members.roles[i] {
            Role::Dir => path.as_path(),
            _ => path.parent().unwrap_or(root),
        };
        fs_err::create_dir_all(dir).map_err(cannot)?;
        if members.roles[i] == Role::File {
            let mut out = File::create_new(&path).map_err(cannot)?;
            tar.seek(SeekFrom::Start(m.data_offset))
                .map_err(|e| SrcTreeError::io("read", archive, e))?;
            let copied = io::copy(&mut (&mut *tar).take(m.size), &mut out).map_err(cannot)?;
            if copied != m.size {
                return Err(corrupt(archive, format!("`{rel}` is truncated")));
            }
        }
    }
    Ok(())
}

/// Where each file of the archive is after the edits so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The member with this index.
    Member(usize),
    /// The n-th `Add`.
    Added(usize),
}

#[derive(Debug)]
struct State {
    live: BTreeMap<String, Origin>,
    modified: BTreeSet<usize>,
    /// Directories created by each `Add`, in order.
    added_dirs: Vec<Vec<String>>,
}

impl State {
    fn new(members: &Members) -> State {
        let live = members
            .paths
            .iter()
            .enumerate()
            .filter(|(i, _)| members.roles[*i] == Role::File)
            .filter_map(|(i, p)| p.clone().map(|p| (p, Origin::Member(i))))
            .collect();
        State {
            live,
            modified: BTreeSet::new(),
            added_dirs: Vec::new(),
        }
    }

    fn record(&mut self, change: Change) {
        match change {
            Change::Modified(p) => {
                if let Some(Origin::Member(i)) = self.live.get(&p) {
                    self.modified.insert(*i);
                }
            }
            Change::Added { file, dirs } => {
                self.live.insert(file, Origin::Added(self.added_dirs.len()));
                self.added_dirs.push(dirs);
            }
            Change::Removed(p) => {
                self.live.remove(&p);
            }
            Change::Renamed { from, to } => {
                if let Some(origin) = self.live.remove(&from) {
                    self.live.insert(to, origin);
                }
            }
        }
    }
}

fn copy_range(out: &mut dyn Write, tar: &mut File, start: u64, len: u64) -> io::Result<()> {
    tar.seek(SeekFrom::Start(start))?;
    let copied = io::copy(&mut (&mut *tar).take(len), out)?;
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the unpacked archive shrank while it was being rewritten",
        ));
    }
    Ok(())
}

/// Writes a file's contents followed by block padding; returns an error if its size changed.
fn copy_file_padded(out: &mut dyn Write, path: &Path, size: u64) -> Result<(), SrcTreeError> {
    let file = File::open(path).map_err(SrcTreeError::Fs)?;
    let copied =
        io::copy(&mut file.take(size), out).map_err(|e| SrcTreeError::io("pack", path, e))?;
    if copied != size {
        return Err(SrcTreeError::io(
            "pack",
            path,
            io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while packing"),
        ));
    }
    out.write_all(&vec![0u8; tar_raw::padding(size) as usize])
        .map_err(|e| SrcTreeError::io("pack", path, e))
}

fn file_size(path: &Path) -> Result<u64, SrcTreeError> {
    Ok(fs::metadata(path)
        .map_err(|e| SrcTreeError::io("inspect", path, e))?
        .len())
}

/// The stored path with its last component replaced by the last component of `new_rel`.
fn renamed_stored_path(stored: &[u8], new_rel: &str) -> Vec<u8> {
    let name = new_rel.rsplit('/').next().unwrap_or(new_rel);
    let mut out = match stored.iter().rposition(|&b| b == b'/') {
        Some(i) => stored[..=i].to_vec(),
        None => Vec::new(),
    };
    out.extend_from_slice(name.as_bytes());
    out
}

/// Writes the edited archive, uncompressed, to `out`.
fn repack(
    out: &mut dyn Write,
    tar: &mut File,
    layout: &Layout,
    members: &Members,
    state: &State,
    root: &Path,
) -> Result<(), SrcTreeError> {
    let write_err = |e: io::Error| SrcTreeError::io("write", &members.rules.archive, e);
    let mut final_member = BTreeMap::new();
    let mut final_added = BTreeMap::new();
    for (path, origin) in &state.live {
        match origin {
            Origin::Member(i) => final_member.insert(*i, path.as_str()),
            Origin::Added(k) => final_added.insert(*k, path.as_str()),
        };
    }
    for (i, m) in layout.members.iter().enumerate() {
        if members.roles[i] != Role::File {
            copy_range(out, tar, m.start, m.end - m.start).map_err(write_err)?;
            continue;
        }
        let Some(now) = final_member.get(&i) else {
            continue; // removed
        };
        let renamed = members.paths[i].as_deref() != Some(*now);
        if !renamed && !state.modified.contains(&i) {
            copy_range(out, tar, m.start, m.end - m.start).map_err(write_err)?;
            continue;
        }
        let file = root.join(now);
        let size = file_size(&file)?;
        let new_path = renamed.then(|| renamed_stored_path(&m.path, now));
        out.write_all(&tar_raw::rewrite_headers(m, new_path.as_deref(), size))
            .map_err(write_err)?;
        copy_file_padded(out, &file, size)?;
    }

    if !state.added_dirs.is_empty() {
        let template = new_member_template(layout);
        let prefix = match layout.members.first() {
            Some(m) if m.path.starts_with(b"./") => "./",
            _ => "",
        };
        for (k, dirs) in state.added_dirs.iter().enumerate() {
            for dir in dirs {
                let stored = format!("{prefix}{dir}/");
                out.write_all(&template.headers(stored.as_bytes(), true, 0))
                    .map_err(write_err)?;
            }
            if let Some(rel) = final_added.get(&k) {
                let file = root.join(rel);
                let size = file_size(&file)?;
                let stored = format!("{prefix}{rel}");
                out.write_all(&template.headers(stored.as_bytes(), false, size))
                    .map_err(write_err)?;
                copy_file_padded(out, &file, size)?;
            }
        }
    }

    let trailer = layout.len - layout.trailer;
    copy_range(out, tar, layout.trailer, trailer).map_err(write_err)?;
    if trailer < 2 * tar_raw::BLOCK as u64 {
        out.write_all(&vec![0u8; 2 * tar_raw::BLOCK - trailer as usize])
            .map_err(write_err)?;
    }
    Ok(())
}

/// Format, owner and mtime for members the edits add: the first member's format and owner, the
/// newest mtime in the archive.
fn new_member_template(layout: &Layout) -> NewMember {
    let first = layout
        .members
        .iter()
        .find(|m| matches!(m.kind, Kind::Regular | Kind::Directory));
    NewMember {
        format: first.map_or(Format::Ustar, |m| match tar_raw::format_of(&m.header) {
            Format::Old => Format::Ustar,
            f => f,
        }),
        owner: first.map(|m| m.header),
        mtime: layout.members.iter().map(|m| m.mtime()).max().unwrap_or(0),
    }
}

/// Writes the new archive through the compressor into a temporary file beside `target`, syncs
/// it, gives it `target`'s permissions and renames it over `target`.
fn write_archive(
    target: &Path,
    compression: Compression,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), SrcTreeError>,
) -> Result<(), SrcTreeError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".cairn-srctree-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| SrcTreeError::io("create a temporary file in", dir, e))?;
    let tmp_path: PathBuf = tmp.path().to_path_buf();
    let write_err = |e: io::Error| SrcTreeError::io("write", &tmp_path, e);
    let buffered = BufWriter::with_capacity(256 * 1024, tmp.as_file());
    let mut encoder = compression.encoder(buffered).map_err(write_err)?;
    fill(&mut encoder)?;
    let buffered = encoder.finish().map_err(write_err)?;
    buffered
        .into_inner()
        .map_err(|e| write_err(e.into_error()))?;
    let perms = fs::metadata(target)
        .map_err(|e| SrcTreeError::io("inspect", target, e))?
        .permissions();
    tmp.as_file()
        .set_permissions(perms)
        .map_err(|e| SrcTreeError::io("set permissions of", &tmp_path, e))?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(target)
        .map_err(|e| SrcTreeError::io("replace", target, e.error))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SrcTreeError::Fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_are_cleaned_and_checked() {
        assert_eq!(
            normalized(b"./foo/./bar").unwrap().as_deref(),
            Some("foo/bar")
        );
        assert_eq!(normalized(b"./").unwrap(), None);
        assert_eq!(normalized(b"/etc/x").unwrap_err(), "an absolute path");
        assert_eq!(normalized(b"a/../../x").unwrap_err(), "a `..` component");
        assert_eq!(normalized(b"a/\xff").unwrap(), None);
    }

    #[test]
    fn rename_keeps_the_stored_prefix() {
        assert_eq!(renamed_stored_path(b"./foo/a.c", "foo/b.c"), b"./foo/b.c");
        assert_eq!(renamed_stored_path(b"a.c", "b.c"), b"b.c");
    }
}
