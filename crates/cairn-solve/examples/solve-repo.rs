//! Times the solver alone on an rpm-md repository (for profiling; `bench/resolve.sh` is
//! the benchmark): loads `primary.xml.gz` once, then solves the request `RUNS` times.
//!
//!     cargo run --release -p cairn-solve --example solve-repo -- REPO_DIR RUNS NAME...
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool

use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use cairn_package::{Checksum, ChecksumAlgo, RepoId, RepoPackages};
use cairn_solve::{RepoIndex, Request, solve_indexed};

/// The same allocator as the `cairn` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [repo, runs, names @ ..] = args.as_slice() else {
        anyhow::bail!("usage: solve-repo REPO_DIR RUNS NAME...");
    };
    let repo = Path::new(repo);
    let runs: usize = runs.parse()?;
    let md = cairn_rpmmd::parse_repomd(
        &fs_err::read(repo.join("repodata/repomd.xml"))?,
        "repomd.xml",
    )?;
    let primary = repo.join(
        &md.get("primary")
            .ok_or_else(|| anyhow::anyhow!("no primary in repomd.xml"))?
            .location,
    );
    let t = Instant::now();
    let packages = cairn_rpmmd::parse_primary(
        BufReader::new(flate2::read::MultiGzDecoder::new(fs_err::File::open(
            &primary,
        )?)),
        "primary",
    )?;
    eprintln!("loaded {} packages in {:?}", packages.len(), t.elapsed());
    let repos = vec![RepoPackages {
        repo: RepoId("bench".into()),
        priority: 99,
        revision: Checksum::new(ChecksumAlgo::Sha256, "0".repeat(64)),
        base_urls: vec![],
        packages,
    }];
    let t = Instant::now();
    let index = RepoIndex::build(&repos[0]);
    eprintln!("indexed in {:?}", t.elapsed());
    let mut req = Request::new("x86_64");
    req.install = names.to_vec();
    req.weak_deps = false;
    req.filelists_loaded = true;
    let mut times = vec![];
    for _ in 0..runs {
        let t = Instant::now();
        let sol = solve_indexed(&repos, &[&index], &req)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        eprintln!("solved: {} packages in {ms:.1} ms", sol.packages.len());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median {:.1} ms, min {:.1} ms",
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}
