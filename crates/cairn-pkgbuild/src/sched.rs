//! The scheduler: run one job per component on a pool of threads, each as soon as
//! everything it depends on succeeded, in the plan's order among the ready ones. A failed
//! job makes its dependents (transitively) skipped, naming the failed dependency; unless
//! `keep_going`, no job starts after the first failure (running ones finish) and what is
//! left is skipped as not started.

use crate::graph::Graph;
use crate::{Outcome, Status};
use std::sync::{Condvar, Mutex, PoisonError};

/// What to schedule.
pub(crate) struct Jobs<'a> {
    /// Component names, by index.
    pub names: &'a [String],
    pub graph: &'a Graph,
    /// Every index once, dependencies first (the plan's waves, flattened).
    pub order: &'a [usize],
    pub jobs: usize,
    pub keep_going: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Pending,
    Running,
    Ok,
    Bad,
}

struct State {
    st: Vec<St>,
    running: usize,
    /// The first failure, once builds are to stop (no `keep_going`).
    stop: Option<String>,
    outcomes: Vec<Outcome>,
}

impl State {
    /// Mark what can no longer run as skipped; returns those outcomes.
    fn settle(&mut self, j: &Jobs<'_>, now: f64) -> Vec<Outcome> {
        let mut out = Vec::new();
        loop {
            let mut changed = false;
            for &i in j.order {
                if self.st[i] != St::Pending {
                    continue;
                }
                let bad_dep = j.graph.deps[i]
                    .iter()
                    .copied()
                    .find(|&d| self.st[d] == St::Bad);
                let reason = match bad_dep {
                    Some(d) => {
                        let skipped = self
                            .outcomes
                            .iter()
                            .any(|o| o.component == j.names[d] && o.status == Status::Skipped);
                        Some(format!(
                            "dependency `{}` {} (it provides {})",
                            j.names[d],
                            if skipped { "was skipped" } else { "failed" },
                            j.graph.because(i, d).unwrap_or("?")
                        ))
                    }
                    None => self.stop.as_ref().map(|first| {
                        format!(
                            "not started: `{first}` failed (pass --keep-going to build what does not depend on it)"
                        )
                    }),
                };
                if let Some(reason) = reason {
                    self.st[i] = St::Bad;
                    let mut o = Outcome::new(&j.names[i], Status::Skipped);
                    o.reason = Some(reason);
                    o.finished = Some(now);
                    self.outcomes.push(o.clone());
                    out.push(o);
                    changed = true;
                }
            }
            if !changed {
                return out;
            }
        }
    }
}

