//! File edits on the loose files of a directory (a component's source tree): the [`FileEdit`]
//! vocabulary and [`Tree`], which applies one edit at a time, all-or-nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;
use walkdir::WalkDir;

use crate::error::SrcTreeError;
use crate::text;

/// Prefix of the temporary files and directories this crate creates next to the files it edits.
const TEMP_PREFIX: &str = ".cairn-srctree-";

/// One edit of loose files in a directory (never the spec file itself).
///
/// Globs use `globset` syntax matched against `/`-separated paths relative to the tree root:
/// `*` and `?` stay inside one path component, `**` crosses directories, hidden files match
/// like any other. Only regular files match; directories and symlinks never do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileEdit {
    /// Puts `lines` before the first line of every matching file, each followed by `"\n"`, or by
    /// `"\r\n"` when the file's first line break is CRLF. Fails if no file matches or a matching
    /// file is not UTF-8.
    PrependLines { glob: String, lines: Vec<String> },
    /// Replaces every match of `regex` in every matching file with `replacement`, taken
    /// literally (`$1` is not expanded). Succeeds when at least one replacement was made across
    /// all matching files. Fails if no file matches, nothing was replaced or a matching file is
    /// not UTF-8.
    SearchReplace {
        glob: String,
        regex: String,
        replacement: String,
    },
    /// Creates the file `file` (a relative path; missing parent directories are created) with
    /// `contents`. Fails if it already exists.
    Add { file: String, contents: Vec<u8> },
    /// Deletes every matching file (directories stay). Fails if nothing matches.
    Remove { glob: String },
    /// Renames `file` to the file name `to` in the same directory. Fails if `file` is missing,
    /// the target exists or `to` contains `/`.
    Rename { file: String, to: String },
}

impl FileEdit {
    fn name(&self) -> &'static str {
        match self {
            FileEdit::PrependLines { .. } => "PrependLines",
            FileEdit::SearchReplace { .. } => "SearchReplace",
            FileEdit::Add { .. } => "Add",
            FileEdit::Remove { .. } => "Remove",
            FileEdit::Rename { .. } => "Rename",
        }
    }
}

/// A directory whose loose files receive [`FileEdit`]s.
#[derive(Debug, Clone)]
pub struct Tree {
    root: PathBuf,
    protected: Vec<String>,
    within: String,
    archive: Option<ArchiveRules>,
}

/// Extra constraints when the tree is an extracted archive (see [`crate::edit_archive`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct ArchiveRules {
    pub(crate) archive: PathBuf,
    /// Members that exist in the archive but are not extracted as files (symlinks, hardlinks,
    /// devices, ...): an edit may not create a file there.
    pub(crate) occupied: BTreeSet<String>,
    /// Hardlink target -> the first hardlink member that refers to it.
    pub(crate) hardlinked: BTreeMap<String, String>,
}

/// What one edit did, in enough detail to mirror it into an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Modified(String),
    Added { file: String, dirs: Vec<String> },
    Removed(String),
    Renamed { from: String, to: String },
}

impl Change {
    pub(crate) fn paths(&self) -> Vec<String> {
        match self {
            Change::Modified(p) | Change::Removed(p) | Change::Added { file: p, .. } => {
                vec![p.clone()]
            }
            Change::Renamed { from, to } => vec![from.clone(), to.clone()],
        }
    }
}

