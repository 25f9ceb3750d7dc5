#!/usr/bin/env bash
# Benchmark: `cairn repo publish` against createrepo_c on the same directory of RPMs.
#
#   bash bench/publish.sh [N]        (N defaults to 5000)
#
# Generates N RPMs once (crates/cairn-rpmfile/examples/gen-rpms.rs: file lists and
# dependencies taken from this machine's real Debian package file lists) into
# target/bench-publish/rpms-N, then, RUNS times (default 3), side by side in one run:
#   cold        no repodata, no cache:  createrepo_c --no-database --workers J
#                                       cairn repo publish --no-sign --full -j J
#   incremental one package replaced:   createrepo_c --update --no-database --workers J
#                                       cairn repo publish --no-sign -j J
# Both write gzip metadata (createrepo_c 0.17 here cannot write zstd); cairn's default
# zstd is timed as well. Prints one TSV line per measurement and a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
RUNS=${RUNS:-3}
J=$(nproc)
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
BASE=$TARGET/bench-publish
SRC=$BASE/rpms-$N
cargo build --release --locked -q -p cairn-cli
CAIRN=$TARGET/release/cairn
command -v createrepo_c >/dev/null || { echo "createrepo_c missing (scripts/setup-host.sh)" >&2; exit 1; }
if [ ! -f "$SRC/.done" ]; then
  rm -rf "$SRC"
  cargo run --release --locked -q -p cairn-rpmfile --example gen-rpms -- "$N" "$SRC" --seed 1 >&2
  cargo run --release --locked -q -p cairn-rpmfile --example gen-rpms -- 1 "$BASE/extra-$N" --seed 999 >&2
  touch "$SRC/.done"
fi
EXTRA=$(find "$BASE/extra-$N" -name '*.rpm' | head -1)

t() { # seconds of wall time for a command, its output discarded
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  e=$(date +%s.%N)
  echo "$e - $s" | bc
}

fresh() { # a copy of the RPM directory (hard links: the RPMs are only read)
  rm -rf "$1"
  mkdir -p "$1"
  cp -al "$SRC"/. "$1"/
  rm -f "$1/.done"
}

swap_one() { # replace one package by another: the incremental case
  local victim
  victim=$(find "$1" -name '*.rpm' -not -path '*/repodata/*' | sort | sed -n '17p')
  rm -f "$victim"
  cp "$EXTRA" "$1/"
}

echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# packages: $N, $(du -sh "$SRC" | cut -f1), $(find "$SRC" -name '*.rpm' -print0 | xargs -0 rpm -qpl 2>/dev/null | wc -l) files (counted once)"
echo "# $(createrepo_c --version | head -1); cairn $("$CAIRN" --version | cut -d' ' -f2)"
printf 'case\ttool\tseconds\n'
for run in $(seq "$RUNS"); do
  W=$BASE/work
  fresh "$W/c"
  fresh "$W/k"
  fresh "$W/z"
  printf 'cold\tcreaterepo_c\t%s\n' "$(t createrepo_c --no-database --workers "$J" "$W/c")"
  printf 'cold\tcairn (gz)\t%s\n' "$(t "$CAIRN" -q repo publish "$W/k" --no-sign --full --compress gz -j "$J")"
  printf 'cold\tcairn (zstd)\t%s\n' "$(t "$CAIRN" -q repo publish "$W/z" --no-sign --full -j "$J")"
  swap_one "$W/c"
  swap_one "$W/k"
  swap_one "$W/z"
  printf 'incremental\tcreaterepo_c\t%s\n' "$(t createrepo_c --update --no-database --workers "$J" "$W/c")"
  printf 'incremental\tcairn (gz)\t%s\n' "$(t "$CAIRN" -q repo publish "$W/k" --no-sign --compress gz -j "$J")"
  printf 'incremental\tcairn (zstd)\t%s\n' "$(t "$CAIRN" -q repo publish "$W/z" --no-sign -j "$J")"
  # both repositories describe the same packages
  current() { sed -n 's|.*<location href="\(repodata/[^"]*-primary.xml.gz\)".*|\1|p' "$1/repodata/repomd.xml"; }
  c=$(zcat "$W/c/$(current "$W/c")" | grep -c '<package type="rpm">')
  k=$(zcat "$W/k/$(current "$W/k")" | grep -c '<package type="rpm">')
  [ "$c" = "$k" ] || { echo "package counts differ: createrepo_c $c, cairn $k" >&2; exit 1; }
done | tee "$BASE/results.tsv"
python3 - "$BASE/results.tsv" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip() and not l.startswith(("#", "case"))]
cases = {}
for case, tool, sec in rows:
    cases.setdefault(case, {}).setdefault(tool, []).append(float(sec))
print("\n| case | tool | median s | createrepo_c / tool |")
print("|---|---|---:|---:|")
for case, tools in cases.items():
    ref = statistics.median(tools["createrepo_c"])
    for tool, xs in tools.items():
        m = statistics.median(xs)
        print(f"| {case} | {tool} | {m:.3f} | {ref / m:.2f}× |")
EOF
