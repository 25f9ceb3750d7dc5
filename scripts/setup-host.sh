#!/usr/bin/env bash
# Install the host tools cairn and its tests use, through the host's package manager.
# Idempotent: installs only what is missing. Needs root on Debian/Ubuntu; elsewhere it
# prints exactly what to install.
set -euo pipefail

# command -> Debian package providing it
declare -A NEED=(
  [rpm]=rpm
  [rpmbuild]=rpm
  [createrepo_c]=createrepo-c
  [dnf]=dnf
  [testsolv]=libsolv-tools
  [gpg]=gnupg
  [gpgv]=gpgv
  [zstd]=zstd
  [xz]=xz-utils
  [gpgconf]=gnupg
  [dpkg]=dpkg
  [apt-get]=apt
  [curl]=curl
  [openssl]=openssl
  [cc]=gcc
  [lz4]=lz4
  [python3]=python3
)
# Debian packages needed without a command of their own
# (time: /usr/bin/time, whose %M peak RSS the benchmarks read; `time` is also a shell keyword)
EXTRA_PKGS=(debian-archive-keyring ca-certificates pkg-config time)

missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
for p in "${EXTRA_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# unique
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-host: all host tools present" >&2
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-host: this is not a Debian-family host; install these packages (Debian names): ${missing[*]}" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-host: run as root, or install: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup-host: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup-host: cargo not found; install a Rust toolchain (rustup, stable >= 1.88)" >&2
  exit 1
fi
