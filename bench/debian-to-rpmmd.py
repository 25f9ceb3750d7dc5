#!/usr/bin/python3
"""Translate a Debian `Packages` index into an rpm-md repository (metadata only).

The result is a realistic dependency graph for resolver benchmarks: the names, versions,
Depends/Pre-Depends, Provides, Conflicts/Breaks and Recommends of a real archive, written
the way createrepo_c writes primary.xml, so that dnf 4, libsolv's repo2solv and cairn all
read the same repository. No package payload is written: `<location>` points at the Debian
pool path and is never downloaded.

Mapping:
  Architecture  amd64 -> x86_64, all -> noarch (others kept as they are)
  Version       [epoch:]upstream[-revision] -> epoch / ver / rel; no revision -> rel "0"
                (in dependencies and provides too, so comparisons keep Debian's order);
                characters rpm rejects in ver (`-`, `:`) become `_`; `~` is kept
  Depends, Pre-Depends -> requires; `a | b` -> rich dependency `(a or b)`
  Provides      -> provides (versioned ones as EQ), plus the self-provide `name = evr`
  Conflicts, Breaks -> conflicts
  Recommends / Suggests / Enhances -> recommends / suggests / enhances
  A name that some package Provides without version (`Provides: awk`) cannot satisfy, nor
  be hit by, a versioned relation in Debian, while rpm matches it against any version. So
  versioned relations on such names are written on `debver(NAME)`, provided (with the
  version) only by the real package and by versioned Provides of NAME.
  Size, Installed-Size (KiB), SHA256, Filename -> size package/installed, checksum, location
Relation operators: `<<` LT, `<=` LE, `=` EQ, `>=` GE, `>>` GT (and the obsolete `<` LE,
`>` GE). Architecture qualifiers (`python3:any`) are dropped.

`--limit N` writes a dependency-closed subset of about N packages: seeds (the `--seed`
names first, then Priority required, important, standard, optional, extra, each group in
a fixed pseudo-random order: sha256 of the name) are taken one whole closure at a time until
at least N packages are in, so every seed stays resolvable. The closure follows Depends and
Pre-Depends; for an alternative group it takes the first alternative that exists (a real
package of that name, else the first provider by name). Output is deterministic: same input,
same bytes.

Standard library only.
"""

import argparse
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from xml.sax.saxutils import escape

DEFAULT_PACKAGES = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
# bookworm's release day; used as every timestamp so the output is reproducible
DEFAULT_TIMESTAMP = 1686355200
ARCH = {"amd64": "x86_64", "all": "noarch", "i386": "i686", "arm64": "aarch64"}
OPS = {"<<": "LT", "<=": "LE", "=": "EQ", ">=": "GE", ">>": "GT", "<": "LE", ">": "GE"}
RICH_OPS = {"LT": "<", "LE": "<=", "EQ": "=", "GE": ">=", "GT": ">"}
PRIORITY_ORDER = ["required", "important", "standard", "optional", "extra"]


