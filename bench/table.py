#!/usr/bin/python3
"""Render bench/resolve.sh's raw results as a Markdown table (stdlib only).

Arguments: results.tsv (case, tool, packages, wall_s, rss_kb, cpu_s, solve_ms, load_ms; one
line per run), cases.tsv (`case<TAB>name<TAB>packages<TAB>request`), the run count, cairn's
version, and optionally the load average before and after the run.
Each cell is the median over the runs; "vs cairn" is the tool's median divided by cairn's
(above 1: cairn is faster / smaller).
"""

import statistics
import sys


def med(xs):
    xs = [float(x) for x in xs if x not in ("", None)]
    return statistics.median(xs) if xs else None


def fmt(x, nd=2):
    if x is None:
        return "—"
    if nd == 2 and 0 < x < 0.1:
        nd = 3
    return f"{x:.{nd}f}"


def ratio(x, base):
    if x is None or base is None or base == 0:
        return "—"
    return f"{x / base:.2f}×"


def main():
    results, cases_file, runs, cairn_version = sys.argv[1:5]
    load = sys.argv[5:7]
    rows = {}
    order = []
    for line in open(results, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 8:
            continue
        key = (f[0], f[1])
        if key not in rows:
            rows[key] = []
            order.append(key)
        rows[key].append(f)
    cases = []
    for line in open(cases_file, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        cases.append((f[1], f[2], f[3]))

    out = []
    w = out.append
    w(f"Median of {runs} runs per cell ({cairn_version}); the tools take turns run by run."
      " **wall** = whole process, cold (fresh cache dir and install root every run);"
      " **CPU** = user + system time; **solve** = cairn's `--timings` solve_ms, and for"
      " testsolv its addfileprovides + createwhatprovides + solver_solve (index + solve, the"
      " scope cairn's solve_ms covers); **peak RSS** = /usr/bin/time %M."
      " \"vs cairn\" = that tool's median ÷ cairn's: above 1× cairn is faster or smaller.")
    if len(load) == 2:
        w("")
        w(f"Load average (1/5/15 min) before: {load[0]}; after: {load[1]}.")
    w("")
    w("| case | packages in repo | request | tool | resolved | wall s | wall vs cairn | CPU s | CPU vs cairn | load ms | solve ms | solve vs cairn | peak RSS MiB | RSS vs cairn |")
    w("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, count, request in cases:
        keys = [k for k in order if k[0] == name]
        base = rows.get((name, "cairn"), [])
        b_wall = med(r[3] for r in base)
        b_rss = med(r[4] for r in base)
        b_cpu = med(r[5] for r in base)
        b_solve = med(r[6] for r in base)
        for k in keys:
            rs = rows[k]
            tool = k[1]
            pkgs = "/".join(sorted({r[2] for r in rs}))
            wall = med(r[3] for r in rs)
            rss = med(r[4] for r in rs)
            cpu = med(r[5] for r in rs)
            solve = med(r[6] for r in rs)
            ld = med(r[7] for r in rs)
            rss_mib = None if rss is None else rss / 1024
            me = tool == "cairn"
            w(
                f"| {name} | {count} | {request} | {tool} | {pkgs} | {fmt(wall)} | "
                f"{'1.00×' if me else ratio(wall, b_wall)} | {fmt(cpu)} | {'1.00×' if me else ratio(cpu, b_cpu)} | "
                f"{fmt(ld, 0)} | {fmt(solve, 0)} | {('1.00×' if solve is not None else '—') if me else ratio(solve, b_solve)} | "
                f"{fmt(rss_mib, 0)} | {'1.00×' if me else ratio(rss, b_rss)} |"
            )
    print("\n".join(out))


if __name__ == "__main__":
    main()
