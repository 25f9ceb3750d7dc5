//! The build graph: which component must be built before which, from the capabilities
//! each spec's BuildRequires name and the packages and Provides each spec's binary
//! packages offer. Pure: it takes names and returns orders.

use std::collections::{BTreeMap, BTreeSet};

/// What one component needs and offers, by capability name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// Capability names its BuildRequires mention (for versioned and rich dependencies,
    /// the names inside them; file paths are kept but only match file provides).
    pub needs: Vec<String>,
    /// Capability names its binary packages provide (package names included).
    pub offers: Vec<String>,
}

/// One dependency edge, with the capability that causes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// Index of the component that needs the other one built first.
    pub from: usize,
    /// Index of the component providing `capability`.
    pub to: usize,
    pub capability: String,
}

/// Components and the build-before relation between them.
#[derive(Debug, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// `deps[i]`: the components `i` needs built first (sorted, no duplicates, never `i`).
    pub deps: Vec<Vec<usize>>,
    /// Every edge with its capability, sorted.
    pub edges: Vec<Edge>,
}

/// A cycle of build dependencies: `components[0]` needs `components[1]` (for
/// `capabilities[0]`), …, and the last needs the first again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub components: Vec<String>,
    pub capabilities: Vec<String>,
}

impl std::fmt::Display for Cycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, c) in self.components.iter().enumerate() {
            write!(f, "{c} (needs {}) -> ", self.capabilities[i])?;
        }
        f.write_str(self.components.first().map_or("", String::as_str))
    }
}

