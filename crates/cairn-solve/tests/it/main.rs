//! Integration tests for cairn-solve: text-format solver cases, and agreement with the real
//! dnf (on an rpmbuild fixture repository) and apt (on the host's bookworm index).

mod agree_deb;
mod agree_rpm;
mod cases;

use cairn_package::RepoPackages;
use cairn_solve::Solution;

/// `(repo, package)` pairs of a solution.
pub fn pairs(s: &Solution) -> Vec<(usize, usize)> {
    s.packages.iter().map(|c| (c.repo, c.package)).collect()
}

/// NEVRA (RPM) / name_version_arch (Debian) strings of a solution, sorted.
pub fn nevras(repos: &[RepoPackages], set: &[(usize, usize)]) -> Vec<String> {
    let mut v: Vec<String> = set
        .iter()
        .map(|&(r, p)| repos[r].packages[p].nevra())
        .collect();
    v.sort();
    v
}

/// Tests that need a host tool: skip with a message on a developer machine, fail in CI.
pub fn require_tool(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} is missing on a CI machine (run scripts/setup-host.sh)"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!("SKIP: {what} is not available here");
        }
    }
    ok
}
