//! Dependency parsing on real-world strings, parse/print round trips, and the matching
//! semantics (`provide_matches`, `ranges_overlap`, `version_satisfies`, `Dep::eval`).

use cairn_deps::{
    Atom, Constraint, Dep, Flavor, Op, format_deb_relations, parse_deb_relations, parse_rpm_dep,
    provide_matches, ranges_overlap, version_satisfies,
};
use cairn_version::{DebVersion, Evr, Version};
use proptest::prelude::*;

fn rpm_atom(name: &str, c: Option<(Op, &str)>) -> Dep {
    Dep::Atom(Atom {
        name: name.into(),
        arch: None,
        constraint: c
            .map(|(op, v)| Constraint {
                op,
                version: Version::Rpm(Evr::parse(v).unwrap()),
            })
            .map(Box::new),
    })
}
fn a(name: &str) -> Dep {
    Dep::atom(name)
}
fn bx(d: Dep) -> Box<Dep> {
    Box::new(d)
}

/// Rich dependencies as they appear in Fedora spec files and repodata.
#[test]
fn fedora_rich_deps() {
    let table: Vec<(&str, Dep)> = vec![
        (
            "(glibc-langpack-en or glibc-all-langpacks)",
            Dep::Or(vec![a("glibc-langpack-en"), a("glibc-all-langpacks")]),
        ),
        (
            "(python3-foo if python3)",
            Dep::If {
                then: bx(a("python3-foo")),
                cond: bx(a("python3")),
                otherwise: None,
            },
        ),
        (
            "(kernel-modules-extra-matched = 6.5.6-300.fc39 if kernel-modules-extra)",
            Dep::If {
                then: bx(rpm_atom(
                    "kernel-modules-extra-matched",
                    Some((Op::Eq, "6.5.6-300.fc39")),
                )),
                cond: bx(a("kernel-modules-extra")),
                otherwise: None,
            },
        ),
        (
            "((a and b) or c)",
            Dep::Or(vec![Dep::And(vec![a("a"), a("b")]), a("c")]),
        ),
        (
            "(pkgA with pkgA-feature)",
            Dep::With(vec![a("pkgA"), a("pkgA-feature")]),
        ),
        (
            "(foo >= 1.0 without foo-compat)",
            Dep::Without(
                bx(rpm_atom("foo", Some((Op::Ge, "1.0")))),
                bx(a("foo-compat")),
            ),
        ),
        (
            "(mesa-dri-drivers(x86-64) if mesa-libGL(x86-64) else mesa-dri-drivers)",
            Dep::If {
                then: bx(a("mesa-dri-drivers(x86-64)")),
                cond: bx(a("mesa-libGL(x86-64)")),
                otherwise: Some(bx(a("mesa-dri-drivers"))),
            },
        ),
        (
            "(systemd-udev unless initscripts else initscripts-service)",
            Dep::Unless {
                then: bx(a("systemd-udev")),
                cond: bx(a("initscripts")),
                otherwise: Some(bx(a("initscripts-service"))),
            },
        ),
        (
            "(python3.12dist(setuptools) >= 40.8 with python3.12dist(setuptools) < 70~~)",
            Dep::With(vec![
                rpm_atom("python3.12dist(setuptools)", Some((Op::Ge, "40.8"))),
                rpm_atom("python3.12dist(setuptools)", Some((Op::Lt, "70~~"))),
            ]),
        ),
        (
            "(crate(serde/default) >= 1.0.0 with crate(serde/default) < 2.0.0~)",
            Dep::With(vec![
                rpm_atom("crate(serde/default)", Some((Op::Ge, "1.0.0"))),
                rpm_atom("crate(serde/default)", Some((Op::Lt, "2.0.0~"))),
            ]),
        ),
        (
            "(flatpak-selinux = 1.15.4-1.fc39 if selinux-policy-targeted)",
            Dep::If {
                then: bx(rpm_atom("flatpak-selinux", Some((Op::Eq, "1.15.4-1.fc39")))),
                cond: bx(a("selinux-policy-targeted")),
                otherwise: None,
            },
        ),
        (
            "(font(:lang=en) and (a or b or c))",
            Dep::And(vec![
                a("font(:lang=en)"),
                Dep::Or(vec![a("a"), a("b"), a("c")]),
            ]),
        ),
        (
            "(libfoo.so.1()(64bit) or /usr/lib64/libfoo.so.1)",
            Dep::Or(vec![a("libfoo.so.1()(64bit)"), a("/usr/lib64/libfoo.so.1")]),
        ),
        ("( ( a ) )", a("a")),
        (
            "rpmlib(RichDependencies) <= 4.12.0-1",
            rpm_atom("rpmlib(RichDependencies)", Some((Op::Le, "4.12.0-1"))),
        ),
        (
            "config(bash) = 5.2.15-5.fc39",
            rpm_atom("config(bash)", Some((Op::Eq, "5.2.15-5.fc39"))),
        ),
        (
            "perl(:MODULE_COMPAT_5.38.0)",
            a("perl(:MODULE_COMPAT_5.38.0)"),
        ),
        (
            "shim-x64 >= 2:15.6-1",
            rpm_atom("shim-x64", Some((Op::Ge, "2:15.6-1"))),
        ),
    ];
    for (input, want) in table {
        let got = parse_rpm_dep(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(got, want, "{input}");
        // printing gives rpm's canonical spelling, which parses back to the same tree
        assert_eq!(
            parse_rpm_dep(&got.to_string()).unwrap(),
            got,
            "{input} printed as {got}"
        );
    }
}

/// Relation fields copied from Debian bookworm Packages and Sources files.
#[test]
fn debian_relations() {
    let deb = |name: &str, arch: Option<&str>, c: Option<(Op, &str)>| {
        Dep::Atom(Atom {
            name: name.into(),
            arch: arch.map(Into::into),
            constraint: c
                .map(|(op, v)| Constraint {
                    op,
                    version: Version::Deb(DebVersion::parse(v).unwrap()),
                })
                .map(Box::new),
        })
    };
    let got =
        parse_deb_relations("libc6 (>= 2.34), libgcc-s1 (>= 3.0) | libgcc1, python3:any (>= 3.9~)")
            .unwrap();
    assert_eq!(
        got,
        vec![
            deb("libc6", None, Some((Op::Ge, "2.34"))),
            Dep::Or(vec![
                deb("libgcc-s1", None, Some((Op::Ge, "3.0"))),
                deb("libgcc1", None, None)
            ]),
            deb("python3", Some("any"), Some((Op::Ge, "3.9~"))),
        ]
    );
    let got = parse_deb_relations(
        "debhelper-compat (= 13),\n dh-python,\n python3-all:any,\n python3-setuptools <!nocheck>,\n libsystemd-dev [linux-any] <!stage1>,\n",
    )
    .unwrap();
    assert_eq!(
        got,
        vec![
            deb("debhelper-compat", None, Some((Op::Eq, "13"))),
            deb("dh-python", None, None),
            deb("python3-all", Some("any"), None),
            deb("python3-setuptools", None, None),
            deb("libsystemd-dev", None, None),
        ]
    );
    let got = parse_deb_relations(
        "perl:any, libc6 (<< 2.37), dpkg (>= 1.15.6~) | install-info, gcc-12-base (= 12.2.0-14)",
    )
    .unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(
        got[3],
        deb("gcc-12-base", None, Some((Op::Eq, "12.2.0-14")))
    );
    // the obsolete `<`/`>` mean `<=`/`>=`
    assert_eq!(
        parse_deb_relations("a (< 1.0)").unwrap(),
        vec![deb("a", None, Some((Op::Le, "1.0")))]
    );
    assert_eq!(
        parse_deb_relations("a (> 1.0)").unwrap(),
        vec![deb("a", None, Some((Op::Ge, "1.0")))]
    );
    for input in [
        "libc6 (>= 2.34), libgcc-s1 (>= 3.0) | libgcc1, python3:any (>= 3.9~)",
        "libssl3 (>= 3.0.0), systemd | systemd-standalone-sysusers | systemd-sysusers, adduser (>= 3.11)",
        "gcc-12-base:amd64 (= 12.2.0-14), libgomp1:native (>> 1:2.0+dfsg-1~bpo12+1)",
    ] {
        let deps = parse_deb_relations(input).unwrap();
        assert_eq!(format_deb_relations(&deps), input);
    }
}

#[test]
fn rpm_syntax_errors_are_clear() {
    for (input, pos, words) in [
        ("(a and b or c)", 9, "cannot mix 'and' and 'or'"),
        ("(a if b if c)", 8, "'if' cannot be chained"),
        ("((a and b)", 0, "unterminated"),
        ("(a or)", 5, "missing operand after 'or'"),
        ("(a xor b)", 3, "unknown rich dependency operator \"xor\""),
        ("(/usr/bin/a >= 1 or b)", 12, "versioned file name"),
        ("(a >= 1:2:3 or b)", 9, "more than one ':'"),
    ] {
        match parse_rpm_dep(input) {
            Err(e @ cairn_deps::DepError::Syntax { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(words), "{input}: {msg}");
                assert!(msg.contains(&format!("at byte {pos}")), "{input}: {msg}");
                assert!(msg.contains(input), "the message names the input: {msg}");
            }
            other => panic!("{input}: expected a syntax error, got {other:?}"),
        }
    }
    let e = parse_rpm_dep("(a >= x:1 or b)").unwrap_err();
    assert!(e.to_string().contains("epoch"), "{e}");
}

// ---------- matching semantics ----------

fn rc(op: Op, v: &str) -> Constraint {
    Constraint {
        op,
        version: Version::Rpm(Evr::parse(v).unwrap()),
    }
}
fn dc(op: Op, v: &str) -> Constraint {
    Constraint {
        op,
        version: Version::Deb(DebVersion::parse(v).unwrap()),
    }
}
fn atom_c(name: &str, c: Option<Constraint>) -> Atom {
    Atom {
        name: name.into(),
        constraint: c.map(Box::new),
        arch: None,
    }
}

#[test]
fn provide_matching_rules() {
    // RPM: an unversioned provide satisfies a versioned requirement
    assert!(provide_matches(
        Flavor::Rpm,
        &atom_c("foo", None),
        &atom_c("foo", Some(rc(Op::Ge, "2")))
    ));
    // Debian: it does not
    assert!(!provide_matches(
        Flavor::Deb,
        &atom_c("foo", None),
        &atom_c("foo", Some(dc(Op::Ge, "2")))
    ));
    // unversioned requirement: any provide of the name
    assert!(provide_matches(
        Flavor::Deb,
        &atom_c("foo", Some(dc(Op::Eq, "1"))),
        &atom_c("foo", None)
    ));
    assert!(provide_matches(
        Flavor::Rpm,
        &atom_c("foo", Some(rc(Op::Eq, "1"))),
        &atom_c("foo", None)
    ));
    // names must match
    assert!(!provide_matches(
        Flavor::Rpm,
        &atom_c("foo", None),
        &atom_c("bar", None)
    ));
    // versioned provide vs versioned require
    assert!(provide_matches(
        Flavor::Rpm,
        &atom_c("foo", Some(rc(Op::Eq, "1.2-3"))),
        &atom_c("foo", Some(rc(Op::Ge, "1.2")))
    ));
    assert!(!provide_matches(
        Flavor::Rpm,
        &atom_c("foo", Some(rc(Op::Eq, "1.1-3"))),
        &atom_c("foo", Some(rc(Op::Ge, "1.2")))
    ));
    assert!(provide_matches(
        Flavor::Deb,
        &atom_c("foo", Some(dc(Op::Eq, "1.2-3"))),
        &atom_c("foo", Some(dc(Op::Ge, "1.2")))
    ));
    assert!(!provide_matches(
        Flavor::Deb,
        &atom_c("foo", Some(dc(Op::Eq, "1.2-3"))),
        &atom_c("foo", Some(dc(Op::Gt, "1.2-3")))
    ));
}

#[test]
fn range_overlap_rules() {
    // release ignored when missing on either side
    assert!(ranges_overlap(&rc(Op::Eq, "1.0-1"), &rc(Op::Eq, "1.0")));
    assert!(ranges_overlap(&rc(Op::Eq, "1.0"), &rc(Op::Eq, "1.0-7")));
    assert!(!ranges_overlap(&rc(Op::Eq, "1.0-1"), &rc(Op::Eq, "1.0-2")));
    assert!(!ranges_overlap(&rc(Op::Eq, "1.0-1"), &rc(Op::Lt, "1.0")));
    assert!(!ranges_overlap(&rc(Op::Eq, "1.0-1"), &rc(Op::Gt, "1.0")));
    assert!(ranges_overlap(&rc(Op::Eq, "1.0-1"), &rc(Op::Le, "1.0")));
    // rpmverOverlap: the side without a release includes equality, so they overlap
    assert!(ranges_overlap(&rc(Op::Gt, "1.0-1"), &rc(Op::Le, "1.0")));
    // epochs: missing epoch is 0
    assert!(ranges_overlap(&rc(Op::Eq, "0:1.0"), &rc(Op::Eq, "1.0")));
    assert!(!ranges_overlap(&rc(Op::Eq, "1:1.0"), &rc(Op::Lt, "2.0")));
    // general interval overlap
    assert!(ranges_overlap(&rc(Op::Lt, "2"), &rc(Op::Gt, "1")));
    assert!(!ranges_overlap(&rc(Op::Lt, "1"), &rc(Op::Gt, "1")));
    assert!(!ranges_overlap(&rc(Op::Lt, "1"), &rc(Op::Ge, "1")));
    assert!(ranges_overlap(&rc(Op::Le, "1"), &rc(Op::Ge, "1")));
    assert!(ranges_overlap(&rc(Op::Lt, "1"), &rc(Op::Lt, "5")));
    assert!(ranges_overlap(&rc(Op::Gt, "1"), &rc(Op::Gt, "5")));
    // Debian compares in full: a missing revision is revision 0
    assert!(!ranges_overlap(&dc(Op::Eq, "1.0-1"), &dc(Op::Eq, "1.0")));
    assert!(ranges_overlap(&dc(Op::Eq, "1.0-0"), &dc(Op::Eq, "1.0")));
    assert!(ranges_overlap(&dc(Op::Ge, "1.0~rc1"), &dc(Op::Lt, "1.0")));
}

#[test]
fn version_satisfaction() {
    let rv = |s: &str| Version::Rpm(Evr::parse(s).unwrap());
    let dv = |s: &str| Version::Deb(DebVersion::parse(s).unwrap());
    assert!(version_satisfies(&rv("1.0-5.fc39"), &rc(Op::Eq, "1.0")));
    assert!(version_satisfies(&rv("1.0-5.fc39"), &rc(Op::Ge, "1.0-5")));
    assert!(!version_satisfies(&rv("1.0-5.fc39"), &rc(Op::Lt, "1.0")));
    assert!(!version_satisfies(&rv("1.0-5.fc39"), &rc(Op::Gt, "1.0")));
    assert!(version_satisfies(&rv("1.0-5.fc39"), &rc(Op::Gt, "1.0-4")));
    assert!(version_satisfies(&rv("1.0~rc1-1"), &rc(Op::Lt, "1.0")));
    assert!(version_satisfies(&rv("1:0.5-1"), &rc(Op::Gt, "9.9")));
    assert!(version_satisfies(&dv("3.11.2-1"), &dc(Op::Ge, "3.9~")));
    assert!(!version_satisfies(&dv("3.11.2-1"), &dc(Op::Lt, "3.11.2-1")));
    assert!(version_satisfies(
        &dv("3.11.2-1+b1"),
        &dc(Op::Gt, "3.11.2-1")
    ));
    assert!(!version_satisfies(&dv("1.0"), &dc(Op::Eq, "1.0-1")));
}

#[test]
fn eval_rich_deps() {
    let dep = parse_rpm_dep("((a and b) or (c if d else e))").unwrap();
    let with = |set: &'static [&'static str]| move |at: &Atom| set.contains(&at.name.as_str());
    assert!(dep.eval(&mut with(&["a", "b"])));
    assert!(!dep.eval(&mut with(&["a", "d"])));
    assert!(dep.eval(&mut with(&["c", "d"])));
    assert!(dep.eval(&mut with(&["e"])));
    assert!(!dep.eval(&mut with(&[])));
    let unless = parse_rpm_dep("(a unless b)").unwrap();
    assert!(
        unless.eval(&mut with(&["b"])),
        "condition holds, no else: satisfied"
    );
    assert!(!unless.eval(&mut with(&[])));
    assert!(unless.eval(&mut with(&["a"])));
    let without = parse_rpm_dep("(a without b)").unwrap();
    assert!(without.eval(&mut with(&["a"])));
    assert!(!without.eval(&mut with(&["a", "b"])));
    let if_only = parse_rpm_dep("(a if b)").unwrap();
    assert!(
        if_only.eval(&mut with(&[])),
        "condition false: nothing needed"
    );
    assert!(!if_only.eval(&mut with(&["b"])));
    assert_eq!(
        dep.atoms()
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e"]
    );
}

