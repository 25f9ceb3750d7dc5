//! A small rpm macro expander: enough to name subpackages and evaluate ordinary `%if`
//! conditions, not a replacement for rpm.
//!
//! Supported: `%name`, `%{name}`, `%{?name}`, `%{!?name}`, `%{?name:text}`, `%{!?name:text}`,
//! `%%`, `%{expand:...}`, `%{defined x}`, `%{undefined x}`, `%{with x}`, `%{without x}`,
//! `%{shrink:...}`, `%{basename:...}`, `%{dirname:...}`, `%{suffix:...}`, `%[expression]`,
//! and the definition builtins `%global`, `%define`, `%undefine`, `%bcond_with`,
//! `%bcond_without`, `%bcond` wherever they appear. Shell (`%(...)`), Lua, parametric
//! macros and unknown macros are left as written.

use std::collections::{BTreeMap, HashMap};

use crate::expr;

/// The build environment macros are expanded in: command-line style defines, `--with` /
/// `--without` switches and the target architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MacroEnv {
    /// `--define 'NAME VALUE'` (e.g. `dist` -> `.fc40`, `fedora` -> `40`).
    pub defines: BTreeMap<String, String>,
    /// `--undefine NAME`, applied after `defines` and the builtin defaults.
    pub undefines: Vec<String>,
    /// `--with X` switches.
    pub with: Vec<String>,
    /// `--without X` switches.
    pub without: Vec<String>,
    /// Target architecture, e.g. `"x86_64"`; empty means `x86_64`.
    pub arch: String,
}

impl MacroEnv {
    /// An environment for the given architecture.
    pub fn for_arch(arch: &str) -> Self {
        MacroEnv {
            arch: arch.to_owned(),
            ..Self::default()
        }
    }

    /// Builder-style `--define NAME VALUE`.
    pub fn define(mut self, name: &str, value: &str) -> Self {
        self.defines.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Builder-style `--with NAME`.
    pub fn with(mut self, name: &str) -> Self {
        self.with.push(name.to_owned());
        self
    }

    /// Builder-style `--without NAME`.
    pub fn without(mut self, name: &str) -> Self {
        self.without.push(name.to_owned());
        self
    }

    /// The effective target architecture.
    pub fn arch(&self) -> &str {
        if self.arch.is_empty() {
            "x86_64"
        } else {
            &self.arch
        }
    }
}

/// Nesting limit for macro expansion; deeper expansions are left unexpanded.
const MAX_DEPTH: usize = 48;
/// Expansion output limit, guarding against exponentially growing macro bodies.
const MAX_OUTPUT: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Def {
    body: String,
    /// `Some(opts)` for parametric macros (`%define foo(a:) ...`), which are never expanded.
    params: Option<String>,
}

/// A macro table plus the expander working on it.
///
/// Obtained from [`crate::Spec::macros`]; holds the definitions in effect at the end of the
/// spec for a given [`MacroEnv`].
#[derive(Debug, Clone, Default)]
pub struct Macros {
    table: HashMap<String, Vec<Def>>,
    arch: String,
}

fn lib_dir(arch: &str) -> &'static str {
    match arch {
        "x86_64" | "aarch64" | "ppc64" | "ppc64le" | "s390x" | "riscv64" | "sparc64" | "mips64"
        | "mips64el" | "loongarch64" => "lib64",
        _ => "lib",
    }
}

/// rpm's ISA name of an architecture, used by `%{?_isa}`.
fn isa(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" | "amd64" => "x86-64",
        "i386" | "i486" | "i586" | "i686" | "athlon" | "pentium3" | "pentium4" | "geode" => {
            "x86-32"
        }
        "aarch64" => "aarch-64",
        "ppc64le" | "ppc64" | "ppc64p7" => "ppc-64",
        "s390x" => "s390-64",
        "riscv64" => "riscv-64",
        _ => return None,
    })
}

