#!/usr/bin/env python3
"""The benchmark suite's report: merges a scripts/bench.sh run's rows into the suite's
results (one row per scenario, the latest run of each), then writes from them the suite's
table in BENCHMARKS.md (between its markers) and its plot (gnuplot, PNG): rate and bytes
per session against the number of sessions.

Every figure of a row comes from one run: ferrowall and testpmd back to back, so the
ratio is what to compare; rows of different dates are different runs.
"""
import argparse
import os
import subprocess
import sys
import tempfile

FIELDS = ["scenario", "sessions", "ferrowall_pps", "testpmd_pps", "bytes_per_session", "detail", "date", "setup"]
ORDER = ["l3", "nat-1k", "nat-100k", "nat-1m", "tcp-1k", "tcp-100k", "tcp-1m", "new-sessions", "gre", "gre-10k", "mix", "workers-2", "pptp-setups",
         "ctl-cost", "alg-setup"]
BEGIN = "<!-- suite:begin: written by scripts/bench.sh from bench/suite.tsv, edits here are lost -->"
END = "<!-- suite:end -->"


def read_rows(path, setup=None):
    rows = {}
    if not os.path.exists(path):
        return rows
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        cells = line.rstrip("\n").split("\t")
        if setup is not None:
            cells = cells[:7] + [setup]
        if len(cells) != len(FIELDS):
            sys.exit(f"{path}: a row of {len(cells)} fields, want {len(FIELDS)}: {line!r}")
        rows[cells[0]] = dict(zip(FIELDS, cells))
    return rows


def write_rows(path, rows):
    with open(path, "w") as f:
        f.write("# " + "\t".join(FIELDS) + "\n")
        for r in ordered(rows):
            f.write("\t".join(r[k] for k in FIELDS) + "\n")


def ordered(rows):
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(rows.values(), key=lambda r: (rank.get(r["scenario"], len(ORDER)), r["scenario"]))


def rate(pps, scenario):
    v = int(float(pps))
    if scenario in ("new-sessions", "alg-setup", "pptp-setups"):
        return f"{v / 1e6:.2f} M/s" if v >= 1e6 else f"{v / 1e3:.0f} k/s"
    return f"{v / 1e6:.2f} Mpps"


def table(rows, plot_rel):
    out = [BEGIN, "## The suite", "",
           "The latest run of each scenario of `scripts/bench.sh` (raw figures in "
           "`bench/suite.tsv`): 64-byte frames replayed from memory (net_pcap infinite_rx) "
           "into net_null, one worker core, medians of per-second rates over the rounds. A "
           "row's figures come from one run, ferrowall and testpmd back to back on the same "
           "vdevs: compare the ratio, not the rates across rows or days. Bytes per session "
           "held: the session table's memory over the sessions in it (the table is a "
           "quarter larger than its flows, at least 4,096).", "",
           "| scenario | sessions | ferrowall | testpmd io | ratio | bytes per session held | run | notes |",
           "|---|---:|---:|---:|---:|---:|---|---|"]
    for r in ordered(rows):
        fw, tp = float(r["ferrowall_pps"]), float(r["testpmd_pps"])
        ratio = f"{fw / tp:.2f}" if tp > 0 else "—"
        tp_s = rate(tp, r["scenario"]) if tp > 0 else "—"
        b = r["bytes_per_session"] if r["bytes_per_session"] != "0" else "—"
        out.append(f"| {r['scenario']} | {int(r['sessions']):,} | {rate(fw, r['scenario'])} | {tp_s} | {ratio} "
                   f"| {b} | {r['date']} | {r['detail']} ({r['setup']}) |")
    out += ["", f"![rate and bytes per session against sessions]({plot_rel})", "", END]
    return "\n".join(out)


def write_report(path, text):
    doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        doc = head + text + tail
    else:
        # First time: after the introduction, before the first section.
        at = doc.find("\n## ")
        doc = doc + "\n" + text + "\n" if at < 0 else doc[:at + 1] + text + "\n\n" + doc[at + 1:]
    open(path, "w").write(doc)


def series(rows, prefix):
    pts = []
    for r in rows.values():
        name = r["scenario"]
        if name.startswith(prefix) and float(r["ferrowall_pps"]) > 0:
            pts.append((int(r["sessions"]), float(r["ferrowall_pps"]) / 1e6, float(r["testpmd_pps"]) / 1e6,
                        int(r["bytes_per_session"])))
    return sorted(pts)


def plot(rows, path):
    udp, tcp = series(rows, "nat-"), series(rows, "tcp-")
    if not udp and not tcp:
        print(f"bench_report: no nat-* or tcp-* row yet, {path} not drawn")
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, pts in (("udp", udp), ("tcp", tcp)):
            files[name] = os.path.join(tmp, name + ".dat")
            with open(files[name], "w") as f:
                for p in pts:
                    f.write("%d %.3f %.3f %d\n" % p)
        colour = {"udp": "#1f77b4", "tcp": "#d62728"}
        def plots(col, with_testpmd):
            lines = []
            for name, title in (("udp", "NATed UDP"), ("tcp", "NATed TCP")):
                if not (udp if name == "udp" else tcp):
                    continue
                lines.append(f"'{files[name]}' using 1:{col} with linespoints lw 2 pt 7 lc rgb '{colour[name]}' "
                             f"title 'ferrowall, {title}'")
                if with_testpmd:
                    lines.append(f"'{files[name]}' using 1:3 with linespoints dt 2 pt 6 lc rgb '{colour[name]}' "
                                 f"title 'testpmd io, same runs as {title}'")
            return ", ".join(lines)
        script = f"""
set terminal png size 900,800
set output '{path}'
set multiplot layout 2,1 title 'ferrowall: one worker core, 64-byte frames, vdevs (compare ratios, not rates)'
set logscale x
set xrange [500:2000000]
set format x '%.0s%c'
set xlabel 'sessions'
set grid
set key below
set ylabel 'Mpps'
set yrange [0:*]
plot {plots(2, True)}
set ylabel 'bytes per session held'
plot {plots(4, False)}
unset multiplot
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", required=True, help="this run's rows (bench.sh writes them)")
    ap.add_argument("--results", required=True, help="the suite's results, merged into")
    ap.add_argument("--report", required=True, help="BENCHMARKS.md: its suite table is rewritten")
    ap.add_argument("--plot", required=True, help="the PNG to write")
    ap.add_argument("--setup", required=True, help="how this run was made")
    a = ap.parse_args()
    rows = read_rows(a.results)
    rows.update(read_rows(a.rows, setup=a.setup))
    write_rows(a.results, rows)
    plot(rows, a.plot)
    rel = os.path.relpath(a.plot, os.path.dirname(os.path.abspath(a.report)))
    write_report(a.report, table(rows, rel))


if __name__ == "__main__":
    main()
