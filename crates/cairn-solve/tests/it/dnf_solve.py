"""Resolve an install request with the real dnf (libsolv) and print the install set as JSON.

usage: /usr/bin/python3 dnf_solve.py REPO_DIR WORK_DIR WEAK(0|1) EXCLUDES(comma list) NAME...
Prints {"install": ["name-[epoch:]version-release.arch", ...]} or {"error": "..."}.
"""
import json
import os
import sys

import dnf

repo, work, weak, excludes = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
names = sys.argv[5:]
for d in ("root", "cache", "persist", "log"):
    os.makedirs(os.path.join(work, d), exist_ok=True)
base = dnf.Base()
conf = base.conf
conf.installroot = os.path.join(work, "root")
conf.cachedir = os.path.join(work, "cache")
conf.persistdir = os.path.join(work, "persist")
conf.logdir = os.path.join(work, "log")
conf.reposdir = []
conf.gpgcheck = False
conf.install_weak_deps = weak
conf.substitutions["releasever"] = "1"
if excludes:
    conf.excludepkgs = excludes.split(",")
base.repos.add_new_repo("fx", conf, baseurl=["file://" + repo])
base.fill_sack(load_system_repo=False)
try:
    for n in names:
        base.install(n)
    base.resolve()
except dnf.exceptions.Error as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(0)
out = sorted(f"{p.name}-{p.evr}.{p.arch}" for p in base.transaction.install_set)
print(json.dumps({"install": out}))