impl Macros {
    /// A table with builtin defaults and the environment's defines and switches.
    pub fn new(env: &MacroEnv) -> Self {
        let arch = env.arch().to_owned();
        let mut m = Macros {
            table: HashMap::new(),
            arch: arch.clone(),
        };
        let lib = lib_dir(&arch);
        let builtins: &[(&str, &str)] = &[
            ("nil", ""),
            ("_os", "linux"),
            ("_target_os", "linux"),
            ("_host_os", "linux"),
            ("_build_os", "linux"),
            ("_prefix", "/usr"),
            ("_exec_prefix", "%{_prefix}"),
            ("_bindir", "%{_exec_prefix}/bin"),
            ("_sbindir", "%{_exec_prefix}/sbin"),
            ("_libexecdir", "%{_exec_prefix}/libexec"),
            ("_datadir", "%{_prefix}/share"),
            ("_includedir", "%{_prefix}/include"),
            ("_mandir", "%{_datadir}/man"),
            ("_infodir", "%{_datadir}/info"),
            ("_docdir", "%{_datadir}/doc"),
            ("_sysconfdir", "/etc"),
            ("_localstatedir", "/var"),
            ("_sharedstatedir", "/var/lib"),
            ("_rundir", "/run"),
            ("_unitdir", "/usr/lib/systemd/system"),
            ("ix86", "i386 i486 i586 i686 pentium3 pentium4 athlon geode"),
            ("x86_64", "x86_64 amd64 em64t"),
            (
                "arm32",
                "armv3l armv4b armv4l armv4tl armv5tl armv5tel armv5tejl armv6l armv6hl armv7l armv7hl armv7hnl armv8l armv8hl armv8hnl armv8hcnl",
            ),
            ("arm", "%{arm32}"),
            ("arm64", "aarch64"),
            ("power64", "ppc64 ppc64p7 ppc64le"),
            ("s390x", "s390x"),
            ("mips64", "mips64 mips64el mips64r6 mips64r6el"),
            ("riscv64", "riscv64"),
        ];
        for (name, body) in builtins {
            m.define(name, body);
        }
        for name in [
            "_arch",
            "_target_cpu",
            "_host_cpu",
            "_build_cpu",
            "_build_arch",
        ] {
            m.define(name, &arch);
        }
        m.define("_lib", lib);
        if let Some(isa) = isa(&arch) {
            m.define("__isa", isa);
            m.define("_isa", "(%{__isa})");
        }
        m.define("_libdir", &format!("%{{_prefix}}/{lib}"));
        for (name, value) in &env.defines {
            m.define(name, value);
        }
        for name in &env.undefines {
            m.table.remove(name);
        }
        for name in &env.with {
            m.define(&format!("_with_{name}"), &format!("--with-{name}"));
        }
        for name in &env.without {
            m.define(&format!("_without_{name}"), &format!("--without-{name}"));
        }
        m
    }

    /// Read the spec for another target CPU (rpm does this for `BuildArch: noarch`):
    /// `%ifarch` and `%{_target_cpu}` see `cpu`, `%{_arch}` stays.
    pub(crate) fn set_target_cpu(&mut self, cpu: &str) {
        self.arch = cpu.to_owned();
        self.define("_target_cpu", cpu);
    }

    /// Push a definition (rpm keeps a stack per name; the newest one is in effect).
    pub fn define(&mut self, name: &str, body: &str) {
        self.push(name, body.to_owned(), None);
    }

    fn push(&mut self, name: &str, body: String, params: Option<String>) {
        self.table
            .entry(name.to_owned())
            .or_default()
            .push(Def { body, params });
    }

    /// Pop the newest definition of `name`, uncovering any older one.
    pub fn undefine(&mut self, name: &str) {
        if let Some(stack) = self.table.get_mut(name) {
            stack.pop();
            if stack.is_empty() {
                self.table.remove(name);
            }
        }
    }

