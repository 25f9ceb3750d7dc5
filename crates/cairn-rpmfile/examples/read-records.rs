//! Time `read_record` over every `*.rpm` in a directory (the benchmark for repository
//! publishing).
//!
//! ```text
//! cargo run --release -p cairn-rpmfile --example read-records -- DIR [--threads N]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: read-records DIR [--threads N]");
        return ExitCode::FAILURE;
    };
    let threads: usize = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let mut files: Vec<PathBuf> = match fs_err::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "rpm"))
            .collect(),
        Err(e) => {
            eprintln!("read-records: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let start = Instant::now();
    let outcome: Vec<(usize, u64, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let files = &files;
                s.spawn(move || {
                    let (mut ok, mut bytes, mut entries) = (0, 0, 0);
                    for f in files.iter().skip(t).step_by(threads) {
                        match cairn_rpmfile::read_record(f, "x") {
                            Ok(r) => {
                                ok += 1;
                                bytes += r.size_package;
                                entries += r.files.len() + r.requires.len() + r.provides.len();
                            }
                            Err(e) => eprintln!("{e}"),
                        }
                    }
                    (ok, bytes, entries)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, 0, 0)))
            .collect()
    });
    let took = start.elapsed();
    let ok: usize = outcome.iter().map(|o| o.0).sum();
    let bytes: u64 = outcome.iter().map(|o| o.1).sum();
    let entries: usize = outcome.iter().map(|o| o.2).sum();
    println!(
        "read {ok}/{} packages ({:.1} MB, {entries} files+deps) with {threads} thread(s) in {took:.3?} ({:.3} ms per package)",
        files.len(),
        bytes as f64 / 1e6,
        took.as_secs_f64() * 1000.0 / files.len().max(1) as f64
    );
    if ok == files.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
