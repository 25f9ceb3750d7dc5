//! Generate many distinct, realistic RPM files for benchmarks and large-repository tests.
//!
//! ```text
//! cargo run --release -p cairn-rpmfile --example gen-rpms -- N DEST [--seed S]
//! ```
//!
//! Package names, file lists and descriptions come from this host's Debian packages
//! (`/var/lib/dpkg/info/*.list`, `/var/lib/dpkg/status`): each generated package reuses
//! the paths of one Debian package (10 to 400 of them, directories and symlinks included,
//! files with a few bytes of content). When N exceeds the number of usable Debian packages
//! the lists are reused with a `-cK` name suffix and `.cK` appended to file names, so paths
//! stay unique. Packages provide the sonames of the libraries they ship and require other
//! generated packages (some versioned), sonames provided by others, `libc.so.6` and
//! sometimes `/bin/sh`. Payloads are gzip-compressed. The same N and seed give the same
//! files, byte for byte.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/generate.rs"]
mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen-rpms N DEST [--seed S]";
    let mut positional = Vec::new();
    let mut seed: u64 = 1;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seed" {
            seed = it
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("--seed needs a number\n{usage}"))?;
        } else {
            positional.push(a.clone());
        }
    }
    let [n, dest] = positional.as_slice() else {
        return Err(usage.to_owned());
    };
    let n: usize = n
        .parse()
        .map_err(|_| format!("N must be a number\n{usage}"))?;
    let dest = PathBuf::from(dest);
    fs_err::create_dir_all(&dest).map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    let written = generate::generate(n, seed, &dest)?;
    println!(
        "wrote {} packages to {} in {:.1?}",
        written.len(),
        dest.display(),
        start.elapsed()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-rpms: {e}");
            ExitCode::FAILURE
        }
    }
}
