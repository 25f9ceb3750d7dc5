//! Agreement with apt-get's simulation on the host's bookworm main index (minbase style:
//! Essential + Priority: required + apt, no Recommends).

use crate::{nevras, pairs, require_tool};
use cairn_package::{Checksum, ChecksumAlgo, RepoId, RepoPackages};
use cairn_solve::{Request, solve, verify_closure};
use std::collections::{BTreeSet, HashMap};
use std::io::BufReader;
use std::path::Path;
use std::process::Command;

const LISTS: &str = "/var/lib/apt/lists";
const PACKAGES: &str =
    "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4";

/// Known, justified differences from apt: package name -> reason.
const ALLOWED: &[(&str, &str)] = &[];

#[test]
fn minbase_agrees_with_apt() {
    if !require_tool(
        Path::new(PACKAGES).exists() && Path::new("/usr/bin/apt-get").exists(),
        "the host's bookworm apt lists",
    ) {
        return;
    }
    let f = fs_err::File::open(PACKAGES).unwrap();
    let packages = cairn_deb822::parse_packages(
        BufReader::new(lz4_flex::frame::FrameDecoder::new(f)),
        PACKAGES,
    )
    .unwrap();
    let repos = vec![RepoPackages {
        repo: RepoId("bookworm".into()),
        priority: 500,
        revision: Checksum::new(ChecksumAlgo::Sha256, "0".repeat(64)),
        base_urls: vec![],
        packages,
    }];
    let mut req = Request::new("amd64");
    req.install = vec!["apt".into()];
    req.essential = true;
    req.priority_required = true;
    req.weak_deps = false;
    let t = std::time::Instant::now();
    let sol = solve(&repos, &req).unwrap();
    let elapsed = t.elapsed();
    let ours = pairs(&sol);
    assert_eq!(verify_closure(&repos, &ours), Vec::<String>::new());

    // the same names for apt
    let mut names: BTreeSet<String> = BTreeSet::from(["apt".to_owned()]);
    for p in &repos[0].packages {
        if (p.arch == "amd64" || p.arch == "all")
            && (p.essential || p.priority.as_deref() == Some("required"))
        {
            names.insert(p.name.clone());
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let status = tmp.path().join("status");
    fs_err::write(&status, "").unwrap();
    let sources = tmp.path().join("sources.list");
    fs_err::write(
        &sources,
        "deb [arch=amd64] http://deb.debian.org/debian bookworm main\n",
    )
    .unwrap();
    let opt = |k: &str, v: &Path| format!("{k}={}", v.display());
    let out = Command::new("apt-get")
        .arg("-s")
        .args(["-o", &opt("Dir::State::status", &status)])
        .args(["-o", &format!("Dir::State::Lists={LISTS}")])
        .args(["-o", &opt("Dir::Etc::SourceList", &sources)])
        .args(["-o", "Dir::Etc::SourceParts=/dev/null"])
        .args(["-o", &opt("Dir::Cache", &tmp.path().join("cache"))])
        .args([
            "-o",
            "Dir::Cache::pkgcache=",
            "-o",
            "Dir::Cache::srcpkgcache=",
        ])
        .args([
            "-o",
            "Debug::NoLocking=1",
            "-o",
            "APT::Install-Recommends=false",
        ])
        .args([
            "-o",
            "APT::Architecture=amd64",
            "-o",
            "APT::Architectures=amd64",
        ])
        .arg("install")
        .args(&names)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "apt-get -s failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    // "Inst name (version suite [arch])"
    let mut theirs: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .map(|l| {
            let (name, rest) = l.split_once(" (").unwrap();
            let version = rest.split_whitespace().next().unwrap();
            // "2.36-9 Debian:12.15/oldstable [amd64]) []"
            let arch = rest.split_once('[').unwrap().1.split(']').next().unwrap();
            format!("{name}_{version}_{arch}")
        })
        .collect();
    theirs.sort();
    let index: HashMap<String, (usize, usize)> = repos[0]
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.nevra(), (0, i)))
        .collect();
    let unknown: Vec<&String> = theirs.iter().filter(|n| !index.contains_key(*n)).collect();
    assert!(
        unknown.is_empty(),
        "apt installs packages not in the parsed index: {unknown:?}"
    );
    let their_set: Vec<(usize, usize)> = theirs.iter().map(|n| index[n]).collect();
    assert_eq!(
        verify_closure(&repos, &their_set),
        Vec::<String>::new(),
        "apt's set fails verify_closure"
    );

    let ours_n: BTreeSet<String> = nevras(&repos, &ours).into_iter().collect();
    let theirs_n: BTreeSet<String> = theirs.into_iter().collect();
    let allowed = |n: &String| ALLOWED.iter().any(|a| n.starts_with(&format!("{}_", a.0)));
    let only_ours: Vec<&String> = ours_n
        .difference(&theirs_n)
        .filter(|n| !allowed(n))
        .collect();
    let only_theirs: Vec<&String> = theirs_n
        .difference(&ours_n)
        .filter(|n| !allowed(n))
        .collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "differs from apt ({} packages, solved in {elapsed:?}):\n only ours: {only_ours:?}\n only apt: {only_theirs:?}",
        ours_n.len()
    );
}
