//! The package pool and its resolvo `DependencyProvider`.

use crate::index::RepoIndex;
use crate::rich::{self, Clause, Lit};
use crate::{Chosen, Reason, Request, Solution, SolveError, explain};
use cairn_deps::{
    Atom, Dep, Flavor, parse_deb_relations, parse_rpm_dep, provide_matches, version_satisfies,
};
use cairn_package::{Package, RepoPackages};
use resolvo::{
    Candidates, Condition, ConditionId, ConditionalRequirement, DenseIndex, Dependencies,
    DependencyProvider, HintDependenciesAvailable, Interner, KnownDependencies, LogicalOperator,
    NameId, Problem, Requirement, SolvableId, SolverCache, StringId, UnsolvableOrCancelled,
    VersionSetId, VersionSetUnionId,
};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::{OnceCell, RefCell};
use std::collections::BTreeSet;
use std::fmt::Display;
use std::hash::Hash;
use std::rc::Rc;

/// What a version set selects among the candidates of its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum VsKind {
    /// Packages providing the atom (name, provides, files).
    Provides(u32),
    /// `(A with B ...)`: packages providing all atoms.
    With(Vec<u32>),
    /// `(A without B)`.
    Without(u32, u32),
    /// Packages NOT selected by the inner kind, plus `except` (a package never conflicts
    /// with itself). Used for constraints (conflicts).
    Not(Box<VsKind>, Option<SolvableId>),
    /// Packages whose name and version do NOT match the atom (obsoletes), plus `except`.
    NotObsoleted(u32, Option<SolvableId>),
    /// Packages whose Obsoletes name the atom's name (a request prefers obsoleters).
    Obsoleting(u32),
    /// Exactly this solvable (a request for an install-only name takes the best one).
    Only(SolvableId),
    /// Nothing (an unsatisfiable clause; the name is the clause's text).
    Never,
}

#[derive(Debug)]
struct Interned<T> {
    items: Vec<T>,
    index: HashMap<T, u32>,
}

impl<T: Clone + Eq + Hash> Interned<T> {
    fn new() -> Self {
        Interned {
            items: Vec::new(),
            index: HashMap::default(),
        }
    }
    fn intern(&mut self, t: T) -> u32 {
        if let Some(&i) = self.index.get(&t) {
            return i;
        }
        let i = self.items.len() as u32;
        self.items.push(t.clone());
        self.index.insert(t, i);
        i
    }
}

#[derive(Debug, Clone, Copy)]
struct Solv {
    repo: u32,
    pkg: u32,
    name: NameId,
}

/// Packages that may be chosen, indexed for the solver.
#[derive(Debug)]
pub(crate) struct Pool<'a> {
    repos: &'a [RepoPackages],
    pub(crate) flavor: Flavor,
    arch: String,
    solvables: Vec<Solv>,
    /// Capability names: package names, provides and obsoleted names. Their ids are
    /// the first `NameId`s (a name only provides carry has no candidates): first the
    /// primary repository's index's own, then `overflow`'s.
    primary: &'a RepoIndex,
    overflow: Overflow<'a>,
    n_caps: usize,
    /// Names interned while solving (requests, clause texts); their `NameId`s follow the
    /// capability names. They have no candidates.
    extra_names: RefCell<Interned<Rc<str>>>,
    /// Candidates of name `n` are the solvables `name_off[n]..name_off[n + 1]`
    /// (solvables are numbered name by name).
    name_off: Vec<u32>,
    /// Every solvable id in order, so a name's candidates are a slice of it.
    all_sids: Vec<SolvableId>,
    multi: Vec<bool>,
    /// Solvables whose Obsoletes name capability `c`: `obs_list[obs_off[c]..obs_off[c + 1]]`.
    obs_off: Vec<u32>,
    obs_list: Vec<SolvableId>,
    /// Solvables with an explicit provide of capability `c` (other than their own name):
    /// `prov_list[prov_off[c]..prov_off[c + 1]]`, in solvable order.
    prov_off: Vec<u32>,
    prov_list: Vec<SolvableId>,
    /// Path -> solvables owning it, for the paths any candidate depends on.
    files: OnceCell<HashMap<&'a str, Vec<SolvableId>>>,
    extra_files: RefCell<HashMap<String, Vec<SolvableId>>>,
    atoms: RefCell<AtomTable>,
    vsets: RefCell<Interned<(NameId, VsKind)>>,
    lit_cache: RefCell<HashMap<VsKind, Vec<VersionSetId>>>,
    unions: RefCell<Interned<Vec<VersionSetId>>>,
    conds: RefCell<Interned<Condition>>,
    strings: RefCell<Interned<String>>,
    /// Human text of each requirement (the dependency as the package wrote it).
    pub(crate) req_text: RefCell<HashMap<Requirement, String>>,
    missing_files: RefCell<BTreeSet<String>>,
    /// Extra file paths to index (from the request).
    request_paths: Vec<String>,
}

/// Interned atoms, looked up by their spelling: two atoms that differ only in how a
/// version is written (`1.0` / `1.00`) get different ids, which costs a little sharing
/// but never correctness, and hashing the spelling is much cheaper than rpm's segments.
#[derive(Debug, Default)]
struct AtomTable {
    items: Vec<Rc<Atom>>,
    /// Spelling hash -> ids with that hash.
    index: HashMap<u64, Vec<u32>>,
}

fn atom_spelling_hash(a: &Atom) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(a.name.as_bytes());
    h.write_u8(0xff);
    if let Some(c) = &a.constraint {
        h.write_u8(c.op as u8);
        match &c.version {
            cairn_version::Version::Rpm(e) => {
                h.write_u64(e.epoch);
                h.write(e.version.as_bytes());
                h.write_u8(0xff);
                if let Some(r) = &e.release {
                    h.write(r.as_bytes());
                }
            }
            cairn_version::Version::Deb(d) => {
                h.write_u64(d.epoch);
                h.write(d.upstream.as_bytes());
                h.write_u8(0xff);
                h.write(d.revision.as_bytes());
            }
        }
    }
    if let Some(arch) = &a.arch {
        h.write_u8(0xfe);
        h.write(arch.as_bytes());
    }
    h.finish()
}

/// Same spelling (implies equal atoms).
fn atom_same_spelling(a: &Atom, b: &Atom) -> bool {
    use cairn_version::Version::{Deb, Rpm};
    a.name == b.name
        && a.arch == b.arch
        && match (a.constraint.as_deref(), b.constraint.as_deref()) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                x.op == y.op
                    && match (&x.version, &y.version) {
                        (Rpm(v), Rpm(w)) => {
                            v.epoch == w.epoch && v.version == w.version && v.release == w.release
                        }
                        (Deb(v), Deb(w)) => {
                            v.epoch == w.epoch
                                && v.upstream == w.upstream
                                && v.revision == w.revision
                        }
                        _ => false,
                    }
            }
            _ => false,
        }
}

