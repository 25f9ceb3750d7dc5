#!/usr/bin/python3
"""Generate a cairn project with N components for the render benchmark.

    bench/comp-gen.py [N] DEST [--seed S] [--jobs J] [--writer loose|fast-import]

N defaults to 5000. Writes, after removing any earlier output of this script in DEST:

  DEST/git/<pkg>.git       bare dist-git repositories, one commit on branch `f43` (HEAD),
                           holding <pkg>.spec (200-600 lines: preamble, 1-4 subpackages,
                           conditionals, %build/%install/%check/%files, 20-60 changelog
                           entries), 0-3 patches and a `sources` file. The tarball named in
                           `sources` does not exist: render never reads the lookaside cache.
  DEST/cairn.toml          the project, including the files below
  DEST/distro/fedora.distro.toml, DEST/distro/cairnlinux.distro.toml
  DEST/comps/components.toml
                           one `[components.NAME]` line per component without overlays
  DEST/comps/NAME/NAME.comp.toml
                           components with overlays (about 70%, 1-4 each); about half the
                           overlays are inline, the others are overlays/NNNN-*.overlay.toml
                           files; patch-add overlays use DEST/comps/NAME/patches/*.patch
Every overlay applies to the generated spec: spec-set-tag (Release, Vendor), spec-add-tag
(a BuildRequires the spec lacks), spec-append-lines (%install), spec-search-replace (a
configure option that occurs once, in %build), spec-remove-tag (a BuildRequires the main
package has, with its value) and patch-add.

Repositories: each is laid out by hand (HEAD, config, refs) and its objects are written as
loose objects straight from Python; J workers (default: the CPU count) share the work.
`--writer fast-import` feeds the same commit to one `git fast-import` per repository
instead (same commit ids; about 14 ms per repository here, too slow for 5000 on 2 cores). Output is a function of N and the seed only: the same
arguments give the same files and the same commit ids. The elapsed time goes to stderr.

Standard library only.
"""

import argparse
import datetime
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import time
import zlib

EPOCH = 1735689600  # 2025-01-01T00:00:00Z, the commit date of every generated repository
BRANCH = "f43"

LICENSES = ["MIT", "GPL-2.0-or-later", "LGPL-2.1-or-later", "Apache-2.0", "BSD-3-Clause",
            "GPL-3.0-only", "MPL-2.0", "Zlib", "ISC", "BSD-2-Clause AND MIT"]
WORDS = ("fast small portable secure modern simple robust lightweight flexible extensible "
         "library tool daemon utility parser engine toolkit framework client server "
         "compression network image audio text archive configuration logging terminal "
         "protocol format database cache scheduler monitor filesystem graphics").split()
BUILDREQ_POOL = [
    "pkgconfig(zlib)", "pkgconfig(glib-2.0)", "pkgconfig(libxml-2.0)", "pkgconfig(openssl)",
    "pkgconfig(libcurl)", "pkgconfig(libsystemd)", "pkgconfig(libzstd)", "pkgconfig(liblzma)",
    "pkgconfig(libpng)", "pkgconfig(json-c)", "pkgconfig(libffi)", "pkgconfig(ncursesw)",
    "pkgconfig(readline)", "pkgconfig(sqlite3)", "pkgconfig(libarchive)", "pkgconfig(expat)",
    "pkgconfig(libpcre2-8)", "pkgconfig(dbus-1)", "pkgconfig(libudev)", "pkgconfig(uuid)",
    "bzip2-devel", "libattr-devel", "libacl-devel", "libcap-devel", "libselinux-devel",
    "gettext-devel", "systemd-rpm-macros", "perl-interpreter", "python3-devel", "help2man",
    "texinfo", "doxygen", "gperf", "bison", "flex", "libtool", "autoconf", "automake",
]
EXTRA_BUILDREQ = ["cairn-rpm-config", "cairn-compat-headers", "pkgconfig(cairn-branding)",
                  "cairn-build-hardening", "cairn-sbom-tools"]