def die(msg):
    print(f"debian-to-rpmmd: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- reading Packages


def read_index(path):
    """The decompressed text of a Packages file (plain, .gz, .xz or .lz4)."""
    if path.endswith(".lz4"):
        if shutil.which("lz4"):
            cmd = ["lz4", "-dc", path]
        elif os.path.exists("/usr/lib/apt/apt-helper"):
            cmd = ["/usr/lib/apt/apt-helper", "cat-file", path]
        else:
            die(f"{path} is lz4-compressed and neither `lz4` (Debian package lz4) nor apt-helper is installed")
        r = subprocess.run(cmd, stdout=subprocess.PIPE, check=False)
        if r.returncode != 0:
            die(f"{' '.join(cmd)} failed with exit code {r.returncode}")
        data = r.stdout
    elif path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            data = f.read()
    elif path.endswith(".xz"):
        import lzma

        with lzma.open(path, "rb") as f:
            data = f.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    return data.decode("utf-8", errors="replace")


def parse_stanzas(text):
    """Yield each stanza as a dict (continuation lines joined with a space)."""
    cur = {}
    key = None
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                yield cur
            cur, key = {}, None
            continue
        if line[0] in " \t":
            if key is not None:
                cur[key] += " " + line.strip()
            continue
        k, _, v = line.partition(":")
        key = k.strip()
        cur[key] = v.strip()
    if cur:
        yield cur


ATOM_RE = re.compile(r"^\s*([^\s(:\[]+)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^)\s]+)\s*\))?")


def parse_relations(field):
    """Debian relation field -> list of alternative groups, each a list of (name, op, ver)."""
    if not field:
        return []
    groups = []
    for grp in field.split(","):
        alts = []
        for alt in grp.split("|"):
            alt = alt.strip()
            if not alt:
                continue
            m = ATOM_RE.match(alt)
            if not m:
                die(f"cannot parse relation {alt!r}")
            name, op, ver = m.group(1), m.group(2), m.group(3)
            alts.append((name, OPS[op] if op else None, ver))
        if alts:
            groups.append(alts)
    return groups


def deb_evr(v):
    """Debian version -> (epoch, ver, rel) for rpm.

    A version without revision gets rel "0", in package versions, provides and dependencies
    alike: a Debian revision-less version sorts below every revision of the same upstream
    version, and "0" sorts below every revision the archive uses. Leaving rel out instead would
    make rpm ignore releases (`>> 7.4.7` would then refuse `7.4.7-1`)."""
    epoch = "0"
    if ":" in v:
        e, rest = v.split(":", 1)
        if e.isdigit():
            epoch, v = str(int(e)), rest
    if "-" in v:
        up, rel = v.rsplit("-", 1)
    else:
        up, rel = v, None
    up = up.replace("-", "_").replace(":", "_")
    return epoch, up, rel if rel is not None else "0"


pkg_evr = deb_evr


class Pkg:
    __slots__ = (
        "name", "arch", "evr", "fields", "requires", "provides", "conflicts",
        "recommends", "suggests", "enhances",
    )

    def __init__(self, st):
        self.name = st["Package"]
        a = st.get("Architecture", "all")
        self.arch = ARCH.get(a, a)
        self.evr = pkg_evr(st["Version"])
        self.fields = st
        self.requires = parse_relations(st.get("Pre-Depends", "")) + parse_relations(st.get("Depends", ""))
        self.provides = [alts[0] for alts in parse_relations(st.get("Provides", ""))]
        self.conflicts = parse_relations(st.get("Conflicts", "")) + parse_relations(st.get("Breaks", ""))
        self.recommends = parse_relations(st.get("Recommends", ""))
        self.suggests = parse_relations(st.get("Suggests", ""))
        self.enhances = parse_relations(st.get("Enhances", ""))


# ---------------------------------------------------------------- subset


def seed_order(pkgs, seeds):
    def h(n):
        return hashlib.sha256(n.encode()).hexdigest()

    names = sorted({p.name for p in pkgs})
    prio = {}
    for p in pkgs:
        pr = p.fields.get("Priority", "optional")
        rank = PRIORITY_ORDER.index(pr) if pr in PRIORITY_ORDER else len(PRIORITY_ORDER)
        prio[p.name] = min(prio.get(p.name, rank), rank)
    rest = sorted(names, key=lambda n: (prio[n], h(n)))
    out, seen = [], set()
    for n in list(seeds) + rest:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


def subset(pkgs, limit, seeds):
    by_name = {}
    providers = {}
    for p in pkgs:
        by_name.setdefault(p.name, []).append(p)
        for name, _, _ in p.provides:
            providers.setdefault(name, []).append(p)
    for v in providers.values():
        v.sort(key=lambda p: p.name)
    for s in seeds:
        if s not in by_name:
            die(f"seed {s!r} is not a package of the input")

    def pick(alts):
        for name, _, _ in alts:
            if name in by_name:
                return by_name[name]
            if name in providers:
                return [providers[name][0]]
        return []

    chosen = set()  # ids
    order = []
    for seed in seed_order(pkgs, seeds):
        if len(order) >= limit:
            break
        stack = list(by_name[seed])
        while stack:
            p = stack.pop()
            if id(p) in chosen:
                continue
            chosen.add(id(p))
            order.append(p)
            for alts in p.requires:
                stack.extend(pick(alts))
    keep = chosen
    return [p for p in pkgs if id(p) in keep]


# ---------------------------------------------------------------- writing rpm-md


def evr_attrs(e, v, r):
    s = f' epoch="{e}" ver="{escape(v, {chr(34): "&quot;"})}"'
    if r is not None:
        s += f' rel="{escape(r, {chr(34): "&quot;"})}"'
    return s


# Names some package Provides without a version. Debian never lets such a provide satisfy
# (or be hit by) a versioned relation; rpm always does. Versioned relations on these names
# are therefore written on `debver(NAME)`, which only the real package and versioned
# provides carry. Filled by write_repo.
AMBIGUOUS = set()


def vname(name, op):
    return f"debver({name})" if op is not None and name in AMBIGUOUS else name


def atom_entry(name, op, ver, pre=False):
    name = vname(name, op)
    if op is None:
        s = f'<rpm:entry name="{escape(name)}"'
    else:
        e, v, r = deb_evr(ver)
        s = f'<rpm:entry name="{escape(name)}" flags="{op}"{evr_attrs(e, v, r)}'
    if pre:
        s += ' pre="1"'
    return s + "/>"


def rich_atom(name, op, ver):
    name = vname(name, op)
    if op is None:
        return name
    e, v, r = deb_evr(ver)
    evr = (f"{e}:" if e != "0" else "") + v + (f"-{r}" if r is not None else "")
    return f"{name} {RICH_OPS[op]} {evr}"


def group_entry(alts):
    if len(alts) == 1:
        return atom_entry(*alts[0])
    # the same name twice with different versions stays as written: `(a >= 1 or a < 0.5)`
    rich = "(" + " or ".join(rich_atom(*a) for a in alts) + ")"
    return f'<rpm:entry name="{escape(rich, {chr(34): "&quot;"})}"/>'


def section(tag, groups, indent="      "):
    if not groups:
        return ""
    seen = set()
    lines = []
    for g in groups:
        line = group_entry(g)
        if line in seen:
            continue
        seen.add(line)
        lines.append(indent + "  " + line)
    return f"{indent}<rpm:{tag}>\n" + "\n".join(lines) + f"\n{indent}</rpm:{tag}>\n"


def pkgid(p):
    sha = p.fields.get("SHA256")
    if sha:
        return sha
    return hashlib.sha256(f"{p.name}\0{p.fields.get('Version')}\0{p.arch}".encode()).hexdigest()


def primary_package(p, ts):
    f = p.fields
    e, v, r = p.evr
    size = f.get("Size", "0")
    installed = int(f.get("Installed-Size", "0") or 0) * 1024
    summary = f.get("Description", "").split("  ")[0]
    provides = [(p.name, "EQ", None)] + p.provides
    if p.name in AMBIGUOUS:
        provides.append((f"debver({p.name})", "EQ", None))
    prov_lines = []
    seen = set()
    for name, op, ver in provides:
        if op == "EQ" and ver is None:
            lines = [f'<rpm:entry name="{escape(name)}" flags="EQ"{evr_attrs(e, v, r)}/>']
        elif op is None:
            lines = [f'<rpm:entry name="{escape(name)}"/>']
        else:
            pe, pv, pr = deb_evr(ver)
            lines = [f'<rpm:entry name="{escape(name)}" flags="{op}"{evr_attrs(pe, pv, pr)}/>']
            if name in AMBIGUOUS:
                lines.append(f'<rpm:entry name="debver({escape(name)})" flags="{op}"{evr_attrs(pe, pv, pr)}/>')
        for line in lines:
            if line not in seen:
                seen.add(line)
                prov_lines.append("        " + line)
    src = f.get("Source", p.name).split(" ")[0]
    out = io.StringIO()
    w = out.write
    w('<package type="rpm">\n')
    w(f"  <name>{escape(p.name)}</name>\n")
    w(f"  <arch>{p.arch}</arch>\n")
    w(f"  <version{evr_attrs(e, v, r)}/>\n")
    w(f'  <checksum type="sha256" pkgid="YES">{pkgid(p)}</checksum>\n')
    w(f"  <summary>{escape(summary)}</summary>\n")
    w(f"  <description>{escape(summary)}</description>\n")
    w(f"  <packager>{escape(f.get('Maintainer', ''))}</packager>\n")
    w(f"  <url>{escape(f.get('Homepage', ''))}</url>\n")
    w(f'  <time file="{ts}" build="{ts}"/>\n')
    w(f'  <size package="{size}" installed="{installed}" archive="{installed}"/>\n')
    w(f'  <location href="{escape(f.get("Filename", p.name + ".deb"), {chr(34): "&quot;"})}"/>\n')
    w("  <format>\n")
    w("    <rpm:license>unknown</rpm:license>\n")
    w("    <rpm:vendor>Debian</rpm:vendor>\n")
    w(f"    <rpm:group>{escape(f.get('Section', 'misc'))}</rpm:group>\n")
    w("    <rpm:buildhost>debian</rpm:buildhost>\n")
    w(f"    <rpm:sourcerpm>{escape(src)}-{escape(v)}-{escape(r)}.src.rpm</rpm:sourcerpm>\n")
    w('    <rpm:header-range start="0" end="0"/>\n')
    w("    <rpm:provides>\n" + "\n".join(prov_lines) + "\n    </rpm:provides>\n")
    w(section("requires", p.requires, "    "))
    w(section("conflicts", p.conflicts, "    "))
    w(section("recommends", p.recommends, "    "))
    w(section("suggests", p.suggests, "    "))
    w(section("enhances", p.enhances, "    "))
    w("  </format>\n")
    w("</package>\n")
    return out.getvalue()


def write_repo(pkgs, outdir, ts):
    rd = os.path.join(outdir, "repodata")
    if os.path.isdir(rd):
        shutil.rmtree(rd)
    os.makedirs(rd)
    n = len(pkgs)
    AMBIGUOUS.clear()
    AMBIGUOUS.update(name for p in pkgs for name, op, _ in p.provides if op is None)
    prim = io.StringIO()
    prim.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    prim.write(
        '<metadata xmlns="http://linux.duke.edu/metadata/common" '
        f'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="{n}">\n'
    )
    fl = io.StringIO()
    fl.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    fl.write(f'<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="{n}">\n')
    ot = io.StringIO()
    ot.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    ot.write(f'<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="{n}">\n')
    for p in pkgs:
        prim.write(primary_package(p, ts))
        e, v, r = p.evr
        head = f'<package pkgid="{pkgid(p)}" name="{escape(p.name)}" arch="{p.arch}">\n  <version{evr_attrs(e, v, r)}/>\n'
        fl.write(head + "</package>\n")
        ot.write(head + "</package>\n")
    prim.write("</metadata>\n")
    fl.write("</filelists>\n")
    ot.write("</otherdata>\n")

    entries = []
    for kind, buf in (("primary", prim), ("filelists", fl), ("other", ot)):
        raw = buf.getvalue().encode("utf-8")
        gz = gzip.compress(raw, compresslevel=6, mtime=0)
        csum = hashlib.sha256(gz).hexdigest()
        href = f"repodata/{csum}-{kind}.xml.gz"
        with open(os.path.join(outdir, href), "wb") as f:
            f.write(gz)
        entries.append((kind, csum, hashlib.sha256(raw).hexdigest(), href, len(gz), len(raw)))

    x = io.StringIO()
    x.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    x.write('<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n')
    x.write(f"  <revision>{ts}</revision>\n")
    for kind, csum, ocsum, href, size, osize in entries:
        x.write(f'  <data type="{kind}">\n')
        x.write(f'    <checksum type="sha256">{csum}</checksum>\n')
        x.write(f'    <open-checksum type="sha256">{ocsum}</open-checksum>\n')
        x.write(f'    <location href="{href}"/>\n')
        x.write(f"    <timestamp>{ts}</timestamp>\n")
        x.write(f"    <size>{size}</size>\n")
        x.write(f"    <open-size>{osize}</open-size>\n")
        x.write("  </data>\n")
    x.write("</repomd>\n")
    with open(os.path.join(rd, "repomd.xml"), "w", encoding="utf-8") as f:
        f.write(x.getvalue())
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", help="repository directory to write (repodata/ is replaced)")
    ap.add_argument("--packages", default=DEFAULT_PACKAGES, help="Debian Packages file (plain, .gz, .xz, .lz4)")
    ap.add_argument("--limit", type=int, default=0, help="write a dependency-closed subset of about N packages")
    ap.add_argument("--seed", action="append", default=[], help="package to take first when subsetting (repeatable)")
    ap.add_argument("--timestamp", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_TIMESTAMP)))
    a = ap.parse_args()

    if not os.path.exists(a.packages):
        die(f"{a.packages} does not exist (run `apt-get update`, or pass --packages)")
    pkgs = [Pkg(st) for st in parse_stanzas(read_index(a.packages)) if "Package" in st and "Version" in st]
    if not pkgs:
        die(f"{a.packages} has no package stanzas")
    pkgs.sort(key=lambda p: (p.name, p.arch, p.fields["Version"]))
    if a.limit:
        pkgs = subset(pkgs, a.limit, a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    entries = write_repo(pkgs, a.outdir, a.timestamp)
    prim = entries[0]
    print(
        f"debian-to-rpmmd: wrote {len(pkgs)} packages to {a.outdir} "
        f"(primary {prim[4]} bytes gz, {prim[5]} bytes xml)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