impl Tree {
    /// A tree rooted at `root`. `protected` lists relative paths (files or directories) that
    /// edits may not touch, e.g. the spec file: globs skip them, and naming one in `Add` or
    /// `Rename` is an error.
    pub fn new(root: impl Into<PathBuf>, protected: Vec<String>) -> Tree {
        let root = root.into();
        let within = root.display().to_string();
        let protected = protected
            .iter()
            .map(|p| {
                p.split('/')
                    .filter(|c| !c.is_empty() && *c != ".")
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .filter(|p| !p.is_empty())
            .collect();
        Tree {
            root,
            protected,
            within,
            archive: None,
        }
    }

    pub(crate) fn for_archive(root: PathBuf, rules: ArchiveRules) -> Tree {
        Tree {
            root,
            protected: Vec::new(),
            within: rules.archive.display().to_string(),
            archive: Some(rules),
        }
    }

    /// The directory this tree edits.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Applies one edit. Returns the relative paths it changed, sorted (both names for a
    /// rename). On error the tree is left as it was: every new content is computed and
    /// checked before the first file is replaced, and files are replaced by renaming a fully
    /// written temporary file over them, keeping their permissions.
    pub fn apply(&self, edit: &FileEdit) -> Result<Vec<String>, SrcTreeError> {
        let changes = self.apply_changes(edit)?;
        let mut paths: Vec<String> = changes.iter().flat_map(Change::paths).collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    pub(crate) fn apply_changes(&self, edit: &FileEdit) -> Result<Vec<Change>, SrcTreeError> {
        match edit {
            FileEdit::PrependLines { glob, lines } => self.prepend_lines(glob, lines, edit),
            FileEdit::SearchReplace {
                glob,
                regex,
                replacement,
            } => self.search_replace(glob, regex, replacement, edit),
            FileEdit::Add { file, contents } => self.add(file, contents),
            FileEdit::Remove { glob } => self.remove(glob),
            FileEdit::Rename { file, to } => self.rename(file, to),
        }
    }

    fn prepend_lines(
        &self,
        glob: &str,
        lines: &[String],
        edit: &FileEdit,
    ) -> Result<Vec<Change>, SrcTreeError> {
        if let Some((index, line)) = lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.contains(['\n', '\r']))
        {
            return Err(SrcTreeError::LineBreakInLine {
                index: index + 1,
                line: line.clone(),
            });
        }
        let files = self.matching_files(glob)?;
        let mut updates = Vec::with_capacity(files.len());
        for file in files {
            let text = self.read_text(&file, edit)?;
            if !lines.is_empty() {
                updates.push((file, text::prepend(&text, lines).into_bytes()));
            }
        }
        self.replace_files(&updates)?;
        Ok(updates
            .into_iter()
            .map(|(f, _)| Change::Modified(f))
            .collect())
    }

    fn search_replace(
        &self,
        glob: &str,
        regex: &str,
        replacement: &str,
        edit: &FileEdit,
    ) -> Result<Vec<Change>, SrcTreeError> {
        let re = Regex::new(regex).map_err(|e| SrcTreeError::InvalidRegex {
            regex: regex.to_owned(),
            message: e.to_string(),
        })?;
        let files = self.matching_files(glob)?;
        let mut total = 0;
        let mut updates = Vec::new();
        for file in &files {
            let text = self.read_text(file, edit)?;
            let (new, count) = text::replace_literal(&text, &re, replacement);
            total += count;
            if new != text {
                updates.push((file.clone(), new.into_bytes()));
            }
        }
        if total == 0 {
            return Err(SrcTreeError::NothingReplaced {
                within: self.within.clone(),
                regex: regex.to_owned(),
                searched: files,
            });
        }
        self.replace_files(&updates)?;
        Ok(updates
            .into_iter()
            .map(|(f, _)| Change::Modified(f))
            .collect())
    }

    fn add(&self, file: &str, contents: &[u8]) -> Result<Vec<Change>, SrcTreeError> {
        let rel = self.normalize(file)?;
        if self.is_protected(&rel) {
            return Err(self.protected_error(&rel));
        }
        let parts: Vec<&str> = rel.split('/').collect();
        let mut first_missing = None;
        for depth in 1..parts.len() {
            let dir = parts[..depth].join("/");
            if self.is_occupied(&dir) {
                return Err(self.invalid_path(file, format!("`{dir}` is not a directory")));
            }
            let path = self.root.join(&dir);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(self.invalid_path(
                        file,
                        format!("`{dir}` is a symlink and edits do not follow symlinks"),
                    ));
                }
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(self.invalid_path(file, format!("`{dir}` is not a directory")));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    first_missing = Some(depth);
                    break;
                }
                Err(e) => return Err(SrcTreeError::io("inspect", path, e)),
            }
        }
        if self.is_occupied(&rel)
            || (first_missing.is_none() && exists_no_follow(&self.root.join(&rel))?)
        {
            return Err(SrcTreeError::AlreadyExists {
                within: self.within.clone(),
                file: rel,
            });
        }
        let mut created = Vec::new();
        let result = (|| {
            if let Some(first) = first_missing {
                for depth in first..parts.len() {
                    let dir = parts[..depth].join("/");
                    let path = self.root.join(&dir);
                    fs::create_dir(&path)
                        .map_err(|e| SrcTreeError::io("create directory", path, e))?;
                    created.push(dir);
                }
            }
            self.write_new_file(&rel, contents)
        })();
        if let Err(e) = result {
            for dir in created.iter().rev() {
                let _ = fs::remove_dir(self.root.join(dir));
            }
            return Err(e);
        }
        Ok(vec![Change::Added {
            file: rel,
            dirs: created,
        }])
    }

    fn remove(&self, glob: &str) -> Result<Vec<Change>, SrcTreeError> {
        let files = self.matching_files(glob)?;
        for file in &files {
            self.check_not_hardlinked(file, "remove")?;
        }
        // Move every file into a scratch directory first, so a failure half-way can be undone;
        // the scratch directory and its contents disappear when it is dropped.
        let trash = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempdir_in(&self.root)
            .map_err(|e| SrcTreeError::io("create a temporary directory in", &self.root, e))?;
        let mut moved: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
        for (i, file) in files.iter().enumerate() {
            let from = self.root.join(file);
            let to = trash.path().join(i.to_string());
            if let Err(e) = fs_err::rename(&from, &to) {
                for (orig, stashed) in moved.iter().rev() {
                    let _ = fs_err::rename(stashed, orig);
                }
                return Err(SrcTreeError::Fs(e));
            }
            moved.push((from, to));
        }
        drop(trash);
        Ok(files.into_iter().map(Change::Removed).collect())
    }

    fn rename(&self, file: &str, to: &str) -> Result<Vec<Change>, SrcTreeError> {
        let rel = self.normalize(file)?;
        let reason = if to.is_empty() {
            Some("it is empty")
        } else if to.contains('/') {
            Some("it contains `/`")
        } else if to == "." || to == ".." {
            Some("`.` and `..` are not file names")
        } else if to.contains('\0') {
            Some("it contains a NUL byte")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(SrcTreeError::InvalidRenameTarget {
                to: to.to_owned(),
                reason,
            });
        }
        let target = match rel.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{to}"),
            None => to.to_owned(),
        };
        for p in [&rel, &target] {
            if self.is_protected(p) {
                return Err(self.protected_error(p));
            }
        }
        let from = self.root.join(&rel);
        match fs::symlink_metadata(&from) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                return Err(SrcTreeError::NotAFile {
                    within: self.within.clone(),
                    file: rel,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(if self.is_occupied(&rel) {
                    SrcTreeError::NotAFile {
                        within: self.within.clone(),
                        file: rel,
                    }
                } else {
                    SrcTreeError::NotFound {
                        within: self.within.clone(),
                        file: rel,
                    }
                });
            }
            Err(e) => return Err(SrcTreeError::io("inspect", from, e)),
        }
        let dest = self.root.join(&target);
        if self.is_occupied(&target) || exists_no_follow(&dest)? {
            return Err(SrcTreeError::AlreadyExists {
                within: self.within.clone(),
                file: target,
            });
        }
        self.check_not_hardlinked(&rel, "rename")?;
        fs_err::rename(&from, &dest).map_err(SrcTreeError::Fs)?;
        Ok(vec![Change::Renamed {
            from: rel,
            to: target,
        }])
    }

    /// Regular files whose relative path matches `glob`, sorted, protected ones left out.
    fn matching_files(&self, glob: &str) -> Result<Vec<String>, SrcTreeError> {
        let matcher = compile_glob(glob)?;
        let mut hits = Vec::new();
        let mut protected = Vec::new();
        for entry in WalkDir::new(&self.root).min_depth(1).follow_links(false) {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(&self.root).to_path_buf();
                let source = match e.into_io_error() {
                    Some(io) => io,
                    None => io::Error::other("the directory tree contains a symlink loop"),
                };
                SrcTreeError::io("list", path, source)
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let Some(rel) = relative_string(&self.root, entry.path()) else {
                continue;
            };
            if matcher.is_match(&rel) {
                if self.is_protected(&rel) {
                    protected.push(rel);
                } else {
                    hits.push(rel);
                }
            }
        }
        hits.sort();
        protected.sort();
        if hits.is_empty() {
            return Err(SrcTreeError::NoMatch {
                within: self.within.clone(),
                glob: glob.to_owned(),
                protected,
            });
        }
        Ok(hits)
    }

    fn read_text(&self, rel: &str, edit: &FileEdit) -> Result<String, SrcTreeError> {
        let path = self.root.join(rel);
        let bytes = fs_err::read(&path).map_err(SrcTreeError::Fs)?;
        String::from_utf8(bytes).map_err(|e| SrcTreeError::NotUtf8 {
            within: self.within.clone(),
            file: rel.to_owned(),
            edit: edit.name(),
            offset: e.utf8_error().valid_up_to(),
        })
    }

    /// Replaces each file with new contents, keeping its permissions. Everything is written to
    /// temporary files first; only when all of them are complete are they renamed into place.
    fn replace_files(&self, updates: &[(String, Vec<u8>)]) -> Result<(), SrcTreeError> {
        let mut staged = Vec::with_capacity(updates.len());
        for (rel, data) in updates {
            let path = self.root.join(rel);
            let perms = fs::metadata(&path)
                .map_err(|e| SrcTreeError::io("inspect", &path, e))?
                .permissions();
            let tmp = self.write_temp_beside(&path, data)?;
            tmp.as_file()
                .set_permissions(perms)
                .map_err(|e| SrcTreeError::io("set permissions of", tmp.path(), e))?;
            staged.push((tmp.into_temp_path(), path));
        }
        for (tmp, path) in staged {
            tmp.persist(&path)
                .map_err(|e| SrcTreeError::io("replace", path, e.error))?;
        }
        Ok(())
    }

    fn write_new_file(&self, rel: &str, contents: &[u8]) -> Result<(), SrcTreeError> {
        let path = self.root.join(rel);
        let tmp = self.write_temp_beside(&path, contents)?;
        tmp.persist_noclobber(&path).map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                SrcTreeError::AlreadyExists {
                    within: self.within.clone(),
                    file: rel.to_owned(),
                }
            } else {
                SrcTreeError::io("create", &path, e.error)
            }
        })?;
        Ok(())
    }

    /// A complete temporary file in the directory of `path`, created with mode 0666 minus the
    /// umask (what a plain file creation would give).
    fn write_temp_beside(
        &self,
        path: &Path,
        data: &[u8],
    ) -> Result<tempfile::NamedTempFile, SrcTreeError> {
        let dir = path.parent().unwrap_or(&self.root);
        let mut tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .permissions(fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| SrcTreeError::io("create a temporary file in", dir, e))?;
        tmp.write_all(data)
            .and_then(|()| tmp.flush())
            .map_err(|e| SrcTreeError::io("write", tmp.path(), e))?;
        Ok(tmp)
    }

    /// `path` as a clean relative path (`a/b`), or why it cannot be one.
    fn normalize(&self, path: &str) -> Result<String, SrcTreeError> {
        let reason = if path.starts_with('/') {
            Some("it is absolute; give a path relative to the tree")
        } else if path.contains('\0') {
            Some("it contains a NUL byte")
        } else if path.split('/').any(|c| c == "..") {
            Some("a `..` component would leave the tree")
        } else if path.ends_with('/') {
            Some("it ends with `/`, so it names a directory")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(self.invalid_path(path, reason.to_owned()));
        }
        let clean = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect::<Vec<_>>()
            .join("/");
        if clean.is_empty() {
            return Err(self.invalid_path(path, "it names no file".to_owned()));
        }
        Ok(clean)
    }

    fn is_protected(&self, rel: &str) -> bool {
        self.protected.iter().any(|p| {
            rel == p || (rel.starts_with(p.as_str()) && rel.as_bytes().get(p.len()) == Some(&b'/'))
        })
    }

    fn is_occupied(&self, rel: &str) -> bool {
        self.archive
            .as_ref()
            .is_some_and(|a| a.occupied.contains(rel))
    }

    fn check_not_hardlinked(&self, rel: &str, action: &'static str) -> Result<(), SrcTreeError> {
        if let Some(rules) = &self.archive
            && let Some(link) = rules.hardlinked.get(rel)
        {
            return Err(SrcTreeError::HardlinkTarget {
                archive: rules.archive.clone(),
                action,
                file: rel.to_owned(),
                link: link.clone(),
            });
        }
        Ok(())
    }

    fn protected_error(&self, rel: &str) -> SrcTreeError {
        SrcTreeError::Protected {
            within: self.within.clone(),
            file: rel.to_owned(),
        }
    }

    fn invalid_path(&self, path: &str, reason: String) -> SrcTreeError {
        SrcTreeError::InvalidPath {
            within: self.within.clone(),
            path: path.to_owned(),
            reason,
        }
    }
}

