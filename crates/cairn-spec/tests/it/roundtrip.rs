//! Property tests: parse -> render is the identity on any text, and nothing panics on
//! arbitrary input (queries, evaluation, edits).

use cairn_spec::{Edit, MacroEnv, Spec};
use proptest::prelude::*;

/// Fragments that exercise the parser: headers, conditionals, definitions, tags,
/// continuations, line endings and stray `%`.
const FRAGMENTS: &[&str] = &[
    "Name: foo",
    "Version:\t1.0",
    "Release: %autorelease",
    "Requires(post): x",
    "BuildRequires:  gcc",
    "Source0: a.tar.gz",
    "Patch: p.patch",
    "Patch12: q.patch",
    "%package devel",
    "%package -n python3-%{name}",
    "%description",
    "%description -n x",
    "%files",
    "%files devel -f list",
    "%post -p /sbin/ldconfig",
    "%triggerin -- foo",
    "%filetriggerin -- /usr/lib",
    "%patchlist",
    "%sourcelist",
    "%changelog",
    "%prep",
    "%build",
    "%if 0%{?fedora}",
    "%if %{with x}",
    "%ifarch x86_64",
    "%ifnarch %{ix86}",
    "%elif 1",
    "%else",
    "%endif",
    "%global a 1",
    "%define b %{a}",
    "%global c \\",
    "%undefine a",
    "%bcond_with x",
    "%bcond_without y",
    "%bcond z 1",
    "%{?a:%global d 2}",
    "%{expand:%%{a}}",
    "%",
    "%%",
    "%{",
    "}",
    "%(",
    ")",
    "%[",
    "]",
    "\\",
    "# comment",
    "",
    "  ",
    "\t",
    "%{lua: print(1)",
    "%autochangelog",
    "* Mon Jan 01 2024 A - 1",
    "- fix",
];

fn spec_like() -> impl Strategy<Value = String> {
    let line = prop::sample::select(FRAGMENTS).prop_map(str::to_owned);
    let ending = prop::sample::select(&["\n", "\r\n", "\n", "\\\n", ""][..]);
    prop::collection::vec((line, ending), 0..60)
        .prop_map(|parts| parts.into_iter().map(|(l, e)| format!("{l}{e}")).collect())
}

fn check_everything(text: &str) {
    let spec = Spec::parse(text);
    assert_eq!(spec.render(), text);
    let env = MacroEnv::default().with("x").define("fedora", "40");
    let _ = spec.packages(&env);
    let _ = spec.expand(&env, "%{name}-%{version} %{?a} %{expand:%%{b}}");
    let _ = (
        spec.sections(),
        spec.tags(None),
        spec.sources(),
        spec.patches(),
    );
    let s = |v: &str| v.to_owned();
    for edit in [
        Edit::AddTag {
            package: None,
            tag: s("Provides"),
            value: s("p"),
        },
        Edit::InsertTag {
            package: Some(s("devel")),
            tag: s("Requires"),
            value: s("r"),
        },
        Edit::SetTag {
            package: None,
            tag: s("Release"),
            value: s("2"),
        },
        Edit::RemoveTag {
            package: None,
            tag: s("Patch"),
            value: None,
        },
        Edit::AppendLines {
            section: Some(s("%files")),
            package: None,
            lines: vec![s("/x")],
        },
        Edit::PrependLines {
            section: Some(s("%build")),
            package: None,
            lines: vec![s("y")],
        },
        Edit::SearchReplace {
            section: None,
            package: None,
            regex: s("%"),
            replacement: s("%%"),
        },
        Edit::RemoveSection {
            section: s("%description"),
            package: None,
        },
        Edit::RemoveSubpackage {
            package: s("devel"),
        },
        Edit::AddPatch {
            filename: s("n.patch"),
        },
        Edit::RemovePatches { glob: s("*") },
    ] {
        let mut edited = spec.clone();
        match edited.apply(&edit) {
            Ok(_) => {
                let out = edited.render();
                assert_eq!(Spec::parse(&out), edited);
            }
            Err(_) => assert_eq!(edited.render(), text),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_string_round_trips(text in any::<String>()) {
        let spec = Spec::parse(&text);
        prop_assert_eq!(spec.render(), text.clone());
        check_everything(&text);
    }

    #[test]
    fn unicode_spec_like_texts_do_not_panic(
        text in r"(Name: [ä€\\%{}]{0,8}\n|%package [ä%{}]{0,5}\r?\n|%global é [%{}ü\\]{0,8}\n|%if [%{}0-9!=é\\]{0,10}\n|%endif\n|Patch[0-9]?: [ö%{}#/]{0,8}\n|[^\n]{0,10}\n){0,30}"
    ) {
        check_everything(&text);
    }

    #[test]
    fn awkward_characters_round_trip(text in "[%{}()\\[\\]\\\\\r\n \tA-Za-z0-9:#?!-]{0,300}") {
        prop_assert_eq!(Spec::parse(&text).render(), text.clone());
        check_everything(&text);
    }

    #[test]
    fn spec_like_texts_round_trip(text in spec_like()) {
        check_everything(&text);
    }
}

#[test]
fn unbalanced_macro_swallows_lines_like_rpm() {
    // an unclosed `%{` continues the logical line, so the following header is not seen
    let spec = Spec::parse("Name: a\n%global x %{\n%package b\n}\n%package c\n");
    let env = MacroEnv::default();
    assert_eq!(spec.packages(&env), ["a", "a-c"]);
}
