//! A deterministic generator of distribution-style spec files. Each generated spec comes
//! with the build environment it is evaluated in and the binary package names the generator
//! knows it declares there; the tests check round-trips, `packages()`, and a few edits over
//! the whole corpus. `rpmspec.rs` compares a sample with the real rpm.

use std::fmt::Write as _;

use cairn_spec::{Edit, MacroEnv, Spec};

/// splitmix64: small, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// true with probability `percent`%.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One generated spec.
#[derive(Debug)]
pub struct Generated {
    pub text: String,
    pub env: MacroEnv,
    /// Binary packages in `env`, main first.
    pub expected: Vec<String>,
    /// The same environment as `rpmspec` arguments.
    pub rpm_args: Vec<String>,
}

const WORDS: &[&str] = &[
    "zap",
    "gizmo",
    "frob",
    "quux",
    "widget",
    "tinyhttp",
    "ncdu",
    "hexer",
    "lzfoo",
    "yamlish",
    "pixie",
    "cobalt",
    "marmot",
    "sprocket",
    "glint",
    "ferrite",
    "tesseract",
    "nimbus",
];
const SUFFIXES: &[&str] = &[
    "devel",
    "libs",
    "doc",
    "tools",
    "static",
    "data",
    "common",
    "utils",
    "bash-completion",
    "server",
    "client",
    "selinux",
];
const LICENSES: &[&str] = &[
    "MIT",
    "GPL-2.0-or-later",
    "Apache-2.0",
    "BSD-3-Clause",
    "LGPL-2.1-only",
];
const BCONDS: &[&str] = &["tests", "docs", "python", "gui", "static", "systemd"];

/// How tags are laid out.
#[derive(Clone, Copy)]
enum Layout {
    Spaces,
    Tabs,
    Tight,
}

struct Writer {
    out: String,
    eol: &'static str,
    layout: Layout,
}

impl Writer {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push_str(self.eol);
    }

    fn tag(&mut self, name: &str, value: &str) {
        let head = format!("{name}:");
        let line = match self.layout {
            Layout::Spaces => format!("{head:<16}{value}"),
            Layout::Tabs => {
                let tabs = if head.len() < 8 { "\t\t" } else { "\t" };
                format!("{head}{tabs}{value}")
            }
            Layout::Tight => format!("{head} {value}"),
        };
        let line = if line.len() == head.len() + value.len() {
            format!("{head} {value}")
        } else {
            line
        };
        self.line(&line);
    }
}

/// Subpackages under one conditional structure: optional outer `%if` wrappers (with their
/// truth in the generated environment) and branches (`%if`/`%elif*`/`%else` directive, its
/// truth, and the subpackage written there). A single branch with an empty directive is an
/// unconditional subpackage.
struct Block {
    outer: Vec<(String, bool)>,
    branches: Vec<(String, bool, (String, String))>,
}

impl Block {
    /// The full name of the subpackage declared in the environment, if any.
    fn active(&self) -> Option<&str> {
        if !self.outer.iter().all(|(_, on)| *on) {
            return None;
        }
        self.branches
            .iter()
            .find(|(_, on, _)| *on)
            .map(|(_, _, (_, full))| full.as_str())
    }

    /// Write the structure, calling `body` for each branch's subpackage (written name).
    fn write(&self, w: &mut Writer, mut body: impl FnMut(&mut Writer, &str)) {
        for (line, _) in &self.outer {
            w.line(line);
        }
        for (directive, _, (written, _)) in &self.branches {
            if !directive.is_empty() {
                w.line(directive);
            }
            body(w, written);
        }
        if self.branches.first().is_some_and(|(d, _, _)| !d.is_empty()) {
            w.line("%endif");
        }
        for _ in &self.outer {
            w.line("%endif");
        }
    }
}

