//! Solver cases in a small text format: `tests/cases/*.txt`.
//!
//! ```text
//! # comment
//! flavor: rpm | deb          (default rpm)
//! arch: x86_64               (default x86_64 / amd64)
//! install: foo >= 1          (one entry per line)
//! weak: off                  (default on)
//! exclude: glob
//! filelists: loaded
//! essential: on / priority-required: on
//! repo NAME [PRIORITY]
//! pkg NAME EVR ARCH
//!   requires|provides|conflicts|obsoletes|recommends|supplements: DEP
//!   file: /path
//!   essential: yes
//!   priority: required
//! expect:
//!   name-evr.arch            (the whole solution, any order)
//! expect error: unsolvable | need-filelists | unknown
//! ```
//! Unsolvable explanations are pinned as insta snapshots named after the case file.

use crate::{nevras, pairs};
use cairn_deps::{Dep, Flavor, parse_deb_relations, parse_rpm_dep};
use cairn_package::{Checksum, ChecksumAlgo, Package, RepoId, RepoPackages, Version};
use cairn_solve::{Request, SolveError, solve, verify_closure};
use cairn_version::{DebVersion, Evr};
use std::path::Path;

struct Case {
    repos: Vec<RepoPackages>,
    req: Request,
    expect: Vec<String>,
    expect_error: Option<String>,
}

fn deps(flavor: Flavor, s: &str) -> Vec<Dep> {
    match flavor {
        Flavor::Rpm => vec![parse_rpm_dep(s).unwrap_or_else(|e| panic!("{s}: {e}"))],
        Flavor::Deb => parse_deb_relations(s).unwrap_or_else(|e| panic!("{s}: {e}")),
    }
}

fn parse_case(text: &str) -> Case {
    let mut flavor = Flavor::Rpm;
    let mut req = Request::new("x86_64");
    let mut arch_set = false;
    let mut repos: Vec<RepoPackages> = Vec::new();
    let mut expect = Vec::new();
    let mut expect_error = None;
    let mut in_expect = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if in_expect && raw.starts_with(' ') {
            expect.push(line.to_owned());
            continue;
        }
        in_expect = false;
        let (key, val) = line
            .split_once(':')
            .map_or((line, ""), |(k, v)| (k.trim(), v.trim()));
        if let Some(rest) = line.strip_prefix("repo ") {
            let mut it = rest.split_whitespace();
            repos.push(RepoPackages {
                repo: RepoId(it.next().unwrap().into()),
                priority: it.next().map_or(99, |p| p.parse().unwrap()),
                revision: Checksum::new(ChecksumAlgo::Sha256, "0".repeat(64)),
                base_urls: vec![],
                packages: vec![],
            });
            continue;
        }
        if let Some(rest) = line.strip_prefix("pkg ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let version = match flavor {
                Flavor::Rpm => Version::Rpm(Evr::parse(f[1]).unwrap()),
                Flavor::Deb => Version::Deb(DebVersion::parse(f[1]).unwrap()),
            };
            if repos.is_empty() {
                repos.push(RepoPackages {
                    repo: RepoId("main".into()),
                    priority: 99,
                    revision: Checksum::new(ChecksumAlgo::Sha256, "0".repeat(64)),
                    base_urls: vec![],
                    packages: vec![],
                });
            }
            repos
                .last_mut()
                .unwrap()
                .packages
                .push(Package::bare(f[0], version, f[2]));
            continue;
        }
        if raw.starts_with(' ') {
            let p = repos
                .last_mut()
                .and_then(|r| r.packages.last_mut())
                .expect("package field outside a package");
            match key {
                "requires" => p.requires.extend(deps(flavor, val)),
                "provides" => p.provides.extend(deps(flavor, val)),
                "conflicts" => p.conflicts.extend(deps(flavor, val)),
                "obsoletes" => p.obsoletes.extend(deps(flavor, val)),
                "recommends" => p.recommends.extend(deps(flavor, val)),
                "supplements" => p.supplements.extend(deps(flavor, val)),
                "file" => p.files.push(val.to_owned()),
                "essential" => p.essential = val == "yes",
                "priority" => p.priority = Some(val.to_owned()),
                k => panic!("unknown package field {k:?}"),
            }
            continue;
        }
        match key {
            "flavor" => {
                flavor = if val == "deb" {
                    Flavor::Deb
                } else {
                    Flavor::Rpm
                };
                if !arch_set && flavor == Flavor::Deb {
                    req.arch = "amd64".into();
                }
            }
            "arch" => {
                req.arch = val.into();
                arch_set = true;
            }
            "install" => req.install.push(val.into()),
            "weak" => req.weak_deps = val != "off",
            "exclude" => req.excludes.push(val.into()),
            "filelists" => req.filelists_loaded = val == "loaded",
            "essential" => req.essential = val == "on",
            "priority-required" => req.priority_required = val == "on",
            "expect" => in_expect = true,
            "expect error" => expect_error = Some(val.to_owned()),
            k => panic!("unknown case line {k:?}"),
        }
    }
    expect.sort();
    Case {
        repos,
        req,
        expect,
        expect_error,
    }
}

#[test]
fn solver_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected solver cases in {}",
        dir.display()
    );
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let case = parse_case(&fs_err::read_to_string(&path).unwrap());
        let got = solve(&case.repos, &case.req);
        match (&case.expect_error, got) {
            (None, Ok(sol)) => {
                let set = pairs(&sol);
                assert_eq!(
                    verify_closure(&case.repos, &set),
                    Vec::<String>::new(),
                    "{stem}"
                );
                assert_eq!(nevras(&case.repos, &set), case.expect, "case {stem}");
            }
            (Some(kind), Err(e)) => match (kind.as_str(), e) {
                ("unsolvable", SolveError::Unsolvable { explanation }) => {
                    insta::assert_snapshot!(format!("case_{stem}"), explanation);
                }
                ("need-filelists", SolveError::NeedFilelists { files }) => {
                    insta::assert_snapshot!(format!("case_{stem}"), files.join("\n"));
                }
                ("unknown", SolveError::UnknownRequest { name, suggestions }) => {
                    insta::assert_snapshot!(
                        format!("case_{stem}"),
                        format!("{name}: {suggestions:?}")
                    );
                }
                (k, e) => panic!("case {stem}: expected error {k}, got {e:?}"),
            },
            (expect, got) => panic!(
                "case {stem}: expected {:?} / {expect:?}, got {got:?}",
                case.expect
            ),
        }
    }
}
