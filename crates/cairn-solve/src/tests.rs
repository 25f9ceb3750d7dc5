//! Unit tests on hand-built package universes (deps built without the string parsers).

use crate::{Reason, Request, Solution, SolveError, solve, verify_closure};
use cairn_deps::{Atom, Constraint, Dep, Op};
use cairn_package::{Checksum, ChecksumAlgo, Package, RepoId, RepoPackages};
use cairn_version::{DebVersion, Evr, Version};

fn ver(deb: bool, v: &str) -> Version {
    if deb {
        Version::Deb(DebVersion::parse(v).unwrap())
    } else {
        Version::Rpm(Evr::parse(v).unwrap())
    }
}

/// `name`, `name op version`
fn atom(deb: bool, s: &str) -> Atom {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let mut a = Atom::name(parts[0]);
    if parts.len() == 3 {
        let op = match parts[1] {
            "<" | "<<" => Op::Lt,
            "<=" => Op::Le,
            "=" => Op::Eq,
            ">=" => Op::Ge,
            ">" | ">>" => Op::Gt,
            o => panic!("op {o}"),
        };
        a.constraint = Some(Box::new(Constraint {
            op,
            version: ver(deb, parts[2]),
        }));
    }
    a
}
fn d(s: &str) -> Dep {
    Dep::Atom(atom(false, s))
}
fn dd(s: &str) -> Dep {
    Dep::Atom(atom(true, s))
}

struct P(Package);
impl P {
    fn rpm(name: &str, evr: &str, arch: &str) -> P {
        P(Package::bare(name, ver(false, evr), arch))
    }
    fn deb(name: &str, v: &str, arch: &str) -> P {
        P(Package::bare(name, ver(true, v), arch))
    }
    fn req(mut self, dep: Dep) -> P {
        self.0.requires.push(dep);
        self
    }
    fn prov(mut self, dep: Dep) -> P {
        self.0.provides.push(dep);
        self
    }
    fn conf(mut self, dep: Dep) -> P {
        self.0.conflicts.push(dep);
        self
    }
    fn obs(mut self, dep: Dep) -> P {
        self.0.obsoletes.push(dep);
        self
    }
    fn rec(mut self, dep: Dep) -> P {
        self.0.recommends.push(dep);
        self
    }
    fn sup(mut self, dep: Dep) -> P {
        self.0.supplements.push(dep);
        self
    }
    fn file(mut self, f: &str) -> P {
        self.0.files.push(f.into());
        self
    }
}

fn repo(name: &str, priority: i32, pkgs: Vec<P>) -> RepoPackages {
    RepoPackages {
        repo: RepoId(name.into()),
        priority,
        revision: Checksum::new(ChecksumAlgo::Sha256, "0".repeat(64)),
        base_urls: vec![],
        packages: pkgs.into_iter().map(|p| p.0).collect(),
    }
}

fn names(repos: &[RepoPackages], s: &Solution) -> Vec<String> {
    s.packages
        .iter()
        .map(|c| repos[c.repo].packages[c.package].nevra())
        .collect()
}

fn run(repos: &[RepoPackages], req: &Request) -> Result<Vec<String>, SolveError> {
    let s = solve(repos, req)?;
    let set: Vec<(usize, usize)> = s.packages.iter().map(|c| (c.repo, c.package)).collect();
    assert_eq!(verify_closure(repos, &set), Vec::<String>::new());
    Ok(names(repos, &s))
}

fn rq(arch: &str, install: &[&str]) -> Request {
    let mut r = Request::new(arch);
    r.install = install.iter().map(|s| s.to_string()).collect();
    r
}

#[test]
fn requires_chain_highest_version() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("a", "1-1", "x86_64").req(d("b >= 1")),
            P::rpm("b", "1-1", "noarch"),
            P::rpm("b", "2-1", "noarch").req(d("libc.so.6")),
            P::rpm("glibc", "2.38-1", "x86_64").prov(d("libc.so.6")),
            P::rpm("unrelated", "1-1", "x86_64"),
        ],
    )];
    let s = solve(&repos, &rq("x86_64", &["a"])).unwrap();
    assert_eq!(
        names(&repos, &s),
        ["a-1-1.x86_64", "b-2-1.noarch", "glibc-2.38-1.x86_64"]
    );
    assert_eq!(s.packages[0].reason, Reason::Requested);
    assert_eq!(
        s.packages[1].reason,
        Reason::Dependency {
            of: "a-1-1.x86_64".into()
        }
    );
    assert_eq!(
        s.packages[2].reason,
        Reason::Dependency {
            of: "b-2-1.noarch".into()
        }
    );
    // a version constraint in the request
    assert_eq!(
        run(&repos, &rq("x86_64", &["b < 2"])).unwrap(),
        ["b-1-1.noarch"]
    );
}

