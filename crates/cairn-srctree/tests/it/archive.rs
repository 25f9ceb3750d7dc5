//! `edit_archive` on archives made by the real `tar` tool (gnu, posix/pax and ustar formats)
//! and by the `tar` crate, in all five compressions, read back with the real `tar`.

use fs_err as fs;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use cairn_srctree::{Compression, FileEdit, edit_archive};
use tempfile::TempDir;

use crate::{redacted, run};

const ALL: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Xz,
    Compression::Bzip2,
    Compression::Zstd,
];

/// A path longer than the 100 bytes a tar header holds.
const DEEP: &str = "foo-1.2/a-rather-deeply-nested-directory/another-level-of-nesting/and-one-more-level/file-with-a-name-long-enough-to-need-an-extension.c";
const DEEP_DIR: &str =
    "foo-1.2/a-rather-deeply-nested-directory/another-level-of-nesting/and-one-more-level";
const DEEP_NEW_NAME: &str = "renamed-file-whose-name-is-also-long-enough-to-need-an-extension.c";

fn long_main_name() -> String {
    format!("main-{}.c", "x".repeat(100))
}

fn data_bin() -> Vec<u8> {
    (0..3000u32).map(|i| (i * 7 % 251) as u8 | 0x80).collect()
}

/// Regular files of the fixture: path, contents, mode.
fn fixture_files() -> Vec<(&'static str, Vec<u8>, u32)> {
    vec![
        ("foo-1.2/README", b"Hello\n".to_vec(), 0o644),
        (
            "foo-1.2/configure",
            b"#!/bin/sh\necho configuring\n".to_vec(),
            0o755,
        ),
        (
            "foo-1.2/src/config.h",
            b"#define VERSION \"1.2\"\n#define DEBUG 0\n".to_vec(),
            0o644,
        ),
        (
            "foo-1.2/src/main.c",
            b"int main(void) { return 0; }\n".to_vec(),
            0o600,
        ),
        ("foo-1.2/dos.txt", b"line1\r\nline2\r\n".to_vec(), 0o644),
        ("foo-1.2/data.bin", data_bin(), 0o444),
        ("foo-1.2/obsolete.txt", b"old\n".to_vec(), 0o644),
        (DEEP, b"int deep;\n".to_vec(), 0o640),
    ]
}

fn touch(path: &Path, mtime: i64) {
    run(Command::new("touch")
        .arg("-h")
        .arg("-d")
        .arg(format!("@{mtime}"))
        .arg(path));
}

/// Builds `src/foo-1.2` with files, an empty directory, a symlink and a hardlink, all with fixed
/// whole-second mtimes.
fn source_tree(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    for (i, (rel, contents, mode)) in fixture_files().into_iter().enumerate() {
        let path = src.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        touch(&path, 1_600_000_000 + 1000 * i as i64);
    }
    let top = src.join("foo-1.2");
    fs::create_dir(top.join("empty")).unwrap();
    fs::set_permissions(top.join("empty"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink("README", top.join("link")).unwrap();
    fs::hard_link(top.join("configure"), top.join("hard")).unwrap();
    touch(&top.join("link"), 1_650_000_000);
    for d in walkdir::WalkDir::new(&src).min_depth(1) {
        let d = d.unwrap();
        if d.file_type().is_dir() {
            touch(d.path(), 1_500_000_000);
        }
    }
    src
}

fn compression_flag(c: Compression) -> Option<&'static str> {
    match c {
        Compression::None => None,
        Compression::Gzip => Some("-z"),
        Compression::Xz => Some("-J"),
        Compression::Bzip2 => Some("-j"),
        Compression::Zstd => Some("--zstd"),
    }
}

/// How a test archive is made.
#[derive(Debug, Clone, Copy)]
enum Maker {
    /// The real `tar` with this `--format`.
    Tool(&'static str),
    /// The `tar` crate with GNU (true) or ustar (false) headers, compressed with the Rust
    /// compression crates.
    Crate { gnu: bool },
}

const MAKERS: [Maker; 6] = [
    Maker::Tool("gnu"),
    Maker::Tool("oldgnu"),
    Maker::Tool("posix"),
    Maker::Tool("ustar"),
    Maker::Crate { gnu: true },
    Maker::Crate { gnu: false },
];

fn make_archive(maker: Maker, src: &Path, out: &Path, c: Compression) {
    match maker {
        Maker::Tool(format) => {
            let mut cmd = Command::new("tar");
            cmd.env("TZ", "UTC")
                .arg(format!("--format={format}"))
                .args(["--owner=builder:1234", "--group=devs:4321", "--sort=name"]);
            cmd.args(compression_flag(c));
            cmd.arg("-cf").arg(out).arg("-C").arg(src).arg("foo-1.2");
            run(&mut cmd);
        }
        Maker::Crate { gnu } => {
            let tar = crate_tar(src, gnu);
            fs::write(out, compress_with_crates(&tar, c)).unwrap();
        }
    }
}

fn crate_tar(src: &Path, gnu: bool) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut inodes: HashMap<u64, String> = HashMap::new();
    for entry in walkdir::WalkDir::new(src.join("foo-1.2")).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(src)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let meta = entry.path().symlink_metadata().unwrap();
        let mut h = if gnu {
            tar::Header::new_gnu()
        } else {
            tar::Header::new_ustar()
        };
        h.set_mode(meta.mode() & 0o7777);
        h.set_uid(1234);
        h.set_gid(4321);
        h.set_username("builder").unwrap();
        h.set_groupname("devs").unwrap();
        h.set_mtime(meta.mtime() as u64);
        h.set_size(0);
        if meta.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            b.append_data(&mut h, format!("{rel}/"), std::io::empty())
                .unwrap();
        } else if meta.file_type().is_symlink() {
            h.set_entry_type(tar::EntryType::Symlink);
            let target = fs::read_link(entry.path()).unwrap();
            b.append_link(&mut h, &rel, target).unwrap();
        } else if let Some(first) = inodes.get(&meta.ino()) {
            h.set_entry_type(tar::EntryType::Link);
            b.append_link(&mut h, &rel, first).unwrap();
        } else {
            inodes.insert(meta.ino(), rel.clone());
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(meta.len());
            b.append_data(&mut h, &rel, fs::File::open(entry.path()).unwrap())
                .unwrap();
        }
    }
    b.into_inner().unwrap()
}

