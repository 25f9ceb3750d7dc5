#!/usr/bin/env bash
# Image build benchmark, side by side in one run:
#   1. the same Debian minbase package set to a tar: cairn vs mmdebstrap --variant=minbase
#      (both with warm download caches);
#   2. the same package list to a bootable raw disk: cairn vs mkosi, where a mkosi can run
#      here (see BENCHMARKS.md for why the disk comparison may not run on these machines).
# Records wall time, CPU, peak RSS (/usr/bin/time %M, of the tool and all its children
# that were waited for) and output size. Needs root.
#
# cairn assembles the root in memory (a private tmpfs) by default; mmdebstrap works in
# $TMPDIR and mkosi in /var/tmp, on disk here. So each is also run the other way: cairn with
# --image-root disk, mmdebstrap with TMPDIR=/dev/shm, mkosi with --workspace-dir=/dev/shm.
#
# Usage: bash bench/build.sh [WORKDIR]    (default /tmp/cairn-build-bench)
# Environment: RUNS=N (default 3), CAIRN=/path/to/cairn, SKIP_DISK=1 (only the minbase → tar
# comparison), INSTALL_MKOSI=1 (install mkosi 24 and systemd 254 from bookworm-backports
# when no mkosi >= 24 is installed; this upgrades the host's systemd packages)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=${1:-/tmp/cairn-build-bench}
RUNS=${RUNS:-3}
TIME=/usr/bin/time
say() { echo "bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { say "installing mmdebstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >&2; }
CAIRN=${CAIRN:-$ROOT/target/release/cairn}
[ -x "$CAIRN" ] || (cd "$ROOT" && cargo build --release -p cairn-cli >&2)

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SDE=1700000000
export SOURCE_DATE_EPOCH=$SDE

# --- the cairn project: Essential + Priority: required + apt, like --variant=minbase
proj=$WORK/cairn-minbase
mkdir -p "$proj"
cat >"$proj/cairn.toml" <<TOML
[sources.host]
kind = "host-apt"

[images.minbase]
packages = ["apt"]
essential = true
priority-required = true
weak-deps = false
outputs = ["tar"]
TOML
cache=$WORK/cairn-cache
say "warming cairn's cache (lock + fetch)"
"$CAIRN" -C "$proj" --cache-dir "$cache" -q lock >/dev/null
"$CAIRN" -C "$proj" --cache-dir "$cache" -q fetch >/dev/null

# --- mmdebstrap with a warm .deb cache: the documented setup/download hooks
debs=$WORK/mmdebstrap-debs
mkdir -p "$debs"
hooks=(--setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
       --setup-hook="cp $debs/*.deb \"\$1\"/var/cache/apt/archives/ 2>/dev/null || true"
       --customize-hook="cp \"\$1\"/var/cache/apt/archives/*.deb $debs/ 2>/dev/null || true"
       --skip=cleanup/apt/cache)
say "warming mmdebstrap's .deb cache"
mmdebstrap --quiet --variant=minbase "${hooks[@]}" bookworm "$WORK/warm.tar" >/dev/null 2>&1
rm -f "$WORK/warm.tar"

# --- disk: the same package list with cairn (raw, GRUB for BIOS+UEFI) and mkosi (disk,
# systemd-boot UKI). mkosi 24 comes from bookworm-backports with systemd 254; it also
# needs kmod, python3-pefile and the archive as the host configures it (its default
# sources add debian-debug, which this machine's proxy refuses).
DISK_PKGS="linux-image-amd64 systemd-sysv systemd-resolved udev iproute2 netbase openssh-server ca-certificates systemd-boot dbus"
dproj=$WORK/cairn-disk
mkdir -p "$dproj"
{
  echo '[sources.host]'; echo 'kind = "host-apt"'; echo
  echo '[images.vm]'
  printf 'packages = [%s]\n' "$(printf '"%s", ' $DISK_PKGS | sed 's/, $//')"
  echo 'weak-deps = false'; echo 'outputs = ["raw"]'
} >"$dproj/cairn.toml"
# the same list with cairn's own initrd (mkosi also builds its own initrd and sets
# INITRD=No, so Debian's initramfs-tools does not run there either)
iproj=$WORK/cairn-disk-owninitrd
mkdir -p "$iproj"
{ cat "$dproj/cairn.toml"; echo; echo '[images.vm.disk]'; echo 'initrd = "cairn"'; } >"$iproj/cairn.toml"
HAVE_MKOSI=0
if [ "${SKIP_DISK:-0}" = 1 ]; then
  say "SKIP_DISK=1: only minbase → tar"