#[test]
fn provides_with_versions_and_unknown_request() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("app", "1-1", "x86_64").req(d("webserver >= 2")),
            P::rpm("httpd", "1-1", "x86_64").prov(d("webserver = 1")),
            P::rpm("nginx", "1-1", "x86_64").prov(d("webserver = 2.4")),
        ],
    )];
    assert_eq!(
        run(&repos, &rq("x86_64", &["app"])).unwrap(),
        ["app-1-1.x86_64", "nginx-1-1.x86_64"]
    );
    match solve(&repos, &rq("x86_64", &["ngnix"])) {
        Err(SolveError::UnknownRequest { name, suggestions }) => {
            assert_eq!(name, "ngnix");
            assert_eq!(suggestions, ["nginx"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn nothing_provides_is_explained() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("baz", "1-1", "noarch").req(d("bar")),
            P::rpm("bar", "1.0-1", "x86_64").req(d("libfoo >= 2")),
        ],
    )];
    match solve(&repos, &rq("x86_64", &["baz"])) {
        Err(SolveError::Unsolvable { explanation }) => assert_eq!(
            explanation,
            "nothing provides libfoo >= 2 needed by bar-1.0-1.x86_64, which is needed by baz-1-1.noarch, which is needed by the request for baz"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn conflicts_choose_other_provider_or_fail() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("a", "1-1", "noarch")
                .req(d("mta"))
                .conf(d("sendmail")),
            P::rpm("sendmail", "1-1", "x86_64").prov(d("mta")),
            P::rpm("postfix", "1-1", "x86_64").prov(d("mta")),
            P::rpm("b", "1-1", "noarch").conf(d("postfix < 2")),
        ],
    )];
    assert_eq!(
        run(&repos, &rq("x86_64", &["a"])).unwrap(),
        ["a-1-1.noarch", "postfix-1-1.x86_64"]
    );
    match solve(&repos, &rq("x86_64", &["a", "b"])) {
        Err(SolveError::Unsolvable { explanation }) => {
            assert!(explanation.contains("conflicts with"), "{explanation}");
        }
        other => panic!("{other:?}"),
    }
    // a package conflicting with something it provides itself is installable
    let repos = vec![repo(
        "r",
        99,
        vec![P::rpm("x", "1-1", "noarch").prov(d("cap")).conf(d("cap"))],
    )];
    assert_eq!(
        run(&repos, &rq("x86_64", &["x"])).unwrap(),
        ["x-1-1.noarch"]
    );
}

#[test]
fn obsoletes_by_name_and_request_redirect() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("old", "1-1", "noarch"),
            P::rpm("new", "2-1", "noarch")
                .obs(d("old < 2"))
                .prov(d("old = 2-1")),
            P::rpm("c", "1-1", "noarch").prov(d("thing")),
            P::rpm("d", "1-1", "noarch").obs(d("thing")),
        ],
    )];
    assert_eq!(
        run(&repos, &rq("x86_64", &["old"])).unwrap(),
        ["new-2-1.noarch"]
    );
    // obsoletes match names, not provides
    assert_eq!(
        run(&repos, &rq("x86_64", &["c", "d"])).unwrap(),
        ["c-1-1.noarch", "d-1-1.noarch"]
    );
}

#[test]
fn arch_preference_excludes_priority() {
    let repos = vec![
        repo(
            "main",
            99,
            vec![
                P::rpm("tool", "1-1", "noarch"),
                P::rpm("tool", "1-1", "x86_64"),
                P::rpm("tool", "3-1", "i686"),
                P::rpm("lib", "5-1", "x86_64"),
                P::rpm("debug-x", "1-1", "noarch"),
            ],
        ),
        repo("pinned", 10, vec![P::rpm("lib", "1-1", "x86_64")]),
    ];
    assert_eq!(
        run(&repos, &rq("x86_64", &["tool", "lib"])).unwrap(),
        ["lib-1-1.x86_64", "tool-1-1.noarch"]
    );
    let mut r = rq("x86_64", &["debug-x"]);
    r.excludes = vec!["debug-*".into()];
    assert!(matches!(
        solve(&repos, &r),
        Err(SolveError::UnknownRequest { .. })
    ));
}

#[test]
fn installonly_kernels() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("kernel", "6.1-1", "x86_64"),
            P::rpm("kernel", "6.2-1", "x86_64"),
            P::rpm("old-driver", "1-1", "x86_64").req(d("kernel = 6.1-1")),
        ],
    )];
    assert_eq!(
        run(&repos, &rq("x86_64", &["kernel"])).unwrap(),
        ["kernel-6.2-1.x86_64"]
    );
    assert_eq!(
        run(&repos, &rq("x86_64", &["kernel", "old-driver"])).unwrap(),
        [
            "kernel-6.1-1.x86_64",
            "kernel-6.2-1.x86_64",
            "old-driver-1-1.x86_64"
        ]
    );
}