fn compress_with_crates(data: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Compression::Xz => {
            let mut e = xz2::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Compression::Bzip2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(data, 3).unwrap(),
    }
}

/// Decompresses with the real command line tools.
fn decompress_with_tools(path: &Path, c: Compression) -> Vec<u8> {
    let tool = match c {
        Compression::None => return fs::read(path).unwrap(),
        Compression::Gzip => "gzip",
        Compression::Xz => "xz",
        Compression::Bzip2 => "bzip2",
        Compression::Zstd => "zstd",
    };
    run(Command::new(tool).args(["-d", "-c"]).arg(path))
}

/// One line of `tar -tv --full-time`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    perms: String,
    owner: String,
    size: String,
    time: String,
    name: String,
}

fn list(archive: &Path, numeric: bool) -> Vec<Listed> {
    let mut cmd = Command::new("tar");
    cmd.env("TZ", "UTC").arg("--full-time");
    if numeric {
        cmd.arg("--numeric-owner");
    }
    let out = cmd.arg("-tvf").arg(archive).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "tar complained about {}: {}",
        archive.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Listed {
                perms: f[0].to_owned(),
                owner: f[1].to_owned(),
                size: f[2].to_owned(),
                time: format!("{} {}", f[3], f[4]),
                name: f[5..].join(" "),
            }
        })
        .collect()
}

fn extract_one(archive: &Path, member: &str) -> Vec<u8> {
    run(Command::new("tar").arg("-xOf").arg(archive).arg(member))
}

fn standard_edits() -> Vec<FileEdit> {
    vec![
        FileEdit::SearchReplace {
            glob: "*/src/config.h".into(),
            regex: "DEBUG 0".into(),
            replacement: "DEBUG 1".into(),
        },
        FileEdit::PrependLines {
            glob: "foo-1.2/README".into(),
            lines: vec!["# patched".into()],
        },
        FileEdit::PrependLines {
            glob: "**/dos.txt".into(),
            lines: vec!["first".into()],
        },
        FileEdit::Rename {
            file: DEEP.into(),
            to: DEEP_NEW_NAME.into(),
        },
        FileEdit::Rename {
            file: "foo-1.2/src/main.c".into(),
            to: long_main_name(),
        },
        FileEdit::Remove {
            glob: "foo-1.2/obsolete.*".into(),
        },
        FileEdit::Add {
            file: "foo-1.2/extra/NEW.txt".into(),
            contents: b"new file\n".to_vec(),
        },
    ]
}