/// Minimal glob: `*` any run, `?` one character.
pub(crate) fn glob_match(pat: &str, s: &str) -> bool {
    fn rec(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| rec(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && rec(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && rec(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    rec(&p, &s)
}

fn arch_ok(flavor: Flavor, target: &str, arch: &str) -> bool {
    arch == target
        || match flavor {
            Flavor::Rpm => arch == "noarch",
            Flavor::Deb => arch == "all",
        }
}

/// Capability names found only in repositories other than the primary one (see
/// [`Pool`]), borrowed from their indexes.
#[derive(Debug, Default)]
struct Overflow<'a> {
    names: Vec<&'a str>,
    hashes: Vec<u64>,
    table: hashbrown::HashTable<u32>,
}

impl<'a> Overflow<'a> {
    fn find(&self, s: &str, h: u64) -> Option<u32> {
        self.table
            .find(h, |&i| {
                self.hashes[i as usize] == h && self.names[i as usize] == s
            })
            .copied()
    }

    fn intern(&mut self, s: &'a str, h: u64) -> u32 {
        if let Some(i) = self.find(s, h) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s);
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.table.insert_unique(h, i, |&j| hashes[j as usize]);
        i
    }
}

/// Groups `(key, value)` pairs by key into `off`/`list` (values of key `k` are
/// `list[off[k]..off[k + 1]]`), each group sorted.
fn group_pairs(n_keys: usize, pairs: &[(u32, u32)]) -> (Vec<u32>, Vec<SolvableId>) {
    let mut off = vec![0u32; n_keys + 1];
    for &(c, _) in pairs {
        off[c as usize + 1] += 1;
    }
    for i in 0..n_keys {
        off[i + 1] += off[i];
    }
    let mut list = vec![SolvableId::from_index(0); pairs.len()];
    let mut fill: Vec<u32> = off[..n_keys].to_vec();
    for &(c, s) in pairs {
        let slot = &mut fill[c as usize];
        list[*slot as usize] = SolvableId::from_index(s as usize);
        *slot += 1;
    }
    for k in 0..n_keys {
        let g = &mut list[off[k] as usize..off[k + 1] as usize];
        if g.len() > 1 {
            g.sort_unstable();
        }
    }
    (off, list)
}

impl<'a> Pool<'a> {
    /// The pool for `req` over `repos`, whose indexes are `idx` (one per repository).
    /// Only integer work: names were interned when the indexes were built.
    pub(crate) fn new(
        repos: &'a [RepoPackages],
        idx: &[&'a RepoIndex],
        req: &Request,
        flavor: Flavor,
    ) -> Self {
        static EMPTY: RepoIndex = RepoIndex::EMPTY;
        // the repository with the most names lends its ids; the others' names map onto
        // them, and names only they have follow
        let primary_i = (0..idx.len()).max_by_key(|&r| idx[r].caps.len());
        let primary: &'a RepoIndex = primary_i.map_or(&EMPTY, |r| idx[r]);
        let n_primary = primary.caps.len() as u32;
        let mut overflow = Overflow::default();
        let mut to_global: Vec<Vec<u32>> = vec![Vec::new(); idx.len()];
        for (r, ix) in idx.iter().enumerate() {
            if Some(r) == primary_i {
                continue;
            }
            to_global[r] = (0..ix.caps.len() as u32)
                .map(|c| {
                    let (name, h) = (ix.caps.get(c), ix.caps.hash(c));
                    primary
                        .caps
                        .find(name, h)
                        .unwrap_or_else(|| n_primary + overflow.intern(name, h))
                })
                .collect();
        }
        let n_caps = (n_primary + overflow.names.len() as u32) as usize;
        let global = |r: usize, c: u32| -> u32 {
            if Some(r) == primary_i {
                c
            } else {
                to_global[r][c as usize]
            }
        };
        let cap_str = |c: u32| -> &'a str {
            if c < n_primary {
                primary.caps.get(c)
            } else {
                overflow.names[(c - n_primary) as usize]
            }
        };

        // candidates: eligible packages (arch, excludes) from the best-priority
        // repositories of their name
        const NONE: u32 = u32::MAX;
        let total: usize = repos.iter().map(|r| r.packages.len()).sum();
        let mut gid_of: Vec<u32> = Vec::with_capacity(total);
        let mut best: Vec<i32> = vec![i32::MAX; n_caps];
        // per name: 0 not yet matched against the excludes, 1 kept, 2 excluded
        let mut excluded: Vec<u8> = if req.excludes.is_empty() {
            Vec::new()
        } else {
            vec![0; n_caps]
        };
        for (r, (repo, ix)) in repos.iter().zip(idx).enumerate() {
            let arch_ok: Vec<bool> = ix
                .arches
                .iter()
                .map(|a| arch_ok(flavor, &req.arch, a))
                .collect();
            for (&name, &arch) in ix.pkg_name.iter().zip(&ix.pkg_arch) {
                if !arch_ok[arch as usize] {
                    gid_of.push(NONE);
                    continue;
                }
                let g = global(r, name);
                if !excluded.is_empty() {
                    let e = &mut excluded[g as usize];
                    if *e == 0 {
                        let n = cap_str(g);
                        *e = if req.excludes.iter().any(|p| glob_match(p, n)) {
                            2
                        } else {
                            1
                        };
                    }
                    if *e == 2 {
                        gid_of.push(NONE);
                        continue;
                    }
                }
                let b = &mut best[g as usize];
                *b = (*b).min(repo.priority);
                gid_of.push(g);
            }
        }
        drop(excluded);
        // numbered name by name, each name's in repository and package order
        let mut name_off = vec![0u32; n_caps + 1];
        let mut k = 0;
        for repo in repos {
            for _ in &repo.packages {
                let g = gid_of[k];
                k += 1;
                if g != NONE && repo.priority == best[g as usize] {
                    name_off[g as usize + 1] += 1;
                }
            }
        }
        for i in 0..n_caps {
            name_off[i + 1] += name_off[i];
        }
        let n_solv = name_off[n_caps] as usize;
        let mut solvables = vec![
            Solv {
                repo: 0,
                pkg: 0,
                name: NameId::from_index(0),
            };
            n_solv
        ];
        // per package (all repositories, in order): its solvable, or NONE
        let mut sid_of: Vec<u32> = vec![NONE; total];
        let mut fill: Vec<u32> = name_off[..n_caps].to_vec();
        let mut k = 0;
        for (ri, repo) in repos.iter().enumerate() {
            for pi in 0..repo.packages.len() {
                let g = gid_of[k];
                if g != NONE && repo.priority == best[g as usize] {
                    let slot = &mut fill[g as usize];
                    solvables[*slot as usize] = Solv {
                        repo: ri as u32,
                        pkg: pi as u32,
                        name: NameId::from_index(g as usize),
                    };
                    sid_of[k] = *slot;
                    *slot += 1;
                }
                k += 1;
            }
        }
        drop((gid_of, fill, best));
        let all_sids: Vec<SolvableId> = (0..n_solv).map(SolvableId::from_index).collect();

        // explicit provides and obsoletes of the candidates, grouped by name
        let mut prov_pairs: Vec<(u32, u32)> = Vec::new();
        let mut obs_pairs: Vec<(u32, u32)> = Vec::new();
        let mut base = 0;
        for (r, (repo, ix)) in repos.iter().zip(idx).enumerate() {
            for (out, pairs) in [
                (&mut prov_pairs, &ix.provides),
                (&mut obs_pairs, &ix.obsoletes),
            ] {
                out.reserve(pairs.len());
                for &(c, p) in pairs {
                    let s = sid_of[base + p as usize];
                    if s != NONE {
                        out.push((global(r, c), s));
                    }
                }
            }
            base += repo.packages.len();
        }
        drop(sid_of);
        let (prov_off, prov_list) = group_pairs(n_caps, &prov_pairs);
        let (obs_off, obs_list) = group_pairs(n_caps, &obs_pairs);
        drop((prov_pairs, obs_pairs, to_global));

        let mut pool = Pool {
            repos,
            flavor,
            arch: req.arch.clone(),
            solvables,
            primary,
            overflow,
            n_caps,
            extra_names: RefCell::new(Interned::new()),
            name_off,
            all_sids,
            multi: Vec::new(),
            obs_off,
            obs_list,
            prov_off,
            prov_list,
            files: OnceCell::new(),
            extra_files: RefCell::new(HashMap::default()),
            atoms: RefCell::new(AtomTable::default()),
            vsets: RefCell::new(Interned::new()),
            lit_cache: RefCell::new(HashMap::default()),
            unions: RefCell::new(Interned::new()),
            conds: RefCell::new(Interned::new()),
            strings: RefCell::new(Interned::new()),
            req_text: RefCell::new(HashMap::default()),
            missing_files: RefCell::new(BTreeSet::new()),
            request_paths: req
                .install
                .iter()
                .filter(|s| s.starts_with('/'))
                .cloned()
                .collect(),
        };
        // install-only: by name, or by a provide of a listed capability
        let mut multi = vec![false; n_caps];
        for io in &req.installonly {
            if let Some(n) = pool.existing_name(io) {
                multi[n.to_index()] = true;
            }
            for &s in pool.explicit_providers(io) {
                multi[pool.solvables[s.to_index()].name.to_index()] = true;
            }
        }
        pool.multi = multi;
        pool
    }

    /// The id of capability name `s`, if any repository knows it.
    fn cap(&self, s: &str) -> Option<u32> {
        let h = crate::index::hash_str(s);
        let n_primary = self.primary.caps.len() as u32;
        self.primary
            .caps
            .find(s, h)
            .or_else(|| self.overflow.find(s, h).map(|i| n_primary + i))
    }

    fn cap_str(&self, c: u32) -> &'a str {
        let n_primary = self.primary.caps.len() as u32;
        if c < n_primary {
            self.primary.caps.get(c)
        } else {
            self.overflow.names[(c - n_primary) as usize]
        }
    }

    fn prov_of(&self, c: u32) -> &[SolvableId] {
        let c = c as usize;
        &self.prov_list[self.prov_off[c] as usize..self.prov_off[c + 1] as usize]
    }

    /// Solvables with an explicit provide named `cap` (not counting their own name).
    fn explicit_providers(&self, cap: &str) -> &[SolvableId] {
        self.cap(cap).map_or(&[], |c| self.prov_of(c))
    }

    /// Candidates whose Obsoletes name `name`.
    pub(crate) fn obsoleters(&self, name: &str) -> &[SolvableId] {
        match self.cap(name) {
            Some(c) => {
                let c = c as usize;
                &self.obs_list[self.obs_off[c] as usize..self.obs_off[c + 1] as usize]
            }
            None => &[],
        }
    }

    pub(crate) fn pkg(&self, s: SolvableId) -> &'a Package {
        let v = self.solvables[s.to_index()];
        &self.repos[v.repo as usize].packages[v.pkg as usize]
    }

    pub(crate) fn location(&self, s: SolvableId) -> (usize, usize) {
        let v = self.solvables[s.to_index()];
        (v.repo as usize, v.pkg as usize)
    }

    pub(crate) fn solvable_count(&self) -> usize {
        self.solvables.len()
    }

    /// The name `name` if some candidate carries it.
    pub(crate) fn existing_name(&self, name: &str) -> Option<NameId> {
        if let Some(c) = self.cap(name)
            && !self
                .candidates_of(NameId::from_index(c as usize))
                .is_empty()
        {
            return Some(NameId::from_index(c as usize));
        }
        self.extra_names
            .borrow()
            .index
            .get(name)
            .map(|&i| NameId::from_index(self.n_caps + i as usize))
    }

    fn intern_name(&self, name: &str) -> NameId {
        if let Some(c) = self.cap(name) {
            return NameId::from_index(c as usize);
        }
        if let Some(n) = self.existing_name(name) {
            return n;
        }
        let i = self.extra_names.borrow_mut().intern(Rc::from(name));
        NameId::from_index(self.n_caps + i as usize)
    }

    pub(crate) fn candidates_of(&self, n: NameId) -> &[SolvableId] {
        let i = n.to_index();
        if i >= self.n_caps {
            return &[];
        }
        &self.all_sids[self.name_off[i] as usize..self.name_off[i + 1] as usize]
    }

    pub(crate) fn is_multi(&self, n: NameId) -> bool {
        self.multi.get(n.to_index()).copied().unwrap_or(false)
    }

    pub(crate) fn intern_atom(&self, a: &Atom) -> u32 {
        let h = atom_spelling_hash(a);
        let mut atoms = self.atoms.borrow_mut();
        if let Some(ids) = atoms.index.get(&h)
            && let Some(&i) = ids
                .iter()
                .find(|&&i| atom_same_spelling(&atoms.items[i as usize], a))
        {
            return i;
        }
        let i = atoms.items.len() as u32;
        atoms.items.push(Rc::new(a.clone()));
        atoms.index.entry(h).or_default().push(i);
        i
    }

    /// An interned atom (a reference count, not a copy: this is on the solver's hot path).
    pub(crate) fn atom(&self, i: u32) -> Rc<Atom> {
        Rc::clone(&self.atoms.borrow().items[i as usize])
    }

    fn intern_vs(&self, name: NameId, kind: VsKind) -> VersionSetId {
        VersionSetId(self.vsets.borrow_mut().intern((name, kind)))
    }

    pub(crate) fn vs(&self, vs: VersionSetId) -> (NameId, VsKind) {
        self.vsets.borrow().items[vs.0 as usize].clone()
    }

    fn intern_union(&self, v: Vec<VersionSetId>) -> VersionSetUnionId {
        VersionSetUnionId(self.unions.borrow_mut().intern(v))
    }

    fn intern_cond(&self, c: Condition) -> ConditionId {
        ConditionId::new(self.conds.borrow_mut().intern(c))
    }

    pub(crate) fn name_str(&self, n: NameId) -> std::borrow::Cow<'a, str> {
        let i = n.to_index();
        if i < self.n_caps {
            std::borrow::Cow::Borrowed(self.cap_str(i as u32))
        } else {
            std::borrow::Cow::Owned(self.extra_names.borrow().items[i - self.n_caps].to_string())
        }
    }

    pub(crate) fn nevra(&self, s: SolvableId) -> String {
        self.pkg(s).nevra()
    }

    /// File path -> owners, for every path any candidate (or the request) depends on.
    fn file_map(&self) -> &HashMap<&'a str, Vec<SolvableId>> {
        self.files.get_or_init(|| {
            let mut wanted: HashSet<&str> = self.request_paths.iter().map(String::as_str).collect();
            for i in 0..self.solvables.len() {
                let p = self.pkg(SolvableId::from_index(i));
                for d in p
                    .requires
                    .iter()
                    .chain(&p.recommends)
                    .chain(&p.supplements)
                    .chain(&p.conflicts)
                {
                    for a in d.atoms() {
                        if a.is_file() {
                            wanted.insert(a.name.as_str());
                        }
                    }
                }
            }
            let mut map: HashMap<&'a str, Vec<SolvableId>> = HashMap::default();
            if wanted.is_empty() {
                return map;
            }
            for i in 0..self.solvables.len() {
                let sid = SolvableId::from_index(i);
                for f in &self.pkg(sid).files {
                    if wanted.contains(f.as_str()) {
                        let v = map.entry(f.as_str()).or_default();
                        if v.last() != Some(&sid) {
                            v.push(sid);
                        }
                    }
                }
            }
            map
        })
    }

    fn file_owners(&self, path: &str) -> Vec<SolvableId> {
        if let Some(v) = self.file_map().get(path) {
            return v.clone();
        }
        if let Some(v) = self.extra_files.borrow().get(path) {
            return v.clone();
        }
        // a path not known in advance (rare): scan once and remember
        let v: Vec<SolvableId> = (0..self.solvables.len())
            .map(SolvableId::from_index)
            .filter(|&s| self.pkg(s).files.iter().any(|f| f == path))
            .collect();
        self.extra_files
            .borrow_mut()
            .insert(path.to_owned(), v.clone());
        v
    }

    /// Does solvable `s` provide `a` (its own name and version, a provide, or a file)?
    pub(crate) fn provides(&self, s: SolvableId, a: &Atom) -> bool {
        let p = self.pkg(s);
        if a.is_file() {
            if self
                .file_map()
                .get(a.name.as_str())
                .is_some_and(|v| v.contains(&s))
                || self
                    .extra_files
                    .borrow()
                    .get(&a.name)
                    .is_some_and(|v| v.contains(&s))
            {
                return true;
            }
        } else if p.name == a.name
            && a.constraint
                .as_ref()
                .is_none_or(|c| version_satisfies(&p.version, c))
        {
            return true;
        }
        p.provides
            .iter()
            .any(|d| matches!(d, Dep::Atom(pa) if provide_matches(self.flavor, pa, a)))
    }

    /// Every candidate providing `a`, deduplicated, in pool order.
    pub(crate) fn providers(&self, a: &Atom) -> Vec<SolvableId> {
        let mut out = Vec::new();
        if let Some(c) = self.cap(&a.name) {
            let n = NameId::from_index(c as usize);
            out.extend(
                self.candidates_of(n)
                    .iter()
                    .copied()
                    .filter(|&s| self.provides(s, a)),
            );
            out.extend(
                self.prov_of(c)
                    .iter()
                    .copied()
                    .filter(|&s| self.solvables[s.to_index()].name != n && self.provides(s, a)),
            );
        }
        if a.is_file() {
            for s in self.file_owners(&a.name) {
                if self.pkg(s).name != a.name {
                    out.push(s);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn matches(&self, kind: &VsKind, s: SolvableId) -> bool {
        match kind {
            VsKind::Provides(a) => self.provides(s, &self.atom(*a)),
            VsKind::With(v) => v.iter().all(|a| self.provides(s, &self.atom(*a))),
            VsKind::Without(a, b) => {
                self.provides(s, &self.atom(*a)) && !self.provides(s, &self.atom(*b))
            }
            VsKind::Not(inner, except) => Some(s) == *except || !self.matches(inner, s),
            VsKind::NotObsoleted(a, except) => {
                let a = self.atom(*a);
                let p = self.pkg(s);
                Some(s) == *except
                    || !(p.name == a.name
                        && a.constraint
                            .as_ref()
                            .is_none_or(|c| version_satisfies(&p.version, c)))
            }
            VsKind::Obsoleting(a) => {
                let a = self.atom(*a);
                self.pkg(s)
                    .obsoletes
                    .iter()
                    .any(|d| matches!(d, Dep::Atom(o) if o.name == a.name))
            }
            VsKind::Only(o) => s == *o,
            VsKind::Never => false,
        }
    }

    /// Sort key of a candidate within its name: best first.
    fn cmp_candidates(&self, a: SolvableId, b: SolvableId) -> std::cmp::Ordering {
        let (pa, pb) = (self.pkg(a), self.pkg(b));
        // libsolv ranks noarch above every real arch; apt prefers the native arch
        let arch_rank = |p: &Package| match self.flavor {
            Flavor::Rpm => u8::from(p.arch != "noarch"),
            Flavor::Deb => u8::from(p.arch != self.arch),
        };
        pb.version
            .cmp(&pa.version)
            .then_with(|| arch_rank(pa).cmp(&arch_rank(pb)))
            .then_with(|| a.cmp(&b))
    }

    /// Order provider names by preference (see the crate docs): the name equal to the
    /// capability first, then alphabetical (libsolv sorts differing names with strcmp).
    fn order_names(&self, cap: &str, groups: &mut [(NameId, Vec<SolvableId>)]) {
        groups.sort_by_cached_key(|(n, _)| {
            let name = self.name_str(*n);
            (&*name != cap, name)
        });
    }

    fn group_by_name(&self, sols: &[SolvableId]) -> Vec<(NameId, Vec<SolvableId>)> {
        let mut groups: Vec<(NameId, Vec<SolvableId>)> = Vec::new();
        for &s in sols {
            let n = self.solvables[s.to_index()].name;
            match groups.iter_mut().find(|g| g.0 == n) {
                Some(g) => g.1.push(s),
                None => groups.push((n, vec![s])),
            }
        }
        groups
    }

    /// The kind selecting a literal's providers.
    fn lit_kind(&self, lit: &Lit<'_>) -> VsKind {
        match lit {
            Lit::Atom(a) => VsKind::Provides(self.intern_atom(a)),
            Lit::With(v) => VsKind::With(v.iter().map(|a| self.intern_atom(a)).collect()),
            Lit::Without(a, b) => VsKind::Without(self.intern_atom(a), self.intern_atom(b)),
        }
    }

    /// A literal's providers, and the capability naming it.
    fn lit_providers<'l>(&self, lit: &Lit<'l>) -> (Vec<SolvableId>, &'l str) {
        match lit {
            Lit::Atom(a) => (self.providers(a), a.name.as_str()),
            Lit::With(v) => {
                let sols = self
                    .providers(v[0])
                    .into_iter()
                    .filter(|&s| v.iter().all(|a| self.provides(s, a)))
                    .collect();
                (sols, v[0].name.as_str())
            }
            Lit::Without(a, b) => {
                let sols = self
                    .providers(a)
                    .into_iter()
                    .filter(|&s| !self.provides(s, b))
                    .collect();
                (sols, a.name.as_str())
            }
        }
    }

    /// Version sets (one per provider name, best first) that satisfy a literal.
    pub(crate) fn lit_vsets(&self, lit: &Lit<'_>) -> Vec<VersionSetId> {
        let kind = self.lit_kind(lit);
        if let Some(v) = self.lit_cache.borrow().get(&kind) {
            return v.clone();
        }
        let (sols, cap) = self.lit_providers(lit);
        if sols.is_empty()
            && let Lit::Atom(a) = lit
            && a.is_file()
        {
            self.missing_files.borrow_mut().insert(a.name.clone());
        }
        let mut groups = self.group_by_name(&sols);
        self.order_names(cap, &mut groups);
        let out: Vec<VersionSetId> = groups
            .into_iter()
            .map(|(n, _)| self.intern_vs(n, kind.clone()))
            .collect();
        self.lit_cache.borrow_mut().insert(kind, out.clone());
        out
    }

    /// A version set that nothing satisfies, shown as `text`.
    fn never(&self, lit: Option<&Lit<'_>>, text: &str) -> VersionSetId {
        match lit {
            Some(Lit::Atom(a)) => {
                let id = self.intern_atom(a);
                self.intern_vs(self.intern_name(&a.name), VsKind::Provides(id))
            }
            _ => self.intern_vs(self.intern_name(text), VsKind::Never),
        }
    }

    fn or_condition(&self, vs: &[VersionSetId]) -> ConditionId {
        let mut c = self.intern_cond(Condition::Requirement(vs[0]));
        for &v in &vs[1..] {
            let r = self.intern_cond(Condition::Requirement(v));
            c = self.intern_cond(Condition::Binary(LogicalOperator::Or, c, r));
        }
        c
    }

    /// A clause as a resolvo requirement; `None` when it always holds.
    fn clause_req(
        &self,
        clause: &Clause<'_>,
        text: &dyn Fn() -> String,
    ) -> Option<ConditionalRequirement> {
        let mut pos: Vec<VersionSetId> = Vec::new();
        let mut first_pos: Option<&Lit<'_>> = None;
        let mut cond: Option<ConditionId> = None;
        for (lit, p) in clause {
            let vs = self.lit_vsets(lit);
            if *p {
                first_pos.get_or_insert(lit);
                for v in vs {
                    if !pos.contains(&v) {
                        pos.push(v);
                    }
                }
            } else {
                if vs.is_empty() {
                    return None; // the negated literal is true: the clause holds
                }
                let c = self.or_condition(&vs);
                cond = Some(match cond {
                    None => c,
                    Some(prev) => {
                        self.intern_cond(Condition::Binary(LogicalOperator::And, prev, c))
                    }
                });
            }
        }
        if self.flavor == Flavor::Rpm && pos.len() > 1 {
            // libsolv merges the providers of all alternatives and picks by name
            let caps: Vec<&str> = clause
                .iter()
                .filter_map(|(l, p)| match l {
                    Lit::Atom(a) if *p => Some(a.name.as_str()),
                    _ => None,
                })
                .collect();
            pos.sort_by_cached_key(|&v| {
                let name = self.name_str(self.version_set_name(v));
                (!caps.contains(&&*name), name)
            });
        }
        let requirement = match pos.len() {
            0 => Requirement::Single(self.never(first_pos, &text())),
            1 => Requirement::Single(pos[0]),
            _ => Requirement::Union(self.intern_union(pos)),
        };
        self.req_text
            .borrow_mut()
            .entry(requirement)
            .or_insert_with(text);
        Some(ConditionalRequirement {
            condition: cond,
            requirement,
        })
    }

    /// Requirements for one dependency expression.
    pub(crate) fn dep_reqs(&self, d: &Dep, out: &mut Vec<ConditionalRequirement>) {
        let text = || d.to_string();
        for clause in rich::cnf(d, true) {
            if let Some(r) = self.clause_req(&clause, &text)
                && !out.contains(&r)
            {
                out.push(r);
            }
        }
    }

    fn deps_of(&self, s: SolvableId) -> KnownDependencies {
        let p = self.pkg(s);
        let me = self.solvables[s.to_index()].name;
        let mut requirements = Vec::new();
        let mut constrains = Vec::new();
        for d in &p.requires {
            self.dep_reqs(d, &mut requirements);
        }
        for d in &p.conflicts {
            let text = || format!("conflict with {d}");
            for clause in rich::cnf(d, false) {
                if let [(lit, false)] = clause.as_slice() {
                    let kind = self.lit_kind(lit);
                    let (sols, _) = self.lit_providers(lit);
                    let sols: Vec<SolvableId> = sols.into_iter().filter(|&o| o != s).collect();
                    for (n, _) in self.group_by_name(&sols) {
                        let except = (n == me).then_some(s);
                        let v = self.intern_vs(n, VsKind::Not(Box::new(kind.clone()), except));
                        if !constrains.contains(&v) {
                            constrains.push(v);
                        }
                    }
                } else if let Some(r) = self.clause_req(&clause, &text) {
                    requirements.push(r);
                }
            }
        }
        if self.flavor == Flavor::Rpm {
            for d in &p.obsoletes {
                let Dep::Atom(a) = d else { continue };
                let Some(n) = self.existing_name(&a.name) else {
                    continue;
                };
                let hit = self.candidates_of(n).iter().any(|&o| {
                    o != s
                        && a.constraint
                            .as_ref()
                            .is_none_or(|c| version_satisfies(&self.pkg(o).version, c))
                });
                if hit {
                    let except = (n == me).then_some(s);
                    let v = self.intern_vs(n, VsKind::NotObsoleted(self.intern_atom(a), except));
                    if !constrains.contains(&v) {
                        constrains.push(v);
                    }
                }
            }
        }
        KnownDependencies {
            requirements,
            constrains,
        }
    }

    pub(crate) fn display_kind(&self, kind: &VsKind) -> String {
        let cons = |a: &Atom| match &a.constraint {
            Some(c) => format!(
                "{} {}",
                if self.flavor == Flavor::Rpm {
                    c.op.rpm_str()
                } else {
                    c.op.deb_str()
                },
                c.version
            ),
            None => String::new(),
        };
        match kind {
            VsKind::Provides(a) => {
                let a = self.atom(*a);
                format!("providing {a}")
            }
            VsKind::With(v) => {
                let v: Vec<String> = v.iter().map(|a| self.atom(*a).to_string()).collect();
                format!("providing ({})", v.join(" with "))
            }
            VsKind::Without(a, b) => {
                format!("providing ({} without {})", self.atom(*a), self.atom(*b))
            }
            VsKind::Not(inner, _) => format!("not {}", self.display_kind(inner)),
            VsKind::NotObsoleted(a, _) => format!(
                "not obsoleted by {} {}",
                self.atom(*a).name,
                cons(&self.atom(*a))
            ),
            VsKind::Obsoleting(a) => format!("obsoleting {}", self.atom(*a).name),
            VsKind::Only(o) => format!("= {}", self.pkg(*o).version),
            VsKind::Never => "(nothing)".to_owned(),
        }
    }
}

impl Interner for Pool<'_> {
    type NameId = NameId;
    type SolvableId = SolvableId;

    fn display_solvable(&self, solvable: SolvableId) -> impl Display + '_ {
        self.nevra(solvable)
    }
    fn display_name(&self, name: NameId) -> impl Display + '_ {
        self.name_str(name)
    }
    fn display_version_set(&self, version_set: VersionSetId) -> impl Display + '_ {
        self.display_kind(&self.vs(version_set).1)
    }
    fn display_string(&self, string_id: StringId) -> impl Display + '_ {
        self.strings.borrow().items[string_id.0 as usize].clone()
    }
    fn version_set_name(&self, version_set: VersionSetId) -> NameId {
        self.vsets.borrow().items[version_set.0 as usize].0
    }
    fn solvable_name(&self, solvable: SolvableId) -> NameId {
        self.solvables[solvable.to_index()].name
    }
    fn version_sets_in_union(&self, u: VersionSetUnionId) -> impl Iterator<Item = VersionSetId> {
        self.unions.borrow().items[u.0 as usize].clone().into_iter()
    }
    fn resolve_condition(&self, condition: ConditionId) -> Condition {
        self.conds.borrow().items[condition.as_u32() as usize].clone()
    }
}

