//! Integration tests of cairn-srctree: file edits on loose trees, and archive edits checked
//! against the real `tar`, `file` and compressor command line tools.

mod archive;
mod tree;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use cairn_srctree::SrcTreeError;

/// The error's message with the temporary directory replaced by `[TMP]`.
pub fn redacted(err: &SrcTreeError, tmp: &Path) -> String {
    let text = err.to_string();
    let tmp = tmp.to_str().unwrap();
    let canonical = fs_err::canonicalize(tmp).unwrap();
    text.replace(tmp, "[TMP]")
        .replace(canonical.to_str().unwrap(), "[TMP]")
}

/// Every file below `root` with its contents and mode, directories with mode only.
pub fn snapshot_dir(root: &Path) -> BTreeMap<String, (u32, Option<Vec<u8>>)> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let meta = entry.path().symlink_metadata().unwrap();
        let contents = meta.is_file().then(|| fs_err::read(entry.path()).unwrap());
        out.insert(rel, (meta.permissions().mode() & 0o7777, contents));
    }
    out
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Runs a command, asserting success; returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