fn check_compression(path: &Path, c: Compression) {
    let bytes = fs::read(path).unwrap();
    let description = String::from_utf8(run(Command::new("file").arg("-b").arg(path))).unwrap();
    let (magic, described): (&[u8], &str) = match c {
        Compression::None => (b"", "POSIX tar archive"),
        Compression::Gzip => (&[0x1f, 0x8b], "gzip compressed data, max compression"),
        Compression::Xz => (b"\xfd7zXZ\0", "XZ compressed data"),
        Compression::Bzip2 => (b"BZh9", "bzip2 compressed data, block size = 900k"),
        Compression::Zstd => (&[0x28, 0xb5, 0x2f, 0xfd], "Zstandard compressed data"),
    };
    assert!(bytes.starts_with(magic), "{c:?}");
    assert!(description.starts_with(described), "{c:?}: {description}");
    if c == Compression::Gzip {
        assert_eq!(bytes[3], 0, "gzip flags: no file name, no comment");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "gzip mtime 0");
    }
}

/// Checks an archive edited with `standard_edits` against the original with the real `tar`.
fn check_standard_result(original: &Path, edited: &Path, c: Compression, label: &str) {
    check_compression(edited, c);
    let renames: BTreeMap<String, String> = [
        (DEEP.to_owned(), format!("{DEEP_DIR}/{DEEP_NEW_NAME}")),
        (
            "foo-1.2/src/main.c".to_owned(),
            format!("foo-1.2/src/{}", long_main_name()),
        ),
    ]
    .into();
    let grown: BTreeMap<&str, usize> = [("foo-1.2/README", 10), ("foo-1.2/dos.txt", 7)].into();

    for numeric in [false, true] {
        let before = list(original, numeric);
        let after = list(edited, numeric);
        let kept: Vec<&Listed> = before
            .iter()
            .filter(|l| l.name != "foo-1.2/obsolete.txt")
            .collect();
        assert_eq!(after.len(), kept.len() + 2, "{label}: {after:#?}");
        for (b, a) in kept.iter().zip(&after) {
            let name = renames.get(&b.name).unwrap_or(&b.name);
            assert_eq!(&a.name, name, "{label}: order or name");
            assert_eq!(
                (&a.perms, &a.owner, &a.time),
                (&b.perms, &b.owner, &b.time),
                "{label}: metadata of {name}"
            );
            let size: usize = b.size.parse().unwrap();
            let expected = size + grown.get(b.name.as_str()).copied().unwrap_or(0);
            assert_eq!(a.size, expected.to_string(), "{label}: size of {name}");
        }
        let newest = before.iter().map(|l| l.time.clone()).max().unwrap();
        let owner = &before[0].owner;
        let added = &after[kept.len()..];
        assert_eq!(
            added[0],
            Listed {
                perms: "drwxr-xr-x".into(),
                owner: owner.clone(),
                size: "0".into(),
                time: newest.clone(),
                name: "foo-1.2/extra/".into(),
            },
            "{label}"
        );
        assert_eq!(
            added[1],
            Listed {
                perms: "-rw-r--r--".into(),
                owner: owner.clone(),
                size: "9".into(),
                time: newest,
                name: "foo-1.2/extra/NEW.txt".into(),
            },
            "{label}"
        );
    }

    // Contents, read back with the real tar.
    assert_eq!(extract_one(edited, "foo-1.2/README"), b"# patched\nHello\n");
    assert_eq!(
        extract_one(edited, "foo-1.2/dos.txt"),
        b"first\r\nline1\r\nline2\r\n"
    );
    assert_eq!(
        extract_one(edited, "foo-1.2/src/config.h"),
        b"#define VERSION \"1.2\"\n#define DEBUG 1\n"
    );
    assert_eq!(
        extract_one(edited, &format!("{DEEP_DIR}/{DEEP_NEW_NAME}")),
        b"int deep;\n"
    );
    assert_eq!(
        extract_one(edited, &format!("foo-1.2/src/{}", long_main_name())),
        b"int main(void) { return 0; }\n"
    );
    assert_eq!(extract_one(edited, "foo-1.2/extra/NEW.txt"), b"new file\n");
    for untouched in ["foo-1.2/configure", "foo-1.2/data.bin"] {
        assert_eq!(
            extract_one(edited, untouched),
            extract_one(original, untouched),
            "{label}: {untouched}"
        );
    }

    // A full extraction keeps modes, mtimes, the symlink and the hardlink.
    let out = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xpf")
        .arg(edited)
        .arg("-C")
        .arg(out.path()));
    let top = out.path().join("foo-1.2");
    let meta = |rel: &str| top.join(rel).symlink_metadata().unwrap();
    assert_eq!(meta("configure").mode() & 0o7777, 0o755);
    assert_eq!(meta("data.bin").mode() & 0o7777, 0o444);
    assert_eq!(meta("empty").mode() & 0o7777, 0o700);
    assert_eq!(
        meta(&format!("src/{}", long_main_name())).mode() & 0o7777,
        0o600
    );
    assert_eq!(meta("configure").mtime(), 1_600_001_000);
    assert_eq!(meta("hard").ino(), meta("configure").ino());
    assert_eq!(
        fs::read_link(top.join("link")).unwrap(),
        Path::new("README")
    );
    assert!(!top.join("obsolete.txt").exists());
}

