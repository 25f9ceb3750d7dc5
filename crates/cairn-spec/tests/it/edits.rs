//! Every `Edit` variant: successful applications snapshotted as a diff of the rendered spec,
//! failures snapshotted as the error message (and the spec checked unchanged).

use cairn_spec::{Applied, Edit, MacroEnv, Spec};
use similar::TextDiff;

use crate::fixtures::{CRLF, HELLO, LEGACY, NOTRAIL, PATCHLIST, PYTHON};

fn s(v: &str) -> String {
    v.to_owned()
}

fn some(v: &str) -> Option<String> {
    Some(v.to_owned())
}

/// Apply `edit`, check the result is stable under re-parsing, and describe it as the
/// `Applied` value plus a unified diff with one line of context.
fn applied(text: &str, edit: Edit) -> String {
    let mut spec = Spec::parse(text);
    let result = spec
        .apply(&edit)
        .unwrap_or_else(|e| panic!("{edit:?} failed: {e}"));
    let after = spec.render();
    assert_eq!(Spec::parse(&after).render(), after);
    assert_ne!(after, text, "{edit:?} changed nothing");
    let diff = TextDiff::from_lines(text, &after)
        .unified_diff()
        .context_radius(1)
        .to_string();
    format!("{result:?}\n{}", diff.replace('\r', "␍"))
}

/// Apply an edit that must fail; the spec must be unchanged. Returns the message.
fn failed(text: &str, edit: Edit) -> String {
    let mut spec = Spec::parse(text);
    let before = spec.clone();
    let err = match spec.apply(&edit) {
        Ok(a) => panic!("{edit:?} unexpectedly applied: {a:?}\n{}", spec.render()),
        Err(e) => e,
    };
    assert_eq!(spec, before);
    assert_eq!(spec.render(), text);
    err.to_string()
}

// ----- AddTag ---------------------------------------------------------------------------------

#[test]
fn add_tag() {
    let e = Edit::AddTag {
        package: None,
        tag: s("BuildRequires"),
        value: s("cmake"),
    };
    insta::assert_snapshot!("add_tag_main", applied(HELLO, e));
    // the last tag sits in an %ifnarch block: insert after its %endif, tab-aligned
    let e = Edit::AddTag {
        package: None,
        tag: s("Provides"),
        value: s("zsync-client"),
    };
    insta::assert_snapshot!("add_tag_after_conditional", applied(LEGACY, e));
    let e = Edit::AddTag {
        package: some("devel"),
        tag: s("Provides"),
        value: s("hello-headers"),
    };
    insta::assert_snapshot!("add_tag_subpackage", applied(HELLO, e));
    // a `-n` package named by its full expanded name; multi-valued tag with a new value
    let e = Edit::AddTag {
        package: some("python3-hello"),
        tag: s("Requires"),
        value: s("python3-cffi"),
    };
    insta::assert_snapshot!("add_tag_n_package", applied(HELLO, e));
}

#[test]
fn add_tag_failures() {
    let e = Edit::AddTag {
        package: None,
        tag: s("version"),
        value: s("3"),
    };
    insta::assert_snapshot!("add_tag_err_single_exists", failed(HELLO, e));
    let e = Edit::AddTag {
        package: None,
        tag: s("BuildRequires"),
        value: s("python3-devel"),
    };
    insta::assert_snapshot!("add_tag_err_multi_exists", failed(HELLO, e));
    let e = Edit::AddTag {
        package: None,
        tag: s("Source"),
        value: s("x.tar.gz"),
    };
    insta::assert_snapshot!("add_tag_err_source0", failed(HELLO, e));
    let e = Edit::AddTag {
        package: some("tools"),
        tag: s("Requires"),
        value: s("x"),
    };
    insta::assert_snapshot!("add_tag_err_no_package", failed(HELLO, e));
    let e = Edit::AddTag {
        package: None,
        tag: s("Build Requires"),
        value: s("x"),
    };
    insta::assert_snapshot!("add_tag_err_bad_name", failed(HELLO, e));
    let e = Edit::AddTag {
        package: None,
        tag: s("Requires"),
        value: s("a\nb"),
    };
    insta::assert_snapshot!("add_tag_err_bad_value", failed(HELLO, e));
}

// ----- InsertTag ------------------------------------------------------------------------------