else
"$CAIRN" -C "$dproj" --cache-dir "$cache" -q lock >/dev/null
"$CAIRN" -C "$dproj" --cache-dir "$cache" -q fetch >/dev/null
"$CAIRN" -C "$iproj" --cache-dir "$cache" -q lock >/dev/null
cmp "$dproj/cairn.lock" "$iproj/cairn.lock" >&2
fi
have_mkosi24() { command -v mkosi >/dev/null && mkosi --version | grep -qE 'mkosi (2[4-9]|[3-9][0-9])'; }
if [ "${SKIP_DISK:-0}" != 1 ] && [ "${INSTALL_MKOSI:-0}" = 1 ] && ! have_mkosi24; then
  bp=$(mktemp -d); chmod 755 "$bp"
  uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  uri=${uri:-http://deb.debian.org/debian}
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bookworm main\ndeb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bookworm-backports main\n' \
    "$uri" "$uri" >"$bp/sources.list"
  mkdir -p "$bp/lists/partial"
  aptopts=(-o "Dir::Etc::SourceList=$bp/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$bp/lists")
  say "installing mkosi and systemd 254 from bookworm-backports"
  DEBIAN_FRONTEND=noninteractive apt-get "${aptopts[@]}" update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get "${aptopts[@]}" install -y -qq --no-install-recommends \
    -t bookworm-backports mkosi systemd systemd-boot kmod python3-pefile >&2
  rm -rf "$bp"
fi
if [ "${SKIP_DISK:-0}" != 1 ] && have_mkosi24; then
  HAVE_MKOSI=1
  mk=$WORK/mkosi-vm
  mkdir -p "$mk/mkosi.pkgmngr/etc/apt/sources.list.d" "$mk/mkosi.cache"
  cp /etc/apt/sources.list.d/debian.sources "$mk/mkosi.pkgmngr/etc/apt/sources.list.d/mkosi.sources"
  {
    echo '[Distribution]'; echo 'Distribution=debian'; echo 'Release=bookworm'
    echo '[Output]'; echo 'Format=disk'; echo 'Output=image'; echo 'CacheDirectory=mkosi.cache'
    echo '[Content]'; echo 'Bootable=yes'; echo 'Bootloader=systemd-boot'
    echo "Packages=$(echo $DISK_PKGS | tr ' ' ',')"
  } >"$mk/mkosi.conf"
  say "warming mkosi's package cache"
  (cd "$mk" && mkosi -f build >"$WORK/mkosi-warm.log" 2>&1) || { say "mkosi cannot build here: see $WORK/mkosi-warm.log"; HAVE_MKOSI=0; }
else
  say "no mkosi >= 24: the disk comparison is skipped (see BENCHMARKS.md)"
fi

results=$WORK/results.tsv
: >"$results"
measure() { # name outfile cmd...
  local name=$1 out=$2; shift 2
  local t; t=$(mktemp)
  if "$TIME" -f '%e %M %U %S' -o "$t" "$@" >"$WORK/$name.log" 2>&1; then
    read -r wall rss user sys <"$t"
    local size; size=$(du -sb "$out" | cut -f1)
    echo -e "$name\t$wall\t$(echo "$user + $sys" | bc)\t$((rss / 1024))\t$size" >>"$results"
    say "$name: ${wall}s, $((rss / 1024)) MiB, $size bytes"
  else
    say "$name failed: see $WORK/$name.log"; tail -5 "$WORK/$name.log" >&2
  fi
  rm -f "$t"
}
for i in $(seq "$RUNS"); do
  rm -rf "$proj/out"
  measure cairn-minbase-tar "$proj/out/minbase/minbase.tar" \
    "$CAIRN" -C "$proj" --cache-dir "$cache" -q build --locked minbase
  rm -f "$WORK/mmdebstrap.tar"
  measure mmdebstrap-minbase-tar "$WORK/mmdebstrap.tar" \
    mmdebstrap --quiet --variant=minbase "${hooks[@]}" bookworm "$WORK/mmdebstrap.tar"
  rm -rf "$proj/out"
  measure cairn-minbase-tar-rootondisk "$proj/out/minbase/minbase.tar" \
    "$CAIRN" -C "$proj" --cache-dir "$cache" -q build --locked --image-root disk minbase
  rm -f "$WORK/mmdebstrap.tar"
  measure mmdebstrap-minbase-tar-tmpfs "$WORK/mmdebstrap.tar" \
    env TMPDIR=/dev/shm mmdebstrap --quiet --variant=minbase "${hooks[@]}" bookworm "$WORK/mmdebstrap.tar"
  if [ "${SKIP_DISK:-0}" != 1 ]; then
  rm -rf "$dproj/out"
  measure cairn-disk-raw "$dproj/out/vm/vm.raw" \
    "$CAIRN" -C "$dproj" --cache-dir "$cache" -q build --locked vm
  if [ "$HAVE_MKOSI" = 1 ]; then
    measure mkosi-disk-raw "$WORK/mkosi-vm/image.raw" sh -c "cd '$WORK/mkosi-vm' && mkosi -f build"
  fi
  rm -rf "$iproj/out"
  measure cairn-disk-raw-owninitrd "$iproj/out/vm/vm.raw" \
    "$CAIRN" -C "$iproj" --cache-dir "$cache" -q build --locked vm
  rm -rf "$dproj/out"
  measure cairn-disk-raw-rootondisk "$dproj/out/vm/vm.raw" \
    "$CAIRN" -C "$dproj" --cache-dir "$cache" -q build --locked --image-root disk vm
  if [ "$HAVE_MKOSI" = 1 ]; then
    measure mkosi-disk-raw-tmpfs "$WORK/mkosi-vm/image.raw" sh -c "cd '$WORK/mkosi-vm' && mkosi --workspace-dir=/dev/shm -f build"
  fi
  fi
done
echo "package counts: cairn $(grep -c '^  { name' "$proj/cairn.lock"), mmdebstrap $(tar -xOf "$WORK/mmdebstrap.tar" ./var/lib/dpkg/status | grep -c '^Package:')" >&2

python3 - "$results" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    n, wall, cpu, rss, size = line.split("\t")
    rows[n].append((float(wall), float(cpu), int(rss), int(size)))
print("| tool | runs | wall s (median) | CPU s | peak RSS MiB | output MB |")
print("|---|---:|---:|---:|---:|---:|")
med = {}
for n, v in rows.items():
    w = statistics.median(x[0] for x in v); med[n] = w
    print(f"| {n} | {len(v)} | {w:.1f} | {statistics.median(x[1] for x in v):.1f} | {max(x[2] for x in v)} | {v[-1][3]/1e6:.0f} |")
print()
for a, b in [("cairn-minbase-tar", "mmdebstrap-minbase-tar"),
             ("cairn-minbase-tar", "mmdebstrap-minbase-tar-tmpfs"),
             ("cairn-minbase-tar-rootondisk", "mmdebstrap-minbase-tar"),
             ("cairn-disk-raw", "mkosi-disk-raw"),
             ("cairn-disk-raw-owninitrd", "mkosi-disk-raw"),
             ("cairn-disk-raw-owninitrd", "mkosi-disk-raw-tmpfs"),
             ("cairn-disk-raw", "mkosi-disk-raw-tmpfs"),
             ("cairn-disk-raw-rootondisk", "mkosi-disk-raw")]:
    if a in med and b in med:
        print(f"{a} / {b} wall time: {med[a]/med[b]:.2f}")
PY
