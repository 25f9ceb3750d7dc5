#!/usr/bin/env bash
# Run every test cairn has: formatting, lints, unit and integration tests (which use the real
# rpm, rpmbuild, createrepo_c, dnf, testsolv, gpg, dpkg and apt on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
# The tests need about 9 GB of disk (the debug build, downloaded .debs, images built in
# $TMPDIR). Say so up front when there is less, rather than fail later with ENOSPC.
for d in . "${TMPDIR:-/tmp}"; do
  free_kb=$(df -Pk "$d" | awk 'NR==2 {print $4}')
  if [ "${free_kb:-0}" -lt $((10 * 1024 * 1024)) ]; then
    echo "warning: only $((free_kb / 1024)) MiB free on the file system holding $d;" \
      "the tests need about 9 GB and may fail with 'No space left on device'" >&2
  fi
done
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked --no-fail-fast