#[allow(clippy::too_many_lines)]
pub fn generate(seed: u64) -> Generated {
    let mut rng = Rng(seed.wrapping_mul(7919).wrapping_add(17));
    let layout = *rng.pick(&[Layout::Spaces, Layout::Tabs, Layout::Tight]);
    let eol = if rng.chance(10) { "\r\n" } else { "\n" };
    let mut w = Writer {
        out: String::new(),
        eol,
        layout,
    };

    // ---- environment -----------------------------------------------------------------------
    let mut env = MacroEnv::default().define("dist", ".x");
    let mut rpm_args = vec!["--define".to_owned(), "dist .x".to_owned()];
    let fedora: Option<u32> = if rng.chance(60) {
        Some(38 + rng.below(5) as u32)
    } else {
        None
    };
    if let Some(f) = fedora {
        env = env.define("fedora", &f.to_string());
        rpm_args.extend(["--define".to_owned(), format!("fedora {f}")]);
    }
    let arch = if rng.chance(20) { "aarch64" } else { "x86_64" };
    env.arch = arch.to_owned();

    // ---- header ----------------------------------------------------------------------------
    let word = *rng.pick(WORDS);
    if rng.chance(40) {
        w.line(&format!(
            "# Spec file for {word}, generated for cairn-spec tests (seed {seed})."
        ));
        w.line("");
    }
    let mut bconds: Vec<(&str, bool)> = Vec::new();
    for _ in 0..rng.below(4) {
        let name = *rng.pick(BCONDS);
        if bconds.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let switch = rng.below(3); // 0: none, 1: --with, 2: --without
        let form = rng.below(4);
        let default_on = match form {
            0 => {
                w.line(&format!("%bcond_with {name}"));
                false
            }
            1 => {
                w.line(&format!("%bcond_without {name}"));
                true
            }
            2 => {
                w.line(&format!("%bcond {name} 1"));
                true
            }
            _ => {
                w.line(&format!("%bcond {name} 0"));
                false
            }
        };
        let on = match switch {
            1 => {
                env = env.with(name);
                rpm_args.extend(["--with".to_owned(), name.to_owned()]);
                true
            }
            2 => {
                env = env.without(name);
                rpm_args.extend(["--without".to_owned(), name.to_owned()]);
                false
            }
            _ => default_on,
        };
        bconds.push((name, on));
    }
    let name_style = rng.below(3);
    let main_name = match name_style {
        0 => word.to_owned(),
        1 => format!("python-{word}"),
        _ => word.to_owned(),
    };
    match name_style {
        1 => {
            w.line(&format!("%global srcname {word}"));
            w.line("%{!?python3_pkgversion:%global python3_pkgversion 3}");
        }
        2 => {
            w.line(&format!("%define name {word}"));
            w.line(&format!("%define version 1.{}", rng.below(20)));
        }
        _ => {}
    }
    let desc_macro = rng.chance(50);
    if desc_macro {
        w.line("%global common_description %{expand:");
        w.line(&format!(
            "{word} is a small program used to test spec tooling."
        ));
        w.line("It has no other purpose.}");
    }
    if rng.chance(40) {
        w.line("%global build_flags \\");
        w.line("    --enable-shared \\");
        w.line("    --disable-rpath");
    }
    if rng.chance(30) {
        w.line(&format!("%global commit {:040x}", rng.next()));
        w.line("%global shortcommit %(c=%{commit}; echo ${c:0:7})");
    }
    w.line("");

    // ---- main preamble --------------------------------------------------------------------
    match name_style {
        1 => w.tag("Name", "python-%{srcname}"),
        2 => w.tag("Name", "%{name}"),
        _ => w.tag("Name", word),
    }
    if name_style == 2 {
        w.tag("Version", "%{version}");
    } else {
        w.tag(
            "Version",
            &format!("{}.{}.{}", rng.below(5), rng.below(30), rng.below(10)),
        );
    }
    let release = *rng.pick(&[
        "%autorelease",
        "1%{?dist}",
        "0.1.rc1%{?dist}",
        "%{?autorelease}%{!?autorelease:1%{?dist}}",
    ]);
    w.tag("Release", release);
    w.tag("Summary", &format!("The {word} utility"));
    let license = *rng.pick(LICENSES);
    w.tag("License", license);
    w.tag("URL", &format!("https://example.org/{word}"));
    let sources = 1 + rng.below(4);
    for n in 0..sources {
        if n == 0 && rng.chance(30) {
            w.tag(
                "Source",
                &format!("%{{url}}/archive/v%{{version}}/{word}-%{{version}}.tar.gz"),
            );
        } else {
            w.tag(&format!("Source{n}"), &format!("{word}-extra{n}.conf"));
        }
    }
    let patchlist = rng.chance(15);
    let patches = if patchlist { 0 } else { rng.below(5) };
    // rpm numbers an unnumbered `Patch:` after the highest number so far
    let mut patch_numbers = Vec::new();
    let mut next_patch = 0;
    for n in 0..patches {
        if rng.chance(20) {
            w.tag("Patch", &format!("{word}-fix{n}.patch"));
            patch_numbers.push(next_patch);
            next_patch += 1;
        } else {
            let k = next_patch + rng.below(3);
            w.tag(&format!("Patch{k}"), &format!("{word}-fix{n}.patch"));
            patch_numbers.push(k);
            next_patch = k + 1;
        }
    }
    // rpm reads a spec whose main package is noarch again for `noarch`: `%ifarch` sees it
    let noarch = rng.chance(20);
    if noarch {
        w.tag("BuildArch", "noarch");
    }
    let target = if noarch { "noarch" } else { arch };
    w.line("");
    w.tag("BuildRequires", "gcc");
    if rng.chance(50) {
        w.tag("BuildRequires", "make");
    }
    if rng.chance(50) {
        w.line("%if 0%{?fedora} >= 40");
        w.tag("BuildRequires", "pkgconfig(libzstd)");
        if rng.chance(50) {
            w.line("%else");
            w.tag("BuildRequires", "zstd-devel");
        }
        w.line("%endif");
    }
    if rng.chance(30) {
        w.line("%ifarch x86_64 %{ix86}");
        w.tag("BuildRequires", "nasm");
        w.line("%endif");
    }
    for (name, _) in &bconds {
        if rng.chance(60) {
            w.line(&format!("%if %{{with {name}}}"));
            w.tag("BuildRequires", &format!("{name}-devel"));
            w.line("%endif");
        }
    }
    if rng.chance(40) {
        w.tag("Requires(post)", "systemd");
        w.tag("Requires(preun)", "systemd");
    }
    if rng.chance(30) {
        w.line("%{?systemd_requires}");
    }
    w.line("");
    if patchlist {
        w.line("%patchlist");
        for n in 0..1 + rng.below(3) {
            w.line(&format!("{:04}-{word}-change-{n}.patch", n + 1));
        }
        w.line("");
    }
    w.line("%description");
    if desc_macro {
        w.line("%{common_description}");
    } else {
        w.line(&format!("{word} does useful things."));
        w.line("100%% tested, honest.");
    }
    w.line("");

    // ---- subpackages ------------------------------------------------------------------------
    let mut expected = vec![main_name.clone()];
    let mut used: Vec<String> = Vec::new();
    // a fresh subpackage: (name as written after `%package`, full package name)
    let mut fresh = |rng: &mut Rng| -> Option<(String, String)> {
        let (written, full) = match rng.below(5) {
            0..=2 => {
                let suffix = *rng.pick(SUFFIXES);
                (suffix.to_owned(), format!("{main_name}-{suffix}"))
            }
            3 if name_style == 1 => (
                "-n python%{python3_pkgversion}-%{srcname}".to_owned(),
                format!("python3-{word}"),
            ),
            3 => (format!("-n lib{word}"), format!("lib{word}")),
            _ => {
                let suffix = *rng.pick(SUFFIXES);
                (
                    format!("-n %{{name}}-{suffix}-compat"),
                    format!("{main_name}-{suffix}-compat"),
                )
            }
        };
        if used.contains(&full) {
            return None;
        }
        used.push(full.clone());
        Some((written, full))
    };
    let mut blocks: Vec<Block> = Vec::new();
    for _ in 0..rng.below(6) {
        let Some(first) = fresh(&mut rng) else {
            continue;
        };
        let mut block = Block {
            outer: Vec::new(),
            branches: Vec::new(),
        };
        match rng.below(8) {
            0 | 1 => block.branches.push((String::new(), true, first)),
            2 if !bconds.is_empty() => {
                let (name, on) = *rng.pick(&bconds);
                block
                    .branches
                    .push((format!("%if %{{with {name}}}"), on, first));
            }
            3 => {
                let min = 38 + rng.below(5) as u32;
                let holds = fedora.is_some_and(|f| f >= min);
                block
                    .branches
                    .push((format!("%if 0%{{?fedora}} >= {min}"), holds, first));
            }
            4 => {
                let holds = !["aarch64", "ppc64", "ppc64p7", "ppc64le"].contains(&target);
                block
                    .branches
                    .push(("%ifnarch aarch64 %{power64}".to_owned(), holds, first));
            }
            5 => {
                // alternatives: %if / %elif / %else, each with its own subpackage
                let min = 39 + rng.below(3) as u32;
                let newer = fedora.is_some_and(|f| f >= min);
                block
                    .branches
                    .push((format!("%if 0%{{?fedora}} >= {min}"), newer, first));
                if rng.chance(50)
                    && let Some(alt) = fresh(&mut rng)
                {
                    let on = target == "x86_64";
                    block
                        .branches
                        .push(("%elifarch x86_64".to_owned(), on, alt));
                }
                if let Some(alt) = fresh(&mut rng) {
                    block.branches.push(("%else".to_owned(), true, alt));
                }
            }
            _ => {
                // nested: an outer switch and a distribution condition inside
                let outer_on = rng.chance(70);
                let min = 38 + rng.below(5) as u32;
                let inner = fedora.is_some_and(|f| f >= min);
                block.outer.push((
                    format!("%if {}", if outer_on { "1" } else { "0%{?nonexistent}" }),
                    outer_on,
                ));
                block.branches.push((
                    format!("%if 0%{{?fedora}} >= {min} || 0%{{?rhel}} >= 10"),
                    inner,
                    first,
                ));
            }
        }
        if let Some(full) = block.active() {
            expected.push(full.to_owned());
        }
        blocks.push(block);
    }
    for block in &blocks {
        block.write(&mut w, |w, written| {
            w.line(&format!("%package {written}"));
            w.tag(
                "Summary",
                &format!("Part of {word}: {}", written.trim_start_matches("-n ")),
            );
            if rng.chance(60) {
                w.tag("Requires", "%{name}%{?_isa} = %{version}-%{release}");
            }
            if rng.chance(20) {
                w.tag("BuildArch", "noarch");
            }
            w.line("");
            w.line(&format!("%description {written}"));
            w.line(&format!(
                "This package contains the {} part of {word}.",
                written.trim_start_matches("-n ")
            ));
        });
        w.line("");
    }

    // ---- build sections -----------------------------------------------------------------------
    w.line("%prep");
    if patches > 0 && rng.chance(40) {
        w.line("%setup -q");
        for n in &patch_numbers {
            w.line(&format!("%patch -P{n} -p1"));
        }
    } else {
        w.line("%autosetup -p1");
    }
    w.line("");
    if rng.chance(30) {
        w.line("%generate_buildrequires");
        w.line("%pyproject_buildrequires");
        w.line("");
    }
    w.line("%build");
    w.line("%configure \\");
    w.line("    --disable-silent-rules \\");
    if let Some((name, _)) = bconds.first() {
        w.line(&format!("%if %{{with {name}}}"));
        w.line(&format!("    --enable-{name} \\"));
        w.line("%endif");
    }
    w.line("    --with-pic");
    w.line("%make_build");
    w.line("");
    w.line("%install");
    w.line("%make_install");
    w.line("find %{buildroot} -name '*.la' -delete");
    w.line("");
    if rng.chance(50) {
        w.line("%check");
        if bconds.iter().any(|(n, _)| *n == "tests") {
            w.line("%if %{with tests}");
            w.line("make check");
            w.line("%endif");
        } else {
            w.line("make check || :");
        }
        w.line("");
    }
    if rng.chance(40) {
        w.line("%post");
        w.line(&format!("%systemd_post {word}.service"));
        w.line("");
        w.line("%preun");
        w.line(&format!("%systemd_preun {word}.service"));
        w.line("");
    } else if rng.chance(40) {
        w.line("%post -p /sbin/ldconfig");
        w.line("");
    }
    if rng.chance(25) {
        w.line("%triggerin -- glibc");
        w.line("/usr/bin/true");
        w.line("");
    }
    if rng.chance(20) {
        w.line(&format!("%filetriggerin -- %{{_libdir}}/{word}"));
        w.line("/sbin/ldconfig");
        w.line("");
        w.line(&format!(
            "%transfiletriggerin -P 100 -- %{{_datadir}}/{word}"
        ));
        w.line("true");
        w.line("");
    }
    if rng.chance(20) {
        w.line("%pretrans -p <lua>");
        w.line("print(\"hello\")");
        w.line("");
    }

    // ---- files ------------------------------------------------------------------------------
    if rng.chance(30) {
        w.line("%files -f %{name}.lang");
    } else {
        w.line("%files");
    }
    w.line("%license LICENSE");
    w.line("%doc README.md");
    w.line(&format!("%{{_bindir}}/{word}"));
    w.line("");
    for block in &blocks {
        block.write(&mut w, |w, written| {
            w.line(&format!("%files {written}"));
            w.line(&format!(
                "%{{_datadir}}/{word}/{}",
                written.trim_start_matches("-n ")
            ));
        });
        w.line("");
        if rng.chance(20) {
            block.write(&mut w, |w, written| {
                w.line(&format!("%post {written} -p /sbin/ldconfig"));
            });
            w.line("");
        }
    }

    // ---- changelog --------------------------------------------------------------------------
    w.line("%changelog");
    if rng.chance(50) {
        w.out.push_str("%autochangelog");
    } else {
        for n in 0..1 + rng.below(3) {
            if n > 0 {
                w.line("");
            }
            let _ = write!(
                w.out,
                "* Mon Jan 0{} 2024 Packager <p@example.org> - 1.{n}-1{}- Update; 50%% faster",
                n + 1,
                eol
            );
        }
    }
    if rng.chance(88) {
        w.out.push_str(eol);
    }
    Generated {
        text: w.out,
        env,
        expected,
        rpm_args,
    }
}

