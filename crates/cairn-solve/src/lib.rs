//! Dependency resolution: given the packages of some repositories and a request (names or
//! capabilities to install), choose the set of packages to install, the way dnf (libsolv)
//! or apt would, or explain in plain words why no such set exists.
//!
//! The SAT work is done by `resolvo`; this crate maps RPM and Debian semantics onto it
//! (provides, file dependencies, rich/boolean dependencies, conflicts, obsoletes, repo
//! priorities, install-only packages, weak dependencies, Debian alternatives and
//! Essential packages). It must not read files, fetch metadata or print anything: callers
//! hand it parsed [`RepoPackages`] and get back indexes into them.
//!
//! # Semantics and approximations
//! - Candidates: packages whose arch is the target arch or `noarch` (RPM) / `all`
//!   (Debian); other arches are ignored. Excluded names (globs) are never candidates. For
//!   each package name, only packages from the repositories with the best (lowest)
//!   priority that carry that name are candidates (dnf semantics).
//! - One package per name, except install-only names (several versions may coexist; a
//!   request still installs only the best one).
//! - Candidate order within a name: highest version first; at equal versions RPM prefers
//!   `noarch` (libsolv gives noarch the best arch score; checked against dnf) and Debian
//!   the native arch; then the earlier repository.
//! - Provider order for a capability: a package whose name is the capability first, then
//!   alphabetical by name (libsolv sorts different names with strcmp). For RPM the
//!   providers of all alternatives of an `or` (and of the CNF clauses of `if`/`unless`)
//!   are merged and ordered that way, as libsolv does: `(b or a)` prefers `a`. Debian
//!   keeps the alternatives in the order written (apt takes the first that can be
//!   satisfied). A provider already chosen always satisfies the dependency.
//! - After solving, a chosen package that is not requested, not a weak addition, and
//!   whose every capability in use is also provided by another chosen package is
//!   dropped (one at a time), so an early choice a later one made redundant is not
//!   installed (see `tests/cases/redundant-provider.txt`).
//! - Rich dependencies are converted to conjunctive normal form over "some provider of X
//!   is installed" literals; negated literals become resolvo conditions, so `if`/`unless`
//!   never install the condition on their own account (except `unless`, whose CNF
//!   `(A or C)` lets the solver satisfy it by C, as libsolv does). `with`/`without` are a
//!   single literal matched by one package. CNF expansion is capped (see [`rich`]).
//! - Conflicts become resolvo constraints; a package never conflicts with itself.
//!   Obsoletes match package names and versions (never provides). A request for a name
//!   that another candidate obsoletes prefers the obsoleter, as dnf does.
//! - Weak dependencies (on by default): after a solution is found, the best provider of
//!   each unsatisfied Recommends of a chosen package, and each package whose Supplements
//!   holds for the chosen set, is added as a resolvo soft requirement (dropped when it
//!   cannot be installed); this repeats until nothing new is added.

mod explain;
mod index;
mod pool;
pub mod rich;
#[cfg(test)]
mod tests;
mod verify;

use cairn_package::RepoPackages;
pub use index::RepoIndex;
pub use verify::verify_closure;

/// What to install and under which rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Package names or capabilities, optionally with a constraint: `foo`, `foo >= 1.2`,
    /// `/usr/bin/env`, `libfoo.so.1()(64bit)`; Debian: `foo (>= 1.2)` or `foo`.
    pub install: Vec<String>,
    /// Install Recommends (and RPM Supplements) when they can be satisfied.
    pub weak_deps: bool,
    /// Name globs (`*`, `?`) never installed.
    pub excludes: Vec<String>,
    /// Target architecture: `x86_64` (accepts x86_64 + noarch) or `amd64` (amd64 + all).
    pub arch: String,
    /// RPM install-only names or capabilities (several versions may be installed).
    pub installonly: Vec<String>,
    /// Debian: add every `Essential: yes` package.
    pub essential: bool,
    /// Debian: add every `Priority: required` package.
    pub priority_required: bool,
    /// Whether the packages' `files` hold complete file lists. When false, a file
    /// dependency nobody is known to provide yields [`SolveError::NeedFilelists`].
    pub filelists_loaded: bool,
}

impl Request {
    /// A request with dnf's defaults: weak deps on, dnf's install-only list, nothing else.
    pub fn new(arch: impl Into<String>) -> Self {
        Request {
            install: vec![],
            weak_deps: true,
            excludes: vec![],
            arch: arch.into(),
            installonly: [
                "kernel",
                "kernel-core",
                "kernel-modules",
                "kernel-modules-core",
                "kernel-modules-extra",
                "installonlypkg(kernel)",
                "installonlypkg(kernel-module)",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            essential: false,
            priority_required: false,
            filelists_loaded: false,
        }
    }
}

/// The chosen packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// Sorted by name, arch, version.
    pub packages: Vec<Chosen>,
}

/// One chosen package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Index into the `repos` slice given to [`solve`].
    pub repo: usize,
    /// Index into `repos[repo].packages`.
    pub package: usize,
    pub reason: Reason,
}

/// Why a package is in the solution.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// It satisfies an entry of [`Request::install`].
    Requested,
    /// A chosen package (named by its NEVRA) requires it.
    Dependency { of: String },
    /// A chosen package recommends it, or it supplements one.
    Weak { of: String },
    /// Debian Essential / Priority: required.
    Essential,
}

/// Why no solution was produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SolveError {
    #[error("the request cannot be satisfied:\n{explanation}")]
    Unsolvable { explanation: String },
    #[error(
        "file dependencies {files:?} are provided by no package in the primary metadata; load the repositories' filelists and solve again"
    )]
    NeedFilelists { files: Vec<String> },
    #[error("no package provides {name:?} requested for installation{}", fmt_suggestions(.suggestions))]
    UnknownRequest {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("request entry {entry:?} cannot be parsed: {reason}")]
    BadRequest { entry: String, reason: String },
    #[error("the repositories mix RPM and Debian packages; solve each flavour separately")]
    MixedFlavors,
}

fn fmt_suggestions(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", s.join(", "))
    }
}

/// Choose the packages to install for `req` among `repos`.
pub fn solve(repos: &[RepoPackages], req: &Request) -> Result<Solution, SolveError> {
    let built: Vec<RepoIndex> = repos.iter().map(RepoIndex::build).collect();
    let idx: Vec<&RepoIndex> = built.iter().collect();
    pool::solve(repos, &idx, req)
}

/// [`solve`] with the repositories' indexes built beforehand (`indexes[i]` from
/// `repos[i]`, see [`RepoIndex::build`]), so that solving several requests against the
/// same repositories interns their names once. An index that does not fit its
/// repository is rebuilt.
pub fn solve_indexed(
    repos: &[RepoPackages],
    indexes: &[&RepoIndex],
    req: &Request,
) -> Result<Solution, SolveError> {
    let rebuilt: Vec<Option<RepoIndex>> = repos
        .iter()
        .enumerate()
        .map(|(i, r)| match indexes.get(i) {
            Some(ix) if ix.fits(r) => None,
            _ => Some(RepoIndex::build(r)),
        })
        .collect();
    let idx: Vec<&RepoIndex> = rebuilt
        .iter()
        .enumerate()
        .map(|(i, b)| b.as_ref().unwrap_or_else(|| indexes[i]))
        .collect();
    pool::solve(repos, &idx, req)
}
