#!/usr/bin/env bash
# The main job on the built-in default: build the built-in images (a minimal VM as a raw
# disk and a fixed VHD, and a WSL distribution, all from this machine's apt sources) into
# ./out/, locking them first when needed, and print where the outputs are and how to try
# them. Extra arguments go to `cairn build` (e.g. -O json, --locked, IMAGE names).
# Runs as root (cairn build installs packages into a root with dpkg).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup-host.sh"
cargo build --release --locked --manifest-path "$here/Cargo.toml" -p cairn-cli
exec "$here/target/release/cairn" build "$@"