/// The test corpus.
pub fn corpus() -> Vec<Generated> {
    (0..300).map(generate).collect()
}

#[test]
fn corpus_is_varied() {
    let all = corpus();
    assert!(all.len() >= 250);
    let count = |f: &dyn Fn(&Generated) -> bool| all.iter().filter(|g| f(g)).count();
    assert!(count(&|g| g.text.contains("\r\n")) > 10);
    assert!(count(&|g| !g.text.ends_with('\n')) > 10);
    assert!(count(&|g| g.text.contains("%patchlist")) > 10);
    assert!(count(&|g| g.text.contains("%package -n")) > 30);
    assert!(count(&|g| g.expected.len() > 3) > 30);
    assert!(count(&|g| g.env.arch == "aarch64") > 20);
    assert!(count(&|g| g.text.contains("%bcond ")) > 30);
    assert!(count(&|g| g.text.contains("%else\n%package")) > 15);
    assert!(count(&|g| g.text.contains("%elifarch")) > 5);
    let distinct: std::collections::BTreeSet<&str> = all.iter().map(|g| g.text.as_str()).collect();
    assert_eq!(distinct.len(), all.len());
}

#[test]
fn corpus_round_trips_and_names_packages() {
    for (seed, g) in corpus().iter().enumerate() {
        let spec = Spec::parse(&g.text);
        assert_eq!(spec.render(), g.text, "seed {seed}");
        assert_eq!(spec.packages(&g.env), g.expected, "seed {seed}\n{}", g.text);
        // applying no edits renders unchanged
        let untouched = spec.clone();
        assert_eq!(untouched.render(), g.text);
    }
}