#[test]
fn file_dependencies() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("script", "1-1", "noarch").req(d("/usr/bin/python3")),
            P::rpm("python3", "3.12-1", "x86_64").file("/usr/bin/python3"),
            P::rpm("opt", "1-1", "noarch").req(d("/opt/thing/data")),
            P::rpm("thing", "1-1", "noarch"),
        ],
    )];
    assert_eq!(
        run(&repos, &rq("x86_64", &["script"])).unwrap(),
        ["python3-3.12-1.x86_64", "script-1-1.noarch"]
    );
    assert_eq!(
        solve(&repos, &rq("x86_64", &["opt"])),
        Err(SolveError::NeedFilelists {
            files: vec!["/opt/thing/data".into()]
        })
    );
    let mut r = rq("x86_64", &["opt"]);
    r.filelists_loaded = true;
    assert!(matches!(
        solve(&repos, &r),
        Err(SolveError::Unsolvable { .. })
    ));
    let mut repos = repos;
    repos[0].packages[3].files.push("/opt/thing/data".into());
    assert_eq!(
        run(&repos, &r).unwrap(),
        ["opt-1-1.noarch", "thing-1-1.noarch"]
    );
}

#[test]
fn rich_dependencies() {
    let b = Box::new;
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("or", "1-1", "noarch").req(Dep::Or(vec![d("missing"), d("y")])),
            P::rpm("if", "1-1", "noarch").req(Dep::If {
                then: b(d("y")),
                cond: b(d("c")),
                otherwise: Some(b(d("z"))),
            }),
            P::rpm("unless", "1-1", "noarch").req(Dep::Unless {
                then: b(d("y")),
                cond: b(d("c")),
                otherwise: None,
            }),
            P::rpm("with", "1-1", "noarch").req(Dep::With(vec![d("lib"), d("lib-abi = 2")])),
            P::rpm("without", "1-1", "noarch").req(Dep::Without(b(d("lib")), b(d("lib-abi = 2")))),
            P::rpm("y", "1-1", "noarch"),
            P::rpm("z", "1-1", "noarch"),
            P::rpm("c", "1-1", "noarch"),
            P::rpm("libv1", "1-1", "noarch")
                .prov(d("lib"))
                .prov(d("lib-abi = 1")),
            P::rpm("libv2", "1-1", "noarch")
                .prov(d("lib"))
                .prov(d("lib-abi = 2")),
            P::rpm("and", "1-1", "noarch").req(Dep::And(vec![d("y"), d("z")])),
        ],
    )];
    let x = |i: &[&str]| run(&repos, &rq("x86_64", i)).unwrap();
    assert_eq!(x(&["or"]), ["or-1-1.noarch", "y-1-1.noarch"]);
    // libsolv (and so this solver) may satisfy the else-clause `(z or c)` by `c`
    assert_eq!(
        x(&["if"]),
        ["c-1-1.noarch", "if-1-1.noarch", "y-1-1.noarch"]
    );
    assert_eq!(
        x(&["if", "c"]),
        ["c-1-1.noarch", "if-1-1.noarch", "y-1-1.noarch"]
    );
    // (y unless c) == (y or c): merged alternatives, alphabetical
    assert_eq!(x(&["unless"]), ["c-1-1.noarch", "unless-1-1.noarch"]);
    assert_eq!(x(&["with"]), ["libv2-1-1.noarch", "with-1-1.noarch"]);
    assert_eq!(x(&["without"]), ["libv1-1-1.noarch", "without-1-1.noarch"]);
    assert_eq!(
        x(&["and"]),
        ["and-1-1.noarch", "y-1-1.noarch", "z-1-1.noarch"]
    );
}

#[test]
fn weak_dependencies() {
    let repos = vec![repo(
        "r",
        99,
        vec![
            P::rpm("editor", "1-1", "x86_64")
                .rec(d("spell"))
                .rec(d("broken")),
            P::rpm("spell", "1-1", "noarch").rec(d("dict")),
            P::rpm("dict", "1-1", "noarch"),
            P::rpm("broken", "1-1", "noarch").req(d("nowhere")),
            P::rpm("editor-langpack", "1-1", "noarch").sup(Dep::And(vec![d("editor"), d("dict")])),
            P::rpm("other-langpack", "1-1", "noarch")
                .sup(Dep::And(vec![d("editor"), d("nothing")])),
        ],
    )];
    let s = solve(&repos, &rq("x86_64", &["editor"])).unwrap();
    assert_eq!(
        names(&repos, &s),
        [
            "dict-1-1.noarch",
            "editor-1-1.x86_64",
            "editor-langpack-1-1.noarch",
            "spell-1-1.noarch"
        ]
    );
    assert_eq!(
        s.packages[3].reason,
        Reason::Weak {
            of: "editor-1-1.x86_64".into()
        }
    );
    let mut r = rq("x86_64", &["editor"]);
    r.weak_deps = false;
    assert_eq!(run(&repos, &r).unwrap(), ["editor-1-1.x86_64"]);
}