fn file_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "foo-1.2.tar",
        Compression::Gzip => "foo-1.2.tar.gz",
        Compression::Xz => "foo-1.2.tar.xz",
        Compression::Bzip2 => "foo-1.2.tar.bz2",
        Compression::Zstd => "foo-1.2.tar.zst",
    }
}

struct Made {
    dir: TempDir,
    original: PathBuf,
    archive: PathBuf,
}

/// Makes the fixture archive, plus an untouched copy of it to compare against.
fn made(maker: Maker, c: Compression) -> Made {
    let dir = tempfile::tempdir().unwrap();
    let src = source_tree(dir.path());
    let archive = dir.path().join(file_name(c));
    make_archive(maker, &src, &archive, c);
    let original = dir.path().join(format!("original-{}", file_name(c)));
    fs::copy(&archive, &original).unwrap();
    Made {
        dir,
        original,
        archive,
    }
}

#[test]
fn standard_edits_in_every_format_and_compression() {
    for maker in MAKERS {
        for c in ALL {
            let label = format!("{maker:?} {c:?}");
            let m = made(maker, c);
            let done = edit_archive(&m.archive, &standard_edits()).unwrap();
            assert_eq!(done.compression, c, "{label}");
            let mut expected = vec![
                DEEP.to_owned(),
                format!("{DEEP_DIR}/{DEEP_NEW_NAME}"),
                "foo-1.2/README".to_owned(),
                "foo-1.2/dos.txt".to_owned(),
                "foo-1.2/extra/NEW.txt".to_owned(),
                "foo-1.2/obsolete.txt".to_owned(),
                "foo-1.2/src/config.h".to_owned(),
                "foo-1.2/src/main.c".to_owned(),
                format!("foo-1.2/src/{}", long_main_name()),
            ];
            expected.sort();
            assert_eq!(done.changed, expected, "{label}");
            check_standard_result(&m.original, &m.archive, c, &label);
            assert_eq!(
                fs::metadata(&m.archive).unwrap().permissions().mode() & 0o777,
                fs::metadata(&m.original).unwrap().permissions().mode() & 0o777
            );
        }
    }
}

#[test]
fn the_same_input_and_edits_give_identical_bytes() {
    for maker in [Maker::Tool("gnu"), Maker::Tool("posix")] {
        for c in ALL {
            let m = made(maker, c);
            let second = m.dir.path().join(format!("second-{}", file_name(c)));
            fs::copy(&m.original, &second).unwrap();
            edit_archive(&m.archive, &standard_edits()).unwrap();
            edit_archive(&second, &standard_edits()).unwrap();
            assert_eq!(
                fs::read(&m.archive).unwrap(),
                fs::read(&second).unwrap(),
                "{maker:?} {c:?}"
            );
        }
    }
}

/// Offsets of each member's first header block and of its end, read with the `tar` crate.
fn member_spans(tar_bytes: &[u8]) -> Vec<(String, u64, u64)> {
    let mut archive = tar::Archive::new(std::io::Cursor::new(tar_bytes));
    let mut spans = Vec::new();
    let mut next_start = 0;
    for entry in archive.entries_with_seek().unwrap() {
        let entry = entry.unwrap();
        let name = entry.path().unwrap().to_str().unwrap().to_owned();
        let end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
        spans.push((name, next_start, end));
        next_start = end;
    }
    spans
}