    /// Whether `name` is defined.
    pub fn is_defined(&self, name: &str) -> bool {
        self.table.get(name).is_some_and(|s| !s.is_empty())
    }

    /// The unexpanded body of `name`.
    pub fn body(&self, name: &str) -> Option<&str> {
        self.lookup(name).map(|d| d.body.as_str())
    }

    fn lookup(&self, name: &str) -> Option<&Def> {
        self.table.get(name).and_then(|s| s.last())
    }

    /// `%{with NAME}`.
    pub fn with(&self, name: &str) -> bool {
        self.is_defined(&format!("with_{name}"))
    }

    /// Expand `text`. Definitions it contains (`%global ...`) take effect.
    pub fn expand(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        self.expand_into(text, &mut out, 0);
        out
    }

    /// Expand and evaluate an `%if` expression; `None` when it cannot be evaluated.
    pub fn condition(&mut self, expr_text: &str) -> Option<bool> {
        let expanded = self.expand(expr_text);
        expr::evaluate(&expanded).ok().map(|v| v.truthy())
    }

    /// Whether any word of the (expanded) `%ifarch` list names the target architecture.
    pub fn arch_matches(&mut self, list: &str) -> bool {
        let expanded = self.expand(list);
        let arch = self.arch.clone();
        words(&expanded).any(|w| w == arch)
    }

    /// Whether any word of the (expanded) `%ifos` list names the target OS (`linux`).
    pub fn os_matches(&mut self, list: &str) -> bool {
        let expanded = self.expand(list);
        let os = self
            .lookup("_target_os")
            .map_or("linux", |d| d.body.as_str())
            .to_owned();
        words(&expanded).any(|w| w == os)
    }

    fn expand_into(&mut self, text: &str, out: &mut String, depth: usize) {
        if depth > MAX_DEPTH || out.len() > MAX_OUTPUT {
            out.push_str(text);
            return;
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(rel) = text[i..].find('%') {
            let p = i + rel;
            out.push_str(&text[i..p]);
            i = match bytes.get(p + 1) {
                None => {
                    out.push('%');
                    p + 1
                }
                Some(b'%') => {
                    out.push('%');
                    p + 2
                }
                Some(b'{') => match find_close(text, p + 2, b'{', b'}') {
                    Some(close) => {
                        self.expand_braced(&text[p + 2..close], &text[p..=close], out, depth);
                        close + 1
                    }
                    None => {
                        out.push_str(&text[p..]);
                        text.len()
                    }
                },
                Some(b'(') => {
                    let end = find_close(text, p + 2, b'(', b')').map_or(text.len(), |c| c + 1);
                    out.push_str(&text[p..end]);
                    end
                }
                Some(b'[') => match find_close(text, p + 2, b'[', b']') {
                    Some(close) => {
                        let inner = self.expand_nested(&text[p + 2..close], depth);
                        match expr::evaluate(&inner) {
                            Ok(v) => out.push_str(&v.render()),
                            Err(_) => out.push_str(&text[p..=close]),
                        }
                        close + 1
                    }
                    None => {
                        out.push_str(&text[p..]);
                        text.len()
                    }
                },
                Some(_) => self.expand_bare(text, p, out, depth),
            };
        }
        out.push_str(&text[i..]);
    }

    fn expand_nested(&mut self, text: &str, depth: usize) -> String {
        let mut s = String::new();
        self.expand_into(text, &mut s, depth + 1);
        s
    }

    /// `%name`, `%?name`, `%!?name` and the definition builtins. `p` is the `%`; returns
    /// where scanning continues.
    fn expand_bare(&mut self, text: &str, p: usize, out: &mut String, depth: usize) -> usize {
        let (negate, check, j, name_len) = flags_and_name(text, p + 1);
        let name = &text[j..j + name_len];
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
            out.push('%');
            return p + 1;
        }
        let end = j + name_len;
        if !check
            && !negate
            && let Some(consumed) = self.definition_builtin(name, text, end, depth)
        {
            return consumed;
        }
        let def = self.lookup(name).cloned();
        if check {
            if def.is_some() != negate
                && let Some(d) = def.filter(|d| d.params.is_none())
            {
                self.expand_into(&d.body, out, depth + 1);
            }
            return end;
        }
        match def {
            Some(d) if d.params.is_none() => self.expand_into(&d.body, out, depth + 1),
            _ => out.push_str(&text[p..end]),
        }
        end
    }