#[test]
fn insert_tag() {
    // last BuildRequires is inside `%if %{with docs}`: goes after that block
    let e = Edit::InsertTag {
        package: None,
        tag: s("BuildRequires"),
        value: s("zlib-devel"),
    };
    insta::assert_snapshot!("insert_tag_family", applied(HELLO, e));
    let e = Edit::InsertTag {
        package: None,
        tag: s("Source3"),
        value: s("hello.sysusers"),
    };
    insta::assert_snapshot!("insert_tag_numbered_family", applied(HELLO, e));
    let e = Edit::InsertTag {
        package: some("libs"),
        tag: s("Requires"),
        value: s("tzdata"),
    };
    insta::assert_snapshot!("insert_tag_no_family", applied(HELLO, e));
    let e = Edit::InsertTag {
        package: None,
        tag: s("Requires"),
        value: s("hello-data"),
    };
    insta::assert_snapshot!("insert_tag_crlf", applied(CRLF, e));
}

#[test]
fn insert_tag_failures() {
    let e = Edit::InsertTag {
        package: some("nope"),
        tag: s("Requires"),
        value: s("x"),
    };
    insta::assert_snapshot!("insert_tag_err_no_package", failed(HELLO, e));
    let e = Edit::InsertTag {
        package: None,
        tag: s("requires(POST)"),
        value: s("systemd"),
    };
    insta::assert_snapshot!("insert_tag_err_exists", failed(HELLO, e));
}

// ----- SetTag ---------------------------------------------------------------------------------

#[test]
fn set_tag() {
    let e = Edit::SetTag {
        package: None,
        tag: s("Release"),
        value: s("5%{?dist}"),
    };
    insta::assert_snapshot!("set_tag_replace", applied(HELLO, e));
    let e = Edit::SetTag {
        package: None,
        tag: s("Vendor"),
        value: s("Cairn"),
    };
    insta::assert_snapshot!("set_tag_add", applied(LEGACY, e));
    let e = Edit::SetTag {
        package: some("devel"),
        tag: s("summary"),
        value: s("Headers"),
    };
    insta::assert_snapshot!("set_tag_subpackage", applied(HELLO, e));
    let e = Edit::SetTag {
        package: None,
        tag: s("Source"),
        value: s("other.tar.gz"),
    };
    insta::assert_snapshot!("set_tag_source_is_source0", applied(HELLO, e));
    // a list-valued tag already present with that value is already "set"
    let mut spec = Spec::parse(HELLO);
    let e = Edit::SetTag {
        package: None,
        tag: s("BuildRequires"),
        value: s("make"),
    };
    assert_eq!(spec.apply(&e), Ok(Applied::Done));
    assert_eq!(spec.render(), HELLO);
}

#[test]
fn set_tag_failures() {
    let e = Edit::SetTag {
        package: some("nope"),
        tag: s("Summary"),
        value: s("x"),
    };
    insta::assert_snapshot!("set_tag_err_no_package", failed(HELLO, e));
    let e = Edit::SetTag {
        package: None,
        tag: s("Requires("),
        value: s("x"),
    };
    insta::assert_snapshot!("set_tag_err_bad_name", failed(HELLO, e));
}

// ----- UpdateTag ------------------------------------------------------------------------------

#[test]
fn update_tag() {
    let e = Edit::UpdateTag {
        package: None,
        tag: s("Version"),
        value: s("0.6.3"),
    };
    insta::assert_snapshot!("update_tag_define_style", applied(LEGACY, e));
    let e = Edit::UpdateTag {
        package: None,
        tag: s("URL"),
        value: s("https://example.org/"),
    };
    insta::assert_snapshot!(
        "update_tag_crlf",
        applied(&CRLF.replace("Summary", "URL: https://old\r\nSummary"), e)
    );
    let e = Edit::UpdateTag {
        package: some("libzsync"),
        tag: s("Group"),
        value: s("Libraries"),
    };
    insta::assert_snapshot!("update_tag_n_package", applied(LEGACY, e));
}

#[test]
fn update_tag_failures() {
    let e = Edit::UpdateTag {
        package: None,
        tag: s("Epoch"),
        value: s("1"),
    };
    insta::assert_snapshot!("update_tag_err_missing", failed(HELLO, e));
    let e = Edit::UpdateTag {
        package: some("devel"),
        tag: s("Requires"),
        value: s("x"),
    };
    insta::assert_snapshot!("update_tag_err_ambiguous", failed(HELLO, e));
    let e = Edit::UpdateTag {
        package: some("missing"),
        tag: s("Summary"),
        value: s("x"),
    };
    insta::assert_snapshot!("update_tag_err_no_package", failed(HELLO, e));
}