#[test]
fn debian_semantics() {
    let repos = vec![repo(
        "deb",
        500,
        vec![
            P::deb("app", "1.0-1", "amd64")
                .req(Dep::Or(vec![dd("missing"), dd("mawk"), dd("gawk")]))
                .req(dd("mail-transport-agent")),
            P::deb("gawk", "5.2-1", "amd64"),
            P::deb("mawk", "1.3-1", "amd64"),
            P::deb("exim", "4.96-1", "amd64")
                .prov(dd("mail-transport-agent"))
                .conf(dd("mail-transport-agent")),
            P::deb("needs-v", "1", "all").req(dd("virt >= 2")),
            P::deb("unversioned", "1", "amd64").prov(dd("virt")),
            P::deb("versioned", "1", "amd64").prov(dd("virt = 3")),
            P::deb("base-files", "12", "amd64").prov(dd("base")),
            P::deb("foreign", "1", "arm64"),
        ],
    )];
    let mut ess = repos;
    ess[0].packages[7].essential = true;
    let repos = ess;
    assert_eq!(
        run(&repos, &rq("amd64", &["app"])).unwrap(),
        ["app_1.0-1_amd64", "exim_4.96-1_amd64", "mawk_1.3-1_amd64"]
    );
    assert_eq!(
        run(&repos, &rq("amd64", &["needs-v"])).unwrap(),
        ["needs-v_1_all", "versioned_1_amd64"]
    );
    let mut r = rq("amd64", &[]);
    r.essential = true;
    let s = solve(&repos, &r).unwrap();
    assert_eq!(names(&repos, &s), ["base-files_12_amd64"]);
    assert_eq!(s.packages[0].reason, Reason::Essential);
    assert!(matches!(
        solve(&repos, &rq("amd64", &["foreign"])),
        Err(SolveError::UnknownRequest { .. })
    ));
}

/// Names, provides and obsoletes that only a smaller repository has (the index of the
/// largest one lends the ids; the others' follow) resolve as if all were in one.
#[test]
fn names_only_later_repositories_know() {
    let repos = vec![
        repo(
            "extra",
            99,
            vec![
                P::rpm("e", "1-1", "noarch").prov(d("virt = 1")),
                P::rpm("f", "1-1", "noarch").obs(d("b")),
                P::rpm("a", "2-1", "noarch").req(d("virt >= 1")),
            ],
        ),
        repo(
            "main",
            99,
            vec![
                P::rpm("a", "1-1", "noarch").req(d("b")),
                P::rpm("b", "1-1", "noarch"),
                P::rpm("c", "1-1", "noarch").prov(d("cc")).prov(d("ccc")),
                P::rpm("d", "1-1", "noarch").prov(d("dd")),
                P::rpm("g", "1-1", "x86_64").prov(d("gg")),
            ],
        ),
    ];
    assert_eq!(
        run(&repos, &rq("x86_64", &["a"])).unwrap(),
        ["a-2-1.noarch", "e-1-1.noarch"]
    );
    assert_eq!(
        run(&repos, &rq("x86_64", &["b"])).unwrap(),
        ["f-1-1.noarch"]
    );
    assert_eq!(
        run(&repos, &rq("x86_64", &["virt", "cc"])).unwrap(),
        ["c-1-1.noarch", "e-1-1.noarch"]
    );
    // an index that does not fit its repository is rebuilt, not trusted
    let idx: Vec<crate::RepoIndex> = repos.iter().map(crate::RepoIndex::build).collect();
    assert!(idx[0].fits(&repos[0]) && !idx[0].fits(&repos[1]));
    let swapped = [&idx[1], &idx[0]];
    let s = crate::solve_indexed(&repos, &swapped, &rq("x86_64", &["a"])).unwrap();
    assert_eq!(names(&repos, &s), ["a-2-1.noarch", "e-1-1.noarch"]);
    let fine = [&idx[0], &idx[1]];
    let s = crate::solve_indexed(&repos, &fine, &rq("x86_64", &["gg"])).unwrap();
    assert_eq!(names(&repos, &s), ["g-1-1.x86_64"]);
    // the wrong arch is never a candidate, whichever repository names it
    assert!(matches!(
        solve(&repos, &rq("aarch64", &["g"])),
        Err(SolveError::UnknownRequest { .. })
    ));
}