/// Compiles a glob where `*` does not cross `/`.
pub(crate) fn compile_glob(glob: &str) -> Result<GlobMatcher, SrcTreeError> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| SrcTreeError::InvalidGlob {
            glob: glob.to_owned(),
            message: e.kind().to_string(),
        })
}

/// `path` relative to `root` with `/` separators; `None` when a component is not UTF-8.
fn relative_string(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

fn exists_no_follow(path: &Path) -> Result<bool, SrcTreeError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(SrcTreeError::io("inspect", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_star_stays_in_one_component() {
        let m = compile_glob("*.c").unwrap();
        assert!(m.is_match("a.c"));
        assert!(!m.is_match("src/a.c"));
        let m = compile_glob("*/src/config.h").unwrap();
        assert!(m.is_match("foo-1.2/src/config.h"));
        assert!(!m.is_match("x/foo-1.2/src/config.h"));
        let m = compile_glob("**/*.c").unwrap();
        assert!(m.is_match("a.c"));
        assert!(m.is_match("x/y/a.c"));
        assert!(compile_glob("*").unwrap().is_match(".hidden"));
    }

    #[test]
    fn protected_covers_directories_but_not_prefix_names() {
        let t = Tree::new("/x", vec!["./foo.spec".into(), "keep/".into()]);
        assert!(t.is_protected("foo.spec"));
        assert!(t.is_protected("keep/a"));
        assert!(!t.is_protected("keeper"));
        assert!(!t.is_protected("foo.spec.orig"));
    }

    #[test]
    fn normalize_rejects_escapes() {
        let t = Tree::new("/x", vec![]);
        assert_eq!(t.normalize("./a//b").unwrap(), "a/b");
        for bad in ["/etc/passwd", "a/../../b", "dir/", ".", ""] {
            assert!(
                matches!(t.normalize(bad), Err(SrcTreeError::InvalidPath { .. })),
                "{bad}"
            );
        }
    }
}