// ----- RemoveTag ------------------------------------------------------------------------------

#[test]
fn remove_tag() {
    let e = Edit::RemoveTag {
        package: None,
        tag: s("BuildRequires"),
        value: some("python3-devel"),
    };
    insta::assert_snapshot!("remove_tag_value_in_conditional", applied(HELLO, e));
    let e = Edit::RemoveTag {
        package: some("devel"),
        tag: s("Requires"),
        value: None,
    };
    insta::assert_snapshot!("remove_tag_all", applied(HELLO, e));
    let e = Edit::RemoveTag {
        package: None,
        tag: s("BuildRoot"),
        value: None,
    };
    insta::assert_snapshot!("remove_tag_single", applied(LEGACY, e));
}

#[test]
fn remove_tag_failures() {
    let e = Edit::RemoveTag {
        package: None,
        tag: s("Obsoletes"),
        value: None,
    };
    insta::assert_snapshot!("remove_tag_err_missing", failed(HELLO, e));
    let e = Edit::RemoveTag {
        package: None,
        tag: s("BuildRequires"),
        value: some("cmake"),
    };
    insta::assert_snapshot!("remove_tag_err_missing_value", failed(HELLO, e));
    let e = Edit::RemoveTag {
        package: some("zzz"),
        tag: s("Requires"),
        value: None,
    };
    insta::assert_snapshot!("remove_tag_err_no_package", failed(HELLO, e));
}

// ----- PrependLines / AppendLines --------------------------------------------------------------

#[test]
fn prepend_lines() {
    let e = Edit::PrependLines {
        section: some("%build"),
        package: None,
        lines: vec![s("export CFLAGS=\"$CFLAGS -O3\"")],
    };
    insta::assert_snapshot!("prepend_build", applied(HELLO, e));
    let e = Edit::PrependLines {
        section: some("changelog"),
        package: None,
        lines: vec![
            s("* Thu Feb 01 2024 Cairn <cairn@example.org> - 0.6.2-8"),
            s("- Rebuilt by cairn"),
            s(""),
        ],
    };
    insta::assert_snapshot!("prepend_changelog", applied(LEGACY, e));
    let e = Edit::PrependLines {
        section: None,
        package: None,
        lines: vec![s("%global _lto_cflags %{nil}")],
    };
    insta::assert_snapshot!("prepend_file", applied(PYTHON, e));
    let e = Edit::PrependLines {
        section: some("%files"),
        package: some("tools"),
        lines: vec![s("%license LICENSE")],
    };
    insta::assert_snapshot!("prepend_crlf", applied(CRLF, e));
}

#[test]
fn append_lines() {
    let e = Edit::AppendLines {
        section: some("%files"),
        package: some("devel"),
        lines: vec![s("%{_libdir}/cmake/hello/")],
    };
    insta::assert_snapshot!("append_files_devel", applied(HELLO, e));
    // inside a conditional wrapper the line goes before the closing %endif
    let e = Edit::AppendLines {
        section: some("%files"),
        package: some("python3-%{name}"),
        lines: vec![s("%{python3_sitearch}/hello-*.dist-info/")],
    };
    insta::assert_snapshot!("append_files_in_conditional", applied(HELLO, e));
    let e = Edit::AppendLines {
        section: None,
        package: None,
        lines: vec![s("%{_datadir}/notrail")],
    };
    insta::assert_snapshot!("append_file_no_trailing_newline", applied(NOTRAIL, e));
    let e = Edit::AppendLines {
        section: some("%files"),
        package: None,
        lines: vec![s("/usr/bin/notrail2")],
    };
    insta::assert_snapshot!("append_section_no_trailing_newline", applied(NOTRAIL, e));
    let e = Edit::AppendLines {
        section: some("%post"),
        package: None,
        lines: vec![s("%systemd_user_post hello.service")],
    };
    insta::assert_snapshot!("append_post", applied(HELLO, e));
}