#[test]
fn untouched_members_keep_every_byte_of_the_tar_stream() {
    for maker in MAKERS {
        for c in ALL {
            let label = format!("{maker:?} {c:?}");
            let m = made(maker, c);
            // Replacing text with itself makes a replacement but changes nothing: the whole
            // uncompressed stream, end-of-archive padding included, must come back unchanged.
            edit_archive(
                &m.archive,
                &[FileEdit::SearchReplace {
                    glob: "*/src/config.h".into(),
                    regex: "DEBUG 0".into(),
                    replacement: "DEBUG 0".into(),
                }],
            )
            .unwrap();
            let before = decompress_with_tools(&m.original, c);
            assert!(decompress_with_tools(&m.archive, c) == before, "{label}");

            // Small edits that keep each member's block count: only those members' bytes differ.
            edit_archive(
                &m.archive,
                &[
                    FileEdit::SearchReplace {
                        glob: "*/src/config.h".into(),
                        regex: "DEBUG 0".into(),
                        replacement: "DEBUG 1".into(),
                    },
                    FileEdit::PrependLines {
                        glob: "foo-1.2/README".into(),
                        lines: vec!["# patched".into()],
                    },
                ],
            )
            .unwrap();
            let after = decompress_with_tools(&m.archive, c);
            assert_eq!(after.len(), before.len(), "{label}");
            let spans = member_spans(&before);
            for (name, start, end) in &spans {
                let (start, end) = (*start as usize, *end as usize);
                let same = after[start..end] == before[start..end];
                let edited = name.ends_with("config.h") || name.ends_with("README");
                assert_eq!(same, !edited, "{label}: {name}");
            }
        }
    }
}

#[test]
fn archives_with_dot_slash_paths() {
    for c in [Compression::Gzip, Compression::None] {
        let dir = tempfile::tempdir().unwrap();
        let src = source_tree(dir.path());
        let archive = dir.path().join(file_name(c));
        let mut cmd = Command::new("tar");
        cmd.args(["--format=gnu", "--sort=name"]);
        cmd.args(compression_flag(c));
        cmd.arg("-cf")
            .arg(&archive)
            .arg("-C")
            .arg(src.join("foo-1.2"))
            .arg(".");
        run(&mut cmd);
        let done = edit_archive(
            &archive,
            &[
                FileEdit::PrependLines {
                    glob: "README".into(),
                    lines: vec!["top".into()],
                },
                FileEdit::Add {
                    file: "NEWS".into(),
                    contents: b"news\n".to_vec(),
                },
                FileEdit::Rename {
                    file: "dos.txt".into(),
                    to: "dos.text".into(),
                },
            ],
        )
        .unwrap();
        assert_eq!(done.changed, ["NEWS", "README", "dos.text", "dos.txt"]);
        let names: Vec<String> = list(&archive, false).into_iter().map(|l| l.name).collect();
        assert_eq!(names.first().unwrap(), "./");
        assert_eq!(names.last().unwrap(), "./NEWS");
        assert!(names.contains(&"./dos.text".to_owned()), "{names:?}");
        assert!(!names.contains(&"./dos.txt".to_owned()), "{names:?}");
        assert_eq!(extract_one(&archive, "./README"), b"top\nHello\n");
    }
}

/// Runs edits that must fail on a gzip archive from the real tar; checks the archive is
/// byte-identical afterwards and no temporary file was left beside it.
fn failing(edits: &[FileEdit]) -> String {
    let m = made(Maker::Tool("gnu"), Compression::Gzip);
    let err = edit_archive(&m.archive, edits).unwrap_err();
    assert_eq!(
        fs::read(&m.archive).unwrap(),
        fs::read(&m.original).unwrap()
    );
    let mut names: Vec<String> = fs::read_dir(m.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["foo-1.2.tar.gz", "original-foo-1.2.tar.gz", "src"]);
    redacted(&err, m.dir.path())
}

