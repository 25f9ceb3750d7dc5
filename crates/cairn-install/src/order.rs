//! Install order of a Debian set: the Essential closure, a dependency-first order, and
//! dpkg batches that respect Pre-Depends (pure: no I/O).

use cairn_deps::{Atom, Dep};
use std::collections::{BTreeSet, HashMap};

/// The control fields the order depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DebNode {
    pub name: String,
    pub arch: String,
    pub essential: bool,
    /// Names this package provides (versions do not matter for ordering: the set is
    /// already solved).
    pub provides: Vec<String>,
    pub pre_depends: Vec<Dep>,
    pub depends: Vec<Dep>,
}

/// The packages and who satisfies which name.
#[derive(Debug)]
pub(crate) struct Graph<'a> {
    nodes: &'a [DebNode],
    real: HashMap<&'a str, Vec<usize>>,
    provided: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Graph<'a> {
    pub fn new(nodes: &'a [DebNode]) -> Self {
        let mut real: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut provided: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            real.entry(n.name.as_str()).or_default().push(i);
            for p in &n.provides {
                provided.entry(p.as_str()).or_default().push(i);
            }
        }
        // candidates in a fixed order, whatever the order of the set
        let key = |&i: &usize| (nodes[i].name.as_str(), nodes[i].arch.as_str());
        for v in real.values_mut().chain(provided.values_mut()) {
            v.sort_by_key(key);
        }
        Graph {
            nodes,
            real,
            provided,
        }
    }

    /// The package of the set that satisfies `dep` for package `from`: the first
    /// alternative present, preferring a real package over a provider and the same
    /// architecture (or `all`) over another. `None` when nothing in the set does (or only
    /// `from` itself).
    fn target(&self, from: usize, dep: &Dep) -> Option<usize> {
        dep.atoms()
            .into_iter()
            .find_map(|atom| self.lookup(from, atom))
    }

    fn lookup(&self, from: usize, atom: &Atom) -> Option<usize> {
        let arch = self.nodes[from].arch.as_str();
        let pick = |cands: Option<&Vec<usize>>| -> Option<usize> {
            let cands: Vec<usize> = cands?.iter().copied().filter(|&i| i != from).collect();
            cands
                .iter()
                .copied()
                .find(|&i| {
                    let a = self.nodes[i].arch.as_str();
                    a == arch || a == "all" || arch == "all"
                })
                .or_else(|| cands.first().copied())
        };
        pick(self.real.get(atom.name.as_str()))
            .or_else(|| pick(self.provided.get(atom.name.as_str())))
    }

    /// Packages `i` pre-depends on.
    pub fn pre_targets(&self, i: usize) -> Vec<usize> {
        self.targets(i, &self.nodes[i].pre_depends)
    }

    /// Packages `i` pre-depends or depends on.
    pub fn all_targets(&self, i: usize) -> Vec<usize> {
        let mut t = self.pre_targets(i);
        t.extend(self.targets(i, &self.nodes[i].depends));
        t.sort_unstable();
        t.dedup();
        t
    }

    fn targets(&self, i: usize, deps: &[Dep]) -> Vec<usize> {
        deps.iter().filter_map(|d| self.target(i, d)).collect()
    }

    /// The Essential packages and everything they (pre-)depend on, transitively.
    pub fn essential_closure(&self) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].essential)
            .collect();
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                stack.extend(self.all_targets(i));
            }
        }
        seen
    }

    /// The strongly connected components of `subset` under (pre-)dependency edges, in
    /// dependency-first order; members of a component sorted by name. Deterministic:
    /// the result depends only on the nodes, not on the order of `subset`.
    pub fn sccs(&self, subset: &BTreeSet<usize>) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = subset.iter().copied().collect();
        order.sort_by(|&a, &b| self.key(a).cmp(&self.key(b)));
        let mut t = Tarjan {
            index: HashMap::new(),
            low: HashMap::new(),
            on_stack: BTreeSet::new(),
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
        };
        for &v in &order {
            if !t.index.contains_key(&v) {
                self.connect(&mut t, v, subset);
            }
        }
        for scc in &mut t.out {
            scc.sort_by(|&a, &b| self.key(a).cmp(&self.key(b)));
        }
        t.out
    }

    fn key(&self, i: usize) -> (&str, &str) {
        (&self.nodes[i].name, &self.nodes[i].arch)
    }

    fn connect(&self, t: &mut Tarjan, v: usize, subset: &BTreeSet<usize>) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on_stack.insert(v);
        let mut succ: Vec<usize> = self
            .all_targets(v)
            .into_iter()
            .filter(|w| subset.contains(w))
            .collect();
        succ.sort_by(|&a, &b| self.key(a).cmp(&self.key(b)));
        for w in succ {
            if !t.index.contains_key(&w) {
                self.connect(t, w, subset);
                let lw = t.low[&w];
                let lv = t.low.get_mut(&v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on_stack.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low.get_mut(&v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[&v] == t.index[&v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on_stack.remove(&w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            t.out.push(scc);
        }
    }

    /// Split the components (in dependency-first order) into dpkg `--install` batches:
    /// a new batch starts before a component with a member that pre-depends on a
    /// package of the current batch (a pre-dependency must be configured before the
    /// package is unpacked, and dpkg configures a batch only after unpacking all of it).
    /// A component is never split, so dependency cycles stay in one dpkg run.
    pub fn batches(&self, sccs: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        let mut cur: Vec<usize> = Vec::new();
        let mut in_cur = BTreeSet::new();
        for scc in sccs {
            let flush = scc
                .iter()
                .any(|&i| self.pre_targets(i).iter().any(|t| in_cur.contains(t)));
            if flush && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
                in_cur.clear();
            }
            cur.extend(scc.iter().copied());
            in_cur.extend(scc.iter().copied());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
}

struct Tarjan {
    index: HashMap<usize, usize>,
    low: HashMap<usize, usize>,
    on_stack: BTreeSet<usize>,
    stack: Vec<usize>,
    next: usize,
    out: Vec<Vec<usize>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_deps::parse_deb_relations;

    fn node(name: &str, essential: bool, pre: &str, dep: &str, provides: &[&str]) -> DebNode {
        DebNode {
            name: name.into(),
            arch: "amd64".into(),
            essential,
            provides: provides.iter().map(|s| s.to_string()).collect(),
            pre_depends: parse_deb_relations(pre).unwrap(),
            depends: parse_deb_relations(dep).unwrap(),
        }
    }

    fn names(nodes: &[DebNode], v: &[usize]) -> Vec<String> {
        v.iter().map(|&i| nodes[i].name.clone()).collect()
    }

    #[test]
    fn essential_closure_follows_depends_pre_depends_alternatives_and_provides() {
        let nodes = vec![
            node("dpkg", true, "libc6 (>= 2.34)", "tar (>= 1.28-1)", &[]),
            node("libc6", false, "", "libgcc-s1", &[]),
            node("libgcc-s1", false, "", "gcc-12-base, libc6", &[]),
            node("gcc-12-base", false, "", "", &[]),
            node("tar", true, "", "", &[]),
            node("base-files", true, "awk", "", &[]),
            node("mawk", false, "libc6", "", &["awk"]),
            node("login", true, "", "libpam-runtime | pam-alt", &[]),
            node(
                "libpam-runtime",
                false,
                "",
                "debconf (>= 0.5) | debconf-2.0",
                &[],
            ),
            node("debconf", false, "", "", &["debconf-2.0"]),
            node("apt", false, "", "gpgv | gpgv2", &[]),
            node("gpgv", false, "", "libc6", &[]),
        ];
        let g = Graph::new(&nodes);
        let ess = g.essential_closure();
        let mut got = names(&nodes, &ess.iter().copied().collect::<Vec<_>>());
        got.sort();
        assert_eq!(
            got,
            [
                "base-files",
                "debconf",
                "dpkg",
                "gcc-12-base",
                "libc6",
                "libgcc-s1",
                "libpam-runtime",
                "login",
                "mawk",
                "tar"
            ]
        );
    }

    #[test]
    fn components_come_dependencies_first_with_cycles_kept_together() {
        let nodes = vec![
            node("a", false, "", "b", &[]),
            node("b", false, "", "c", &[]),
            node("c", false, "", "b, d", &[]),
            node("d", false, "", "", &[]),
            node("e", false, "", "", &[]),
        ];
        let g = Graph::new(&nodes);
        let all: BTreeSet<usize> = (0..nodes.len()).collect();
        let sccs = g.sccs(&all);
        let shown: Vec<Vec<String>> = sccs.iter().map(|s| names(&nodes, s)).collect();
        assert_eq!(shown, [vec!["d"], vec!["b", "c"], vec!["a"], vec!["e"]]);
        // the same set given in another order gives the same answer
        let nodes2: Vec<DebNode> = nodes.iter().rev().cloned().collect();
        let g2 = Graph::new(&nodes2);
        let shown2: Vec<Vec<String>> = g2
            .sccs(&(0..nodes2.len()).collect())
            .iter()
            .map(|s| names(&nodes2, s))
            .collect();
        assert_eq!(shown, shown2);
    }

    #[test]
    fn a_pre_dependency_in_the_current_batch_starts_a_new_batch() {
        let nodes = vec![
            node("systemd", false, "libc6", "libsystemd-shared", &[]),
            node("libsystemd-shared", false, "", "", &[]),
            node("systemd-sysv", false, "systemd", "", &[]),
            node("udev", false, "", "systemd", &[]),
            node("libc6", false, "", "", &[]),
            node("x", false, "", "systemd-sysv", &[]),
        ];
        let g = Graph::new(&nodes);
        // libc6 is configured already (the Essential phase), so it does not count
        let subset: BTreeSet<usize> = [0, 1, 2, 3, 5].into_iter().collect();
        let sccs = g.sccs(&subset);
        let batches: Vec<Vec<String>> = g.batches(&sccs).iter().map(|b| names(&nodes, b)).collect();
        assert_eq!(
            batches,
            [
                vec!["libsystemd-shared", "systemd"],
                vec!["systemd-sysv", "udev", "x"]
            ]
        );
    }

    #[test]
    fn unknown_dependencies_and_self_provides_are_ignored() {
        let nodes = vec![
            node("mawk", false, "", "nothing-here", &["awk"]),
            node("x", false, "awk", "mawk:any", &[]),
        ];
        let g = Graph::new(&nodes);
        assert!(g.all_targets(0).is_empty());
        assert_eq!(g.all_targets(1), vec![0]);
        assert_eq!(g.pre_targets(1), vec![0]);
    }
}
