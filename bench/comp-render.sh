#!/usr/bin/env bash
# Benchmark: `cairn comp render --check --all` over N generated components with overlays.
#
#   bash bench/comp-render.sh [N]        (N defaults to 5000)
#
# Generates the project with bench/comp-gen.py into target/bench-comp/N (git repositories,
# distro and component files, overlays), renders it once (resolving every upstream commit,
# writing locks and specs/), then times the check that CI runs: RUNS runs of
# `cairn comp render --check --all` (default 3), with peak memory from /usr/bin/time.
# There is no peer on this machine: azldev (Go) cannot be installed without its module
# proxy, so the number stands against the goal (10 s for 5,000 components) alone.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
RUNS=${RUNS:-3}
DEST=target/bench-comp/$N
cargo build --release --locked -q -p cairn-cli
CAIRN=$PWD/target/release/cairn
if [ ! -f "$DEST/cairn.toml" ]; then
  python3 bench/comp-gen.py "$N" "$DEST" >&2
fi
export CAIRN_CACHE_DIR=$PWD/target/bench-comp/cache
if [ ! -d "$DEST/specs" ]; then
  start=$(date +%s.%N)
  "$CAIRN" -C "$DEST" -q comp render --all >/dev/null
  echo "first render (resolve $N commits, extract trees, write locks and specs): $(echo "$(date +%s.%N) - $start" | bc) s" >&2
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -r)"
echo "components: $N ($(find "$DEST/comps" -name '*.overlay.toml' | wc -l) overlay files)"
for i in $(seq "$RUNS"); do
  /usr/bin/time -f "%e s elapsed, %M KiB peak RSS" "$CAIRN" -C "$DEST" comp render --check --all 2>&1 | tail -2
done
