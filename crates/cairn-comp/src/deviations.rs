//! The deviation report: what a distribution owes its users about how it differs from
//! upstream. For every component that differs: each overlay with its category, upstream
//! status, description and links; binary packages removed or added relative to upstream
//! (both specs evaluated with the component's build switches); build switches the
//! component sets beyond the distribution-wide defaults; skipped checks; extra sources.

use crate::CompError;
use crate::render::{Engine, LockMode, macro_env};
use crate::resolve::SpecOrigin;
use cairn_spec::{MacroEnv, Spec};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, Serialize)]
pub struct OverlayDeviation {
    #[serde(rename = "type")]
    pub kind: String,
    pub category: Option<String>,
    pub upstream_status: String,
    pub description: String,
    pub commits: Vec<String>,
    pub bugs: Vec<String>,
    /// Where it is written.
    pub file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentDeviation {
    pub component: String,
    /// `upstream` or `local` (a component with no upstream at all).
    pub origin: String,
    /// Upstream package name and commit, for upstream components.
    pub upstream: Option<String>,
    pub overlays: Vec<OverlayDeviation>,
    pub packages_removed: Vec<String>,
    pub packages_added: Vec<String>,
    /// Build switches set for this component beyond the distribution-wide defaults.
    pub with: Vec<String>,
    pub without: Vec<String>,
    pub defines: BTreeMap<String, String>,
    pub undefines: Vec<String>,
    /// Why `%check` is skipped, when it is.
    pub check_skipped: Option<String>,
    /// Source files added or replacing upstream's.
    pub extra_sources: Vec<String>,
}

impl ComponentDeviation {
    fn differs(&self) -> bool {
        self.origin == "local"
            || !self.overlays.is_empty()
            || !self.packages_removed.is_empty()
            || !self.packages_added.is_empty()
            || !self.with.is_empty()
            || !self.without.is_empty()
            || !self.defines.is_empty()
            || !self.undefines.is_empty()
            || self.check_skipped.is_some()
            || !self.extra_sources.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviationReport {
    pub distro: String,
    pub version: String,
    /// Build defines every component gets (`dist`, `vendor`, …).
    pub distribution_defines: BTreeMap<String, String>,
    pub components_total: usize,
    /// Only components that differ from upstream.
    pub components: Vec<ComponentDeviation>,
    /// Overlay counts by category.
    pub by_category: BTreeMap<String, usize>,
}

fn sub(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Build the report over `names` (all components when empty).
pub fn deviations(engine: &Engine, names: &[String]) -> Result<DeviationReport, CompError> {
    let dist = &engine.dist;
    let target = crate::resolve::target(dist)?;
    let base = dist
        .distros
        .get(&target.distro)
        .and_then(|d| d.versions.get(&target.version))
        .and_then(|v| v.default_component_config.clone())
        .map(|c| match &dist.default_component_config {
            Some(p) => cairn_component::merge_component(&c, p),
            None => c,
        })
        .or_else(|| dist.default_component_config.clone())
        .unwrap_or_default();
    let base_build = base.build.clone().unwrap_or_default();
    let names: Vec<String> = if names.is_empty() {
        engine.names()
    } else {
        names.to_vec()
    };
    let mut out = Vec::new();
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    for name in &names {
        let rendered = engine.render(name, LockMode::Locked)?;
        let r = &rendered.resolved;
        let env: MacroEnv = macro_env(r);
        let up = Spec::parse(&rendered.upstream_spec).packages(&env);
        let now = Spec::parse(&rendered.rendered_spec).packages(&env);
        let b = r.config.build.clone().unwrap_or_default();
        let defines: BTreeMap<String, String> = b
            .defines
            .iter()
            .filter(|(k, v)| base_build.defines.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let check_skipped = b
            .check
            .as_ref()
            .filter(|c| c.skip == Some(true))
            .map(|c| c.skip_reason.clone().unwrap_or_default());
        let overlays: Vec<OverlayDeviation> = r
            .overlays
            .iter()
            .map(|o| {
                let cat = o.category().map(|c| c.as_str().to_owned());
                *by_category
                    .entry(cat.clone().unwrap_or_else(|| "uncategorized".into()))
                    .or_default() += 1;
                OverlayDeviation {
                    kind: o.overlay.kind.map_or("?", |k| k.as_str()).to_owned(),
                    category: cat,
                    upstream_status: o.status().as_str().to_owned(),
                    description: o.overlay.description.clone().unwrap_or_default(),
                    commits: o.metadata.commits.clone(),
                    bugs: o.metadata.bugs.iter().map(|b| b.url.clone()).collect(),
                    file: o
                        .file
                        .strip_prefix(&dist.dir)
                        .unwrap_or(&o.file)
                        .display()
                        .to_string(),
                }
            })
            .collect();
        let (origin, upstream) = match &r.spec {
            SpecOrigin::Upstream {
                name: up,
                distro,
                version,
                ..
            } => (
                "upstream",
                Some(format!(
                    "{up} from {distro} {version} at {}",
                    rendered.commit.as_deref().unwrap_or("?")
                )),
            ),
            SpecOrigin::Local { .. } => ("local", None),
        };
        let d = ComponentDeviation {
            component: name.clone(),
            origin: origin.into(),
            upstream,
            overlays,
            packages_removed: sub(&up, &now),
            packages_added: sub(&now, &up),
            with: sub(&b.with, &base_build.with),
            without: sub(&b.without, &base_build.without),
            defines,
            undefines: sub(&b.undefines, &base_build.undefines),
            check_skipped: if base_build.check.as_ref().and_then(|c| c.skip) == Some(true)
                && check_skipped.is_some()
            {
                None
            } else {
                check_skipped
            },
            extra_sources: r
                .config
                .source_files
                .iter()
                .map(|s| {
                    if s.replace_upstream == Some(true) {
                        format!(
                            "{} (replaces upstream's: {})",
                            s.filename,
                            s.replace_reason.clone().unwrap_or_default()
                        )
                    } else {
                        s.filename.clone()
                    }
                })
                .collect(),
        };
        if d.differs() {
            out.push(d);
        }
    }
    Ok(DeviationReport {
        distro: target.distro,
        version: target.version,
        distribution_defines: base_build.defines.clone(),
        components_total: names.len(),
        components: out,
        by_category,
    })
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl DeviationReport {
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Deviations from upstream: {} {}\n",
            self.distro, self.version
        );
        let _ = writeln!(
            s,
            "{} of {} components differ from upstream.\n",
            self.components.len(),
            self.components_total
        );
        if !self.distribution_defines.is_empty() {
            let _ = writeln!(s, "Every component is built with:\n");
            for (k, v) in &self.distribution_defines {
                let _ = writeln!(s, "- `%{k}` = `{v}`");
            }
            s.push('\n');
        }
        if !self.by_category.is_empty() {
            let _ = writeln!(s, "| Category | Overlays |\n|---|---|");
            for (k, n) in &self.by_category {
                let _ = writeln!(s, "| {k} | {n} |");
            }
            s.push('\n');
        }
        for c in &self.components {
            let _ = writeln!(s, "## {}\n", c.component);
            match &c.upstream {
                Some(u) => {
                    let _ = writeln!(s, "Upstream: {u}\n");
                }
                None => {
                    let _ = writeln!(s, "Local component: not taken from upstream.\n");
                }
            }
            if !c.packages_removed.is_empty() {
                let _ = writeln!(s, "- Packages removed: {}", c.packages_removed.join(", "));
            }
            if !c.packages_added.is_empty() {
                let _ = writeln!(s, "- Packages added: {}", c.packages_added.join(", "));
            }
            if !c.with.is_empty() {
                let _ = writeln!(s, "- Built `--with`: {}", c.with.join(", "));
            }
            if !c.without.is_empty() {
                let _ = writeln!(s, "- Built `--without`: {}", c.without.join(", "));
            }
            for (k, v) in &c.defines {
                let _ = writeln!(s, "- Defines `%{k}` = `{v}`");
            }
            for u in &c.undefines {
                let _ = writeln!(s, "- Undefines `%{u}`");
            }
            if let Some(r) = &c.check_skipped {
                let _ = writeln!(s, "- `%check` skipped: {r}");
            }
            for e in &c.extra_sources {
                let _ = writeln!(s, "- Extra source: {e}");
            }
            if !c.overlays.is_empty() {
                let _ = writeln!(
                    s,
                    "\n| # | Change | Category | Upstream | Why |\n|---|---|---|---|---|"
                );
                for (i, o) in c.overlays.iter().enumerate() {
                    let mut why = md_escape(&o.description);
                    for l in o.commits.iter().chain(o.bugs.iter()) {
                        let _ = write!(why, " <{l}>");
                    }
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {} |",
                        i + 1,
                        o.kind,
                        o.category.as_deref().unwrap_or("—"),
                        o.upstream_status,
                        why
                    );
                }
            }
            s.push('\n');
        }
        s
    }
}