#[test]
fn line_edit_failures() {
    let e = Edit::AppendLines {
        section: some("%check"),
        package: None,
        lines: vec![s("make test")],
    };
    insta::assert_snapshot!("append_err_no_section", failed(LEGACY, e));
    let e = Edit::AppendLines {
        section: some("%files"),
        package: some("doc"),
        lines: vec![s("x")],
    };
    insta::assert_snapshot!("append_err_no_section_for_package", failed(LEGACY, e));
    let e = Edit::PrependLines {
        section: None,
        package: some("devel"),
        lines: vec![s("x")],
    };
    insta::assert_snapshot!("prepend_err_package_without_section", failed(HELLO, e));
    let e = Edit::PrependLines {
        section: some("%bulid"),
        package: None,
        lines: vec![s("x")],
    };
    insta::assert_snapshot!("prepend_err_unknown_section", failed(HELLO, e));
    let e = Edit::AppendLines {
        section: some("%build"),
        package: None,
        lines: vec![],
    };
    insta::assert_snapshot!("append_err_no_lines", failed(HELLO, e));
    let two = "Name: t\n%description\n%triggerin -- a\n:\n%triggerin -- b\n:\n";
    let e = Edit::AppendLines {
        section: some("%trigger"),
        package: None,
        lines: vec![s("x")],
    };
    insta::assert_snapshot!("append_err_ambiguous", failed(two, e));
}

// ----- SearchReplace --------------------------------------------------------------------------

#[test]
fn search_replace() {
    let e = Edit::SearchReplace {
        section: some("%build"),
        package: None,
        regex: s(r"--with-gettext"),
        replacement: s("--without-gettext --enable-fast"),
    };
    insta::assert_snapshot!("replace_in_section", applied(HELLO, e));
    // the replacement is literal text: `$1` stays `$1`
    let e = Edit::SearchReplace {
        section: None,
        package: None,
        regex: s(r"RPM_BUILD_ROOT"),
        replacement: s("{buildroot:$1}"),
    };
    insta::assert_snapshot!("replace_whole_file_literal", applied(LEGACY, e));
    let e = Edit::SearchReplace {
        section: some("%files"),
        package: some("libzsync"),
        regex: s(r"(?m)^%defattr.*\n"),
        replacement: s(""),
    };
    insta::assert_snapshot!("replace_delete_line", applied(LEGACY, e));
    let e = Edit::SearchReplace {
        section: some("%changelog"),
        package: None,
        regex: s(r"- init$"),
        replacement: s("- initial import"),
    };
    insta::assert_snapshot!("replace_crlf_end", applied(CRLF, e));
}

#[test]
fn search_replace_failures() {
    let e = Edit::SearchReplace {
        section: some("%install"),
        package: None,
        regex: s("cmake --install"),
        replacement: s("x"),
    };
    insta::assert_snapshot!("replace_err_no_match", failed(HELLO, e));
    let e = Edit::SearchReplace {
        section: None,
        package: None,
        regex: s("(unclosed"),
        replacement: s("x"),
    };
    insta::assert_snapshot!("replace_err_bad_regex", failed(HELLO, e));
    let e = Edit::SearchReplace {
        section: some("%files"),
        package: some("devel"),
        regex: s("x"),
        replacement: s("y"),
    };
    insta::assert_snapshot!("replace_err_no_section", failed(LEGACY, e));
    let e = Edit::SearchReplace {
        section: None,
        package: some("devel"),
        regex: s("x"),
        replacement: s("y"),
    };
    insta::assert_snapshot!("replace_err_package_without_section", failed(HELLO, e));
}

// ----- RemoveSection --------------------------------------------------------------------------

#[test]
fn remove_section() {
    let e = Edit::RemoveSection {
        section: s("%check"),
        package: None,
    };
    insta::assert_snapshot!("remove_section_check", applied(HELLO, e));
    // wrapped in `%if %{with static}`: the wrapper stays
    let e = Edit::RemoveSection {
        section: s("files"),
        package: some("static"),
    };
    insta::assert_snapshot!("remove_section_in_conditional", applied(HELLO, e));
    // a conditional that lives inside the section goes with it
    let e = Edit::RemoveSection {
        section: s("%check"),
        package: None,
    };
    insta::assert_snapshot!("remove_section_with_inner_conditional", applied(PYTHON, e));
    let e = Edit::RemoveSection {
        section: s("%triggerun"),
        package: some("libs"),
    };
    insta::assert_snapshot!("remove_section_trigger", applied(HELLO, e));
    let e = Edit::RemoveSection {
        section: s("%files"),
        package: None,
    };
    insta::assert_snapshot!("remove_section_last_no_newline", applied(NOTRAIL, e));
}

