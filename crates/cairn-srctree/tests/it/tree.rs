//! `Tree::apply` on loose files: every edit's success and failure cases.

use fs_err as fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cairn_srctree::{FileEdit, SrcTreeError, Tree};
use tempfile::TempDir;

use crate::{mode, redacted, snapshot_dir};

fn write(root: &Path, rel: &str, contents: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap()
}

/// A source tree like a component directory: spec, patches, config files.
fn fixture() -> (TempDir, Tree) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "foo.spec", b"Name: foo\nVersion: 1.2\n");
    write(root, "fix-build.patch", b"--- a\n+++ b\n");
    write(root, "cve.patch", b"--- c\n+++ d\n");
    write(root, "config.txt", b"DEBUG=0\nLEVEL=3\n");
    write(root, "dos.txt", b"one\r\ntwo\r\n");
    write(root, ".hidden.cfg", b"h=1\n");
    write(root, "conf/app.cfg", b"a=1\n");
    write(root, "conf/deep/more.cfg", b"b=2\n");
    write(root, "foo-1.2.tar.gz", &[0x1f, 0x8b, 0xff, 0xfe, 0x00]);
    fs::create_dir(root.join("dir.cfg")).unwrap();
    let tree = Tree::new(root, vec!["foo.spec".to_owned()]);
    (dir, tree)
}

fn prepend(glob: &str, lines: &[&str]) -> FileEdit {
    FileEdit::PrependLines {
        glob: glob.to_owned(),
        lines: lines.iter().map(|s| s.to_string()).collect(),
    }
}

fn replace(glob: &str, regex: &str, replacement: &str) -> FileEdit {
    FileEdit::SearchReplace {
        glob: glob.to_owned(),
        regex: regex.to_owned(),
        replacement: replacement.to_owned(),
    }
}

fn add(file: &str, contents: &str) -> FileEdit {
    FileEdit::Add {
        file: file.to_owned(),
        contents: contents.as_bytes().to_vec(),
    }
}

fn remove(glob: &str) -> FileEdit {
    FileEdit::Remove {
        glob: glob.to_owned(),
    }
}

fn rename(file: &str, to: &str) -> FileEdit {
    FileEdit::Rename {
        file: file.to_owned(),
        to: to.to_owned(),
    }
}

/// Applies an edit that must fail; checks the tree did not change and returns the message.
fn failing(dir: &TempDir, tree: &Tree, edit: FileEdit) -> String {
    let before = snapshot_dir(dir.path());
    let err = tree.apply(&edit).unwrap_err();
    assert_eq!(
        snapshot_dir(dir.path()),
        before,
        "{edit:?} changed the tree"
    );
    redacted(&err, dir.path())
}

