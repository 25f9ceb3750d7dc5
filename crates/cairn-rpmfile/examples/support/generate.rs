//! The package generator behind the `gen-rpms` example, shared with the integration tests
//! (which include this file with `#[path]`). See `examples/gen-rpms.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// SplitMix64: small, fast, and stable across library versions (unlike `rand`'s StdRng).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Source {
    name: String,
    paths: Vec<String>,
}

/// Debian packages with at least 10 paths, sorted by name.
fn debian_lists() -> Vec<Source> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/var/lib/dpkg/info") else {
        return out;
    };
    for entry in dir.flatten() {
        let path = entry.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".list") else {
            continue;
        };
        let name = stem.split(':').next().unwrap_or(stem).to_owned();
        let Ok(text) = fs_err::read_to_string(&path) else {
            continue;
        };
        let paths: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with('/') && *l != "/." && !l.contains(['\t', '\n']))
            .map(str::to_owned)
            .collect();
        if paths.len() >= 10 {
            out.push(Source { name, paths });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// Summary and description of each installed Debian package.
fn debian_descriptions() -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    let Ok(text) = fs_err::read_to_string("/var/lib/dpkg/status") else {
        return out;
    };
    for para in text.split("\n\n") {
        let mut name = None;
        let mut summary = String::new();
        let mut desc = Vec::new();
        let mut in_desc = false;
        for line in para.lines() {
            if let Some(v) = line.strip_prefix("Package: ") {
                name = Some(v.to_owned());
                in_desc = false;
            } else if let Some(v) = line.strip_prefix("Description: ") {
                summary = v.to_owned();
                in_desc = true;
            } else if in_desc && line.starts_with(' ') {
                let l = line.trim();
                desc.push(if l == "." {
                    String::new()
                } else {
                    l.to_owned()
                });
            } else {
                in_desc = false;
            }
        }
        if let Some(n) = name {
            out.insert(n, (summary, desc.join("\n")));
        }
    }
    out
}

const WORDS: &[&str] = &[
    "library",
    "tools",
    "runtime",
    "support",
    "utilities",
    "data",
    "bindings",
    "plugin",
    "daemon",
    "server",
    "client",
    "format",
    "parser",
    "network",
    "image",
    "audio",
    "font",
    "compression",
    "encryption",
    "graphics",
    "terminal",
    "kernel",
    "system",
    "shared",
    "development",
    "files",
    "documentation",
    "configuration",
    "scripting",
    "database",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s: Vec<&str> = (0..words).map(|_| WORDS[rng.below(WORDS.len())]).collect();
    let first = s[0];
    let mut out = String::new();
    out.push_str(&first[..1].to_uppercase());
    out.push_str(&first[1..]);
    s.remove(0);
    for w in s {
        out.push(' ');
        out.push_str(w);
    }
    out.push('.');
    out
}

/// The soname a library path provides, rpm-style (`libz.so.1()(64bit)`).
fn soname(path: &str) -> Option<String> {
    let base = path.rsplit('/').next()?;
    if !(path.contains("/lib/") || path.contains("/lib64/")) || !base.starts_with("lib") {
        return None;
    }
    let at = base.find(".so.")?;
    let major_end = base[at + 4..].find('.').map_or(base.len(), |i| at + 4 + i);
    let so = &base[..major_end];
    if so.len() <= at + 4 {
        return None;
    }
    Some(format!("{so}()(64bit)"))
}

struct Plan {
    name: String,
    epoch: Option<u32>,
    version: String,
    release: String,
    arch: &'static str,
    summary: String,
    description: String,
    /// (path, kind): 'd' directory, 'l' symlink (target), 'f' file.
    entries: Vec<(String, char, String)>,
    sonames: Vec<String>,
}

fn plan(n: usize, seed: u64) -> Result<Vec<Plan>, String> {
    let lists = debian_lists();
    if lists.is_empty() {
        return Err(
            "no usable /var/lib/dpkg/info/*.list files (this generator needs a Debian host)"
                .to_owned(),
        );
    }
    let descriptions = debian_descriptions();
    let mut rng = Rng(seed ^ 0x6361_6972_6e21);
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        let src = &lists[i % lists.len()];
        let cycle = i / lists.len();
        let name = if cycle == 0 {
            src.name.clone()
        } else {
            format!("{}-c{cycle}", src.name)
        };
        let count = src.paths.len().min(rng.range(10, 400)).max(10);
        let start = rng.below(src.paths.len() - count + 1);
        let mut entries = Vec::with_capacity(count);
        for p in &src.paths[start..start + count] {
            let meta = std::fs::symlink_metadata(p).ok();
            let kind = match &meta {
                Some(m) if m.is_dir() => 'd',
                Some(m) if m.file_type().is_symlink() => 'l',
                _ => 'f',
            };
            let path = if cycle == 0 || kind == 'd' {
                p.clone()
            } else {
                format!("{p}.c{cycle}")
            };
            let target = if kind == 'l' {
                std::fs::read_link(p)
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| "missing".to_owned())
            } else {
                String::new()
            };
            entries.push((path, kind, target));
        }
        let sonames: Vec<String> = entries
            .iter()
            .filter(|(_, k, _)| *k == 'f' || *k == 'l')
            .filter_map(|(p, _, _)| soname(p.trim_end_matches(&format!(".c{cycle}"))))
            .map(|s| {
                if cycle == 0 {
                    s
                } else {
                    s.replacen("()", &format!("-c{cycle}()"), 1)
                }
            })
            .collect();
        let binaries = entries
            .iter()
            .any(|(p, _, _)| p.contains("/lib/") || p.contains("bin/"));
        let (summary, description) = match descriptions.get(&src.name) {
            Some((s, d)) if !s.is_empty() && !d.is_empty() => (s.clone(), d.clone()),
            _ => {
                let words = rng.range(4, 8);
                let s = sentence(&mut rng, words);
                let d = (0..rng.range(2, 6))
                    .map(|_| {
                        let w = rng.range(6, 14);
                        sentence(&mut rng, w)
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                (s.trim_end_matches('.').to_owned(), d)
            }
        };
        plans.push(Plan {
            name,
            epoch: rng.chance(8).then(|| rng.range(1, 3) as u32),
            version: format!(
                "{}.{}.{}",
                rng.range(0, 12),
                rng.range(0, 40),
                rng.range(0, 20)
            ),
            release: format!("{}.cairn{}", rng.range(1, 9), cycle),
            arch: if binaries { "x86_64" } else { "noarch" },
            summary,
            description,
            entries,
            sonames,
        });
    }
    Ok(plans)
}

