//! Agreement with the real dnf on the solver fixture repository (fixtures/rpm/solver).

use crate::{nevras, pairs, require_tool};
use cairn_package::{Checksum, ChecksumAlgo, Package, RepoId, RepoPackages};
use cairn_solve::{Request, SolveError, solve, verify_closure};
use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dnf_available() -> bool {
    Command::new("/usr/bin/python3")
        .args(["-c", "import dnf"])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("rpmbuild").arg("--version").output().is_ok()
        && Command::new("createrepo_c")
            .arg("--version")
            .output()
            .is_ok()
}

fn read_gz(path: &Path) -> BufReader<flate2::read::MultiGzDecoder<fs_err::File>> {
    BufReader::new(flate2::read::MultiGzDecoder::new(
        fs_err::File::open(path).unwrap(),
    ))
}

fn load(repo: &Path, filelists: bool) -> RepoPackages {
    let md = cairn_rpmmd::parse_repomd(
        &fs_err::read(repo.join("repodata/repomd.xml")).unwrap(),
        "repomd.xml",
    )
    .unwrap();
    let primary = repo.join(&md.get("primary").unwrap().location);
    let mut packages: Vec<Package> =
        cairn_rpmmd::parse_primary(read_gz(&primary), "primary").unwrap();
    if filelists {
        let fl = repo.join(&md.get("filelists").unwrap().location);
        let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
        cairn_rpmmd::parse_filelists(read_gz(&fl), "filelists", |id, _, _, files| {
            by_id.insert(id.to_owned(), files);
        })
        .unwrap();
        for p in &mut packages {
            if let Some(f) = by_id.remove(&p.checksum.hex) {
                p.files = f;
            }
        }
    }
    RepoPackages {
        repo: RepoId("fx".into()),
        priority: 99,
        revision: Checksum::new(ChecksumAlgo::Sha256, "0".repeat(64)),
        base_urls: vec![],
        packages,
    }
}

type Outcome = (Vec<RepoPackages>, Result<Vec<(usize, usize)>, SolveError>);

/// Our solution, loading filelists when the solver asks for them.
fn ours(repo: &Path, names: &[&str], weak: bool, excludes: &[&str]) -> Outcome {
    let mut req = Request::new("x86_64");
    req.install = names.iter().map(|s| s.to_string()).collect();
    req.weak_deps = weak;
    req.excludes = excludes.iter().map(|s| s.to_string()).collect();
    let repos = vec![load(repo, false)];
    match solve(&repos, &req) {
        Err(SolveError::NeedFilelists { .. }) => {
            let repos = vec![load(repo, true)];
            req.filelists_loaded = true;
            let r = solve(&repos, &req).map(|s| pairs(&s));
            (repos, r)
        }
        r => (repos, r.map(|s| pairs(&s))),
    }
}

fn dnf(
    repo: &Path,
    work: &Path,
    names: &[&str],
    weak: bool,
    excludes: &[&str],
) -> Result<Vec<String>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/dnf_solve.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(repo)
        .arg(work)
        .arg(if weak { "1" } else { "0" })
        .arg(excludes.join(","))
        .args(names)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_else(|| {
        panic!(
            "dnf printed nothing: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    if let Some(e) = v.get("error") {
        return Err(e.as_str().unwrap_or_default().to_owned());
    }
    Ok(v["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect())
}

/// (request, excludes)
const REQUESTS: &[(&[&str], &[&str])] = &[
    (&["app"], &[]),
    (&["app"], &["fx-ssl"]),
    (&["rich-if"], &[]),
    (&["rich-if", "fx-base"], &[]),
    (&["rich-ifelse"], &[]),
    (&["rich-ifelse", "fx-base"], &[]),
    (&["rich-unless"], &[]),
    (&["rich-unless", "fx-base"], &[]),
    (&["rich-unless-else"], &[]),
    (&["rich-unless-else", "fx-base"], &[]),
    (&["rich-and"], &[]),
    (&["rich-or"], &[]),
    (&["rich-with"], &[]),
    (&["rich-without"], &[]),
    (&["fx-oldname"], &[]),
    (&["fx-needs-tls"], &[]),
    (&["fx-dual"], &[]),
    (&["kernel"], &[]),
    (&["fx-epoch-user"], &[]),
    (&["fx-tilde-user"], &[]),
    (&["optdata-user"], &[]),
    (&["fx-docs"], &[]),
    (&["libwidget.so.1()(64bit)"], &[]),
    (&["/usr/bin/fx-shell"], &[]),
    (&["fx-needs-tls", "fx-tls"], &[]),
];

/// Known, justified differences from dnf: (request, weak) -> reason.
const ALLOWED: &[(&str, bool, &str)] = &[];

#[test]
fn agrees_with_dnf() {
    if !require_tool(
        dnf_available(),
        "dnf (python3-dnf), rpmbuild and createrepo_c",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let st = Command::new("bash")
        .arg(workspace().join("scripts/fixtures/rpm-repo.sh"))
        .arg(workspace().join("fixtures/rpm/solver"))
        .arg(&repo)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "rpm-repo.sh failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for (names, excludes) in REQUESTS {
        for weak in [true, false] {
            let key = names.join(" ");
            let work = tmp.path().join(format!("dnf-{compared}"));
            let theirs = dnf(&repo, &work, names, weak, excludes);
            let (repos, ours) = ours(&repo, names, weak, excludes);
            compared += 1;
            match (&ours, &theirs) {
                (Ok(set), Ok(theirs)) => {
                    let v = verify_closure(&repos, set);
                    assert!(
                        v.is_empty(),
                        "{key} (weak {weak}): our solution is not closed: {v:?}"
                    );
                    let ours_n = nevras(&repos, set);
                    // dnf's set must be closed under our checker too
                    let index: HashMap<String, (usize, usize)> = repos[0]
                        .packages
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (p.nevra(), (0, i)))
                        .collect();
                    let their_set: Vec<(usize, usize)> = theirs.iter().map(|n| index[n]).collect();
                    let v = verify_closure(&repos, &their_set);
                    assert!(
                        v.is_empty(),
                        "{key} (weak {weak}): dnf's solution fails verify_closure: {v:?}"
                    );
                    if &ours_n != theirs {
                        match ALLOWED.iter().find(|a| a.0 == key && a.1 == weak) {
                            Some(_) => {}
                            None => failures.push(format!("{key} (weak {weak}, excludes {excludes:?}):\n  ours {ours_n:?}\n  dnf  {theirs:?}")),
                        }
                    }
                }
                (Err(SolveError::Unsolvable { .. }), Err(_)) => {}
                _ => failures.push(format!(
                    "{key} (weak {weak}): ours {ours:?}, dnf {theirs:?}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} requests differ from dnf:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
