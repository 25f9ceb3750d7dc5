//! Read-only queries on the fixtures: sections, tags, sources, patches, packages, expansion.

use cairn_spec::{MacroEnv, Spec};

use crate::fixtures::{CRLF, HELLO, LEGACY, PATCHLIST, PYTHON};

fn outline(text: &str) -> String {
    let spec = Spec::parse(text);
    let mut out = String::new();
    for s in spec.sections() {
        out.push_str(&format!(
            "{:>3}-{:<3} {:<24} {:<28} {}\n",
            s.line,
            s.end_line,
            s.name,
            match (&s.package, s.absolute) {
                (Some(p), true) => format!("-n {p}"),
                (Some(p), false) => p.clone(),
                (None, _) => "-".to_owned(),
            },
            s.header
        ));
    }
    out
}

#[test]
fn section_outline_hello() {
    insta::assert_snapshot!("outline_hello", outline(HELLO));
}

#[test]
fn section_outline_legacy_and_patchlist() {
    insta::assert_snapshot!("outline_legacy", outline(LEGACY));
    insta::assert_snapshot!("outline_patchlist", outline(PATCHLIST));
}

#[test]
fn crlf_headers_do_not_keep_the_carriage_return() {
    let spec = Spec::parse(CRLF);
    let s = spec.sections();
    assert_eq!(s[1].name, "%package");
    assert_eq!(s[1].package.as_deref(), Some("tools"));
    assert_eq!(s[1].header, "%package tools");
    assert_eq!(spec.tags(None)[0].value, "crlf");
}

#[test]
fn tags_sources_patches() {
    let spec = Spec::parse(HELLO);
    let tags: Vec<String> = spec
        .tags(None)
        .iter()
        .map(|t| format!("{} {}: {}", t.line, t.name, t.value))
        .collect();
    insta::assert_snapshot!("tags_hello", tags.join("\n"));
    let devel: Vec<String> = spec
        .tags(Some("devel"))
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(devel, ["Summary", "Requires", "Requires"]);
    // `-n` packages match as written and by full name
    assert_eq!(spec.tags(Some("python3-%{name}")).len(), 2);
    assert_eq!(spec.tags(Some("python3-hello")).len(), 2);
    assert_eq!(spec.tags(Some("hello-devel")).len(), 3);
    assert!(spec.tags(Some("nope")).is_empty());

    let sources: Vec<(String, Option<u32>)> = spec
        .sources()
        .into_iter()
        .map(|t| (t.name.clone(), t.number()))
        .collect();
    assert_eq!(
        sources,
        [
            ("Source0".into(), Some(0)),
            ("Source1".into(), Some(1)),
            ("Source2".into(), Some(2))
        ]
    );
    let patches: Vec<(Option<u32>, String)> = spec
        .patches()
        .into_iter()
        .map(|p| (p.number, p.value))
        .collect();
    assert_eq!(
        patches[2],
        (Some(3), "0003-Use-system-gettext.patch".to_owned())
    );

    let legacy = Spec::parse(LEGACY);
    assert_eq!(legacy.sources()[0].name, "Source");
    assert_eq!(legacy.sources()[0].number(), Some(0));
    assert_eq!(legacy.patches().len(), 3);

    let pl = Spec::parse(PATCHLIST);
    let p = pl.patches();
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|p| p.in_patchlist && p.number.is_none()));
    assert_eq!(p[0].line, 17);
    assert!(pl.sources().is_empty());
}

#[test]
fn packages_follow_conditionals_and_switches() {
    let hello = Spec::parse(HELLO);
    let env = MacroEnv::default();
    assert_eq!(
        hello.packages(&env),
        ["hello", "hello-libs", "hello-devel", "python3-hello"]
    );
    let env = MacroEnv::default()
        .with("docs")
        .with("static")
        .without("python");
    assert_eq!(
        hello.packages(&env),
        [
            "hello",
            "hello-libs",
            "hello-devel",
            "hello-static",
            "hello-doc"
        ]
    );
    let py = Spec::parse(PYTHON);
    assert_eq!(
        py.packages(&MacroEnv::default()),
        ["python-requests-toolbelt", "python3-requests-toolbelt"]
    );
    let env = MacroEnv::default()
        .define("fedora", "41")
        .define("python3_pkgversion", "3.12");
    assert_eq!(
        py.packages(&env),
        [
            "python-requests-toolbelt",
            "python3.12-requests-toolbelt",
            "python3.12-requests-toolbelt-doc"
        ]
    );
}

#[test]
fn expansion_uses_spec_definitions_and_tags() {
    let hello = Spec::parse(HELLO);
    let env = MacroEnv::default().define("dist", ".fc41");
    assert_eq!(
        hello.expand(
            &env,
            "%{name}-%{version}-%{somajor}%{?dist} %{with python}%{with docs}%{with static}"
        ),
        "hello-2.12.1-3.fc41 100"
    );
    assert_eq!(
        hello.expand(&env, "%{common_desc}"),
        "\nHello is a friendly greeting library. It says hello in many\nlanguages and is used as a test case for packaging tools."
    );
    // %autorelease stays literal; unknown macros too
    assert_eq!(
        hello.expand(&env, "%{release} %{nope} %nope"),
        "%autorelease %{nope} %nope"
    );
    let legacy = Spec::parse(LEGACY);
    assert_eq!(
        legacy.expand(
            &MacroEnv::default().define("dist", ".el9"),
            "%{name}-%{version}-%{release}"
        ),
        "zsync-0.6.2-7.el9"
    );
    let py = Spec::parse(PYTHON);
    assert_eq!(
        py.expand(
            &MacroEnv::default(),
            "%{summary}|%{python3_pkgversion}|%{with tests}"
        ),
        "Utility belt for advanced users of python-requests|3|0"
    );
    assert_eq!(
        py.expand(&MacroEnv::default().define("fedora", "40"), "%{with tests}"),
        "1"
    );
    let mut macros = py.macros(&MacroEnv::default());
    assert!(macros.is_defined("_description"));
    assert_eq!(macros.expand("%{pypi_name}"), "requests-toolbelt");
}