PACKAGERS = [("Ada Lovelace", "ada@fedora.example"), ("Grace Hopper", "grace@fedora.example"),
             ("Alan Turing", "alan@fedora.example"), ("Barbara Liskov", "barbara@fedora.example"),
             ("Edsger Dijkstra", "edsger@fedora.example"), ("Fedora Release Engineering",
                                                            "releng@fedoraproject.example")]
CHANGELOG_NOTES = [
    "Rebuilt for the Fedora mass rebuild", "Update to {ver}", "Fix FTBFS with GCC 15",
    "Backport fix for CVE-2024-{cve}", "Drop obsolete Obsoletes", "Enable the test suite",
    "Convert License tag to SPDX", "Split out the {sub} subpackage", "Use %%autosetup",
    "Rebuild for {lib} soname bump", "Add missing BuildRequires: {br}", "Modernize the spec",
    "Disable LTO on s390x", "Ship the upstream NEWS file", "Fix directory ownership",
]
CATEGORIES = ["backport", "pruning", "compatibility", "temporary-workaround", "branding",
              "security-compliance", "platform-adaptation"]
STATUSES = ["upstreamed", "upstreamable", "inapplicable", "unknown"]
OVERLAY_KINDS = ["spec-set-tag", "spec-add-tag", "spec-append-lines", "spec-search-replace",
                 "spec-remove-tag", "patch-add"]


def toml_str(s):
    """A TOML basic string (JSON's escapes are valid TOML for this ASCII text)."""
    return json.dumps(s, ensure_ascii=True)


def toml_list(items):
    return "[" + ", ".join(toml_str(i) for i in items) + "]"


def comp_name(i):
    return "pkg%05d" % i


def fake_patch(rng, name, idx, subject):
    """A plausible git-format-patch file against some source file of the tarball."""
    path = rng.choice(["src/main.c", "src/util.c", "Makefile.am", "configure.ac",
                       "CMakeLists.txt", "meson.build", "lib/%s.c" % name, "include/%s.h" % name])
    start = rng.randint(10, 400)
    ctx = ["    ret = %s_step_%d(ctx);" % (name, rng.randint(1, 99)),
           "    if (ret < 0)", "        goto out;"]
    old = "    flags |= %s_FLAG_%d;" % (name.upper(), rng.randint(1, 30))
    new = "    flags |= %s_FLAG_%d | %s_FLAG_SAFE;" % (name.upper(), rng.randint(1, 30),
                                                    name.upper())
    body = [
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001",
        "From: %s <%s>" % rng.choice(PACKAGERS),
        "Date: Mon, %d Jun 2024 10:%02d:00 +0000" % (rng.randint(1, 28), idx),
        "Subject: [PATCH] %s" % subject,
        "",
        "---",
        " %s | 2 +-" % path,
        " 1 file changed, 1 insertion(+), 1 deletion(-)",
        "",
        "diff --git a/%s b/%s" % (path, path),
        "--- a/%s" % path,
        "+++ b/%s" % path,
        "@@ -%d,7 +%d,7 @@" % (start, start),
        *(" " + line for line in ctx),
        "-" + old,
        "+" + new,
        *(" " + line for line in ctx),
        "",
    ]
    return "\n".join(body)


def gen_changelog(rng, name, version, release):
    entries = []
    day = datetime.date(2025, 8, 1) - datetime.timedelta(days=rng.randint(0, 60))
    major, minor, patch = (int(x) for x in version.split("."))
    rel = release
    for _ in range(rng.randint(20, 60)):
        who, mail = rng.choice(PACKAGERS)
        header = "* %s %s <%s> - %d.%d.%d-%d" % (day.strftime("%a %b %d %Y"), who, mail,
                                                 major, minor, patch, rel)
        notes = []
        for _ in range(rng.randint(1, 3)):
            notes.append("- " + rng.choice(CHANGELOG_NOTES).format(
                ver="%d.%d.%d" % (major, minor, patch), cve=rng.randint(1000, 49999),
                sub=rng.choice(["devel", "libs", "doc", "tools"]),
                lib=rng.choice(["icu", "openssl", "libxml2", "protobuf"]),
                br=rng.choice(BUILDREQ_POOL)))
        entries.append("\n".join([header] + notes))
        day -= datetime.timedelta(days=rng.randint(7, 120))
        if rel > 1:
            rel -= 1
        else:
            rel = rng.randint(1, 6)
            if patch > 0:
                patch -= 1
            elif minor > 0:
                minor, patch = minor - 1, rng.randint(0, 9)
            else:
                major, minor, patch = max(major - 1, 0), rng.randint(0, 9), rng.randint(0, 9)
    return "\n\n".join(entries)