fn no_temp_files_left(root: &Path) {
    let stray: Vec<String> = snapshot_dir(root)
        .into_keys()
        .filter(|k| k.contains(".cairn-srctree-"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn prepend_adds_lines_with_the_file_line_ending() {
    let (dir, tree) = fixture();
    let changed = tree.apply(&prepend("*.txt", &["# one", "# two"])).unwrap();
    assert_eq!(changed, ["config.txt", "dos.txt"]);
    assert_eq!(
        read(dir.path(), "config.txt"),
        "# one\n# two\nDEBUG=0\nLEVEL=3\n"
    );
    assert_eq!(
        read(dir.path(), "dos.txt"),
        "# one\r\n# two\r\none\r\ntwo\r\n"
    );
    no_temp_files_left(dir.path());
}

#[test]
fn prepend_to_an_empty_file_and_one_without_final_newline() {
    let (dir, tree) = fixture();
    write(dir.path(), "empty.h", b"");
    write(dir.path(), "tail.h", b"no newline");
    tree.apply(&prepend("*.h", &["#pragma once"])).unwrap();
    assert_eq!(read(dir.path(), "empty.h"), "#pragma once\n");
    assert_eq!(read(dir.path(), "tail.h"), "#pragma once\nno newline");
}

#[test]
fn star_stays_in_one_directory_and_double_star_recurses_including_hidden_files() {
    let (dir, tree) = fixture();
    assert_eq!(
        tree.apply(&prepend("*.cfg", &["x"])).unwrap(),
        [".hidden.cfg"]
    );
    assert_eq!(
        tree.apply(&prepend("conf/*", &["y"])).unwrap(),
        ["conf/app.cfg"]
    );
    // `dir.cfg` is a directory: never matched.
    assert_eq!(
        tree.apply(&prepend("**/*.cfg", &["z"])).unwrap(),
        [".hidden.cfg", "conf/app.cfg", "conf/deep/more.cfg"]
    );
    assert_eq!(read(dir.path(), "conf/app.cfg"), "z\ny\na=1\n");
    assert_eq!(read(dir.path(), "conf/deep/more.cfg"), "z\nb=2\n");
    assert_eq!(read(dir.path(), ".hidden.cfg"), "z\nx\nh=1\n");
}

#[test]
fn edits_keep_permissions() {
    let (dir, tree) = fixture();
    write(dir.path(), "run.sh", b"echo hi\n");
    let script = dir.path().join("run.sh");
    fs::set_permissions(&script, std::fs::Permissions::from_mode(0o751)).unwrap();
    fs::set_permissions(
        dir.path().join("config.txt"),
        std::fs::Permissions::from_mode(0o664),
    )
    .unwrap();
    tree.apply(&prepend("run.sh", &["#!/bin/sh"])).unwrap();
    tree.apply(&replace("config.txt", "DEBUG=0", "DEBUG=1"))
        .unwrap();
    assert_eq!(mode(&script), 0o751);
    assert_eq!(mode(&dir.path().join("config.txt")), 0o664);
    tree.apply(&rename("run.sh", "start.sh")).unwrap();
    assert_eq!(mode(&dir.path().join("start.sh")), 0o751);
    assert_eq!(read(dir.path(), "start.sh"), "#!/bin/sh\necho hi\n");
}

#[test]
fn prepend_failures() {
    let (dir, tree) = fixture();
    insta::assert_snapshot!(failing(&dir, &tree, prepend("*.diff", &["x"])), @"no file in [TMP] matches `*.diff`");
    insta::assert_snapshot!(
        failing(&dir, &tree, prepend("*.spec", &["x"])),
        @"no file in [TMP] matches `*.spec` (it only matches protected `foo.spec`)"
    );
    insta::assert_snapshot!(
        failing(&dir, &tree, prepend("config.txt", &["ok", "two\nlines"])),
        @r#"line 2 of the lines to prepend contains a line break: "two\nlines""#
    );
    insta::assert_snapshot!(failing(&dir, &tree, prepend("[abc", &["x"])), @"glob `[abc` is invalid: unclosed character class; missing ']'");
}

#[test]
fn text_edits_refuse_files_that_are_not_utf8_and_change_nothing() {
    let (dir, tree) = fixture();
    // `config.txt` sorts before `foo-1.2.tar.gz` and is fine: it must stay untouched too.
    insta::assert_snapshot!(
        failing(&dir, &tree, prepend("{config.txt,foo-1.2.tar.gz}", &["x"])),
        @"`foo-1.2.tar.gz` in [TMP] is not valid UTF-8 (first bad byte at offset 1); PrependLines only edits text files"
    );
    insta::assert_snapshot!(
        failing(&dir, &tree, replace("*", "DEBUG", "X")),
        @"`foo-1.2.tar.gz` in [TMP] is not valid UTF-8 (first bad byte at offset 1); SearchReplace only edits text files"
    );
}

#[test]
fn search_replace_is_literal_and_needs_one_replacement_overall() {
    let (dir, tree) = fixture();
    let changed = tree
        .apply(&replace("*.txt", r"(DEBUG|two)", "$1-${1}"))
        .unwrap();
    assert_eq!(changed, ["config.txt", "dos.txt"]);
    assert_eq!(read(dir.path(), "config.txt"), "$1-${1}=0\nLEVEL=3\n");
    assert_eq!(read(dir.path(), "dos.txt"), "one\r\n$1-${1}\r\n");

    // Only one of the two patches contains the text: fine, and only it is reported.
    let changed = tree
        .apply(&replace("*.patch", r"\+\+\+ b", "+++ B"))
        .unwrap();
    assert_eq!(changed, ["fix-build.patch"]);
    assert_eq!(read(dir.path(), "cve.patch"), "--- c\n+++ d\n");
    assert_eq!(read(dir.path(), "fix-build.patch"), "--- a\n+++ B\n");

    // Multi-line mode is available through the regex syntax.
    tree.apply(&replace("config.txt", "(?m)^LEVEL=.*$", "LEVEL=9"))
        .unwrap();
    assert_eq!(read(dir.path(), "config.txt"), "$1-${1}=0\nLEVEL=9\n");
    no_temp_files_left(dir.path());
}

#[test]
fn search_replace_failures() {
    let (dir, tree) = fixture();
    insta::assert_snapshot!(
        failing(&dir, &tree, replace("*.patch", "nowhere", "x")),
        @"regex `nowhere` matched nothing in [TMP]; searched `cve.patch`, `fix-build.patch`"
    );
    insta::assert_snapshot!(failing(&dir, &tree, replace("*.patch", "x(", "y")), @r"
    regex `x(` is invalid: regex parse error:
        x(
         ^
    error: unclosed group
    ");
    insta::assert_snapshot!(
        failing(&dir, &tree, replace("conf/*.ini", "a", "b")),
        @"no file in [TMP] matches `conf/*.ini`"
    );
    // The spec file is protected even when the glob would select it.
    let changed = tree.apply(&replace("*", "^", "")).unwrap_err();
    assert!(matches!(changed, SrcTreeError::NotUtf8 { .. }));
    assert_eq!(read(dir.path(), "foo.spec"), "Name: foo\nVersion: 1.2\n");
}

#[test]
fn protected_files_are_skipped_by_globs() {
    let (dir, tree) = fixture();
    fs::remove_file(dir.path().join("foo-1.2.tar.gz")).unwrap();
    let changed = tree.apply(&replace("*", "1", "one")).unwrap();
    assert!(!changed.contains(&"foo.spec".to_owned()));
    assert_eq!(read(dir.path(), "foo.spec"), "Name: foo\nVersion: 1.2\n");
    let removed = tree.apply(&remove("*")).unwrap();
    assert!(!removed.contains(&"foo.spec".to_owned()));
    assert!(dir.path().join("foo.spec").exists());
}

#[test]
fn add_creates_the_file_and_missing_directories() {
    let (dir, tree) = fixture();
    assert_eq!(
        tree.apply(&add("new/sub/dir/file.conf", "k=v\n")).unwrap(),
        ["new/sub/dir/file.conf"]
    );
    assert_eq!(read(dir.path(), "new/sub/dir/file.conf"), "k=v\n");
    assert_eq!(
        tree.apply(&add("./conf/extra.cfg", "")).unwrap(),
        ["conf/extra.cfg"]
    );
    let m = mode(&dir.path().join("conf/extra.cfg"));
    assert_eq!(m & 0o600, 0o600, "{m:o}");
    assert_eq!(m & 0o111, 0, "{m:o}");
    no_temp_files_left(dir.path());
}

#[test]
fn add_failures() {
    let (dir, tree) = fixture();
    std::os::unix::fs::symlink("/tmp", dir.path().join("outside")).unwrap();
    insta::assert_snapshot!(failing(&dir, &tree, add("config.txt", "x")), @"`config.txt` already exists in [TMP]");
    insta::assert_snapshot!(failing(&dir, &tree, add("dir.cfg", "x")), @"`dir.cfg` already exists in [TMP]");
    insta::assert_snapshot!(failing(&dir, &tree, add("foo.spec", "x")), @"`foo.spec` in [TMP] is protected: file edits may not touch it");
    insta::assert_snapshot!(
        failing(&dir, &tree, add("/etc/motd", "x")),
        @"path `/etc/motd` cannot be used in [TMP]: it is absolute; give a path relative to the tree"
    );
    insta::assert_snapshot!(
        failing(&dir, &tree, add("conf/../../escape", "x")),
        @"path `conf/../../escape` cannot be used in [TMP]: a `..` component would leave the tree"
    );
    insta::assert_snapshot!(
        failing(&dir, &tree, add("config.txt/inner", "x")),
        @"path `config.txt/inner` cannot be used in [TMP]: `config.txt` is not a directory"
    );
    insta::assert_snapshot!(
        failing(&dir, &tree, add("outside/planted", "x")),
        @"path `outside/planted` cannot be used in [TMP]: `outside` is a symlink and edits do not follow symlinks"
    );
    insta::assert_snapshot!(
        failing(&dir, &tree, add("newdir/", "x")),
        @"path `newdir/` cannot be used in [TMP]: it ends with `/`, so it names a directory"
    );
    assert!(!Path::new("/tmp/planted").exists());
}

#[test]
fn remove_deletes_matching_files_and_keeps_directories() {
    let (dir, tree) = fixture();
    assert_eq!(
        tree.apply(&remove("*.patch")).unwrap(),
        ["cve.patch", "fix-build.patch"]
    );
    assert!(!dir.path().join("cve.patch").exists());
    assert_eq!(
        tree.apply(&remove("conf/**")).unwrap(),
        ["conf/app.cfg", "conf/deep/more.cfg"]
    );
    assert!(dir.path().join("conf/deep").is_dir());
    no_temp_files_left(dir.path());
}

#[test]
fn remove_failures() {
    let (dir, tree) = fixture();
    insta::assert_snapshot!(failing(&dir, &tree, remove("*.rej")), @"no file in [TMP] matches `*.rej`");
    // A directory never matches a file edit.
    insta::assert_snapshot!(failing(&dir, &tree, remove("dir.cfg")), @"no file in [TMP] matches `dir.cfg`");
    insta::assert_snapshot!(failing(&dir, &tree, remove("foo.spec")), @"no file in [TMP] matches `foo.spec` (it only matches protected `foo.spec`)");
}

#[test]
fn rename_moves_within_the_directory() {
    let (dir, tree) = fixture();
    assert_eq!(
        tree.apply(&rename("conf/app.cfg", "app.cfg.orig")).unwrap(),
        ["conf/app.cfg", "conf/app.cfg.orig"]
    );
    assert_eq!(read(dir.path(), "conf/app.cfg.orig"), "a=1\n");
    assert!(!dir.path().join("conf/app.cfg").exists());
}

#[test]
fn rename_failures() {
    let (dir, tree) = fixture();
    insta::assert_snapshot!(failing(&dir, &tree, rename("missing.patch", "x.patch")), @"`missing.patch` does not exist in [TMP]");
    insta::assert_snapshot!(failing(&dir, &tree, rename("cve.patch", "fix-build.patch")), @"`fix-build.patch` already exists in [TMP]");
    insta::assert_snapshot!(failing(&dir, &tree, rename("cve.patch", "conf/cve.patch")), @"rename target `conf/cve.patch` must be a file name in the same directory: it contains `/`");
    insta::assert_snapshot!(failing(&dir, &tree, rename("cve.patch", "..")), @"rename target `..` must be a file name in the same directory: `.` and `..` are not file names");
    insta::assert_snapshot!(failing(&dir, &tree, rename("cve.patch", "foo.spec")), @"`foo.spec` in [TMP] is protected: file edits may not touch it");
    insta::assert_snapshot!(failing(&dir, &tree, rename("foo.spec", "bar.spec")), @"`foo.spec` in [TMP] is protected: file edits may not touch it");
    insta::assert_snapshot!(failing(&dir, &tree, rename("dir.cfg", "d.cfg")), @"`dir.cfg` in [TMP] is not a regular file");
    insta::assert_snapshot!(failing(&dir, &tree, rename("conf/app.cfg", "")), @"rename target `` must be a file name in the same directory: it is empty");
}

#[test]
fn a_tree_whose_root_is_missing_reports_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let tree = Tree::new(dir.path().join("gone"), vec![]);
    let err = tree.apply(&remove("*")).unwrap_err();
    insta::assert_snapshot!(redacted(&err, dir.path()), @"cannot list `[TMP]/gone`: No such file or directory (os error 2)");
}