const INTERLEAVED: &str = "\
Name: x
Version: 1
%description
x
%if %{with extra}
%files extra
/usr/share/extra
%else
/usr/share/fallback
%endif
%files
/usr/bin/x
";

#[test]
fn remove_section_failures() {
    let e = Edit::RemoveSection {
        section: s("%files"),
        package: some("extra"),
    };
    insta::assert_snapshot!("remove_section_err_interleaved", failed(INTERLEAVED, e));
    let e = Edit::RemoveSection {
        section: s("%check"),
        package: None,
    };
    insta::assert_snapshot!("remove_section_err_missing", failed(LEGACY, e));
    let e = Edit::RemoveSection {
        section: s("%files"),
        package: some("nope"),
    };
    insta::assert_snapshot!("remove_section_err_missing_package", failed(HELLO, e));
}

// ----- RemoveSubpackage -----------------------------------------------------------------------

#[test]
fn remove_subpackage() {
    let e = Edit::RemoveSubpackage {
        package: s("python3-hello"),
    };
    insta::assert_snapshot!("remove_subpackage_n_conditional", applied(HELLO, e));
    let e = Edit::RemoveSubpackage {
        package: s("libzsync"),
    };
    insta::assert_snapshot!("remove_subpackage_with_scriptlets", applied(LEGACY, e));
    let e = Edit::RemoveSubpackage { package: s("libs") };
    insta::assert_snapshot!("remove_subpackage_with_trigger", applied(HELLO, e));
    let e = Edit::RemoveSubpackage {
        package: s("tools"),
    };
    insta::assert_snapshot!("remove_subpackage_crlf", applied(CRLF, e));
    // packages() agrees afterwards
    let mut spec = Spec::parse(HELLO);
    spec.apply(&Edit::RemoveSubpackage {
        package: s("devel"),
    })
    .unwrap();
    assert_eq!(
        spec.packages(&MacroEnv::default()),
        ["hello", "hello-libs", "python3-hello"]
    );
    assert!(!spec.has_section("%files", Some("devel")));
}

#[test]
fn remove_subpackage_failures() {
    let e = Edit::RemoveSubpackage {
        package: s("hello-tools"),
    };
    insta::assert_snapshot!("remove_subpackage_err_missing", failed(HELLO, e));
    let e = Edit::RemoveSubpackage {
        package: s("extra"),
    };
    insta::assert_snapshot!("remove_subpackage_err_interleaved", failed(INTERLEAVED, e));
}

// ----- AddPatch -------------------------------------------------------------------------------

#[test]
fn add_patch() {
    let mut spec = Spec::parse(HELLO);
    let r = spec.apply(&Edit::AddPatch {
        filename: s("hello-cve-2024-0001.patch"),
    });
    assert_eq!(r, Ok(Applied::PatchAdded { number: Some(4) }));
    assert_eq!(
        spec.patches().last().map(|p| p.value.as_str()),
        Some("hello-cve-2024-0001.patch")
    );

    let e = Edit::AddPatch {
        filename: s("hello-cve-2024-0001.patch"),
    };
    insta::assert_snapshot!("add_patch_numbered", applied(HELLO, e));
    let e = Edit::AddPatch {
        filename: s("0004-Fix-leak.patch"),
    };
    insta::assert_snapshot!("add_patch_patchlist", applied(PATCHLIST, e));
    // no patches yet: Patch0 after the last Source tag
    let e = Edit::AddPatch {
        filename: s("fix-tests.patch"),
    };
    insta::assert_snapshot!("add_patch_first", applied(PYTHON, e));
    let e = Edit::AddPatch {
        filename: s("two.patch"),
    };
    insta::assert_snapshot!("add_patch_crlf", applied(CRLF, e));
    // no Source or Patch tag at all
    let e = Edit::AddPatch {
        filename: s("x.patch"),
    };
    insta::assert_snapshot!("add_patch_no_sources", applied(NOTRAIL, e));
}