impl Graph {
    /// Edges from each component to the components offering what it needs (a component
    /// offering something it needs itself is no edge: it builds against the repositories).
    pub fn new(nodes: Vec<Node>) -> Graph {
        let mut offered: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for o in &n.offers {
                offered.entry(o.as_str()).or_default().insert(i);
            }
        }
        let mut edges = BTreeSet::new();
        for (i, n) in nodes.iter().enumerate() {
            for need in &n.needs {
                for &j in offered.get(need.as_str()).into_iter().flatten() {
                    if j != i {
                        edges.insert(Edge {
                            from: i,
                            to: j,
                            capability: need.clone(),
                        });
                    }
                }
            }
        }
        let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
        for e in &edges {
            deps[e.from].insert(e.to);
        }
        Graph {
            deps: deps.into_iter().map(|d| d.into_iter().collect()).collect(),
            edges: edges.into_iter().collect(),
            nodes,
        }
    }

    /// The capability that makes `from` depend on `to` (the first, by name).
    pub fn because(&self, from: usize, to: usize) -> Option<&str> {
        self.edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .map(|e| e.capability.as_str())
    }

    /// A dependency cycle, if there is one (the one found first in name order).
    pub fn find_cycle(&self) -> Option<Cycle> {
        // 0 = unvisited, 1 = on the stack, 2 = done
        let mut state = vec![0u8; self.nodes.len()];
        let mut stack: Vec<usize> = Vec::new();
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by(|a, b| self.nodes[*a].name.cmp(&self.nodes[*b].name));
        for start in order {
            if state[start] != 0 {
                continue;
            }
            // iterative DFS: (node, next dependency index)
            let mut work: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            stack.push(start);
            while let Some((node, next)) = work.pop() {
                if let Some(&dep) = self.deps[node].get(next) {
                    work.push((node, next + 1));
                    match state[dep] {
                        0 => {
                            state[dep] = 1;
                            stack.push(dep);
                            work.push((dep, 0));
                        }
                        1 => {
                            let at = stack.iter().position(|&n| n == dep).unwrap_or(0);
                            let members: Vec<usize> = stack[at..].to_vec();
                            let capabilities = members
                                .iter()
                                .enumerate()
                                .map(|(k, &m)| {
                                    let next = members[(k + 1) % members.len()];
                                    self.because(m, next).unwrap_or("?").to_owned()
                                })
                                .collect();
                            return Some(Cycle {
                                components: members
                                    .iter()
                                    .map(|&m| self.nodes[m].name.clone())
                                    .collect(),
                                capabilities,
                            });
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
        None
    }

    /// Components in waves: each wave depends only on earlier waves, names sorted within
    /// a wave. `None` when there is a cycle.
    pub fn waves(&self) -> Option<Vec<Vec<usize>>> {
        let n = self.nodes.len();
        let mut left: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, d) in self.deps.iter().enumerate() {
            for &j in d {
                dependents[j].push(i);
            }
        }
        let mut wave: Vec<usize> = (0..n).filter(|&i| left[i] == 0).collect();
        let mut out = Vec::new();
        let mut placed = 0;
        while !wave.is_empty() {
            wave.sort_by(|a, b| self.nodes[*a].name.cmp(&self.nodes[*b].name));
            placed += wave.len();
            let mut next = Vec::new();
            for &i in &wave {
                for &d in &dependents[i] {
                    left[d] -= 1;
                    if left[d] == 0 {
                        next.push(d);
                    }
                }
            }
            out.push(std::mem::take(&mut wave));
            wave = next;
        }
        (placed == n).then_some(out)
    }

    /// Every component that depends on `i`, directly or not.
    pub fn dependents_of(&self, i: usize) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut todo = vec![i];
        while let Some(x) = todo.pop() {
            for (j, d) in self.deps.iter().enumerate() {
                if d.contains(&x) && out.insert(j) {
                    todo.push(j);
                }
            }
        }
        out
    }
}

/// The capability names a dependency string mentions: the atoms of a simple, versioned or
/// rich RPM dependency; the first word of anything that does not parse.
pub fn capability_names(dep: &str) -> Vec<String> {
    match cairn_deps::parse_rpm_dep(dep.trim()) {
        Ok(d) => d.atoms().into_iter().map(|a| a.name.clone()).collect(),
        Err(_) => dep
            .split_whitespace()
            .next()
            .map(|w| vec![w.to_owned()])
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node(name: &str, needs: &[&str], offers: &[&str]) -> Node {
        Node {
            name: name.into(),
            needs: needs.iter().map(|s| (*s).to_owned()).collect(),
            offers: offers.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn names(g: &Graph, waves: &[Vec<usize>]) -> Vec<Vec<String>> {
        waves
            .iter()
            .map(|w| w.iter().map(|&i| g.nodes[i].name.clone()).collect())
            .collect()
    }

    #[test]
    fn library_before_program_data_independent() {
        let g = Graph::new(vec![
            node("greet", &["gcc", "libgreet-devel"], &["greet"]),
            node("greet-data", &[], &["greet-data"]),
            node(
                "libgreet",
                &["gcc", "make"],
                &["libgreet", "libgreet-devel", "libgreet.so.1()(64bit)"],
            ),
        ]);
        assert_eq!(g.deps, vec![vec![2], vec![], vec![]]);
        assert_eq!(g.because(0, 2), Some("libgreet-devel"));
        assert_eq!(
            names(&g, &g.waves().unwrap()),
            vec![vec!["greet-data", "libgreet"], vec!["greet"]]
        );
        assert!(g.find_cycle().is_none());
        assert_eq!(g.dependents_of(2), BTreeSet::from([0]));
    }

    #[test]
    fn self_provides_are_no_edge_and_cycles_are_named() {
        let g = Graph::new(vec![node("boot", &["boot-devel"], &["boot-devel"])]);
        assert!(g.deps[0].is_empty());
        let g = Graph::new(vec![
            node("a", &["b-devel"], &["a-devel"]),
            node("b", &["c-devel"], &["b-devel"]),
            node("c", &["a-devel"], &["c-devel"]),
            node("d", &["a-devel"], &["d"]),
        ]);
        assert!(g.waves().is_none());
        let c = g.find_cycle().unwrap();
        assert_eq!(c.components, vec!["a", "b", "c"]);
        assert_eq!(
            c.to_string(),
            "a (needs b-devel) -> b (needs c-devel) -> c (needs a-devel) -> a"
        );
    }

    #[test]
    fn capability_names_of_dependencies() {
        assert_eq!(capability_names("gcc"), vec!["gcc"]);
        assert_eq!(
            capability_names("libgreet-devel >= 1.0"),
            vec!["libgreet-devel"]
        );
        assert_eq!(
            capability_names("(python3-foo or python3-bar >= 2)"),
            vec!["python3-foo", "python3-bar"]
        );
        assert_eq!(capability_names("/usr/bin/perl"), vec!["/usr/bin/perl"]);
    }

    proptest! {
        /// For random DAGs (edges only from later to earlier nodes), waves place every
        /// component after all of its dependencies and there is no cycle; adding one back
        /// edge closing a path makes a cycle that is found and contains that edge's ends.
        #[test]
        fn waves_respect_dependencies(
            n in 1usize..12,
            raw in proptest::collection::vec((0usize..12, 0usize..12), 0..30),
        ) {
            let mut nodes: Vec<Node> = (0..n)
                .map(|i| node(&format!("c{i:02}"), &[], &[&format!("cap{i}")]))
                .collect();
            for (a, b) in &raw {
                let (a, b) = (a % n, b % n);
                if a > b {
                    nodes[a].needs.push(format!("cap{b}"));
                }
            }
            let g = Graph::new(nodes.clone());
            prop_assert!(g.find_cycle().is_none());
            let waves = g.waves().unwrap();
            let mut wave_of = vec![usize::MAX; n];
            for (w, members) in waves.iter().enumerate() {
                for &m in members {
                    prop_assert_eq!(wave_of[m], usize::MAX);
                    wave_of[m] = w;
                }
            }
            for (i, d) in g.deps.iter().enumerate() {
                for &j in d {
                    prop_assert!(wave_of[j] < wave_of[i]);
                }
            }
            // close a cycle along an existing edge
            if let Some(e) = g.edges.first() {
                let mut cyclic = nodes;
                cyclic[e.to].needs.push(format!("cap{}", e.from));
                let g2 = Graph::new(cyclic);
                prop_assert!(g2.waves().is_none());
                let c = g2.find_cycle().unwrap();
                prop_assert!(c.components.len() >= 2);
                prop_assert_eq!(c.components.len(), c.capabilities.len());
            }
        }
    }
}
