#!/usr/bin/env python3
"""Instructions per packet of a ferrowall worker, by stage, from a callgrind output file.

Reads the raw file (not callgrind_annotate's text): every call site records the callee,
its call count and the instructions spent inside it, so a function's inclusive cost is
the sum over its call sites. Packets are the calls of Worker::handle (one per packet a
worker takes from a port).

Usage: scripts/profile_report.py CALLGRIND_OUT
"""
import re
import sys

STAGES = [
    # (label, indent, name substring of the function)
    ("the worker's loop, all of it", 0, "dataplane::worker::Worker::run"),
    ("RX: the PMD's rx_burst", 1, "shim_rte_eth_rx_burst"),
    ("TX: the PMD's tx_burst", 1, "shim_rte_eth_tx_burst"),
    ("per packet: Worker::handle", 1, "dataplane::worker::Worker::handle"),
    ("Pipeline::process_hinted", 2, "dataplane::pipeline::Pipeline::process_hinted"),
    ("established (checks, TCP, rewrite, LRU)", 3, "established::<impl dataplane::pipeline::Pipeline>::established"),
    ("next_hop (route, neighbour)", 4, "Pipeline>::next_hop"),
]


def costs(path):
    names, inclusive, calls = {}, {}, {}
    callee = None
    with open(path, errors="replace") as f:
        lines = iter(f)
        for line in lines:
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line)
            if m:
                fid, name = m.group(1), m.group(2)
                if name:
                    names[fid] = name.strip()
                callee = fid if line.startswith("cfn=") else None
                continue
            m = re.match(r"calls=(\d+)", line)
            if m and callee is not None:
                n = int(m.group(1))
                cost = next(lines).split()
                calls[callee] = calls.get(callee, 0) + n
                inclusive[callee] = inclusive.get(callee, 0) + int(cost[1])
                callee = None
    return names, inclusive, calls


def main():
    names, inclusive, calls = costs(sys.argv[1])

    def total(sub):
        ids = [i for i, n in names.items() if sub in n]
        return sum(inclusive.get(i, 0) for i in ids), sum(calls.get(i, 0) for i in ids)

    packets = total("dataplane::worker::Worker::handle")[1]
    if packets == 0:
        sys.exit("no packet went through Worker::handle")
    print(f"instructions per packet, {packets:,} packets (callgrind)")
    rows = {label: total(sub)[0] / packets for label, _, sub in STAGES}
    for label, indent, _ in STAGES:
        print(f"  {'  ' * indent}{label:<{48 - 2 * indent}} {rows[label]:7.0f}")
    run = rows[STAGES[0][0]]
    pmd = rows[STAGES[1][0]] + rows[STAGES[2][0]]
    rest = run - pmd - rows[STAGES[3][0]]
    print(f"    {'read-ahead stage and the loop around it':<46} {rest:7.0f}")
    print(f"  {'ferrowall (all but the PMDs)':<48} {run - pmd:7.0f}")


if __name__ == "__main__":
    main()