impl DependencyProvider for Pool<'_> {
    async fn filter_candidates(
        &self,
        candidates: &[SolvableId],
        version_set: VersionSetId,
        inverse: bool,
    ) -> Vec<SolvableId> {
        let kind = self.vs(version_set).1;
        candidates
            .iter()
            .copied()
            .filter(|&s| self.matches(&kind, s) != inverse)
            .collect()
    }

    async fn get_candidates(&self, name: NameId) -> Option<Candidates<SolvableId>> {
        let c = self.candidates_of(name);
        if c.is_empty() {
            return None;
        }
        Some(Candidates {
            candidates: c.to_vec(),
            hint_dependencies_available: HintDependenciesAvailable::All,
            allow_multiple: self.is_multi(name),
            ..Candidates::default()
        })
    }

    async fn sort_candidates(&self, _solver: &SolverCache<Self>, solvables: &mut [SolvableId]) {
        solvables.sort_by(|&a, &b| self.cmp_candidates(a, b));
    }

    async fn get_dependencies(&self, solvable: SolvableId) -> Dependencies {
        Dependencies::Known(self.deps_of(solvable))
    }
}

/// One root requirement and what it came from.
struct RootReq {
    req: ConditionalRequirement,
    dep: Dep,
    reason: Reason,
}