// ---------- round trips ----------

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9+._-]{0,8}",
        "[a-z][a-z0-9]{0,5}\\([A-Za-z:]{1,6}\\)",
        "(/usr)?/bin/[a-z]{1,5}",
        Just("libfoo.so.1()(64bit)".to_owned()),
    ]
}

fn rpm_evr() -> impl Strategy<Value = Evr> {
    (
        0u64..3,
        "[0-9][0-9a-z.+~^_]{0,6}",
        proptest::option::of("[0-9a-z][0-9a-z.+~^_]{0,5}"),
    )
        .prop_filter("rpm rejects '..'", |(_, v, r)| {
            !v.contains("..") && !r.as_deref().unwrap_or("").contains("..")
        })
        .prop_map(|(e, v, r)| Evr::new(e, v, r))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Lt),
        Just(Op::Le),
        Just(Op::Eq),
        Just(Op::Ge),
        Just(Op::Gt)
    ]
}

fn rpm_leaf() -> impl Strategy<Value = Dep> {
    (name(), proptest::option::of((op(), rpm_evr()))).prop_map(|(n, c)| {
        let c = if n.starts_with('/') { None } else { c };
        Dep::Atom(Atom {
            name: n,
            arch: None,
            constraint: c
                .map(|(op, e)| Constraint {
                    op,
                    version: Version::Rpm(e),
                })
                .map(Box::new),
        })
    })
}

