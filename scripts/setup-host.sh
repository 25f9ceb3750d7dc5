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
  # image building (issue 3)
  [mkfs.ext4]=e2fsprogs
  [mcopy]=mtools
  [fsck.vfat]=dosfstools
  [sfdisk]=fdisk
  [grub-mkimage]=grub-common
  [busybox]=busybox-static
  [skopeo]=skopeo
  [umoci]=umoci
  [podman]=podman
  [runc]=runc
  [dpkg-deb]=dpkg
  [chroot]=coreutils
  [unshare]=util-linux
  [cpio]=cpio
  # components (issue 4): dist-git through git, archives edited and checked with the
  # real compressors and file(1)
  [git]=git
  [file]=file
  [bzip2]=bzip2
  [gzip]=gzip
  [tar]=tar
)
# Debian packages needed without a command of their own
# (time: /usr/bin/time, whose %M peak RSS the benchmarks read; `time` is also a shell keyword)
EXTRA_PKGS=(debian-archive-keyring ca-certificates pkg-config time
  grub-pc-bin grub-efi-amd64-bin python3-venv)

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

# QEMU and OVMF for `cairn boot` and the boot tests. qemu-utils on these machines comes from
# bookworm-backports, so qemu-system-x86 must come from there too (see HOST-NOTES): use a
# private sources list that adds the backports suite beside the host's own archive URI.
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || { [ ! -e /usr/share/OVMF/OVMF_CODE_4M.fd ] && [ ! -e /usr/share/OVMF/OVMF_CODE.fd ]; }; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-host: install qemu-system-x86 and ovmf (on Debian bookworm: from bookworm-backports)" >&2
    exit 1
  fi
  bp=$(mktemp -d)
  uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  uri=${uri:-http://deb.debian.org/debian}
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\ndeb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s-backports main\n' \
    "$uri" "$codename" "$uri" "$codename" >"$bp/sources.list"
  mkdir -p "$bp/lists/partial"
  aptopts=(-o "Dir::Etc::SourceList=$bp/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$bp/lists")
  echo "setup-host: installing qemu-system-x86 and ovmf from $codename-backports" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get "${aptopts[@]}" update -qq >&2
  apt-get "${aptopts[@]}" install -y -qq --no-install-recommends -t "$codename-backports" qemu-system-x86 ovmf >&2
  rm -rf "$bp"
fi

# Python validators for the SBOM tests (PyPI): spdx-tools (pyspdxtools) and the CycloneDX
# schemas and validator, in a private virtual environment under target/.
pyenv="${CAIRN_PYENV:-$(cd "$(dirname "$0")/.." && pwd)/target/pyenv}"
if [ ! -x "$pyenv/bin/pyspdxtools" ] || ! "$pyenv/bin/python" -c 'import cyclonedx.validation.json, jsonschema' 2>/dev/null; then
  echo "setup-host: creating $pyenv (spdx-tools, cyclonedx-python-lib, jsonschema)" >&2
  /usr/bin/python3 -m venv "$pyenv"
  "$pyenv/bin/pip" install -q --disable-pip-version-check 'spdx-tools==0.8.*' 'cyclonedx-python-lib[json-validation]==8.*' 'jsonschema[format]' >&2
fi
