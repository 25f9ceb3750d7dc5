#!/usr/bin/env bash
# Run every test cairn has: formatting, lints, unit and integration tests (which use the real
# rpm, rpmbuild, createrepo_c, dnf, testsolv, gpg, dpkg and apt on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked --no-fail-fast