fn rpm_dep() -> impl Strategy<Value = Dep> {
    rpm_leaf().prop_recursive(3, 24, 4, |inner| {
        let opt = proptest::option::of(inner.clone().prop_map(Box::new));
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Dep::And),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Dep::Or),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Dep::With),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Dep::Without(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone(), opt.clone()).prop_map(|(t, c, o)| Dep::If {
                then: Box::new(t),
                cond: Box::new(c),
                otherwise: o
            }),
            (inner.clone(), inner, opt).prop_map(|(t, c, o)| Dep::Unless {
                then: Box::new(t),
                cond: Box::new(c),
                otherwise: o
            }),
        ]
    })
}

fn deb_atom() -> impl Strategy<Value = Dep> {
    let version = (
        0u64..3,
        "[0-9][0-9a-zA-Z.+~]{0,6}",
        proptest::option::of("[0-9a-z][0-9a-z.+~]{0,4}"),
    )
        .prop_map(|(e, u, r)| DebVersion {
            epoch: e,
            upstream: u,
            revision: r.unwrap_or_default(),
        });
    (
        "[a-z0-9][a-z0-9+.-]{1,10}",
        proptest::option::of(prop_oneof![
            Just("any"),
            Just("native"),
            Just("amd64"),
            Just("arm64")
        ]),
        proptest::option::of((op(), version)),
    )
        .prop_map(|(n, arch, c)| {
            Dep::Atom(Atom {
                name: n,
                arch: arch.map(Into::into),
                constraint: c
                    .map(|(op, v)| Constraint {
                        op,
                        version: Version::Deb(v),
                    })
                    .map(Box::new),
            })
        })
}

