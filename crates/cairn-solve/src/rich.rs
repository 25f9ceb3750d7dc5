//! Rich (boolean) dependencies in conjunctive normal form.
//!
//! A literal is "some installed package matches X" where X is an atom, `(A with B)` (one
//! package matching all) or `(A without B)` (one package matching A and not B). A clause
//! is a disjunction of literals, each positive or negated. The solver turns positive
//! literals into a resolvo union and negated ones into a resolvo condition.
//!
//! Approximations: `with`/`without` whose operands are not plain atoms fall back to
//! `and`/`and not`; the expansion of `or` over `and` is capped at [`MAX_CLAUSES`] clauses
//! (the remainder is dropped), far beyond anything found in real repositories.

use cairn_deps::{Atom, Dep};

/// Upper bound on the clauses one dependency expands to.
pub const MAX_CLAUSES: usize = 256;

/// A literal of a clause.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lit<'d> {
    Atom(&'d Atom),
    With(Vec<&'d Atom>),
    Without(&'d Atom, &'d Atom),
}

/// A disjunction of literals; `true` marks a positive literal.
pub type Clause<'d> = Vec<(Lit<'d>, bool)>;

enum F<'d> {
    L(Lit<'d>, bool),
    And(Vec<F<'d>>),
    Or(Vec<F<'d>>),
}

fn nnf(dep: &Dep, pos: bool) -> F<'_> {
    match dep {
        Dep::Atom(a) => F::L(Lit::Atom(a), pos),
        Dep::And(v) => {
            let parts = v.iter().map(|d| nnf(d, pos)).collect();
            if pos { F::And(parts) } else { F::Or(parts) }
        }
        Dep::Or(v) => {
            let parts = v.iter().map(|d| nnf(d, pos)).collect();
            if pos { F::Or(parts) } else { F::And(parts) }
        }
        Dep::With(v) => {
            let atoms: Option<Vec<&Atom>> = v
                .iter()
                .map(|d| match d {
                    Dep::Atom(a) => Some(a),
                    _ => None,
                })
                .collect();
            match atoms {
                Some(atoms) => F::L(Lit::With(atoms), pos),
                None => {
                    let parts = v.iter().map(|d| nnf(d, pos)).collect();
                    if pos { F::And(parts) } else { F::Or(parts) }
                }
            }
        }
        Dep::Without(a, b) => match (&**a, &**b) {
            (Dep::Atom(a), Dep::Atom(b)) => F::L(Lit::Without(a, b), pos),
            _ => {
                let f = F::And(vec![nnf(a, true), nnf(b, false)]);
                if pos {
                    f
                } else {
                    F::Or(vec![nnf(a, false), nnf(b, true)])
                }
            }
        },
        // (A if C else B) == (!C or A) and (C or B)
        Dep::If {
            then,
            cond,
            otherwise,
        } => cond_form(then, cond, otherwise.as_deref(), pos, false),
        // (A unless C else B) == (C or A) and (!C or B)
        Dep::Unless {
            then,
            cond,
            otherwise,
        } => cond_form(then, cond, otherwise.as_deref(), pos, true),
    }
}

/// `then` when `cond` holds (`unless`: when it does not), else `otherwise`.
fn cond_form<'d>(
    then: &'d Dep,
    cond: &'d Dep,
    otherwise: Option<&'d Dep>,
    pos: bool,
    unless: bool,
) -> F<'d> {
    // c_true: the polarity of the condition literal in the "then" clause.
    let c_then = unless;
    if pos {
        // the branch before the condition: the solver prefers installing the branch
        let mut parts = vec![F::Or(vec![nnf(then, true), nnf(cond, c_then)])];
        if let Some(o) = otherwise {
            parts.push(F::Or(vec![nnf(o, true), nnf(cond, !c_then)]));
        }
        F::And(parts)
    } else {
        // In a negative context (Conflicts) a missing else branch is false, as in rpm and
        // libsolv: (A if C) conflicts when A and C hold; (A unless C) when A holds and C not.
        // With an else branch: not((c' or A) and (!c' or B)) == (!c' and !A) or (c' and !B).
        match otherwise {
            None => F::Or(vec![nnf(cond, c_then), nnf(then, false)]),
            Some(o) => F::Or(vec![
                F::And(vec![nnf(cond, !c_then), nnf(then, false)]),
                F::And(vec![nnf(cond, c_then), nnf(o, false)]),
            ]),
        }
    }
}