#[test]
fn add_patch_failures() {
    let e = Edit::AddPatch {
        filename: s("hello-2.12-no-rpath.patch"),
    };
    insta::assert_snapshot!("add_patch_err_exists", failed(HELLO, e));
    // also found through a URL fragment in %patchlist
    let e = Edit::AddPatch {
        filename: s("0003-Fix-typo.patch"),
    };
    insta::assert_snapshot!("add_patch_err_exists_patchlist", failed(PATCHLIST, e));
    let e = Edit::AddPatch { filename: s("  ") };
    insta::assert_snapshot!("add_patch_err_empty", failed(HELLO, e));
}

// ----- RemovePatches --------------------------------------------------------------------------

#[test]
fn remove_patches() {
    let e = Edit::RemovePatches {
        glob: s("hello-2.12-*.patch"),
    };
    insta::assert_snapshot!("remove_patches_glob", applied(HELLO, e));
    let e = Edit::RemovePatches {
        glob: s("000[13]-*"),
    };
    insta::assert_snapshot!("remove_patches_patchlist", applied(PATCHLIST, e));
    // matches the `#/` file name of a URL; %patchN lines in %prep are left alone
    let e = Edit::RemovePatches {
        glob: s("*abc123*"),
    };
    insta::assert_snapshot!("remove_patches_url_fragment", applied(LEGACY, e));
    let mut spec = Spec::parse(LEGACY);
    let r = spec.apply(&Edit::RemovePatches { glob: s("*") }).unwrap();
    assert_eq!(
        r,
        Applied::PatchesRemoved(vec![
            s("zsync-0.6.2-format-security.patch"),
            s("zsync-0.6.2-libm.patch"),
            s("zsync-0.6.2-abc123.patch")
        ])
    );
    assert!(spec.patches().is_empty());
    assert!(spec.render().contains("%patch0 -p1\n"));
}

#[test]
fn remove_patches_failures() {
    let e = Edit::RemovePatches { glob: s("*.diff") };
    insta::assert_snapshot!("remove_patches_err_no_match", failed(HELLO, e));
    let e = Edit::RemovePatches { glob: s("*.patch") };
    insta::assert_snapshot!("remove_patches_err_no_patches", failed(PYTHON, e));
    let e = Edit::RemovePatches { glob: s("[abc") };
    insta::assert_snapshot!("remove_patches_err_bad_glob", failed(HELLO, e));
}

// ----- misc -----------------------------------------------------------------------------------

#[test]
fn edits_deserialize_from_overlay_documents() {
    let edits: Vec<Edit> = serde_json::from_str(
        r#"[
            {"op": "add-tag", "tag": "BuildRequires", "value": "cmake"},
            {"op": "append-lines", "section": "%files", "package": "devel", "lines": ["/x"]},
            {"op": "remove-patches", "glob": "*.patch"}
        ]"#,
    )
    .unwrap();
    assert_eq!(
        edits[0],
        Edit::AddTag {
            package: None,
            tag: s("BuildRequires"),
            value: s("cmake")
        }
    );
    assert!(
        serde_json::from_str::<Edit>(r#"{"op": "add-tag", "tag": "A", "value": "b", "typo": 1}"#)
            .is_err()
    );
}

#[test]
fn a_sequence_of_edits() {
    let mut spec = Spec::parse(HELLO);
    let edits = [
        Edit::SetTag {
            package: None,
            tag: s("Release"),
            value: s("1%{?dist}.cairn1"),
        },
        Edit::RemovePatches { glob: s("*rpath*") },
        Edit::AddPatch {
            filename: s("cairn.patch"),
        },
        Edit::RemoveSubpackage {
            package: s("python3-hello"),
        },
        Edit::SearchReplace {
            section: some("%build"),
            package: None,
            regex: s(r"(?m)^%if %\{with python\}\n    --enable-python \\\n%endif\n"),
            replacement: s(""),
        },
        Edit::AppendLines {
            section: some("%changelog"),
            package: None,
            lines: vec![s("# cairn")],
        },
    ];
    for e in &edits {
        spec.apply(e).unwrap_or_else(|err| panic!("{e:?}: {err}"));
    }
    assert_eq!(
        spec.packages(&MacroEnv::default()),
        ["hello", "hello-libs", "hello-devel"]
    );
    let numbers: Vec<_> = spec.patches().iter().map(|p| p.number).collect();
    assert_eq!(numbers, [Some(0), Some(3), Some(4)]);
    insta::assert_snapshot!("sequence", spec.render());
}
