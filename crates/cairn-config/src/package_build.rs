//! The `[package-build]` table: how `cairn comp build` builds the distribution's
//! components into RPMs (which root builds start from, which repositories satisfy
//! BuildRequires, where the results go, and the macros every build shares).

use crate::{ConfigError, Locator, Source};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// `[package-build]` as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageBuildDef {
    /// The root every build starts from: `"host"` (this machine's `/`, read-only, fast but
    /// not hermetic: its toolchain is whatever the machine has) or the name of an image of
    /// this project, whose installed package set becomes the base of every build root.
    /// Default `"host"`.
    #[schemars(with = "Option<String>")]
    pub root: Option<Spanned<String>>,
    /// rpm-md sources (by name) whose packages satisfy BuildRequires, after the packages
    /// this project already built.
    #[schemars(with = "Option<Vec<String>>")]
    pub repos: Option<Spanned<Vec<String>>>,
    /// Where RPMs, logs and result records go, relative to the project file. Default
    /// `"build"`.
    #[schemars(with = "Option<String>")]
    pub out_dir: Option<Spanned<String>>,
    /// Parallel jobs inside one build (`%_smp_mflags`). Fixed, not the CPU count: it is
    /// recorded in the source RPM, so it is part of a reproducible result. Default 2.
    #[schemars(with = "Option<u32>", range(min = 1, max = 1024))]
    pub smp_jobs: Option<Spanned<i64>>,
    /// `%vendor` of every package.
    pub vendor: Option<String>,
    /// `%distribution` of every package.
    pub distribution: Option<String>,
    /// `%packager` of every package.
    pub packager: Option<String>,
    /// `%dist` when a component's `build.defines` set none, e.g. `".cn1"`.
    pub dist: Option<String>,
    /// Kill a build that runs longer: `"90m"`, `"2h"`, `"1h30m"`, `"45s"`.
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<String>>,
}

/// The root builds start from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "image")]
pub enum BuildRootSpec {
    /// The host's `/`.
    Host,
    /// An image of this project.
    Image(String),
}

/// `[package-build]`, validated, with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PackageBuild {
    pub root: BuildRootSpec,
    pub repos: Vec<String>,
    /// Relative to the project directory unless absolute.
    pub out_dir: String,
    pub smp_jobs: u32,
    pub vendor: Option<String>,
    pub distribution: Option<String>,
    pub packager: Option<String>,
    pub dist: Option<String>,
    pub timeout_secs: Option<u64>,
}

impl Default for PackageBuild {
    fn default() -> Self {
        PackageBuild {
            root: BuildRootSpec::Host,
            repos: Vec::new(),
            out_dir: "build".into(),
            smp_jobs: 2,
            vendor: None,
            distribution: None,
            packager: None,
            dist: None,
            timeout_secs: None,
        }
    }
}

/// Parse a duration such as `2h`, `90m`, `1h30m`, `45s` or `1d` into seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut any = false;
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: u64 = num.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        num.clear();
        any = true;
    }
    if !num.is_empty() {
        return None;
    }
    (any && total > 0).then_some(total)
}

pub(crate) fn validate_package_build(
    def: Option<&Spanned<PackageBuildDef>>,
    loc: &Locator<'_>,
    sources: &BTreeMap<String, Source>,
    images: &[String],
) -> Result<PackageBuild, ConfigError> {
    let mut out = PackageBuild::default();
    let Some(def) = def else {
        return Ok(out);
    };
    let table = def.span();
    let d = def.get_ref();
    let field = |f: &str| format!("package-build.{f}");
    if let Some(r) = &d.root {
        let name = r.get_ref().trim();
        out.root = if name == "host" {
            BuildRootSpec::Host
        } else if images.iter().any(|i| i == name) {
            BuildRootSpec::Image(name.to_owned())
        } else {
            return Err(loc.err(
                r.span(),
                field("root"),
                format!(
                    "`{name}` is neither \"host\" nor an image of this project (images: {})",
                    if images.is_empty() {
                        "none".to_owned()
                    } else {
                        images.join(", ")
                    }
                ),
            ));
        };
    }
    if let Some(repos) = &d.repos {
        for name in repos.get_ref() {
            match sources.get(name) {
                Some(Source::RpmMd(_)) => {}
                Some(other) => {
                    return Err(loc.err(
                        repos.span(),
                        field("repos"),
                        format!(
                            "source `{name}` is of kind `{}`; BuildRequires come from rpm-md sources only",
                            other.kind().as_str()
                        ),
                    ));
                }
                None => {
                    let known: Vec<&str> = sources
                        .iter()
                        .filter(|(_, s)| matches!(s, Source::RpmMd(_)))
                        .map(|(n, _)| n.as_str())
                        .collect();
                    return Err(loc.err(
                        repos.span(),
                        field("repos"),
                        format!(
                            "unknown source `{name}`; the project's rpm-md sources: {}",
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                }
            }
            if out.repos.contains(name) {
                return Err(loc.err(
                    repos.span(),
                    field("repos"),
                    format!("source `{name}` is listed twice"),
                ));
            }
            out.repos.push(name.clone());
        }
    }
    if let Some(o) = &d.out_dir {
        let v = o.get_ref().trim();
        if v.is_empty() {
            return Err(loc.err(o.span(), field("out-dir"), "must not be empty"));
        }
        out.out_dir = v.to_owned();
    }
    if let Some(j) = &d.smp_jobs {
        let n = *j.get_ref();
        if !(1..=1024).contains(&n) {
            return Err(loc.err(
                j.span(),
                field("smp-jobs"),
                format!("{n} is not between 1 and 1024"),
            ));
        }
        out.smp_jobs = n as u32;
    }
    for (name, value, target) in [
        ("vendor", &d.vendor, &mut out.vendor),
        ("distribution", &d.distribution, &mut out.distribution),
        ("packager", &d.packager, &mut out.packager),
        ("dist", &d.dist, &mut out.dist),
    ] {
        if let Some(v) = value {
            if v.contains('\n') {
                return Err(loc.err(table.clone(), field(name), "must be a single line"));
            }
            *target = Some(v.clone());
        }
    }
    if let Some(t) = &d.timeout {
        out.timeout_secs = Some(parse_duration(t.get_ref()).ok_or_else(|| {
            loc.err(
                t.span(),
                field("timeout"),
                format!(
                    "`{}` is not a duration such as \"90m\", \"2h\", \"1h30m\" or \"45s\"",
                    t.get_ref()
                ),
            )
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("45s"), Some(45));
        assert_eq!(parse_duration("1d"), Some(86_400));
        for bad in ["", "h", "10", "5x", "0s", "1h30"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