fn parse_request(flavor: Flavor, entry: &str) -> Result<Dep, SolveError> {
    let bad = |reason: String| SolveError::BadRequest {
        entry: entry.to_owned(),
        reason,
    };
    let entry = entry.trim();
    if !entry.is_empty()
        && !entry.contains(|c: char| {
            c.is_whitespace() || "()<>=|,".contains(c) || (c == ':' && flavor == Flavor::Deb)
        })
    {
        return Ok(Dep::atom(entry));
    }
    match flavor {
        Flavor::Rpm => parse_rpm_dep(entry).map_err(|e| bad(e.to_string())),
        Flavor::Deb => {
            let mut v = parse_deb_relations(entry).map_err(|e| bad(e.to_string()))?;
            match v.len() {
                0 => Err(bad("empty".into())),
                1 => Ok(v.remove(0)),
                _ => Ok(Dep::And(v)),
            }
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn suggestions(pool: &Pool<'_>, name: &str) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = (0..pool.n_caps)
        .filter(|&c| !pool.candidates_of(NameId::from_index(c)).is_empty())
        .map(|c| pool.cap_str(c as u32))
        .filter_map(|n| {
            let d = edit_distance(name, n);
            let close = d <= 2.max(name.len() / 4) || (name.len() >= 3 && n.contains(name));
            close.then_some((d, n))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(5)
        .map(|(_, n)| n.to_string())
        .collect()
}

pub(crate) fn solve(
    repos: &[RepoPackages],
    idx: &[&RepoIndex],
    req: &Request,
) -> Result<Solution, SolveError> {
    let flavor = match idx.iter().fold(0, |f, ix| f | ix.flavors) {
        0 | 1 => Flavor::Rpm,
        2 => Flavor::Deb,
        _ => return Err(SolveError::MixedFlavors),
    };
    let pool = Pool::new(repos, idx, req, flavor);

    let mut roots: Vec<RootReq> = Vec::new();
    for entry in &req.install {
        let dep = parse_request(flavor, entry)?;
        // every positive atom must match something
        let atoms = dep.atoms();
        if atoms.iter().all(|a| pool.providers(a).is_empty()) {
            let files: Vec<String> = atoms
                .iter()
                .filter(|a| a.is_file())
                .map(|a| a.name.clone())
                .collect();
            if !files.is_empty() && !req.filelists_loaded {
                return Err(SolveError::NeedFilelists { files });
            }
            let name = atoms
                .first()
                .map_or_else(|| entry.clone(), |a| a.name.clone());
            return Err(SolveError::UnknownRequest {
                suggestions: suggestions(&pool, &name),
                name,
            });
        }
        let mut reqs = Vec::new();
        match &dep {
            Dep::Atom(a) if flavor == Flavor::Rpm && pool.existing_name(&a.name).is_some() => {
                // dnf: a request for a name also matches the packages obsoleting it
                let id = pool.intern_atom(a);
                let obsoleters: Vec<SolvableId> = pool.obsoleters(&a.name).to_vec();
                let mut vs: Vec<VersionSetId> = pool
                    .group_by_name(&obsoleters)
                    .into_iter()
                    .filter(|(n, _)| *pool.name_str(*n) != *a.name)
                    .map(|(n, _)| pool.intern_vs(n, VsKind::Obsoleting(id)))
                    .collect();
                for v in pool.lit_vsets(&Lit::Atom(a)) {
                    let (n, kind) = pool.vs(v);
                    if pool.is_multi(n) {
                        // install-only: the request installs just the best one
                        let best = pool
                            .candidates_of(n)
                            .iter()
                            .copied()
                            .filter(|&s| pool.matches(&kind, s))
                            .min_by(|&x, &y| pool.cmp_candidates(x, y));
                        if let Some(b) = best {
                            vs.push(pool.intern_vs(n, VsKind::Only(b)));
                        }
                    } else {
                        vs.push(v);
                    }
                }
                let requirement = if vs.len() == 1 {
                    Requirement::Single(vs[0])
                } else {
                    Requirement::Union(pool.intern_union(vs))
                };
                reqs.push(ConditionalRequirement {
                    condition: None,
                    requirement,
                });
            }
            _ => pool.dep_reqs(&dep, &mut reqs),
        }
        for r in reqs {
            pool.req_text
                .borrow_mut()
                .insert(r.requirement, format!("the request for {entry}"));
            roots.push(RootReq {
                req: r,
                dep: dep.clone(),
                reason: Reason::Requested,
            });
        }
    }
    if req.essential || req.priority_required {
        let mut seen = HashSet::default();
        for i in 0..pool.solvable_count() {
            let s = SolvableId::from_index(i);
            let p = pool.pkg(s);
            let wanted = (req.essential && p.essential)
                || (req.priority_required && p.priority.as_deref() == Some("required"));
            if wanted && seen.insert(p.name.as_str()) {
                let dep = Dep::atom(p.name.clone());
                let mut reqs = Vec::new();
                pool.dep_reqs(&dep, &mut reqs);
                for r in reqs {
                    pool.req_text
                        .borrow_mut()
                        .insert(r.requirement, format!("essential package {}", p.name));
                    roots.push(RootReq {
                        req: r,
                        dep: dep.clone(),
                        reason: Reason::Essential,
                    });
                }
            }
        }
    }

    let root_reqs: Vec<ConditionalRequirement> = roots.iter().map(|r| r.req).collect();
    let mut solver = resolvo::Solver::new(pool);
    let mut soft: Vec<SolvableId> = Vec::new();
    let mut weak_of: HashMap<SolvableId, SolvableId> = HashMap::default();
    let mut tried: HashSet<SolvableId> = HashSet::default();
    let chosen = loop {
        let problem = Problem::new()
            .requirements(root_reqs.clone())
            .soft_requirements(soft.clone());
        let chosen = match solver.solve(problem) {
            Ok(c) => c,
            Err(UnsolvableOrCancelled::Unsolvable(conflict)) => {
                let missing = solver.provider().missing_files.borrow().clone();
                if !missing.is_empty() && !req.filelists_loaded {
                    return Err(SolveError::NeedFilelists {
                        files: missing.into_iter().collect(),
                    });
                }
                let explanation = explain::explain(&conflict, &solver);
                return Err(SolveError::Unsolvable { explanation });
            }
            Err(UnsolvableOrCancelled::Cancelled(_)) => {
                return Err(SolveError::Unsolvable {
                    explanation: "solving was cancelled".into(),
                });
            }
        };
        if !req.weak_deps {
            break chosen;
        }
        let new = crate::pool::weak_candidates(solver.provider(), &chosen, &tried);
        if new.is_empty() {
            break chosen;
        }
        for (s, of) in new {
            tried.insert(s);
            weak_of.insert(s, of);
            soft.push(s);
        }
    };
    let pool = solver.provider();
    let missing = pool.missing_files.borrow().clone();
    if !missing.is_empty() && !req.filelists_loaded {
        return Err(SolveError::NeedFilelists {
            files: missing.into_iter().collect(),
        });
    }
    let protected: HashSet<SolvableId> = weak_of.keys().copied().collect();
    let chosen = prune_redundant(pool, &roots, chosen, &protected);
    Ok(reasons(pool, &roots, &chosen, &weak_of))
}

/// Drop chosen packages nothing needs: not requested, not a weak addition, and every
/// capability a remaining package requires that they provide is also provided by another
/// remaining package. A SAT solver can settle a requirement with one provider before a
/// later decision brings in another that covers it too (for example a real package and a
/// package that `Provides:` its name); dnf and apt would not install the first one.
/// Removal goes one package at a time, so two interchangeable providers never both go.
fn prune_redundant(
    pool: &Pool<'_>,
    roots: &[RootReq],
    mut set: Vec<SolvableId>,
    protected: &HashSet<SolvableId>,
) -> Vec<SolvableId> {
    loop {
        let in_set: HashSet<SolvableId> = set.iter().copied().collect();
        let mut needed: HashSet<SolvableId> = HashSet::default();
        let need = |d: &Dep, needed: &mut HashSet<SolvableId>| match d {
            Dep::Atom(a) => {
                let provs: Vec<SolvableId> = pool
                    .providers(a)
                    .into_iter()
                    .filter(|p| in_set.contains(p))
                    .collect();
                if provs.len() == 1 {
                    needed.insert(provs[0]);
                }
            }
            // rich dependencies: every chosen provider of any of their atoms stays
            rich => {
                for a in rich.atoms() {
                    needed.extend(pool.providers(a).into_iter().filter(|p| in_set.contains(p)));
                }
            }
        };
        for r in roots {
            for a in r.dep.atoms() {
                needed.extend(pool.providers(a).into_iter().filter(|p| in_set.contains(p)));
            }
            // and whatever satisfies the request itself (an obsoleter of a requested
            // name need not provide it)
            let vsets: Vec<VersionSetId> = match r.req.requirement {
                Requirement::Single(v) => vec![v],
                Requirement::Union(u) => pool.version_sets_in_union(u).collect(),
            };
            for v in vsets {
                let (n, kind) = pool.vs(v);
                needed.extend(
                    pool.candidates_of(n)
                        .iter()
                        .filter(|&&s| in_set.contains(&s) && pool.matches(&kind, s)),
                );
            }
        }
        for &s in &set {
            let p = pool.pkg(s);
            for d in &p.requires {
                need(d, &mut needed);
            }
            // a conditional conflict (`unless`, `if`) can come into force when a package
            // leaves: keep whatever its conditions see
            for d in p.conflicts.iter().filter(|d| !matches!(d, Dep::Atom(_))) {
                for a in d.atoms() {
                    needed.extend(pool.providers(a).into_iter().filter(|p| in_set.contains(p)));
                }
            }
        }
        let Some(pos) = set
            .iter()
            .position(|s| !needed.contains(s) && !protected.contains(s))
        else {
            return set;
        };
        set.remove(pos);
    }
}

/// Is `a` provided by one of `chosen`?
fn chosen_provide(pool: &Pool<'_>, chosen: &[SolvableId], a: &Atom) -> Option<SolvableId> {
    chosen.iter().copied().find(|&s| pool.provides(s, a))
}

/// Evaluate a dependency against a set of packages (exact for `with`/`without`).
pub(crate) fn holds(pool: &Pool<'_>, chosen: &[SolvableId], d: &Dep) -> bool {
    rich::cnf(d, true).iter().all(|clause| {
        clause.iter().any(|(lit, p)| {
            let sat = match lit {
                Lit::Atom(a) => chosen_provide(pool, chosen, a).is_some(),
                Lit::With(v) => chosen
                    .iter()
                    .any(|&s| v.iter().all(|a| pool.provides(s, a))),
                Lit::Without(a, b) => chosen
                    .iter()
                    .any(|&s| pool.provides(s, a) && !pool.provides(s, b)),
            };
            sat == *p
        })
    })
}

/// Packages to try next as weak dependencies, each with the package that wants it.
fn weak_candidates(
    pool: &Pool<'_>,
    chosen: &[SolvableId],
    tried: &HashSet<SolvableId>,
) -> Vec<(SolvableId, SolvableId)> {
    let chosen_set: HashSet<SolvableId> = chosen.iter().copied().collect();
    let chosen_names: HashSet<NameId> = chosen.iter().map(|&s| pool.solvable_name(s)).collect();
    let usable = |s: SolvableId| {
        !chosen_set.contains(&s)
            && !tried.contains(&s)
            && (pool.is_multi(pool.solvable_name(s))
                || !chosen_names.contains(&pool.solvable_name(s)))
    };
    let mut out: Vec<(SolvableId, SolvableId)> = Vec::new();
    let mut sorted = chosen.to_vec();
    sorted.sort_by_key(|&s| pool.nevra(s));
    for &s in &sorted {
        for d in &pool.pkg(s).recommends {
            for clause in rich::cnf(d, true) {
                let satisfied = clause.iter().any(|(lit, p)| {
                    let sat = pool.lit_vsets(lit).iter().any(|&vs| {
                        let (n, kind) = pool.vs(vs);
                        pool.candidates_of(n)
                            .iter()
                            .any(|&c| chosen_set.contains(&c) && pool.matches(&kind, c))
                    });
                    sat == *p
                });
                if satisfied {
                    continue;
                }
                // best provider of the first positive literal that has a usable one
                let pick = clause.iter().filter(|(_, p)| *p).find_map(|(lit, _)| {
                    pool.lit_vsets(lit).into_iter().find_map(|vs| {
                        let (n, kind) = pool.vs(vs);
                        let mut c: Vec<SolvableId> = pool
                            .candidates_of(n)
                            .iter()
                            .copied()
                            .filter(|&c| pool.matches(&kind, c))
                            .collect();
                        c.sort_by(|&a, &b| pool.cmp_candidates(a, b));
                        c.into_iter().next().filter(|&c| usable(c))
                    })
                });
                if let Some(c) = pick
                    && !out.iter().any(|o| o.0 == c)
                {
                    out.push((c, s));
                }
            }
        }
    }
    if pool.flavor == Flavor::Rpm {
        for i in 0..pool.solvable_count() {
            let t = SolvableId::from_index(i);
            let p = pool.pkg(t);
            if p.supplements.is_empty() || !usable(t) || out.iter().any(|o| o.0 == t) {
                continue;
            }
            // only the best candidate of its name
            let n = pool.solvable_name(t);
            let best = pool
                .candidates_of(n)
                .iter()
                .copied()
                .min_by(|&a, &b| pool.cmp_candidates(a, b));
            if best != Some(t) {
                continue;
            }
            if let Some(d) = p.supplements.iter().find(|d| holds(pool, chosen, d)) {
                let of = d
                    .atoms()
                    .iter()
                    .find_map(|a| chosen_provide(pool, chosen, a))
                    .unwrap_or(t);
                out.push((t, of));
            }
        }
    }
    out
}

fn reasons(
    pool: &Pool<'_>,
    roots: &[RootReq],
    chosen: &[SolvableId],
    weak_of: &HashMap<SolvableId, SolvableId>,
) -> Solution {
    let mut reason: HashMap<SolvableId, Reason> = HashMap::default();
    let mut queue: std::collections::VecDeque<SolvableId> = Default::default();
    // providers come from the pool's index; only chosen ones count
    let chosen_set: HashSet<SolvableId> = chosen.iter().copied().collect();
    for r in roots {
        for a in r.dep.atoms() {
            for s in pool.providers(a) {
                if chosen_set.contains(&s) && !reason.contains_key(&s) {
                    reason.insert(s, r.reason.clone());
                    queue.push_back(s);
                }
            }
        }
    }
    let mut pending_weak: Vec<SolvableId> = chosen
        .iter()
        .copied()
        .filter(|s| weak_of.contains_key(s))
        .collect();
    pending_weak.sort();
    loop {
        while let Some(s) = queue.pop_front() {
            let of = pool.nevra(s);
            for d in &pool.pkg(s).requires {
                for a in d.atoms() {
                    for c in pool.providers(a) {
                        if chosen_set.contains(&c) && !reason.contains_key(&c) {
                            reason.insert(c, Reason::Dependency { of: of.clone() });
                            queue.push_back(c);
                        }
                    }
                }
            }
        }
        let Some(pos) = pending_weak
            .iter()
            .position(|s| !reason.contains_key(s) && reason.contains_key(&weak_of[s]))
            .or_else(|| pending_weak.iter().position(|s| !reason.contains_key(s)))
        else {
            break;
        };
        let s = pending_weak.remove(pos);
        reason.insert(
            s,
            Reason::Weak {
                of: pool.nevra(weak_of[&s]),
            },
        );
        queue.push_back(s);
    }
    let mut packages: Vec<Chosen> = chosen
        .iter()
        .map(|&s| {
            let (repo, package) = pool.location(s);
            // reached through a conditional or rich clause the scan above does not follow
            let reason = reason.get(&s).cloned().unwrap_or(Reason::Dependency {
                of: "(a rich dependency)".into(),
            });
            Chosen {
                repo,
                package,
                reason,
            }
        })
        .collect();
    let repos = pool.repos;
    packages.sort_by(|a, b| {
        let (pa, pb) = (
            &repos[a.repo].packages[a.package],
            &repos[b.repo].packages[b.package],
        );
        pa.name
            .cmp(&pb.name)
            .then_with(|| pa.arch.cmp(&pb.arch))
            .then_with(|| pa.version.cmp(&pb.version))
    });
    Solution { packages }
}