fn to_cnf<'d>(f: F<'d>) -> Vec<Clause<'d>> {
    match f {
        F::L(l, p) => vec![vec![(l, p)]],
        F::And(v) => {
            let mut out = Vec::new();
            for c in v {
                out.extend(to_cnf(c));
                out.truncate(MAX_CLAUSES);
            }
            out
        }
        F::Or(v) => {
            let mut acc: Vec<Clause<'d>> = vec![vec![]];
            for c in v {
                let cs = to_cnf(c);
                let mut next = Vec::with_capacity(acc.len() * cs.len());
                'outer: for a in &acc {
                    for c in &cs {
                        if next.len() >= MAX_CLAUSES {
                            break 'outer;
                        }
                        let mut clause = a.clone();
                        for lit in c {
                            if !clause.contains(lit) {
                                clause.push(lit.clone());
                            }
                        }
                        next.push(clause);
                    }
                }
                acc = next;
            }
            acc
        }
    }
}

/// The clauses that must all hold for `dep` to hold (`positive`) or to fail (`!positive`,
/// used for conflicts).
pub fn cnf(dep: &Dep, positive: bool) -> Vec<Clause<'_>> {
    to_cnf(nnf(dep, positive))
        .into_iter()
        // a clause holding X and not X is always true
        .filter(|c| !c.iter().any(|(l, p)| *p && c.contains(&(l.clone(), false))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(cs: &[Clause<'_>]) -> String {
        cs.iter()
            .map(|c| {
                c.iter()
                    .map(|(l, p)| {
                        let s = match l {
                            Lit::Atom(a) => a.name.clone(),
                            Lit::With(v) => v
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join("+"),
                            Lit::Without(a, b) => format!("{}-{}", a.name, b.name),
                        };
                        if *p { s } else { format!("!{s}") }
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    fn a(n: &str) -> Dep {
        Dep::atom(n)
    }

    #[test]
    fn forms() {
        let d = Dep::Or(vec![a("a"), Dep::And(vec![a("b"), a("c")])]);
        assert_eq!(show(&cnf(&d, true)), "a|b & a|c");
        let d = Dep::If {
            then: Box::new(a("a")),
            cond: Box::new(a("c")),
            otherwise: None,
        };
        assert_eq!(show(&cnf(&d, true)), "a|!c");
        let d = Dep::If {
            then: Box::new(a("a")),
            cond: Box::new(a("c")),
            otherwise: Some(Box::new(a("b"))),
        };
        assert_eq!(show(&cnf(&d, true)), "a|!c & b|c");
        let d = Dep::Unless {
            then: Box::new(a("a")),
            cond: Box::new(a("c")),
            otherwise: None,
        };
        assert_eq!(show(&cnf(&d, true)), "a|c");
        let d = Dep::Unless {
            then: Box::new(a("a")),
            cond: Box::new(a("c")),
            otherwise: Some(Box::new(a("b"))),
        };
        assert_eq!(show(&cnf(&d, true)), "a|c & b|!c");
        let d = Dep::With(vec![a("a"), a("b")]);
        assert_eq!(show(&cnf(&d, true)), "a+b");
        let d = Dep::Without(Box::new(a("a")), Box::new(a("b")));
        assert_eq!(show(&cnf(&d, false)), "!a-b");
        // conflicts with (a and b): not both
        let d = Dep::And(vec![a("a"), a("b")]);
        assert_eq!(show(&cnf(&d, false)), "!a|!b");
        // conflicts with (a if c): not both; with (a unless c): a only with c
        let d = Dep::If {
            then: Box::new(a("a")),
            cond: Box::new(a("c")),
            otherwise: None,
        };
        assert_eq!(show(&cnf(&d, false)), "!c|!a");
        let d = Dep::Unless {
            then: Box::new(a("a")),
            cond: Box::new(a("c")),
            otherwise: None,
        };
        assert_eq!(show(&cnf(&d, false)), "c|!a");
        // tautology dropped
        let d = Dep::Or(vec![
            a("a"),
            Dep::If {
                then: Box::new(a("b")),
                cond: Box::new(a("a")),
                otherwise: None,
            },
        ]);
        assert_eq!(show(&cnf(&d, true)), "");
    }

    #[test]
    fn capped() {
        let wide = Dep::Or(
            (0..20)
                .map(|i| Dep::And(vec![a(&format!("x{i}")), a(&format!("y{i}"))]))
                .collect(),
        );
        assert!(cnf(&wide, true).len() <= MAX_CLAUSES);
    }
}
