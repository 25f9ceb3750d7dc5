//! An independent check that a set of packages is closed under its dependencies.

use crate::rich::{self, Lit};
use cairn_deps::{Atom, Dep, provide_matches, version_satisfies};
use cairn_package::{Package, RepoPackages};
use std::collections::HashMap;

const INSTALLONLY: &[&str] = &[
    "kernel",
    "kernel-core",
    "kernel-modules",
    "kernel-modules-core",
    "kernel-modules-extra",
    "installonlypkg(kernel)",
    "installonlypkg(kernel-module)",
];

fn provides(p: &Package, a: &Atom) -> bool {
    let flavor = p.flavor();
    (p.name == a.name
        && a.constraint
            .as_ref()
            .is_none_or(|c| version_satisfies(&p.version, c)))
        || (a.is_file() && p.files.contains(&a.name))
        || p.provides
            .iter()
            .any(|d| matches!(d, Dep::Atom(pa) if provide_matches(flavor, pa, a)))
}

fn holds(set: &[&Package], d: &Dep) -> bool {
    clauses_hold(set, &rich::cnf(d, true))
}

fn clauses_hold(set: &[&Package], clauses: &[rich::Clause<'_>]) -> bool {
    clauses.iter().all(|clause| {
        clause.iter().any(|(lit, pos)| {
            let sat = match lit {
                Lit::Atom(a) => set.iter().any(|p| provides(p, a)),
                Lit::With(v) => set.iter().any(|p| v.iter().all(|a| provides(p, a))),
                Lit::Without(a, b) => set.iter().any(|p| provides(p, a) && !provides(p, b)),
            };
            sat == *pos
        })
    })
}

/// Check that `set` (pairs of repo index and package index) satisfies every Requires
/// (Depends/Pre-Depends) of its members, violates no Conflicts/Breaks nor RPM Obsoletes,
/// and holds one package per name (except install-only packages). Weak dependencies are
/// not checked. Returns one line per violation; empty when the set is consistent.
pub fn verify_closure(repos: &[RepoPackages], set: &[(usize, usize)]) -> Vec<String> {
    let pkgs: Vec<&Package> = set.iter().map(|&(r, p)| &repos[r].packages[p]).collect();
    let mut out = Vec::new();
    let mut by_name: HashMap<&str, Vec<&Package>> = HashMap::new();
    for p in &pkgs {
        by_name.entry(p.name.as_str()).or_default().push(p);
    }
    for (name, v) in &by_name {
        let multi = INSTALLONLY.contains(name)
            || v.iter().any(|p| {
                p.provides
                    .iter()
                    .any(|d| matches!(d, Dep::Atom(a) if INSTALLONLY.contains(&a.name.as_str())))
            });
        if v.len() > 1 && !multi {
            let mut all: Vec<String> = v.iter().map(|p| p.nevra()).collect();
            all.sort();
            out.push(format!("several packages named {name}: {}", all.join(", ")));
        }
    }
    for (i, p) in pkgs.iter().enumerate() {
        for d in &p.requires {
            if !holds(&pkgs, d) {
                out.push(format!(
                    "{} requires {d}, which nothing in the set provides",
                    p.nevra()
                ));
            }
        }
        let others: Vec<&Package> = pkgs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, q)| *q)
            .collect();
        for d in &p.conflicts {
            let hit = match d {
                Dep::Atom(a) => others.iter().find(|q| provides(q, a)).map(|q| q.nevra()),
                // the conflict expression holds unless its negation does
                _ => (!clauses_hold(&others, &rich::cnf(d, false))).then(|| "the set".to_owned()),
            };
            if let Some(q) = hit {
                out.push(format!("{} conflicts with {d}, provided by {q}", p.nevra()));
            }
        }
        if p.flavor() == cairn_deps::Flavor::Rpm {
            for d in &p.obsoletes {
                let Dep::Atom(a) = d else { continue };
                for q in &others {
                    if q.name == a.name
                        && a.constraint
                            .as_ref()
                            .is_none_or(|c| version_satisfies(&q.version, c))
                    {
                        out.push(format!(
                            "{} obsoletes {d}, yet {} is in the set",
                            p.nevra(),
                            q.nevra()
                        ));
                    }
                }
            }
        }
    }
    out.sort();
    out
}
