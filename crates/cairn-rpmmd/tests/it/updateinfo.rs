//! updateinfo.xml: a snapshot of the document, write → parse identity for generated
//! advisories, and dnf reading what cairn writes.

use crate::write::build_rpms;
use anyhow::{Context, Result, ensure};
use cairn_rpmmd::write::is_forbidden_xml_char;
use cairn_rpmmd::{
    Advisory, AdvisoryKind, AdvisoryPackage, RefKind, Reference, Severity, parse_updateinfo,
    validate_all, write_updateinfo,
};
use proptest::prelude::*;
use std::process::Command;

fn security() -> Advisory {
    Advisory {
        id: "CAIRN-2026-0001".into(),
        kind: AdvisoryKind::Security,
        severity: Some(Severity::Important),
        title: "cairn-x: fix <overflow> & \"quoting\"".into(),
        issued: 1_767_323_045,
        updated: Some(1_767_409_445),
        description: "A crafted file could overflow a buffer.\n\nUpdate now.".into(),
        solution: Some("Run `dnf upgrade --advisory CAIRN-2026-0001`.".into()),
        release: Some("Cairn Linux 1".into()),
        from: "security@example.org".into(),
        status: "stable".into(),
        references: vec![
            Reference {
                kind: RefKind::Cve,
                id: "CVE-2026-12345".into(),
                href: "https://www.cve.org/CVERecord?id=CVE-2026-12345".into(),
                title: "CVE-2026-12345".into(),
            },
            Reference {
                kind: RefKind::Bugzilla,
                id: "42".into(),
                href: "https://bugs.example.org/show_bug.cgi?id=42&x=y".into(),
                title: "overflow in x".into(),
            },
            Reference {
                kind: RefKind::Self_,
                id: "CAIRN-2026-0001".into(),
                href: "https://example.org/advisories/CAIRN-2026-0001".into(),
                title: String::new(),
            },
        ],
        packages: vec![AdvisoryPackage {
            name: "cairn-x".into(),
            epoch: 1,
            version: "1.2".into(),
            release: "3".into(),
            arch: "x86_64".into(),
            src: "cairn-x-1.2-3.src.rpm".into(),
            filename: "cairn-x-1.2-3.x86_64.rpm".into(),
        }],
        reboot_suggested: true,
    }
}

fn bugfix() -> Advisory {
    Advisory {
        id: "CAIRN-2025-0007".into(),
        kind: AdvisoryKind::Bugfix,
        severity: None,
        title: "cairn-y: new upstream release".into(),
        issued: 1_735_689_600,
        updated: None,
        description: "Fixes several bugs.".into(),
        solution: None,
        release: None,
        from: "updates@example.org".into(),
        status: "stable".into(),
        references: vec![],
        packages: vec![AdvisoryPackage {
            name: "cairn-y".into(),
            epoch: 0,
            version: "0.9".into(),
            release: "1".into(),
            arch: "noarch".into(),
            src: String::new(),
            filename: "cairn-y-0.9-1.noarch.rpm".into(),
        }],
        reboot_suggested: false,
    }
}

#[test]
fn document_snapshot_and_roundtrip() -> Result<()> {
    let all = [security(), bugfix()];
    validate_all(&all)?;
    let xml = write_updateinfo(&all);
    insta::assert_snapshot!("updateinfo", xml);
    // sorted by id
    assert_eq!(
        parse_updateinfo(xml.as_bytes(), "u")?,
        vec![bugfix(), security()]
    );
    // order of the input does not matter
    assert_eq!(write_updateinfo(&[bugfix(), security()]), xml);
    Ok(())
}

#[test]
fn toml_file_per_advisory() -> Result<()> {
    for a in [security(), bugfix()] {
        let text = toml::to_string(&a)?;
        let back: Advisory = toml::from_str(&text)?;
        assert_eq!(back, a);
    }
    insta::assert_snapshot!("advisory_toml", toml::to_string(&security())?);
    Ok(())
}

fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    ensure!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// dnf (through libsolv) reads the advisories cairn writes: with cairn-x installed,
/// `dnf updateinfo info --all` shows its security advisory with severity and CVE.
#[test]
fn dnf_reads_the_advisories() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let rpms = build_rpms(tmp.path())?;
    let repo = tmp.path().join("repo");
    run(Command::new("createrepo_c")
        .args(["--no-database", "--workers", "1"])
        .arg(&repo))?;
    let ui = tmp.path().join("updateinfo.xml");
    fs_err::write(&ui, write_updateinfo(&[security(), bugfix()]))?;
    run(Command::new("modifyrepo_c")
        .arg("--mdtype=updateinfo")
        .arg(&ui)
        .arg(repo.join("repodata")))?;

    // an install root where cairn-x is installed (database only)
    let root = tmp.path().join("root");
    fs_err::create_dir_all(&root)?;
    let dbpath = run(Command::new("rpm").args(["-E", "%_dbpath"]))?;
    let x = rpms
        .iter()
        .find(|p| p.to_string_lossy().contains("cairn-x-"))
        .context("cairn-x rpm")?;
    run(Command::new("rpm")
        .arg("--root")
        .arg(&root)
        .arg("--dbpath")
        .arg(dbpath.trim())
        .args(["-i", "--justdb", "--nodeps", "--noscripts"])
        .arg(x))?;

    let dnf = |args: &[&str]| -> Result<String> {
        run(Command::new("dnf")
            .env("TZ", "UTC")
            .arg("--releasever=1")
            .arg(format!("--installroot={}", root.display()))
            .arg("--setopt=reposdir=/dev/null")
            .arg(format!(
                "--setopt=cachedir={}",
                tmp.path().join("cache").display()
            ))
            .arg(format!("--repofrompath=cairn,file://{}", repo.display()))
            .arg("--repo=cairn")
            .args(args))
    };
    let info = dnf(&["updateinfo", "info", "--all"])?;
    for want in [
        "cairn-x: fix <overflow> & \"quoting\"",
        "Update ID: CAIRN-2026-0001",
        "Type: security",
        "Severity: Important",
        "CVEs: CVE-2026-12345",
        "42 - overflow in x",
        "Updated: 2026-01-03 03:04:05",
    ] {
        assert!(info.contains(want), "dnf output lacks {want:?}:\n{info}");
    }
    // cairn-y is not installed: its advisory does not apply
    assert!(!info.contains("CAIRN-2025-0007"), "{info}");
    let list = dnf(&["updateinfo", "list", "--all", "--security"])?;
    assert!(
        list.contains("CAIRN-2026-0001") && list.contains("Important/Sec."),
        "{list}"
    );
    Ok(())
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| !is_forbidden_xml_char(*c)).collect()
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\\t\\r\\n&<>\"']{0,30}",
        Just(String::new()),
    ]
}

fn reference() -> impl Strategy<Value = Reference> {
    (
        prop_oneof![
            Just(RefKind::Cve),
            Just(RefKind::Bugzilla),
            Just(RefKind::Self_),
            Just(RefKind::Other)
        ],
        text(),
        text(),
        text(),
    )
        .prop_map(|(kind, id, href, title)| Reference {
            kind,
            id,
            href,
            title,
        })
}

fn package() -> impl Strategy<Value = AdvisoryPackage> {
    (any::<u32>(), text(), text(), text(), text(), text(), text()).prop_map(
        |(epoch, name, version, release, arch, src, filename)| AdvisoryPackage {
            name,
            epoch,
            version,
            release,
            arch,
            src,
            filename,
        },
    )
}

fn advisory() -> impl Strategy<Value = Advisory> {
    let head = (
        "[A-Za-z0-9._:-]{1,24}",
        prop_oneof![
            Just(AdvisoryKind::Security),
            Just(AdvisoryKind::Bugfix),
            Just(AdvisoryKind::Enhancement),
            Just(AdvisoryKind::Newpackage)
        ],
        proptest::option::of(prop_oneof![
            Just(Severity::Low),
            Just(Severity::Moderate),
            Just(Severity::Important),
            Just(Severity::Critical)
        ]),
        text(),
        0..=253_402_300_799u64,
        proptest::option::of(0..=253_402_300_799u64),
    );
    let tail = (
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        text(),
        text(),
        proptest::collection::vec(reference(), 0..3),
        proptest::collection::vec(package(), 0..3),
        any::<bool>(),
    );
    (head, tail).prop_map(
        |(
            (id, kind, severity, title, issued, updated),
            (description, solution, release, from, status, references, packages, reboot),
        )| Advisory {
            id,
            kind,
            severity,
            title,
            issued,
            updated,
            description,
            solution,
            release,
            from,
            status,
            references,
            // the flag is carried by the packages
            reboot_suggested: reboot && !packages.is_empty(),
            packages,
        },
    )
}

/// What the document can carry of `a`: text without the characters XML forbids.
fn carried(a: &Advisory) -> Advisory {
    let mut a = a.clone();
    for s in [&mut a.title, &mut a.description, &mut a.from, &mut a.status] {
        *s = clean(s);
    }
    for s in [&mut a.solution, &mut a.release].into_iter().flatten() {
        *s = clean(s);
    }
    for r in &mut a.references {
        for s in [&mut r.id, &mut r.href, &mut r.title] {
            *s = clean(s);
        }
    }
    for p in &mut a.packages {
        for s in [
            &mut p.name,
            &mut p.version,
            &mut p.release,
            &mut p.arch,
            &mut p.src,
            &mut p.filename,
        ] {
            *s = clean(s);
        }
    }
    a
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn write_then_parse_is_identity(mut all in proptest::collection::vec(advisory(), 0..4)) {
        let xml = write_updateinfo(&all);
        let back = parse_updateinfo(xml.as_bytes(), "generated").unwrap();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let want: Vec<Advisory> = all.iter().map(carried).collect();
        prop_assert_eq!(back, want);
    }
}
