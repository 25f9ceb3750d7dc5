//! A request-independent index of one repository: its capability names (package names,
//! provides, obsoletes) interned once, with each package's name, arch, provides and
//! obsoletes as integers. libsolv does the same when it loads a repository (its string
//! pool); building it right after loading, once per repository, leaves the solver only
//! integer work per request instead of hashing 60,000 package names again.

use cairn_deps::{Dep, Flavor};
use cairn_package::RepoPackages;
use hashbrown::HashTable;
use std::hash::Hasher;

/// The hash every capability-name lookup uses.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.write_u8(0xff);
    h.finish()
}

/// Interned strings in one buffer, found by hash.
#[derive(Debug, Clone)]
pub(crate) struct StrTable {
    text: String,
    /// String `i` is `text[off[i]..off[i + 1]]`.
    off: Vec<u32>,
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

impl StrTable {
    const EMPTY: StrTable = StrTable {
        text: String::new(),
        off: Vec::new(),
        hashes: Vec::new(),
        table: HashTable::new(),
    };

    fn with_capacity(n: usize, bytes: usize) -> Self {
        let mut off = Vec::with_capacity(n + 1);
        off.push(0);
        StrTable {
            text: String::with_capacity(bytes),
            off,
            hashes: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    pub(crate) fn get(&self, i: u32) -> &str {
        let i = i as usize;
        &self.text[self.off[i] as usize..self.off[i + 1] as usize]
    }

    /// The id of `s` (whose [`hash_str`] is `h`), if interned.
    pub(crate) fn find(&self, s: &str, h: u64) -> Option<u32> {
        self.table
            .find(h, |&i| self.hashes[i as usize] == h && self.get(i) == s)
            .copied()
    }

    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        let h = hash_str(s);
        if let Some(i) = self.find(s, h) {
            return i;
        }
        let i = self.hashes.len() as u32;
        self.text.push_str(s);
        self.off
            .push(u32::try_from(self.text.len()).expect("names under 4 GiB"));
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.table.insert_unique(h, i, |&j| hashes[j as usize]);
        i
    }

    pub(crate) fn hash(&self, i: u32) -> u64 {
        self.hashes[i as usize]
    }
}

/// The index of one repository's packages (see the module docs). Build it with
/// [`RepoIndex::build`] after loading and pass it to [`crate::solve_indexed`] for every
/// request against that repository.
#[derive(Debug, Clone)]
pub struct RepoIndex {
    /// Capability names: every package name, explicit provide and obsoleted name.
    pub(crate) caps: StrTable,
    /// Per package: the capability id of its name.
    pub(crate) pkg_name: Vec<u32>,
    /// Per package: an index into `arches`.
    pub(crate) pkg_arch: Vec<u16>,
    pub(crate) arches: Vec<String>,
    /// Explicit provides other than the package's own name: (capability, package), in
    /// package order, each pair once.
    pub(crate) provides: Vec<(u32, u32)>,
    /// Names a package obsoletes (plain atoms): (capability, package), in package order.
    pub(crate) obsoletes: Vec<(u32, u32)>,
    /// Bit 1: some package is RPM; bit 2: some package is Debian.
    pub(crate) flavors: u8,
    /// What it was built from, to catch an index handed in with the wrong repository.
    packages: usize,
    revision: String,
    first_last: (u32, u32),
}

impl RepoIndex {
    /// The index of no packages.
    pub(crate) const EMPTY: RepoIndex = RepoIndex {
        caps: StrTable::EMPTY,
        pkg_name: Vec::new(),
        pkg_arch: Vec::new(),
        arches: Vec::new(),
        provides: Vec::new(),
        obsoletes: Vec::new(),
        flavors: 0,
        packages: 0,
        revision: String::new(),
        first_last: (0, 0),
    };

    /// Index `repo`'s packages.
    pub fn build(repo: &RepoPackages) -> RepoIndex {
        let n = repo.packages.len();
        let mut caps = StrTable::with_capacity(n + n / 2, n * 16);
        let mut pkg_name = Vec::with_capacity(n);
        let mut pkg_arch = Vec::with_capacity(n);
        let mut arches: Vec<String> = Vec::new();
        let mut provides = Vec::with_capacity(n / 2);
        let mut obsoletes = Vec::new();
        let mut flavors = 0;
        for (i, p) in repo.packages.iter().enumerate() {
            let i = i as u32;
            flavors |= match p.flavor() {
                Flavor::Rpm => 1,
                Flavor::Deb => 2,
            };
            pkg_name.push(caps.intern(&p.name));
            let a = match arches.iter().position(|a| *a == p.arch) {
                Some(a) => a,
                None => {
                    arches.push(p.arch.clone());
                    arches.len() - 1
                }
            };
            pkg_arch.push(u16::try_from(a).expect("fewer than 65,536 architectures"));
            let start = provides.len();
            for d in &p.provides {
                // a package's provide of its own name is found through its name's
                // candidates (lookups skip such entries), so it is not indexed twice
                if let Dep::Atom(a) = d
                    && a.name != p.name
                {
                    let c = caps.intern(&a.name);
                    if !provides[start..].iter().any(|&(x, _)| x == c) {
                        provides.push((c, i));
                    }
                }
            }
            let start = obsoletes.len();
            for d in &p.obsoletes {
                if let Dep::Atom(a) = d {
                    let c = caps.intern(&a.name);
                    if !obsoletes[start..].iter().any(|&(x, _)| x == c) {
                        obsoletes.push((c, i));
                    }
                }
            }
        }
        provides.shrink_to_fit();
        RepoIndex {
            first_last: Self::ends(repo),
            caps,
            pkg_name,
            pkg_arch,
            arches,
            provides,
            obsoletes,
            flavors,
            packages: n,
            revision: repo.revision.hex.clone(),
        }
    }

    fn ends(repo: &RepoPackages) -> (u32, u32) {
        let h = |p: Option<&cairn_package::Package>| {
            p.map_or(0, |p| hash_str(&p.name) as u32 ^ hash_str(&p.arch) as u32)
        };
        (h(repo.packages.first()), h(repo.packages.last()))
    }

    /// Was this index built from `repo` (same revision, package count and ends)?
    pub fn fits(&self, repo: &RepoPackages) -> bool {
        self.packages == repo.packages.len()
            && self.revision == repo.revision.hex
            && self.first_last == Self::ends(repo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_each_name_once_and_finds_it() {
        let mut t = StrTable::with_capacity(2, 8);
        let names = ["bash", "libc.so.6()(64bit)", "", "bash ", "Bash"];
        let ids: Vec<u32> = names.iter().map(|n| t.intern(n)).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        assert_eq!(t.intern("bash"), 0);
        assert_eq!(t.len(), 5);
        for (n, id) in names.iter().zip(&ids) {
            assert_eq!(t.get(*id), *n);
            assert_eq!(t.find(n, hash_str(n)), Some(*id));
        }
        assert_eq!(t.find("zsh", hash_str("zsh")), None);
        assert_eq!(StrTable::EMPTY.find("bash", hash_str("bash")), None);
    }
}
