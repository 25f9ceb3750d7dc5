#!/usr/bin/env bash
# The main job on the built-in default: resolve and lock the default image definition
# (a minimal VM from this machine's apt sources) and print its package set.
# Extra arguments go to `cairn lock` (e.g. -O json, --check).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup-host.sh"
cargo build --release --locked --manifest-path "$here/Cargo.toml" -p cairn-cli
exec "$here/target/release/cairn" lock "$@"