#[test]
fn corpus_edits_keep_the_structure() {
    for (seed, g) in corpus().iter().enumerate() {
        let mut spec = Spec::parse(&g.text);
        let s = |v: &str| v.to_owned();
        spec.apply(&Edit::AddTag {
            package: None,
            tag: s("BuildRequires"),
            value: s("cairn-marker"),
        })
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(
            spec.tags(None).iter().any(|t| t.value == "cairn-marker"),
            "seed {seed}"
        );
        assert_eq!(spec.packages(&g.env), g.expected, "seed {seed}");
        spec.apply(&Edit::AddPatch {
            filename: s("cairn-extra.patch"),
        })
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(
            spec.patches()
                .iter()
                .any(|p| p.value == "cairn-extra.patch"),
            "seed {seed}"
        );
        spec.apply(&Edit::AppendLines {
            section: Some(s("%files")),
            package: None,
            lines: vec![s("/cairn")],
        })
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // removing a subpackage removes exactly that package
        if let Some(victim) = g.expected.get(1) {
            let mut removed = Spec::parse(&g.text);
            removed
                .apply(&Edit::RemoveSubpackage {
                    package: victim.clone(),
                })
                .unwrap_or_else(|e| panic!("seed {seed}: removing {victim}: {e}\n{}", g.text));
            let want: Vec<String> = g
                .expected
                .iter()
                .filter(|p| *p != victim)
                .cloned()
                .collect();
            assert_eq!(
                removed.packages(&g.env),
                want,
                "seed {seed}\n{}",
                removed.render()
            );
            assert!(!removed.render().contains(&format!("%files {victim}")));
        }
    }
}

#[test]
fn parsing_is_fast() {
    let texts: Vec<String> = corpus().into_iter().map(|g| g.text).collect();
    let start = std::time::Instant::now();
    let mut bytes = 0;
    for i in 0..5000 {
        let spec = Spec::parse(&texts[i % texts.len()]);
        bytes += spec.render().len();
    }
    let elapsed = start.elapsed();
    assert!(bytes > 0);
    // generous: unoptimised test builds on a busy machine; release builds are ~10x faster
    assert!(
        elapsed.as_secs_f64() < 5.0,
        "5000 parse+render took {elapsed:?}"
    );
}
