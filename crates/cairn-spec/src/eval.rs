//! Walking a spec the way rpm reads it: conditionals are evaluated against a [`MacroEnv`],
//! definitions and tag macros in effect are collected, and binary package names computed.

use crate::macros::{MacroEnv, Macros};
use crate::spec::{Kind, Spec};
use crate::syntax::{CondKind, parse_header};

/// Result of a walk.
#[derive(Debug)]
pub(crate) struct Walk {
    /// Macros in effect at the end of the spec.
    pub macros: Macros,
    /// Binary package names in file order (main package first), active branches only.
    pub packages: Vec<String>,
    /// Per section: the full package name its header refers to (`None` for sections of the
    /// main package and package-less sections). Computed for inactive sections too.
    pub full_names: Vec<Option<String>>,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    /// All enclosing conditionals are true.
    parent_active: bool,
    /// Some branch of this conditional was taken already.
    taken: bool,
    active: bool,
}

/// Tags that rpm also defines as macros (`%{name}`, `%{version}`...).
const TAG_MACROS: &[&str] = &[
    "name", "version", "release", "epoch", "summary", "license", "url",
];

/// Lines that may define macros as a side effect of being expanded.
fn may_define(text: &str) -> bool {
    [
        "%global",
        "%define",
        "%undefine",
        "%bcond",
        "{global",
        "{define",
        "{undefine",
    ]
    .iter()
    .any(|k| text.contains(k))
}

/// Walk the spec. Like rpm, a `BuildArch` of the main package that does not include the
/// target architecture (typically `noarch`) makes the spec be read again for that
/// architecture: `%ifarch` and `%{_target_cpu}` then see it.
pub(crate) fn walk(spec: &Spec, env: &MacroEnv) -> Walk {
    let (first, build_arch) = walk_for(spec, env, None);
    let Some(archs) = build_arch else {
        return first;
    };
    let archs: Vec<&str> = archs
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|a| !a.is_empty())
        .collect();
    if archs.is_empty() || archs.contains(&env.arch()) {
        return first;
    }
    let target = if archs.contains(&"noarch") {
        "noarch"
    } else {
        archs[0]
    };
    walk_for(spec, env, Some(target)).0
}

/// One pass; also returns the expanded `BuildArch` of the main package, if any.
fn walk_for(spec: &Spec, env: &MacroEnv, target: Option<&str>) -> (Walk, Option<String>) {
    let mut macros = Macros::new(env);
    if let Some(cpu) = target {
        macros.set_target_cpu(cpu);
    }
    let mut build_arch = None;
    let mut stack: Vec<Frame> = Vec::new();
    let mut main_name: Option<String> = None;
    let mut packages = Vec::new();
    let mut full_names = vec![None; spec.sections.len()];
    for (i, item) in spec.items.iter().enumerate() {
        let active = stack.last().is_none_or(|f| f.active);
        match &item.kind {
            Kind::Cond(kind, offset) => {
                let text = spec.text(i);
                let arg = text.get(*offset..).unwrap_or("");
                apply_cond(&mut stack, &mut macros, *kind, arg, active);
            }
            Kind::Header(_) => {
                let Some(s) = item.section else { continue };
                let text = spec.text(i);
                let expanded = macros.expand(&text);
                // a macro in the header may expand to several lines (description text)
                let first_line = expanded.split('\n').next().unwrap_or_default();
                let header = parse_header(first_line).or_else(|| parse_header(&text));
                let full = header.and_then(|h| {
                    let pkg = h.package?;
                    Some(if h.absolute {
                        pkg
                    } else {
                        let main = main_name.as_deref().unwrap_or("%{name}");
                        format!("{main}-{pkg}")
                    })
                });
                if active
                    && spec.sections[s].header.name == "%package"
                    && let Some(full) = &full
                {
                    packages.push(full.clone());
                }
                full_names[s] = full;
            }
            _ if !active => {}
            Kind::Def => {
                let text = spec.text(i);
                macros.expand(&text);
            }
            Kind::Tag(tag) => {
                let lower = tag.name.to_ascii_lowercase();
                let main = item.section.is_none();
                if main
                    && build_arch.is_none()
                    && matches!(lower.as_str(), "buildarch" | "buildarchitectures")
                {
                    build_arch = Some(macros.expand(spec.text(i)[tag.value_start..].trim()));
                }
                if let Some(m) = TAG_MACROS.iter().find(|m| **m == lower) {
                    let value = macros.expand(spec.text(i)[tag.value_start..].trim());
                    if main && *m == "name" && main_name.is_none() {
                        main_name = Some(value.clone());
                        packages.insert(0, value.clone());
                    }
                    macros.define(m, &value);
                    if main {
                        macros.define(&m.to_ascii_uppercase(), &value);
                    }
                }
            }
            Kind::Text => {
                let text = spec.text(i);
                if may_define(&text) {
                    macros.expand(&text);
                }
            }
            Kind::Blank | Kind::Comment => {}
        }
    }
    let walk = Walk {
        macros,
        packages,
        full_names,
    };
    (walk, build_arch)
}

