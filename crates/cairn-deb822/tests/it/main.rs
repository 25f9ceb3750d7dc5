//! cairn-deb822 against the real apt lists on this machine, and hand-written bad input.

use cairn_deb822::{parse_packages, parse_release, parse_sources_file};
use cairn_package::Dep;
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use std::path::PathBuf;

const LISTS: &str = "/var/lib/apt/lists";

fn lists(suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs_err::read_dir(LISTS)
        .expect("apt lists: run scripts/setup-host.sh (apt-get update) first")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    assert!(
        !v.is_empty(),
        "no *{suffix} in {LISTS}: the host's apt lists are missing (run apt-get update)"
    );
    v
}

fn lz4(path: &PathBuf) -> Vec<u8> {
    let mut out = Vec::new();
    lz4_flex::frame::FrameDecoder::new(BufReader::new(fs_err::File::open(path).unwrap()))
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The signed body of a cleartext-signed message (no verification: the test only checks
/// parsing; cairn-apt verifies).
fn cleartext_body(text: &str) -> String {
    let (_, rest) = text.split_once("\n\n").unwrap();
    let (body, _) = rest.split_once("\n-----BEGIN PGP SIGNATURE-----").unwrap();
    body.lines()
        .map(|l| l.strip_prefix("- ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn real_packages_files_parse_and_match_inrelease() {
    let mut saw_main = false;
    for path in lists("_Packages.lz4") {
        let raw = lz4(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let pkgs = parse_packages(&raw[..], &name).unwrap();
        let paragraphs = raw
            .split(|b| *b == b'\n')
            .filter(|l| l.starts_with(b"Package: "))
            .count();
        assert_eq!(pkgs.len(), paragraphs, "{name}");
        for p in &pkgs {
            assert!(
                p.location.starts_with("pool/"),
                "{}: {}",
                p.name,
                p.location
            );
            assert!(p.size > 0 && p.source.is_some(), "{}", p.name);
        }

        // The InRelease of the same suite lists the uncompressed Packages with its SHA256.
        let (suite_prefix, rest) = name.split_once("_main_").unwrap();
        let inrelease = PathBuf::from(LISTS).join(format!("{suite_prefix}_InRelease"));
        let rel = parse_release(
            &cleartext_body(&fs_err::read_to_string(&inrelease).unwrap()),
            &name,
        )
        .unwrap();
        let index = format!("main/{}", rest.trim_end_matches(".lz4").replace('_', "/"));
        let entry = rel
            .file(&index)
            .unwrap_or_else(|| panic!("{index} not in {}", inrelease.display()));
        assert_eq!(entry.size, raw.len() as u64, "{index}");
        assert_eq!(entry.sha256, hex::encode(Sha256::digest(&raw)), "{index}");
        // The security archive writes its components as `updates/main`.
        assert!(
            rel.components
                .iter()
                .any(|c| c == "main" || c == "updates/main"),
            "{:?}",
            rel.components
        );
        assert!(rel.architectures.contains(&"amd64".to_owned()));

        if suite_prefix.ends_with("_debian_dists_bookworm") {
            saw_main = true;
            assert_eq!(rel.codename.as_deref(), Some("bookworm"));
            assert!(rel.date.is_some());
            assert!(pkgs.len() > 50_000, "{}", pkgs.len());
            let bash = pkgs.iter().find(|p| p.name == "bash").unwrap();
            assert!(bash.essential);
            assert_eq!(bash.priority.as_deref(), Some("required"));
            assert!(
                bash.summary.as_deref().unwrap().contains("Bourne"),
                "{:?}",
                bash.summary
            );
            assert!(
                bash.installed_size.unwrap() % 1024 == 0
                    && bash.installed_size.unwrap() > 1024 * 1024
            );
            let libc = pkgs.iter().find(|p| p.name == "libc6").unwrap();
            assert_eq!(libc.source.as_deref(), Some("glibc"));
            assert_eq!(libc.multi_arch.as_deref(), Some("same"));
            assert!(!libc.conflicts.is_empty() && !libc.requires.is_empty());
            // Alternatives stay one entry: some package in main has `a | b` in Depends.
            assert!(
                pkgs.iter()
                    .any(|p| p.requires.iter().any(|d| matches!(d, Dep::Or(_))))
            );
            // Source with a version in parentheses is stripped to the name.
            assert!(
                pkgs.iter()
                    .all(|p| !p.source.as_deref().unwrap().contains('('))
            );
        }
    }
    assert!(saw_main, "bookworm main Packages not found in {LISTS}");
}

#[test]
fn host_sources_file_parses() {
    let path = "/etc/apt/sources.list.d/debian.sources";
    let entries = parse_sources_file(&fs_err::read_to_string(path).unwrap(), path).unwrap();
    let main = entries
        .iter()
        .find(|e| e.suites.contains(&"bookworm".to_owned()))
        .unwrap();
    assert_eq!(main.types, ["deb"]);
    assert!(main.components.contains(&"main".to_owned()));
    assert!(main.signed_by.as_deref().unwrap().ends_with(".gpg"));
}

const GOOD: &str = "Package: demo\nSource: demo-src (1.0-1)\nVersion: 1:1.0-1+b1\nInstalled-Size: 10\n\
Pre-Depends: libc6 (>= 2.36)\nDepends: a | b (>= 1),\n c:any\nBreaks: old (<< 1)\nConflicts: other\n\
Provides: virt (= 1)\nEssential: yes\nArchitecture: amd64\nFilename: pool/main/d/demo/demo_1.0-1_amd64.deb\n\
Size: 1234\nSHA256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\
Description: a demo\n long text\n";

#[test]
fn snippet_maps_every_field() {
    let pkgs = parse_packages(GOOD.as_bytes(), "snippet").unwrap();
    let p = &pkgs[0];
    assert_eq!(p.nevra(), "demo_1:1.0-1+b1_amd64");
    assert_eq!(p.source.as_deref(), Some("demo-src"));
    assert_eq!(p.installed_size, Some(10 * 1024));
    assert_eq!(p.requires.len(), 3, "{:?}", p.requires);
    assert_eq!(
        p.requires[0].to_string().split_whitespace().next(),
        Some("libc6")
    );
    assert!(matches!(p.requires[1], Dep::Or(ref alts) if alts.len() == 2));
    assert_eq!(p.conflicts.len(), 2);
    assert_eq!(p.provides.len(), 1);
    assert!(p.essential);
    assert_eq!(p.summary.as_deref(), Some("a demo"));
    assert_eq!(
        p.checksum.to_string(),
        format!("sha256:{}", "0123456789abcdef".repeat(4))
    );
    assert_eq!(p.size, 1234);
}

#[test]
fn bad_paragraphs_name_origin_package_and_field() {
    let cases = [
        (
            GOOD.replace(
                "SHA256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
                "",
            ),
            "SHA256",
        ),
        (GOOD.replace("SHA256: 0123", "SHA256: zz23"), "SHA256"),
        (
            GOOD.replace("Version: 1:1.0-1+b1", "Version: x:1"),
            "Version",
        ),
        (
            GOOD.replace("Installed-Size: 10", "Installed-Size: ten"),
            "Installed-Size",
        ),
        (GOOD.replace("Size: 1234", "Size: -1"), "Size"),
        (
            GOOD.replace("Depends: a | b (>= 1)", "Depends: a (>= )"),
            "Depends",
        ),
        (
            GOOD.replace("Filename: pool/main/d/demo/demo_1.0-1_amd64.deb\n", ""),
            "Filename",
        ),
    ];
    for (text, field) in cases {
        let err = parse_packages(text.as_bytes(), "bad.Packages")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.Packages") && err.contains("demo") && err.contains(field),
            "expected an error naming bad.Packages, demo and {field}: {err}"
        );
    }
    let err = parse_packages("Version: 1\n".as_bytes(), "nopkg")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nopkg") && err.contains("no Package field"),
        "{err}"
    );
}