    /// `%global`, `%define`, `%undefine`, `%bcond*` consume the rest of the line.
    fn definition_builtin(
        &mut self,
        name: &str,
        text: &str,
        args_start: usize,
        depth: usize,
    ) -> Option<usize> {
        if !matches!(
            name,
            "global" | "define" | "undefine" | "bcond_with" | "bcond_without" | "bcond"
        ) {
            return None;
        }
        let end = line_end(text, args_start);
        let args = &text[args_start..end];
        match name {
            "global" | "define" => self.do_define(args, name == "global", depth),
            "undefine" => {
                if let Some(n) = args.split_whitespace().next() {
                    self.undefine(n);
                }
            }
            _ => {
                let mut words = args.split_whitespace();
                let Some(what) = words.next() else {
                    return Some(end);
                };
                let default_on = match name {
                    "bcond_with" => false,
                    "bcond_without" => true,
                    _ => {
                        let rest = args.trim_start();
                        let rest = rest[what.len()..].trim();
                        self.condition(rest).unwrap_or(false)
                    }
                };
                let on = if default_on {
                    !self.is_defined(&format!("_without_{what}"))
                } else {
                    self.is_defined(&format!("_with_{what}"))
                };
                if on {
                    self.define(&format!("with_{what}"), "1");
                }
            }
        }
        Some(end)
    }

    fn do_define(&mut self, args: &str, global: bool, depth: usize) {
        let args = args.trim_start_matches([' ', '\t']);
        let name_len = args
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if name_len == 0 {
            return;
        }
        let name = &args[..name_len];
        let mut rest = &args[name_len..];
        let mut params = None;
        if let Some(r) = rest.strip_prefix('(')
            && let Some(close) = r.find(')')
        {
            params = Some(r[..close].to_owned());
            rest = &r[close + 1..];
        }
        let body = rest
            .trim_start_matches([' ', '\t'])
            .replace("\\\n", "\n")
            .trim_end()
            .to_owned();
        let body = if global && params.is_none() {
            self.expand_nested(&body, depth)
        } else {
            body
        };
        self.push(name, body, params);
    }

    /// The content of `%{...}`; `whole` is the full `%{...}` text for leaving it literal.
    fn expand_braced(&mut self, inner: &str, whole: &str, out: &mut String, depth: usize) {
        let (negate, check, j, name_len) = flags_and_name(inner, 0);
        let name = &inner[j..j + name_len];
        let after = &inner[j + name_len..];
        let (arg, has_colon, has_space_arg) = if let Some(a) = after.strip_prefix(':') {
            (a, true, false)
        } else if after.starts_with(|c: char| c.is_ascii_whitespace()) {
            (after.trim_start(), false, true)
        } else if after.is_empty() {
            ("", false, false)
        } else {
            out.push_str(whole);
            return;
        };
        if name.is_empty() {
            out.push_str(whole);
            return;
        }
        if !check
            && !negate
            && (has_colon || has_space_arg)
            && self.braced_builtin(name, arg, out, depth)
        {
            return;
        }
        let def = self.lookup(name).cloned();
        if check {
            if def.is_some() != negate {
                if has_colon {
                    self.expand_into(arg, out, depth + 1);
                } else if let Some(d) = def.filter(|d| d.params.is_none()) {
                    self.expand_into(&d.body, out, depth + 1);
                }
            }
            return;
        }
        match def {
            Some(d) if d.params.is_none() && !has_space_arg && !has_colon => {
                self.expand_into(&d.body, out, depth + 1)
            }
            _ => out.push_str(whole),
        }
    }