fn build(plans: &[Plan], i: usize, seed: u64, dest: &Path) -> Result<PathBuf, String> {
    let p = &plans[i];
    let mut rng = Rng(seed.wrapping_mul(31).wrapping_add(i as u64 * 0x1000_0001));
    let time = 1_600_000_000 + (seed % 100_000_000) + i as u64 * 37;
    let config = rpm::BuildConfig::v4()
        .compression(rpm::CompressionWithLevel::Gzip(6))
        .source_date(time as u32);
    let mut b = rpm::PackageBuilder::new(
        &p.name,
        &p.version,
        "MIT AND GPL-2.0-or-later",
        p.arch,
        &p.summary,
    );
    b.using_config(config)
        .release(p.release.clone())
        .description(p.description.clone())
        .url(format!("https://packages.example.invalid/{}", p.name))
        .vendor("Cairn Benchmarks")
        .packager("Cairn Generator <gen@cairn.invalid>")
        .group("Unspecified")
        .build_host("gen-rpms.cairn.invalid");
    if let Some(e) = p.epoch {
        b.epoch(e);
    }
    let err = |e: rpm::Error| format!("{}: {e}", p.name);
    for (path, kind, target) in &p.entries {
        match kind {
            'd' => {
                b.with_dir_entry(rpm::FileOptions::dir(path.as_str()))
                    .map_err(err)?;
            }
            'l' => {
                b.with_symlink(rpm::FileOptions::symlink(path.as_str(), target.as_str()))
                    .map_err(err)?;
            }
            _ => {
                let content = format!("{}\n", &path[path.len().saturating_sub(24)..]);
                let mut opts = rpm::FileOptions::new(path.as_str());
                if path.contains("bin/") {
                    opts = opts.permissions(0o755);
                }
                if path.starts_with("/etc/") {
                    opts = opts.config();
                }
                b.with_file_contents(content, opts).map_err(err)?;
            }
        }
    }
    for so in &p.sonames {
        b.provides(rpm::Dependency::any(so.as_str()));
    }
    // Requires on other generated packages, some versioned.
    for _ in 0..rng.range(0, 8) {
        let j = rng.below(plans.len());
        if j == i {
            continue;
        }
        let o = &plans[j];
        let dep = if rng.chance(40) {
            let evr = match o.epoch {
                Some(e) => format!("{e}:{}", o.version),
                None => o.version.clone(),
            };
            rpm::Dependency::greater_eq(o.name.as_str(), evr)
        } else {
            rpm::Dependency::any(o.name.as_str())
        };
        b.requires(dep);
    }
    // Requires on sonames other packages provide.
    for _ in 0..rng.range(0, 5) {
        let o = &plans[rng.below(plans.len())];
        if !o.sonames.is_empty() && o.name != p.name {
            b.requires(rpm::Dependency::any(
                o.sonames[rng.below(o.sonames.len())].as_str(),
            ));
        }
    }
    if p.arch == "x86_64" {
        b.requires(rpm::Dependency::any("libc.so.6()(64bit)"));
        b.requires(rpm::Dependency::any(format!(
            "libc.so.6(GLIBC_2.{})(64bit)",
            rng.range(2, 38)
        )));
    }
    if rng.chance(30) {
        b.requires(rpm::Dependency::any("/bin/sh"));
        b.post_install_script("/sbin/ldconfig || :");
    }
    if rng.chance(10) {
        b.recommends(rpm::Dependency::any(format!("{}-doc", p.name)));
    }
    for k in 0..rng.range(1, 3) {
        b.add_changelog_entry(
            format!(
                "Cairn Generator <gen@cairn.invalid> - {}-{}",
                p.version, p.release
            ),
            format!("- Generated change {k} for {}", p.name),
            (time - 86_400 * (k as u64 + 1)) as u32,
        );
    }
    let pkg = b.build().map_err(err)?;
    let file = dest.join(format!(
        "{}-{}-{}.{}.rpm",
        p.name, p.version, p.release, p.arch
    ));
    pkg.write_file(&file).map_err(err)?;
    Ok(file)
}

/// Write `n` packages for `seed` into `dest` (which must exist), using all cores; returns
/// their paths in generation order.
pub fn generate(n: usize, seed: u64, dest: &Path) -> Result<Vec<PathBuf>, String> {
    let plans = plan(n, seed)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out: Vec<Option<PathBuf>> = vec![None; n];
    let results: Vec<Result<Vec<(usize, PathBuf)>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let plans = &plans;
                s.spawn(move || {
                    (t..plans.len())
                        .step_by(threads)
                        .map(|i| build(plans, i, seed, dest).map(|p| (i, p)))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a worker panicked".to_owned()))
            })
            .collect()
    });
    for r in results {
        for (i, p) in r? {
            out[i] = Some(p);
        }
    }
    Ok(out.into_iter().flatten().collect())
}