SUBPACKAGES = ["libs", "devel", "doc", "tools", "python3", "static"]
SUB_TEXT = {
    "libs": "the shared libraries of %{name}",
    "devel": "the header files and library links for building against %{name}",
    "doc": "the HTML documentation of %{name}",
    "tools": "extra command line tools that come with %{name}",
    "python3": "the Python 3 bindings of %{name}",
    "static": "the static libraries of %{name}",
}


def gen_component(i, seed):
    """The spec, files and overlay plan of component number i."""
    rng = random.Random("%d:%d" % (seed, i))
    name = comp_name(i)
    version = "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 40), rng.randint(0, 20))
    release = rng.randint(1, 9)
    buildsys = rng.choice(["autotools", "cmake", "meson"])
    brs = rng.sample(BUILDREQ_POOL, rng.randint(3, 10))
    subs = rng.sample(SUBPACKAGES, rng.randint(1, 4))
    if "static" in subs and "devel" not in subs:
        subs.append("devel")
    subs.sort(key=SUBPACKAGES.index)
    n_patches = rng.randint(0, 3)
    patch_subjects = ["Fix build with -Werror=implicit-function-declaration",
                      "Do not use the bundled zlib", "Use the system CA bundle",
                      "Fix a crash on empty input", "Respect DESTDIR in install-data-local"]
    patches = []
    for p in range(n_patches):
        subject = patch_subjects[(i + p) % len(patch_subjects)]
        fname = "%s-%s-%s.patch" % (name, version, subject.lower().split()[0] + str(p))
        patches.append((fname, subject, fake_patch(rng, name, p, subject)))
    # Options for the configure call: one (unique in the spec) is the search-replace target.
    features = ["%s%d" % (rng.choice(["gtk", "ssl", "nls", "udev", "xattr", "acl", "lz4",
                                       "docs", "jit", "ipv6", "pam", "tls"]), k)
                for k in range(rng.randint(3, 8))]
    if buildsys == "autotools":
        opts = ["--enable-%s-%s" % (name, f) for f in features]
        build_cmd = ["%configure \\", "    --disable-static \\"] + \
                    ["    %s \\" % o for o in opts[:-1]] + ["    %s" % opts[-1], "%make_build"]
        install_cmd = ["%make_install", "find %{buildroot} -name '*.la' -delete"]
        check_cmd = ["%make_build check"]
    elif buildsys == "cmake":
        opts = ["-D%s_ENABLE_%s=ON" % (name.upper(), f.upper()) for f in features]
        build_cmd = ["%cmake \\", "    -DBUILD_SHARED_LIBS=ON \\"] + \
                    ["    %s \\" % o for o in opts[:-1]] + ["    %s" % opts[-1], "%cmake_build"]
        install_cmd = ["%cmake_install"]
        check_cmd = ["%ctest"]
    else:
        opts = ["-D%s_%s=enabled" % (name.replace("-", "_"), f) for f in features]
        build_cmd = ["%meson \\", "    -Ddefault_library=shared \\"] + \
                    ["    %s \\" % o for o in opts[:-1]] + ["    %s" % opts[-1], "%meson_build"]
        install_cmd = ["%meson_install"]
        check_cmd = ["%meson_test"]
    summary = "%s %s %s" % (rng.choice(WORDS).capitalize(), rng.choice(WORDS), rng.choice(WORDS))
    desc = []
    for _ in range(rng.randint(2, 5)):
        desc.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 8))).capitalize()
                    + ".")

    L = []
    L.append("%%global somajor %d" % rng.randint(0, 5))
    L.append("%bcond_without tests")
    if "doc" in subs:
        L.append("%bcond_with docs")
    L += ["", "Name:           %s" % name, "Version:        %s" % version,
          "Release:        %d%%{?dist}" % release, "Summary:        %s" % summary, "",
          "License:        %s" % rng.choice(LICENSES),
          "URL:            https://%s.example.org" % name,
          "Source0:        %{url}/releases/%{name}-%{version}.tar.gz"]
    for p, (fname, subject, _) in enumerate(patches):
        L += ["# %s" % subject, "Patch%d:         %s" % (p, fname)]
    L.append("")
    L.append("BuildRequires:  gcc")
    L.append("BuildRequires:  %s" % {"autotools": "make", "cmake": "cmake",
                                      "meson": "meson"}[buildsys])
    L += ["BuildRequires:  %s" % br for br in brs]
    L += ["%ifarch %{valgrind_arches}", "BuildRequires:  valgrind", "%endif"]
    L += ["%if 0%{?fedora} >= 41 || 0%{?rhel} >= 10", "BuildRequires:  pkgconfig(liburing)",
          "%endif"]
    if "libs" in subs:
        L.append("Requires:       %{name}-libs%{?_isa} = %{version}-%{release}")
    L += ["", "%description"] + desc + [""]
    sub_names = {}
    for s in subs:
        full = "python3-%{name}" if s == "python3" else "%{name}-" + s
        sub_names[s] = full
        hdr = "%package -n     python3-%{name}" if s == "python3" else "%%package        %s" % s
        L.append(hdr)
        L.append("Summary:        %s for %%{name}" % {
            "libs": "Shared libraries", "devel": "Development files", "doc": "Documentation",
            "tools": "Command line tools", "python3": "Python 3 bindings",
            "static": "Static libraries"}[s])
        if s == "doc":
            L.append("BuildArch:      noarch")
            L.append("Requires:       %{name} = %{version}-%{release}")
        elif s == "libs":
            pass
        elif s in ("devel", "tools", "python3") and "libs" in subs:
            L.append("Requires:       %{name}-libs%{?_isa} = %{version}-%{release}")
        elif s == "static":
            L.append("Requires:       %{name}-devel%{?_isa} = %{version}-%{release}")
        else:
            L.append("Requires:       %{name}%{?_isa} = %{version}-%{release}")
        L.append("")
        L.append("%description -n python3-%{name}" if s == "python3"
                 else "%%description   %s" % s)
        L.append("This package contains %s." % SUB_TEXT[s])
        L.append("")
    L += ["%prep", "%autosetup -p1", ""]
    L += ["%build"] + build_cmd + [""]
    L += ["%install"] + install_cmd
    if "doc" in subs:
        L += ["%if %{with docs}", "install -d %{buildroot}%{_pkgdocdir}/html",
              "cp -pr doc/html/* %{buildroot}%{_pkgdocdir}/html/", "%endif"]
    L += ["", "%check", "%if %{with tests}"] + check_cmd + ["%endif", ""]
    if "libs" in subs:
        L += ["%ldconfig_scriptlets libs", ""]

    def file_block(n, kind):
        out = []
        for k in range(n):
            if kind == "bin":
                out.append("%%{_bindir}/%s-%s" % (name, rng.choice(WORDS) + str(k)))
            elif kind == "man":
                out.append("%%{_mandir}/man1/%s-%d.1*" % (name, k))
            elif kind == "inc":
                out.append("%%{_includedir}/%s/%s%d.h" % (name, rng.choice(WORDS), k))
            elif kind == "data":
                out.append("%%{_datadir}/%s/%s%d.dat" % (name, rng.choice(WORDS), k))
            else:
                out.append("%%{_pkgdocdir}/%s%d.html" % (rng.choice(WORDS), k))
        return out

    changelog = gen_changelog(rng, name, version, release)
    # Size the file lists so the whole spec lands between 200 and 600 lines.
    fixed = len(L) + changelog.count("\n") + 1 + 12 + 4 * len(subs)
    budget = max(20, rng.randint(200, 560) - fixed)
    per = max(3, budget // (2 + len(subs)))
    F = ["%files", "%license COPYING", "%doc README.md NEWS"]
    F += file_block(per, "bin") + file_block(per // 2, "man")
    F += ["%%{_datadir}/%s/" % name] + file_block(per // 2, "data")
    main_end = len(F)
    F.append("")
    for s in subs:
        F.append("%files -n python3-%{name}" if s == "python3" else "%%files %s" % s)
        if s == "libs":
            F += ["%license COPYING", "%%{_libdir}/lib%s.so.%%{somajor}{,.*}" % name]
        elif s == "devel":
            F += ["%%{_libdir}/lib%s.so" % name, "%%{_libdir}/pkgconfig/%s.pc" % name,
                  "%%dir %%{_includedir}/%s" % name] + file_block(per, "inc")
        elif s == "static":
            F += ["%%{_libdir}/lib%s.a" % name]
        elif s == "doc":
            F += ["%if %{with docs}", "%doc %{_pkgdocdir}/html", "%endif"] + \
                 file_block(per // 2, "doc")
        elif s == "tools":
            F += file_block(per, "bin")
        else:
            F += ["%%{python3_sitearch}/%s/" % name.replace("-", "_"),
                  "%%{python3_sitearch}/%s-%%{version}.dist-info/" % name.replace("-", "_")]
        F.append("")
    total = len(L) + len(F) + 2 + changelog.count("\n")
    if total < 200:  # too short: more data files in the main package
        F[main_end:main_end] = ["%%{_datadir}/%s/extra%d.dat" % (name, k)
                                for k in range(200 - total + rng.randint(0, 40))]
    L += F
    L += ["%changelog", changelog, ""]
    spec = "\n".join(L)
    while spec.count("\n") > 600:  # keep the promise of at most 600 lines
        cut = spec.rfind("\n\n* ")
        spec = spec[:cut] + "\n"
    tarball = "%s-%s.tar.gz" % (name, version)
    digest = hashlib.sha512(("fake tarball %s" % tarball).encode()).hexdigest()
    sources = "SHA512 (%s) = %s\n" % (tarball, digest)
    files = [("%s.spec" % name, spec), ("sources", sources)]
    files += [(fname, text) for fname, _, text in patches]
    files.append((".gitignore", "/%s-*.tar.gz\n" % name))

    # Overlay plan.
    overlays = []
    if rng.random() < 0.7:
        kinds = rng.sample(OVERLAY_KINDS, rng.randint(1, 4))
        for kind in kinds:
            meta = {"category": rng.choice(CATEGORIES), "upstream-status": rng.choice(STATUSES)}
            ov = {"type": kind}
            if kind == "spec-set-tag":
                if rng.random() < 0.5:
                    ov.update(description="Carry our own release numbering", tag="Release",
                              value="%d%%{?dist}.cairn%d" % (release, rng.randint(1, 3)))
                    meta["category"] = "platform-adaptation"
                else:
                    ov.update(description="Brand the package", tag="Vendor", value="Cairn")
                    meta["category"] = "branding"
            elif kind == "spec-add-tag":
                ov.update(description="Build with the Cairn build configuration",
                          tag="BuildRequires", value=rng.choice(EXTRA_BUILDREQ))
            elif kind == "spec-append-lines":
                ov.update(description="Drop files Cairn does not ship", section="%install",
                          lines=["# Cairn: no static archives, no libtool files",
                                 "rm -f %{buildroot}%{_libdir}/*.la"])
            elif kind == "spec-search-replace":
                target = rng.choice(opts)
                if buildsys == "autotools":
                    repl = target.replace("--enable-", "--disable-", 1)
                elif buildsys == "cmake":
                    repl = target.replace("=ON", "=OFF")
                else:
                    repl = target.replace("=enabled", "=disabled")
                ov.update(description="Turn off a feature Cairn does not support",
                          section="%build", regex=target, replacement=repl)
            elif kind == "spec-remove-tag":
                ov.update(description="Cairn does not ship this build dependency",
                          tag="BuildRequires", value=rng.choice(brs))
                meta["category"] = "pruning"
            else:
                pname = "cairn-%s-fix%d.patch" % (name, len(overlays) + 1)
                ov.update(description="Fix the build on Cairn",
                          source="patches/%s" % pname)
                ov["_patch"] = (pname, fake_patch(rng, name, 9, "Fix the build on Cairn"))
                meta["category"] = "backport"
                meta["commits"] = ["https://%s.example.org/c/%s" % (
                    name, hashlib.sha1(pname.encode()).hexdigest()[:12])]
            check_applies(name, spec, ov)
            ov["_meta"] = meta
            # patch-add stays inline: its `source` is relative to the defining file.
            ov["_inline"] = kind == "patch-add" or rng.random() < 0.5
            overlays.append(ov)
    return name, files, overlays


def check_applies(name, spec, ov):
    """Fail loudly if an overlay would not find what it changes in the generated spec."""
    kind = ov["type"]
    lines = spec.split("\n")
    ok = True
    if kind == "spec-set-tag" and ov["tag"] == "Release":
        ok = sum(line.startswith("Release:") for line in lines) == 1
    elif kind == "spec-set-tag":
        ok = not any(line.startswith(ov["tag"] + ":") for line in lines)
    elif kind == "spec-add-tag":
        ok = ov["value"] not in spec
    elif kind == "spec-append-lines":
        ok = lines.count(ov["section"]) == 1
    elif kind == "spec-search-replace":
        build = spec[spec.index("\n%build\n"):spec.index("\n%install\n")]
        ok = spec.count(ov["regex"]) == 1 and ov["regex"] in build
    elif kind == "spec-remove-tag":
        ok = lines.count("%s:  %s" % (ov["tag"], ov["value"])) == 1
    if not ok:
        raise RuntimeError("%s: generated %s overlay would not apply" % (name, kind))


def fast_import_stream(files, msg):
    out = []
    for n, (_, text) in enumerate(files, 1):
        data = text.encode()
        out.append(b"blob\nmark :%d\ndata %d\n%s\n" % (n, len(data), data))
    msgb = msg.encode()
    who = b"Fedora Release Engineering <releng@fedoraproject.example> %d +0000" % EPOCH
    out.append(b"commit refs/heads/%s\nauthor %s\ncommitter %s\ndata %d\n%s\n"
               % (BRANCH.encode(), who, who, len(msgb), msgb))
    for n, (path, _) in enumerate(files, 1):
        out.append(b"M 100644 :%d %s\n" % (n, path.encode()))
    out.append(b"\ndone\n")
    return b"".join(out)


def write_object(repo, kind, data):
    """Store one loose object (zlib-compressed "KIND SIZE\\0DATA"); returns its hex id."""
    raw = b"%s %d\0%s" % (kind, len(data), data)
    oid = hashlib.sha1(raw).hexdigest()
    d = os.path.join(repo, "objects", oid[:2])
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, oid[2:])
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(zlib.compress(raw, 1))
    return oid


def write_loose(repo, files, msg):
    """The same commit fast_import_stream describes, written as loose objects directly."""
    entries = []
    for path, text in files:
        if "/" in path:
            raise RuntimeError("write_loose handles top-level files only, not %s" % path)
        entries.append((path.encode(), write_object(repo, b"blob", text.encode())))
    entries.sort()  # git orders the entries of a tree of plain files by name bytes
    tree = b"".join(b"100644 %s\0%s" % (p, bytes.fromhex(oid)) for p, oid in entries)
    who = b"Fedora Release Engineering <releng@fedoraproject.example> %d +0000" % EPOCH
    commit = b"tree %s\nauthor %s\ncommitter %s\n\n%s" % (
        write_object(repo, b"tree", tree).encode(), who, who, msg.encode())
    oid = write_object(repo, b"commit", commit)
    with open(os.path.join(repo, "refs", "heads", BRANCH), "w") as f:
        f.write(oid + "\n")


def make_bare(path):
    """A bare repository laid out by hand (what `git init --bare` writes, minus samples)."""
    for d in ("objects/pack", "objects/info", "refs/heads", "refs/tags", "info"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    with open(os.path.join(path, "HEAD"), "w") as f:
        f.write("ref: refs/heads/%s\n" % BRANCH)
    with open(os.path.join(path, "config"), "w") as f:
        f.write("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n")


def overlay_toml(ov, prefix):
    lines = []
    for key in ("type", "description", "section", "tag", "value", "regex", "replacement",
                "source"):
        if key in ov:
            lines.append("%s = %s" % (key, toml_str(ov[key])))
    if "lines" in ov:
        lines.append("lines = %s" % toml_list(ov["lines"]))
    return [prefix] + lines


def meta_inline(meta):
    parts = ["category = %s" % toml_str(meta["category"]),
             "upstream-status = %s" % toml_str(meta["upstream-status"])]
    if meta.get("commits"):
        parts.append("commits = %s" % toml_list(meta["commits"]))
    return "{ " + ", ".join(parts) + " }"


def write_component(dest, name, overlays):
    """comps/NAME/NAME.comp.toml and its overlay files; returns (inline, file) counts."""
    cdir = os.path.join(dest, "comps", name)
    os.makedirs(cdir, exist_ok=True)
    inline = [o for o in overlays if o["_inline"]]
    filed = [o for o in overlays if not o["_inline"]]
    out = ["[components.%s]" % name]
    if filed:
        out.append('overlay-files = ["overlays/*.overlay.toml"]')
    for ov in inline:
        out.append("")
        out += overlay_toml(ov, "[[components.%s.overlays]]" % name)
        out.append("metadata = %s" % meta_inline(ov["_meta"]))
        if "_patch" in ov:
            pdir = os.path.join(cdir, "patches")
            os.makedirs(pdir, exist_ok=True)
            with open(os.path.join(pdir, ov["_patch"][0]), "w") as f:
                f.write(ov["_patch"][1])
    with open(os.path.join(cdir, "%s.comp.toml" % name), "w") as f:
        f.write("\n".join(out) + "\n")
    if filed:
        odir = os.path.join(cdir, "overlays")
        os.makedirs(odir, exist_ok=True)
        for n, ov in enumerate(filed, 1):
            slug = ov["type"].replace("spec-", "")
            meta = ov["_meta"]
            text = ["[metadata]", "category = %s" % toml_str(meta["category"]),
                    "upstream-status = %s" % toml_str(meta["upstream-status"])]
            if meta.get("commits"):
                text.append("commits = %s" % toml_list(meta["commits"]))
            text.append("")
            text += overlay_toml(ov, "[[overlays]]")
            with open(os.path.join(odir, "%04d-%s.overlay.toml" % (n, slug)), "w") as f:
                f.write("\n".join(text) + "\n")
    return len(inline), len(filed)


def work(args):
    """Worker: generate components [lo, hi) and write their repositories and configs."""
    lo, hi, seed, dest, writer = args
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    results = []
    for i in range(lo, hi):
        name, files, overlays = gen_component(i, seed)
        repo = os.path.join(dest, "git", name + ".git")
        make_bare(repo)
        msg = "Import %s from the generated mirror\n" % name
        if writer == "loose":
            write_loose(repo, files, msg)
        else:
            proc = subprocess.run(["git", "--git-dir", repo, "fast-import", "--quiet", "--done"],
                                  input=fast_import_stream(files, msg), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if proc.returncode != 0:
                raise RuntimeError("git fast-import for %s failed: %s"
                                   % (name, proc.stderr.decode(errors="replace")))
        counts = (0, 0)
        if overlays:
            counts = write_component(dest, name, overlays)
        lines = files[0][1].count("\n")
        results.append((i, name, bool(overlays), counts, lines))
    return results


def write_project(dest):
    dest_abs = os.path.abspath(dest)
    os.makedirs(os.path.join(dest, "distro"), exist_ok=True)
    with open(os.path.join(dest, "cairn.toml"), "w") as f:
        f.write('includes = ["distro/*.distro.toml", "comps/**/*.comp.toml", '
                '"comps/components.toml"]\n\n'
                '[project]\nname = "bench"\nrendered-specs-dir = "specs"\n'
                'default-distro = { name = "cairnlinux", version = "1" }\n')
    with open(os.path.join(dest, "distro", "fedora.distro.toml"), "w") as f:
        f.write('[distros.fedora]\n'
                'description = "Fedora (generated mirror)"\n'
                'default-version = "43"\n'
                'dist-git-base-uri = %s\n'
                'lookaside-base-uri = %s\n\n'
                '[distros.fedora.versions.43]\n'
                'release-ver = "43"\n'
                'dist-git-branch = "%s"\n'
                % (toml_str("file://%s/git/$pkg.git" % dest_abs),
                   toml_str("file://%s/lookaside/$pkg/$filename/$hashtype/$hash/$filename"
                            % dest_abs), BRANCH))
    with open(os.path.join(dest, "distro", "cairnlinux.distro.toml"), "w") as f:
        f.write("[distros.cairnlinux]\n"
                'default-version = "1"\n\n'
                "[distros.cairnlinux.versions.'1']\n"
                'release-ver = "1"\n\n'
                "[distros.cairnlinux.versions.'1'.default-component-config]\n"
                'spec = { type = "upstream", upstream-distro = { name = "fedora", '
                'version = "43" } }\n\n'
                "[distros.cairnlinux.versions.'1'.default-component-config.build.defines]\n"
                'dist = ".cl1"\n'
                'vendor = "Cairn"\n'
                'distribution = "Cairn Linux"\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("args", nargs="+", metavar="[N] DEST")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--writer", choices=["loose", "fast-import"], default="loose",
                    help="write git objects directly (default) or through git fast-import")
    ns = ap.parse_args()
    if len(ns.args) == 1:
        n, dest = 5000, ns.args[0]
    elif len(ns.args) == 2:
        try:
            n = int(ns.args[0])
        except ValueError:
            ap.error("N must be a number, got %r" % ns.args[0])
        dest = ns.args[1]
    else:
        ap.error("expected [N] DEST")
    if n < 1:
        ap.error("N must be at least 1")
    if shutil.which("git") is None:
        sys.exit("comp-gen.py: git not found")

    start = time.monotonic()
    os.makedirs(dest, exist_ok=True)
    for sub in ("git", "comps", "distro", "specs"):
        shutil.rmtree(os.path.join(dest, sub), ignore_errors=True)
    for f in ("cairn.toml",):
        if os.path.exists(os.path.join(dest, f)):
            os.remove(os.path.join(dest, f))
    os.makedirs(os.path.join(dest, "git"))
    os.makedirs(os.path.join(dest, "comps"))
    write_project(dest)

    chunk = max(1, min(50, n // (ns.jobs * 4) or 1))
    tasks = [(lo, min(lo + chunk, n + 1), ns.seed, dest, ns.writer)
             for lo in range(1, n + 1, chunk)]
    results = []
    if ns.jobs > 1:
        with multiprocessing.Pool(ns.jobs) as pool:
            for part in pool.imap_unordered(work, tasks):
                results += part
    else:
        for t in tasks:
            results += work(t)
    results.sort()

    bare = [name for _, name, has, _, _ in results if not has]
    with open(os.path.join(dest, "comps", "components.toml"), "w") as f:
        f.write("# Components taken from Fedora unchanged.\n")
        f.write("".join("[components.%s]\n" % name for name in bare))

    n_inline = sum(c[0] for _, _, _, c, _ in results)
    n_file = sum(c[1] for _, _, _, c, _ in results)
    lines = [r[4] for r in results]
    elapsed = time.monotonic() - start
    print("comp-gen.py: %d components (%d with overlays; %d inline overlays, %d overlay "
          "files; spec lines %d-%d) in %s, %.1f s"
          % (n, n - len(bare), n_inline, n_file, min(lines), max(lines), dest, elapsed),
          file=sys.stderr)


if __name__ == "__main__":
    main()