/// Run `work(i)` for every component as described in the module docs; `report` sees
/// every outcome as it is decided. Returns the outcomes in the order they were decided.
pub(crate) fn schedule(
    j: &Jobs<'_>,
    now: &(dyn Fn() -> f64 + Sync),
    work: &(dyn Fn(usize) -> Outcome + Sync),
    report: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    let n = j.names.len();
    let state = Mutex::new(State {
        st: vec![St::Pending; n],
        running: 0,
        stop: None,
        outcomes: Vec::new(),
    });
    let cv = Condvar::new();
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    std::thread::scope(|scope| {
        for _ in 0..j.jobs.clamp(1, n.max(1)) {
            scope.spawn(|| {
                loop {
                    let mut g = lock();
                    let pick = loop {
                        for o in g.settle(j, now()) {
                            report(&o);
                        }
                        let ready = j.order.iter().copied().find(|&i| {
                            g.st[i] == St::Pending
                                && j.graph.deps[i].iter().all(|&d| g.st[d] == St::Ok)
                        });
                        if ready.is_some() || g.running == 0 {
                            break ready;
                        }
                        g = cv.wait(g).unwrap_or_else(PoisonError::into_inner);
                    };
                    let Some(i) = pick else {
                        cv.notify_all();
                        return;
                    };
                    g.st[i] = St::Running;
                    g.running += 1;
                    drop(g);
                    let o = work(i);
                    report(&o);
                    let mut g = lock();
                    g.running -= 1;
                    let ok = matches!(o.status, Status::Built | Status::Cached);
                    g.st[i] = if ok { St::Ok } else { St::Bad };
                    if !ok && !j.keep_going && g.stop.is_none() {
                        g.stop = Some(j.names[i].clone());
                    }
                    g.outcomes.push(o);
                    drop(g);
                    cv.notify_all();
                }
            });
        }
    });
    state
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Node;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// `a` <- `b` <- `d`, `c` independent, `e` needs `c`.
    fn graph() -> (Vec<String>, Graph) {
        let node = |n: &str, needs: &[&str]| Node {
            name: n.into(),
            needs: needs.iter().map(|s| (*s).to_owned()).collect(),
            offers: vec![n.to_owned()],
        };
        let nodes = vec![
            node("a", &[]),
            node("b", &["a"]),
            node("c", &[]),
            node("d", &["b"]),
            node("e", &["c"]),
        ];
        let names = nodes.iter().map(|n| n.name.clone()).collect();
        (names, Graph::new(nodes))
    }

    fn run(jobs: usize, keep_going: bool, fail: &[&str]) -> Vec<Outcome> {
        let (names, g) = graph();
        let order: Vec<usize> = g.waves().unwrap().into_iter().flatten().collect();
        let tick = AtomicUsize::new(0);
        let done: Mutex<Vec<String>> = Mutex::new(vec![]);
        let out = schedule(
            &Jobs {
                names: &names,
                graph: &g,
                order: &order,
                jobs,
                keep_going,
            },
            &|| tick.load(Ordering::SeqCst) as f64,
            &|i| {
                // every dependency finished before this starts
                for &d in &g.deps[i] {
                    assert!(
                        done.lock().unwrap().contains(&names[d]),
                        "{} before {}",
                        names[i],
                        names[d]
                    );
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
                tick.fetch_add(1, Ordering::SeqCst);
                let failed = fail.contains(&names[i].as_str());
                let mut o = Outcome::new(
                    &names[i],
                    if failed {
                        Status::Failed
                    } else {
                        Status::Built
                    },
                );
                if failed {
                    o.reason = Some("broken".into());
                }
                done.lock().unwrap().push(names[i].clone());
                o
            },
            &|_| {},
        );
        assert_eq!(out.len(), names.len());
        out
    }

    fn status_of(out: &[Outcome], name: &str) -> (Status, String) {
        let o = out.iter().find(|o| o.component == name).unwrap();
        (o.status, o.reason.clone().unwrap_or_default())
    }

    #[test]
    fn everything_builds_in_dependency_order() {
        for jobs in [1, 2, 4] {
            let out = run(jobs, false, &[]);
            assert!(out.iter().all(|o| o.status == Status::Built));
        }
    }

    #[test]
    fn a_failure_skips_its_dependents_and_keep_going_builds_the_rest() {
        let out = run(2, true, &["a"]);
        assert_eq!(status_of(&out, "a").0, Status::Failed);
        assert_eq!(
            status_of(&out, "b"),
            (
                Status::Skipped,
                "dependency `a` failed (it provides a)".into()
            )
        );
        assert_eq!(
            status_of(&out, "d"),
            (
                Status::Skipped,
                "dependency `b` was skipped (it provides b)".into()
            )
        );
        assert_eq!(status_of(&out, "c").0, Status::Built);
        assert_eq!(status_of(&out, "e").0, Status::Built);
    }

    #[test]
    fn without_keep_going_nothing_starts_after_a_failure() {
        // one at a time in plan order: a (fails), then nothing else starts
        let out = run(1, false, &["a"]);
        assert_eq!(out[0].component, "a");
        assert_eq!(status_of(&out, "b").0, Status::Skipped);
        let (st, why) = status_of(&out, "c");
        assert_eq!(st, Status::Skipped);
        assert!(why.starts_with("not started: `a` failed"), "{why}");
        assert!(out.iter().filter(|o| o.status == Status::Built).count() == 0);
    }
}
