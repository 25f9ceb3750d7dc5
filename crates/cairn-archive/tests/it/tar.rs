//! write_tar / write_tar_gz against GNU tar and getcap.

use std::process::Command;

use cairn_archive::{ArchiveError, OverlayEntry, TarOptions, write_tar, write_tar_gz};

use crate::common::*;

#[test]
fn gnu_tar_round_trip_keeps_owners_modes_links_devices_and_caps() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    sample_tree(&root, false, EPOCH + 5_000);
    let tarball = tmp.path().join("root.tar");
    let summary = {
        let mut file = fs_err::File::create(&tarball).unwrap();
        write_tar(&root, &mut file, &TarOptions::new(EPOCH)).unwrap()
    };
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    assert_eq!(summary.skipped[0].path, std::path::Path::new("run/socket"));
    assert!(summary.skipped[0].reason.contains("socket"));
    assert_eq!(
        (summary.hard_links, summary.devices, summary.fifos),
        (2, 2, 1)
    );
    assert_eq!(summary.bytes, fs_err::metadata(&tarball).unwrap().len());

    let listing = run(Command::new(tool("tar"))
        .args(["--numeric-owner", "-tvf"])
        .arg(&tarball));
    let line = |name: &str| -> String {
        listing
            .lines()
            .find(|l| l.split_whitespace().nth(5) == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{listing}"))
            .to_owned()
    };
    assert!(
        listing
            .lines()
            .all(|l| l.split_whitespace().nth(5).unwrap().starts_with("./")),
        "{listing}"
    );
    assert!(line("./").starts_with("drwxr-xr-x 0/0"));
    assert!(
        line("./usr/bin/su").starts_with("-rwsr-xr-x 0/0"),
        "{}",
        line("./usr/bin/su")
    );
    assert!(line("./tmp/").starts_with("drwxrwxrwt 0/0"));
    assert!(line("./home/user/notes").starts_with("-rw------- 1000/1000"));
    assert!(line("./etc/shadow").starts_with("-rw-r----- 0/42"));
    assert!(line("./usr/bin/env").starts_with("lrwxrwxrwx 7/8"));
    assert!(line("./dev/null").starts_with("crw-rw-rw- 0/0") && line("./dev/null").contains("1,3"));
    assert!(
        line("./dev/loop0").starts_with("brw-rw---- 0/6") && line("./dev/loop0").contains("7,0")
    );
    assert!(line("./run/initctl").starts_with("prw-------"));
    assert!(line("./bin/sh").ends_with("./bin/sh -> busybox"));
    assert!(line("./usr/lib/libfirst.so").ends_with("link to ./etc/linked"));
    assert!(line("./usr/lib/libsecond.so").ends_with("link to ./etc/linked"));
    assert!(listing.contains(&format!("./{LONG_DIR}/file-with-a-long-name.txt")));
    // Sorted bytewise by path.
    let names: Vec<&str> = listing
        .lines()
        .map(|l| l.split_whitespace().nth(5).unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| a.trim_end_matches('/').cmp(b.trim_end_matches('/')));
    assert_eq!(names, sorted);

    let out = tmp.path().join("out");
    fs_err::create_dir(&out).unwrap();
    run(Command::new(tool("tar"))
        .args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf"])
        .arg(&tarball)
        .arg("-C")
        .arg(&out));
    assert_same_tree(&snapshot(&root, EPOCH, true), &snapshot(&out, EPOCH, true));
    let caps = run(Command::new(tool("getcap")).arg(out.join("usr/bin/ping")));
    assert!(caps.contains("cap_net_raw=ep"), "getcap: {caps}");
    // The old mtime survived; newer ones were clamped.
    let meta = fs_err::metadata(out.join("etc/old")).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::mtime(&meta),
        OLD_MTIME as i64
    );
    let meta = fs_err::metadata(out.join("etc/hostname")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::mtime(&meta), EPOCH as i64);
}