    /// Builtins with an argument: `%{expand:..}`, `%{with x}`... Returns false when `name` is
    /// not one of them.
    fn braced_builtin(&mut self, name: &str, arg: &str, out: &mut String, depth: usize) -> bool {
        match name {
            "expand" => {
                let once = self.expand_nested(arg, depth);
                self.expand_into(&once, out, depth + 1);
            }
            "defined" | "undefined" => {
                let n = self.expand_nested(arg, depth);
                let defined = self.is_defined(n.trim());
                out.push_str(if defined == (name == "defined") {
                    "1"
                } else {
                    "0"
                });
            }
            "with" | "without" => {
                let n = self.expand_nested(arg, depth);
                let with = self.with(n.trim());
                out.push_str(if with == (name == "with") { "1" } else { "0" });
            }
            "shrink" => {
                let s = self.expand_nested(arg, depth);
                out.push_str(&s.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            "basename" => {
                let s = self.expand_nested(arg, depth);
                out.push_str(s.rsplit('/').next().unwrap_or(""));
            }
            "dirname" => {
                let s = self.expand_nested(arg, depth);
                out.push_str(s.rsplit_once('/').map_or(s.as_str(), |(d, _)| d));
            }
            "suffix" => {
                let s = self.expand_nested(arg, depth);
                if let Some((_, suffix)) = s.rsplit_once('.') {
                    out.push_str(suffix);
                }
            }
            "global" | "define" => self.do_define(arg, name == "global", depth),
            "undefine" => {
                let n = self.expand_nested(arg, depth);
                self.undefine(n.trim());
            }
            _ => return false,
        }
        true
    }
}

fn words(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
}

/// Index of the closing bracket matching an already consumed opening one, starting the scan
/// at `from`. Backslash escapes the next character.
fn find_close(text: &str, from: usize, open: u8, close: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 1usize;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            i += 2;
            continue;
        }
        if b == open {
            depth += 1;
        } else if b == close {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// End of the current line for a bare definition builtin: the first newline not escaped by
/// a backslash and outside `%{...}`/`%(...)`.
fn line_end(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' | b'(' => depth += 1,
            b'}' | b')' => depth = depth.saturating_sub(1),
            b'\n' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    text.len()
}

/// The `!`/`?` flags of a macro reference starting at `start`, then where its name starts
/// and how long it is: `(negate, check, name_start, name_len)`.
fn flags_and_name(text: &str, start: usize) -> (bool, bool, usize, usize) {
    let bytes = text.as_bytes();
    let mut j = start;
    let mut negate = false;
    let mut check = false;
    while let Some(&b) = bytes.get(j) {
        match b {
            b'!' => negate = !negate,
            b'?' => check = true,
            _ => break,
        }
        j += 1;
    }
    let name_len = bytes[j..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    (negate, check, j, name_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> Macros {
        Macros::new(
            &MacroEnv::default()
                .define("dist", ".fc40")
                .define("fedora", "40"),
        )
    }

    #[test]
    fn simple_forms() {
        let mut m = m();
        m.define("name", "foo");
        m.define("version", "1.2");
        assert_eq!(m.expand("%name-%{version}%{?dist}"), "foo-1.2.fc40");
        assert_eq!(
            m.expand("%{?rhel}|%{!?rhel:no}|%{?fedora:yes}|%{!?fedora}"),
            "|no|yes|"
        );
        assert_eq!(
            m.expand("100%% %unknown %{unknown} %{?unknown}"),
            "100% %unknown %{unknown} "
        );
        assert_eq!(m.expand("%{expand:%%{name}}"), "foo");
        assert_eq!(
            m.expand("%(echo hi) %{lua: print(1)} %1 %*"),
            "%(echo hi) %{lua: print(1)} %1 %*"
        );
        assert_eq!(m.expand("%[1 + 2] %[%{fedora} > 39] %[bad]"), "3 1 %[bad]");
        assert_eq!(
            m.expand("%{defined name}%{undefined name}%{defined nope}"),
            "100"
        );
        assert_eq!(m.expand("%{_libdir} %{_arch}"), "/usr/lib64 x86_64");
        assert_eq!(m.expand("foo%{?_isa}"), "foo(x86-64)");
        assert_eq!(
            m.expand("%{shrink:  a   b }|%{basename:/a/b.c}|%{dirname:/a/b.c}|%{suffix:b.tar.gz}"),
            "a b|b.c|/a|gz"
        );
        assert_eq!(m.expand("trailing %"), "trailing %");
        assert_eq!(m.expand("%{unclosed"), "%{unclosed");
    }

    #[test]
    fn definitions() {
        let mut m = m();
        assert_eq!(m.expand("%global a 1\n%define b %{a}2\n%b"), "\n\n12");
        m.expand("%global c %{b}");
        m.expand("%define b changed");
        assert_eq!(m.expand("%c %b"), "12 changed");
        m.expand("%undefine b");
        assert_eq!(m.expand("%b"), "%{a}2".replace("%{a}", "1"));
        m.expand("%{!?py3ver:%global py3ver 3}");
        m.expand("%{!?py3ver:%global py3ver 4}");
        assert_eq!(m.expand("%py3ver"), "3");
        m.expand("%global multi x\\\ny");
        assert_eq!(m.expand("[%multi]"), "[x\ny]");
        m.expand("%define param(a:) %{-a*}");
        assert_eq!(m.expand("%param -a 1"), "%param -a 1");
    }

    #[test]
    fn recursion_is_bounded() {
        let mut m = m();
        m.define("loop", "%{loop}x");
        let out = m.expand("%loop");
        assert!(out.contains("%{loop}"));
        m.define("a", "%b%b%b%b");
        m.define("b", "%c%c%c%c");
        m.define("c", "%d%d%d%d");
        m.define("d", "%a%a%a%a");
        let out = m.expand("%a");
        assert!(out.len() < 4 * MAX_OUTPUT);
    }

    #[test]
    fn bconds() {
        let env = MacroEnv::default().with("foo").without("bar");
        let mut m = Macros::new(&env);
        m.expand("%bcond_with foo\n%bcond_with baz\n%bcond_without bar\n%bcond_without qux\n%bcond on 1\n%bcond off 0\n%bcond expr %[1 && 0]");
        assert_eq!(
            m.expand("%{with foo}%{with baz}%{with bar}%{with qux}%{with on}%{with off}%{with expr}%{without foo}"),
            "1001100" .to_owned() + "0"
        );
    }

    #[test]
    fn conditions_and_arches() {
        let mut m = m();
        assert_eq!(m.condition("0%{?fedora} >= 38"), Some(true));
        assert_eq!(m.condition("0%{?rhel}"), Some(false));
        assert_eq!(m.condition("%{?rhel}"), None);
        assert_eq!(m.condition("\"%{_arch}\" == \"x86_64\""), Some(true));
        assert!(m.arch_matches("%{ix86} x86_64"));
        assert!(!m.arch_matches("aarch64, ppc64le"));
        assert!(m.os_matches("linux"));
        let mut arm = Macros::new(&MacroEnv::for_arch("aarch64"));
        assert!(arm.arch_matches("%{arm64}"));
        assert_eq!(arm.expand("%{_libdir}"), "/usr/lib64");
    }

    #[test]
    fn env_undefine() {
        let env = MacroEnv {
            undefines: vec!["_prefix".into()],
            ..MacroEnv::default()
        };
        let mut m = Macros::new(&env);
        assert_eq!(m.expand("%{_bindir}"), "%{_prefix}/bin");
    }
}
