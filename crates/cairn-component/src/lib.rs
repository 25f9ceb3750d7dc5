//! Distribution definition types: distros, components, component groups, overlays and
//! component locks, in the file format azldev reads (`*.distro.toml`, `*.comp.toml`,
//! `*.overlay.toml`), so files written for it load unchanged.
//!
//! This crate parses and validates the text of one file at a time, merges component
//! configuration layers (distro version → project → groups → component: scalars override,
//! arrays append, maps merge), computes input fingerprints and reads and writes component
//! locks. Pure: it never reads the disk; the loader in `cairn-comp` globs includes and
//! overlay files and hands their text here.

mod fingerprint;
mod lock;
mod merge;
mod types;
mod validate;

pub use fingerprint::{FingerprintInput, OverlayInput, fingerprint, projection_json};
pub use lock::{
    BuildRootLock, ComponentLock, LOCK_VERSION, LockError, PinnedPackage, UpstreamLock,
};
pub use merge::merge_component;
pub use types::*;
pub use validate::{
    FragmentError, line_col, parse_fragment, parse_overlay_file, validate_fragment,
};

use std::fmt::Write as _;

/// The JSON Schema of one configuration file holding distribution definitions.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ConfigFragment);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// The JSON Schema of an overlay file.
pub fn overlay_file_schema() -> String {
    let schema = schemars::schema_for!(OverlayFile);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// Substitute `$name` placeholders (longest names first so `$hashtype` wins over `$hash`).
pub fn expand_template(template: &str, vars: &[(&str, &str)]) -> String {
    let mut vars: Vec<_> = vars.to_vec();
    vars.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    'outer: while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        for (k, v) in &vars {
            if rest[1..].starts_with(k) {
                out.push_str(v);
                rest = &rest[1 + k.len()..];
                continue 'outer;
            }
        }
        out.push('$');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// The first-letter directory of a rendered component: `specs/<letter>/<name>`.
pub fn rendered_subdir(name: &str) -> String {
    let first = name
        .chars()
        .next()
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or('_');
    let mut s = String::new();
    let _ = write!(s, "{first}/{name}");
    s
}

/// Is `name` usable as a component name (and a directory name)?
pub fn valid_component_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let t = "https://x/$pkg/$filename/$hashtype/$hash/$filename";
        assert_eq!(
            expand_template(
                t,
                &[
                    ("pkg", "curl"),
                    ("filename", "c.tgz"),
                    ("hashtype", "sha512"),
                    ("hash", "ab")
                ]
            ),
            "https://x/curl/c.tgz/sha512/ab/c.tgz"
        );
        assert_eq!(expand_template("a$b$", &[("pkg", "x")]), "a$b$");
    }

    #[test]
    fn subdirs() {
        assert_eq!(rendered_subdir("Curl"), "c/Curl");
        assert!(valid_component_name("python3-foo+bar_1.2"));
        assert!(!valid_component_name("../x"));
        assert!(!valid_component_name("a b"));
    }
}