#[test]
fn failing_edits_leave_the_archive_untouched() {
    let good = standard_edits();
    let with = |bad: FileEdit| {
        let mut edits = good.clone();
        edits.push(bad);
        failing(&edits)
    };
    insta::assert_snapshot!(
        with(FileEdit::Remove { glob: "*/missing.c".into() }),
        @"no file in [TMP]/foo-1.2.tar.gz matches `*/missing.c`"
    );
    insta::assert_snapshot!(
        with(FileEdit::Add { file: "foo-1.2/README".into(), contents: vec![] }),
        @"`foo-1.2/README` already exists in [TMP]/foo-1.2.tar.gz"
    );
    // The symlink is not extracted, but its name is taken.
    insta::assert_snapshot!(
        with(FileEdit::Add { file: "foo-1.2/link".into(), contents: vec![] }),
        @"`foo-1.2/link` already exists in [TMP]/foo-1.2.tar.gz"
    );
    insta::assert_snapshot!(
        with(FileEdit::Rename { file: "foo-1.2/link".into(), to: "l2".into() }),
        @"`foo-1.2/link` in [TMP]/foo-1.2.tar.gz is not a regular file"
    );
    insta::assert_snapshot!(
        with(FileEdit::PrependLines { glob: "*/data.bin".into(), lines: vec!["x".into()] }),
        @"`foo-1.2/data.bin` in [TMP]/foo-1.2.tar.gz is not valid UTF-8 (first bad byte at offset 0); PrependLines only edits text files"
    );
    insta::assert_snapshot!(
        with(FileEdit::SearchReplace { glob: "*/src/*".into(), regex: "x(".into(), replacement: String::new() }),
        @r"
    regex `x(` is invalid: regex parse error:
        x(
         ^
    error: unclosed group
    "
    );
    insta::assert_snapshot!(
        with(FileEdit::SearchReplace { glob: "*/src/*".into(), regex: "NOPE".into(), replacement: String::new() }),
        @"regex `NOPE` matched nothing in [TMP]/foo-1.2.tar.gz; searched `foo-1.2/src/config.h`, `foo-1.2/src/main-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.c`"
    );
    insta::assert_snapshot!(
        with(FileEdit::Remove { glob: "foo-1.2/configure".into() }),
        @"cannot remove `foo-1.2/configure` in [TMP]/foo-1.2.tar.gz: hardlink `foo-1.2/hard` refers to it"
    );
    insta::assert_snapshot!(
        with(FileEdit::Rename { file: "foo-1.2/configure".into(), to: "configure.sh".into() }),
        @"cannot rename `foo-1.2/configure` in [TMP]/foo-1.2.tar.gz: hardlink `foo-1.2/hard` refers to it"
    );
    // Directories never match: `empty` exists only as a directory.
    insta::assert_snapshot!(
        with(FileEdit::Remove { glob: "foo-1.2/empty".into() }),
        @"no file in [TMP]/foo-1.2.tar.gz matches `foo-1.2/empty`"
    );
    // Paths are relative to the archive root, so the top directory must be named.
    insta::assert_snapshot!(
        with(FileEdit::Remove { glob: "README".into() }),
        @"no file in [TMP]/foo-1.2.tar.gz matches `README`"
    );
}

#[test]
fn failing_edits_leave_every_compression_untouched() {
    for c in ALL {
        let m = made(Maker::Tool("posix"), c);
        let mut edits = standard_edits();
        edits.push(FileEdit::Rename {
            file: "foo-1.2/missing".into(),
            to: "x".into(),
        });
        let err = edit_archive(&m.archive, &edits).unwrap_err();
        assert!(
            err.to_string().contains("`foo-1.2/missing` does not exist"),
            "{err}"
        );
        assert_eq!(
            fs::read(&m.archive).unwrap(),
            fs::read(&m.original).unwrap()
        );
    }
}

#[test]
fn symlinks_in_the_archive_do_not_let_edits_escape() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("victim.txt"), "keep me\n").unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("foo")).unwrap();
    std::os::unix::fs::symlink(&outside, src.join("foo/escape")).unwrap();
    std::os::unix::fs::symlink("../../outside/victim.txt", src.join("foo/victim.txt")).unwrap();
    let archive = dir.path().join("foo.tar");
    run(Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg("foo"));
    let original = fs::read(&archive).unwrap();
    let attempts = [
        FileEdit::Add {
            file: "foo/escape/planted".into(),
            contents: b"x".to_vec(),
        },
        FileEdit::SearchReplace {
            glob: "foo/**".into(),
            regex: "keep".into(),
            replacement: "lost".into(),
        },
        FileEdit::Remove {
            glob: "foo/escape/*".into(),
        },
        FileEdit::PrependLines {
            glob: "foo/victim.txt".into(),
            lines: vec!["x".into()],
        },
    ];
    let messages: Vec<String> = attempts
        .iter()
        .map(|e| {
            redacted(
                &edit_archive(&archive, std::slice::from_ref(e)).unwrap_err(),
                dir.path(),
            )
        })
        .collect();
    insta::assert_snapshot!(messages.join("\n"), @r"
    path `foo/escape/planted` cannot be used in [TMP]/foo.tar: `foo/escape` is not a directory
    no file in [TMP]/foo.tar matches `foo/**`
    no file in [TMP]/foo.tar matches `foo/escape/*`
    no file in [TMP]/foo.tar matches `foo/victim.txt`
    ");
    assert_eq!(fs::read(&archive).unwrap(), original);
    assert_eq!(
        fs::read_to_string(outside.join("victim.txt")).unwrap(),
        "keep me\n"
    );
    assert!(!outside.join("planted").exists());
}

