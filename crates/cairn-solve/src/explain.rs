//! Plain-words rendering of resolvo's conflict graph.

use crate::pool::{Pool, VsKind};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use resolvo::conflict::{Conflict, ConflictCause, ConflictEdge, ConflictNode};
use resolvo::{Interner, Requirement, Solver};
use std::collections::{HashMap, VecDeque};

pub(crate) fn explain(conflict: &Conflict, solver: &Solver<Pool<'_>>) -> String {
    let pool = solver.provider();
    let cg = conflict.graph(solver);
    let g = &cg.graph;

    // shortest "required by" path from the root to every node
    let mut parent: HashMap<NodeIndex, (NodeIndex, Requirement)> = HashMap::new();
    let mut queue = VecDeque::from([cg.root_node]);
    while let Some(n) = queue.pop_front() {
        for e in g.edges_directed(n, Direction::Outgoing) {
            if let ConflictEdge::Requires(r) = e.weight() {
                let t = e.target();
                if t != cg.root_node
                    && !parent.contains_key(&t)
                    && matches!(g[t], ConflictNode::Solvable(_))
                {
                    parent.insert(t, (n, *r));
                    queue.push_back(t);
                }
            }
        }
    }
    let req_text = |r: &Requirement| {
        pool.req_text
            .borrow()
            .get(r)
            .cloned()
            .unwrap_or_else(|| r.display(pool).to_string())
    };
    let node_name = |n: NodeIndex| match g[n] {
        ConflictNode::Solvable(s) => pool.display_solvable(s).to_string(),
        ConflictNode::Root => "the request".to_owned(),
        ConflictNode::UnresolvedDependency => "(nothing)".to_owned(),
        ConflictNode::Excluded(_) => "(excluded)".to_owned(),
    };
    // "X, which is needed by Y, which is needed by the request for Z"
    let chain = |mut n: NodeIndex| -> String {
        let mut parts = Vec::new();
        let mut guard = 0;
        while let Some((p, r)) = parent.get(&n) {
            if *p == cg.root_node {
                parts.push(req_text(r));
                break;
            }
            parts.push(node_name(*p));
            n = *p;
            guard += 1;
            if guard > 64 {
                break;
            }
        }
        if parts.is_empty() {
            "the request".to_owned()
        } else {
            parts.join(", which is needed by ")
        }
    };

    let mut lines: Vec<String> = Vec::new();
    for e in g.edge_references() {
        let (a, b) = (e.source(), e.target());
        match e.weight() {
            ConflictEdge::Requires(r) if Some(b) == cg.unresolved_node => {
                let line = if a == cg.root_node {
                    format!("nothing matches {}", req_text(r))
                } else {
                    format!(
                        "nothing provides {} needed by {}, which is needed by {}",
                        req_text(r),
                        node_name(a),
                        chain(a)
                    )
                };
                lines.push(line);
            }
            ConflictEdge::Requires(_) => {}
            ConflictEdge::Conflict(cause) => {
                let verb = match cause {
                    ConflictCause::Constrains(vs) => match pool.vs(*vs).1 {
                        VsKind::NotObsoleted(..) => "obsoletes",
                        _ => "conflicts with",
                    },
                    ConflictCause::ForbidMultipleInstances => {
                        "cannot be installed together with (same name)"
                    }
                    ConflictCause::Locked(_) => "is locked, not",
                    ConflictCause::Excluded => {
                        lines.push(format!("{} is excluded", node_name(a)));
                        continue;
                    }
                };
                let (ca, cb) = (chain(a), chain(b));
                let tail = if ca == cb {
                    format!("both needed by {ca}")
                } else {
                    format!(
                        "{} is needed by {ca}, and {} is needed by {cb}",
                        node_name(a),
                        node_name(b)
                    )
                };
                lines.push(format!("{} {verb} {}; {tail}", node_name(a), node_name(b)));
            }
        }
    }
    lines.sort();
    lines.dedup();
    if lines.is_empty() {
        lines.push(conflict.display_user_friendly(solver).to_string());
    }
    lines.join("\n")
}