fn apply_cond(
    stack: &mut Vec<Frame>,
    macros: &mut Macros,
    kind: CondKind,
    arg: &str,
    active: bool,
) {
    let test = |macros: &mut Macros| -> bool {
        match kind {
            CondKind::If | CondKind::Elif => macros.condition(arg).unwrap_or(false),
            CondKind::IfArch | CondKind::ElifArch => macros.arch_matches(arg),
            CondKind::IfNArch | CondKind::ElifNArch => !macros.arch_matches(arg),
            CondKind::IfOs | CondKind::ElifOs => macros.os_matches(arg),
            CondKind::IfNOs | CondKind::ElifNOs => !macros.os_matches(arg),
            CondKind::Else | CondKind::Endif => false,
        }
    };
    if kind.opens() {
        let value = active && test(macros);
        stack.push(Frame {
            parent_active: active,
            taken: value || !active,
            active: value,
        });
        return;
    }
    if kind == CondKind::Endif {
        stack.pop();
        return;
    }
    let Some(frame) = stack.last_mut() else {
        return;
    };
    if kind == CondKind::Else {
        frame.active = frame.parent_active && !frame.taken;
        frame.taken = true;
    } else if !frame.parent_active || frame.taken {
        frame.active = false;
    } else {
        let value = test(macros);
        frame.active = value;
        frame.taken = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkgs(text: &str, env: &MacroEnv) -> Vec<String> {
        walk(&Spec::parse(text), env).packages
    }

    #[test]
    fn names_and_conditionals() {
        let text = "\
%bcond_without python
%bcond_with docs
%global srcname Foo
Name: %{lower_is_unknown}%{srcname}
Version: 1
%description
%package devel
%if %{with python}
%package -n python3-%{srcname}
%endif
%if %{with docs}
%package doc
%elif 0%{?fedora} >= 40
%package fedora
%else
%package other
%endif
%ifarch x86_64
%package x64
%endif
%ifnarch %{ix86} x86_64
%package notx86
%endif
%if %{bogus expression}
%package bogus
%else
%package notbogus
%endif
";
        let env = MacroEnv::default();
        assert_eq!(
            pkgs(text, &env),
            vec![
                "%{lower_is_unknown}Foo",
                "%{lower_is_unknown}Foo-devel",
                "python3-Foo",
                "%{lower_is_unknown}Foo-other",
                "%{lower_is_unknown}Foo-x64",
                "%{lower_is_unknown}Foo-notbogus",
            ]
        );
        let env = MacroEnv::for_arch("aarch64")
            .define("fedora", "41")
            .define("lower_is_unknown", "")
            .without("python");
        assert_eq!(
            pkgs(text, &env),
            vec![
                "Foo",
                "Foo-devel",
                "Foo-fedora",
                "Foo-notx86",
                "Foo-notbogus"
            ]
        );
        let env = MacroEnv::default().with("docs").define("fedora", "41");
        assert!(pkgs(text, &env).contains(&"%{lower_is_unknown}Foo-doc".to_owned()));
        assert!(!pkgs(text, &env).iter().any(|p| p.ends_with("-fedora")));
    }

    #[test]
    fn noarch_main_package_rereads_for_noarch() {
        let text = "\
Name: n
BuildArch: noarch
%ifarch noarch
%package a
%endif
%ifarch x86_64
%package b
%endif
%package -n n-%{_target_cpu}-%{_arch}
";
        assert_eq!(
            pkgs(text, &MacroEnv::default()),
            vec!["n", "n-a", "n-noarch-x86_64"]
        );
        let text = text.replace("noarch\n%if", "x86_64 aarch64\n%if");
        assert_eq!(
            pkgs(&text, &MacroEnv::default()),
            vec!["n", "n-b", "n-x86_64-x86_64"]
        );
        let text = text.replace("x86_64 aarch64\n%if", "aarch64\n%if");
        assert_eq!(
            pkgs(&text, &MacroEnv::default()),
            vec!["n", "n-aarch64-x86_64"]
        );
    }

    #[test]
    fn nested_inactive_branches() {
        let text = "\
Name: n
%if 0
%if 1
%package a
%else
%package b
%endif
%elif 1
%package c
%else
%package d
%endif
%endif
%else
%package e
";
        assert_eq!(pkgs(text, &MacroEnv::default()), vec!["n", "n-c", "n-e"]);
    }

    #[test]
    fn tag_macros_and_definitions_in_order() {
        let text = "\
Name: a
Version: 2
%global v1 %{version}
Version: 3
%define lazy %{version}
%{!?pyver:%global pyver 3.12}
%if 0
%global dead 1
%endif
";
        let spec = Spec::parse(text);
        let mut m = walk(&spec, &MacroEnv::default()).macros;
        assert_eq!(m.expand("%v1 %lazy %pyver %{?dead} %NAME"), "2 3 3.12  a");
    }
}