/// A one-member ustar archive whose header names `name` (written raw, bypassing the checks of
/// the `tar` crate).
fn raw_tar(names: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for name in names {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_mode(0o644);
        h.set_size(3);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        let mut data = b"abc".to_vec();
        data.resize(512, 0);
        out.extend_from_slice(&data);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn archive_error(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    let edit = FileEdit::Add {
        file: "new".into(),
        contents: vec![],
    };
    let err = edit_archive(&path, &[edit]).unwrap_err();
    assert_eq!(fs::read(&path).unwrap(), bytes, "{name} was changed");
    redacted(&err, dir.path())
}

#[test]
fn unsupported_damaged_and_unsafe_archives_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(
        archive_error(&dir, "foo.zip", b"PK\x03\x04\x14\x00\x00\x00rest of a zip"),
        @"[TMP]/foo.zip is not a tar archive in a supported compression (none, gzip, xz, bzip2, zstd): a zip archive"
    );
    insta::assert_snapshot!(
        archive_error(&dir, "notes.tar", b"just some text, not an archive\n"),
        @"[TMP]/notes.tar is not a tar archive in a supported compression (none, gzip, xz, bzip2, zstd): unknown format starting with bytes 6a 75 73 74 20 73 6f 6d"
    );
    insta::assert_snapshot!(
        archive_error(&dir, "text.tar.gz", &compress_with_crates(&[b'x'; 2000], Compression::Gzip)),
        @"[TMP]/text.tar.gz is not a valid tar archive: it does not start with a tar header"
    );
    let good = compress_with_crates(&raw_tar(&[b"a.txt"]), Compression::Xz);
    insta::assert_snapshot!(
        archive_error(&dir, "cut.tar.xz", &good[..good.len() - 20]),
        @"[TMP]/cut.tar.xz is not a valid tar archive: xz data is damaged: premature eof"
    );
    let mut cut = raw_tar(&[b"a.txt", b"b.txt"]);
    cut.truncate(1024 + 700);
    insta::assert_snapshot!(
        archive_error(&dir, "cut.tar", &cut),
        @"[TMP]/cut.tar is not a valid tar archive: it ends inside a member's data at offset 1724"
    );
    insta::assert_snapshot!(
        archive_error(&dir, "dotdot.tar", &raw_tar(&[b"ok.txt", b"foo/../../evil"])),
        @"[TMP]/dotdot.tar holds entry `foo/../../evil` with a `..` component; refusing to edit it"
    );
    insta::assert_snapshot!(
        archive_error(&dir, "abs.tar.zst", &compress_with_crates(&raw_tar(&[b"/etc/cron.d/evil"]), Compression::Zstd)),
        @"[TMP]/abs.tar.zst holds entry `/etc/cron.d/evil` with an absolute path; refusing to edit it"
    );
    insta::assert_snapshot!(
        archive_error(&dir, "dup.tar", &raw_tar(&[b"a.txt", b"./a.txt"])),
        @"[TMP]/dup.tar holds `a.txt` twice as a regular file; cannot tell which one to edit"
    );
    insta::assert_snapshot!(
        archive_error(&dir, "empty.tar.gz", b""),
        @"[TMP]/empty.tar.gz is not a tar archive in a supported compression (none, gzip, xz, bzip2, zstd): the file is empty"
    );
    let missing = dir.path().join("missing.tar.gz");
    let err = edit_archive(&missing, &[]).unwrap_err();
    insta::assert_snapshot!(redacted(&err, dir.path()), @"cannot open `[TMP]/missing.tar.gz`: No such file or directory (os error 2)");
}

#[test]
fn no_edits_check_the_archive_but_do_not_rewrite_it() {
    let m = made(Maker::Tool("gnu"), Compression::Xz);
    let done = edit_archive(&m.archive, &[]).unwrap();
    assert_eq!(done.compression, Compression::Xz);
    assert!(done.changed.is_empty());
    assert_eq!(
        fs::read(&m.archive).unwrap(),
        fs::read(&m.original).unwrap()
    );
}

#[test]
fn edits_see_earlier_edits_of_the_same_call() {
    let m = made(Maker::Tool("ustar"), Compression::Bzip2);
    let done = edit_archive(
        &m.archive,
        &[
            FileEdit::Add {
                file: "foo-1.2/doc/notes.txt".into(),
                contents: b"draft\n".to_vec(),
            },
            FileEdit::SearchReplace {
                glob: "foo-1.2/doc/*.txt".into(),
                regex: "draft".into(),
                replacement: "final".into(),
            },
            FileEdit::Rename {
                file: "foo-1.2/doc/notes.txt".into(),
                to: "NOTES".into(),
            },
            FileEdit::Rename {
                file: "foo-1.2/README".into(),
                to: "README.md".into(),
            },
            FileEdit::PrependLines {
                glob: "foo-1.2/README.md".into(),
                lines: vec!["# Title".into()],
            },
            FileEdit::Remove {
                glob: "foo-1.2/src/main.c".into(),
            },
            FileEdit::Add {
                file: "foo-1.2/src/main.c".into(),
                contents: b"int main(void) { return 1; }\n".to_vec(),
            },
        ],
    )
    .unwrap();
    assert_eq!(
        done.changed,
        [
            "foo-1.2/README",
            "foo-1.2/README.md",
            "foo-1.2/doc/NOTES",
            "foo-1.2/doc/notes.txt",
            "foo-1.2/src/main.c"
        ]
    );
    let after = list(&m.archive, false);
    let names: Vec<&str> = after.iter().map(|l| l.name.as_str()).collect();
    let before = list(&m.original, false);
    let readme = names
        .iter()
        .position(|n| *n == "foo-1.2/README.md")
        .unwrap();
    let old_readme = before
        .iter()
        .position(|l| l.name == "foo-1.2/README")
        .unwrap();
    assert_eq!(readme, old_readme, "a renamed member keeps its place");
    assert_eq!(after[readme].perms, before[old_readme].perms);
    assert_eq!(after[readme].time, before[old_readme].time);
    assert_eq!(
        &names[names.len() - 3..],
        ["foo-1.2/doc/", "foo-1.2/doc/NOTES", "foo-1.2/src/main.c"]
    );
    assert_eq!(extract_one(&m.archive, "foo-1.2/doc/NOTES"), b"final\n");
    assert_eq!(
        extract_one(&m.archive, "foo-1.2/README.md"),
        b"# Title\nHello\n"
    );
    assert_eq!(
        extract_one(&m.archive, "foo-1.2/src/main.c"),
        b"int main(void) { return 1; }\n"
    );
    check_compression(&m.archive, Compression::Bzip2);
}

#[test]
fn git_archive_with_a_pax_global_header() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir_all(repo.join("src")).unwrap();
    fs::write(repo.join("README"), "Hello\n").unwrap();
    fs::write(repo.join("src/config.h"), "#define DEBUG 0\n").unwrap();
    let git = |args: &[&str]| {
        run(Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(["-c", "commit.gpgsign=false"])
            .arg("-C")
            .arg(&repo)
            .args(args))
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "init"]);
    let archive = dir.path().join("foo-1.2.tar.gz");
    git(&[
        "archive",
        "--format=tar.gz",
        "--prefix=foo-1.2/",
        "-o",
        archive.to_str().unwrap(),
        "HEAD",
    ]);
    let original = dir.path().join("original.tar.gz");
    fs::copy(&archive, &original).unwrap();
    edit_archive(
        &archive,
        &[FileEdit::SearchReplace {
            glob: "*/src/config.h".into(),
            regex: "DEBUG 0".into(),
            replacement: "DEBUG 1".into(),
        }],
    )
    .unwrap();
    assert_eq!(
        extract_one(&archive, "foo-1.2/src/config.h"),
        b"#define DEBUG 1\n"
    );
    assert_eq!(list(&archive, true), list(&original, true));
    // The global header (holding the commit id) survives: git can still read it back.
    let plain = dir.path().join("plain.tar");
    fs::write(&plain, decompress_with_tools(&archive, Compression::Gzip)).unwrap();
    let stdin = fs::File::open(&plain).unwrap().into_parts().0;
    let commit = String::from_utf8(run(Command::new("git")
        .arg("get-tar-commit-id")
        .stdin(stdin)))
    .unwrap();
    let head = String::from_utf8(git(&["rev-parse", "HEAD"])).unwrap();
    assert_eq!(commit.trim(), head.trim());
}