fn deb_entry() -> impl Strategy<Value = Dep> {
    prop_oneof![
        deb_atom(),
        proptest::collection::vec(deb_atom(), 2..4).prop_map(Dep::Or)
    ]
}

/// Structural equality, stricter than `==` (which follows version ordering, so `1.0`
/// equals `1.00`): printing must reproduce exactly what was parsed.
fn same(a: &Dep, b: &Dep) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rpm_parse_print_round_trip(dep in rpm_dep()) {
        let printed = dep.to_string();
        let back = parse_rpm_dep(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert!(same(&back, &dep), "{} parsed as {:?}", printed, back);
    }

    #[test]
    fn deb_parse_print_round_trip(deps in proptest::collection::vec(deb_entry(), 0..5), sep in prop_oneof![Just(","), Just(",\n "), Just(" ,\t")]) {
        let printed = format_deb_relations(&deps);
        let back = parse_deb_relations(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(back.len(), deps.len());
        for (x, y) in back.iter().zip(&deps) {
            prop_assert!(same(x, y), "{} parsed as {:?}", printed, back);
        }
        // continuation lines and odd spacing parse the same
        let spaced = printed.replace(", ", sep);
        let back2 = parse_deb_relations(&spaced).map_err(|e| TestCaseError::fail(format!("{spaced:?}: {e}")))?;
        prop_assert_eq!(back2, back);
    }
}