#[test]
fn excludes_and_overlay_change_the_archive_not_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    sample_tree(&root, false, EPOCH + 1);
    write(&root.join("boot/vmlinuz-6.1.0"), b"kernel", 0o644);
    write(&root.join("boot/config-6.1.0"), b"config", 0o644);
    let before = snapshot(&root, u64::MAX, true);

    let mut opts = TarOptions::new(EPOCH);
    opts.exclude = vec![
        "/boot/vmlinuz*".into(),
        "var/empty".into(),
        "./usr/share".into(),
    ];
    opts.overlay = vec![
        OverlayEntry {
            uid: 5,
            gid: 6,
            ..OverlayEntry::file("/etc/hostname", "overlay\n", 0o600)
        },
        OverlayEntry::file("opt/new/file", "new\n", 0o644),
        OverlayEntry::symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
        OverlayEntry::directory("srv/data", 0o750),
    ];
    let tarball = tmp.path().join("root.tar");
    let mut file = fs_err::File::create(&tarball).unwrap();
    write_tar(&root, &mut file, &opts).unwrap();
    drop(file);
    assert_same_tree(&before, &snapshot(&root, u64::MAX, true));

    let out = tmp.path().join("out");
    fs_err::create_dir(&out).unwrap();
    run(Command::new(tool("tar"))
        .args(["--numeric-owner", "-xpf"])
        .arg(&tarball)
        .arg("-C")
        .arg(&out));
    let got = snapshot(&out, u64::MAX, true);
    assert!(got.contains_key("boot/config-6.1.0"));
    assert!(!got.contains_key("boot/vmlinuz-6.1.0"));
    assert!(!got.contains_key("var/empty"));
    assert!(got.contains_key("var"));
    assert!(!got.contains_key("usr/share"));
    assert_eq!(
        fs_err::read(out.join("etc/hostname")).unwrap(),
        b"overlay\n"
    );
    let hostname = &got["etc/hostname"];
    assert_eq!(
        (hostname.mode, hostname.uid, hostname.gid, hostname.mtime),
        (0o600, 5, 6, EPOCH as i64)
    );
    assert_eq!(
        (got["opt"].mode, got["opt/new"].mode, got["opt/new"].uid),
        (0o755, 0o755, 0)
    );
    assert_eq!(got["etc/localtime"].detail, "/usr/share/zoneinfo/UTC");
    assert_eq!(
        (got["srv/data"].kind.as_str(), got["srv/data"].mode),
        ("dir", 0o750)
    );
}

#[test]
fn bad_overlays_and_roots_are_errors_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    sample_tree(&root, false, EPOCH);
    let try_overlay = |entry: OverlayEntry| -> String {
        let mut opts = TarOptions::new(EPOCH);
        opts.overlay = vec![entry];
        match write_tar(&root, &mut std::io::sink(), &opts) {
            Err(e @ ArchiveError::BadOverlay { .. }) => e.to_string(),
            other => panic!("expected BadOverlay, got {other:?}"),
        }
    };
    assert!(try_overlay(OverlayEntry::file("etc/hostname/x", "", 0o644)).contains("etc/hostname"));
    assert!(try_overlay(OverlayEntry::file("/etc", "", 0o644)).contains("directory"));
    assert!(try_overlay(OverlayEntry::file("../escape", "", 0o644)).contains("../escape"));

    let missing = tmp.path().join("no-such-root");
    let err = write_tar(&missing, &mut std::io::sink(), &TarOptions::new(EPOCH)).unwrap_err();
    assert!(err.to_string().contains("no-such-root"), "{err}");
    let file_root = root.join("etc/hostname");
    let err = write_tar(&file_root, &mut std::io::sink(), &TarOptions::new(EPOCH)).unwrap_err();
    assert!(
        matches!(err, ArchiveError::RootNotDirectory { .. })
            && err.to_string().contains("etc/hostname"),
        "{err}"
    );
    let mut opts = TarOptions::new(EPOCH);
    opts.exclude = vec!["[unclosed".into()];
    let err = write_tar(&root, &mut std::io::sink(), &opts).unwrap_err();
    assert!(err.to_string().contains("[unclosed"), "{err}");
}

#[test]
fn gzip_output_is_deterministic_and_readable_by_gnu_tar() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    sample_tree(&root, false, EPOCH + 3);
    let mut a = Vec::new();
    let mut b = Vec::new();
    let sa = write_tar_gz(&root, &mut a, &TarOptions::new(EPOCH), 6).unwrap();
    let sb = write_tar_gz(&root, &mut b, &TarOptions::new(EPOCH), 6).unwrap();
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_eq!(sa.compressed_bytes, a.len() as u64);
    assert_eq!(&a[4..8], &[0, 0, 0, 0], "gzip mtime must be 0");
    assert_eq!(a[3] & 0x08, 0, "no file name in the gzip header");
    let path = tmp.path().join("root.tar.gz");
    fs_err::write(&path, &a).unwrap();
    let listing = run(Command::new(tool("tar")).arg("-tzf").arg(&path));
    assert_eq!(listing.lines().count() as u64, sa.tar.entries);
    let plain = run(Command::new(tool("gzip")).arg("-dc").arg(&path));
    assert!(!plain.is_empty());
}
