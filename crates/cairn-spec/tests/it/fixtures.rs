//! Fixture specs shared by the tests.

pub const HELLO: &str = include_str!("fixtures/hello.spec");
pub const LEGACY: &str = include_str!("fixtures/legacy.spec");
pub const PATCHLIST: &str = include_str!("fixtures/patchlist.spec");
pub const PYTHON: &str = include_str!("fixtures/python.spec");
pub const CRLF: &str = include_str!("fixtures/crlf.spec");
pub const NOTRAIL: &str = include_str!("fixtures/notrail.spec");

/// All fixtures with their file names.
pub const ALL: &[(&str, &str)] = &[
    ("hello.spec", HELLO),
    ("legacy.spec", LEGACY),
    ("patchlist.spec", PATCHLIST),
    ("python.spec", PYTHON),
    ("crlf.spec", CRLF),
    ("notrail.spec", NOTRAIL),
];

#[test]
fn fixtures_have_the_properties_they_stand_for() {
    assert!(CRLF.contains("\r\n") && !CRLF.replace("\r\n", "").contains('\n'));
    assert!(!CRLF.ends_with('\n'));
    assert!(!NOTRAIL.ends_with('\n'));
    assert!(HELLO.contains("%global common_desc \\\n"));
    assert!(PATCHLIST.contains("%patchlist\n"));
    for (name, text) in ALL {
        assert_eq!(cairn_spec::Spec::parse(text).render(), *text, "{name}");
    }
}
