#!/usr/bin/env python3
"""Import cycles between a crate's top-level modules: a module naming `crate::other`
outside its test code depends on `other`. Prints the groups of modules that reach each
other (strongly connected components) and exits 1 if there is any.

Usage: scripts/module_cycles.py CRATE_DIR...   (e.g. dataplane ctrlplane)
"""
import os
import re
import sys


def graph(crate):
    src = os.path.join(crate, "src")
    deps = {}
    for dirpath, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), src).replace(os.sep, "/")
            top = rel.split("/")[0].removesuffix(".rs")
            if top in ("lib", "main", "bin") or "/tests/" in f"/{rel}" or rel.endswith("tests.rs"):
                continue
            text = open(os.path.join(dirpath, name)).read().split("#[cfg(test)]")[0]
            for dep in re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text):
                if dep != top:
                    deps.setdefault(top, set()).add(dep)
    return deps


def cycles(deps):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(set(deps) | {d for ds in deps.values() for d in ds}):
        if v not in index:
            visit(v)
    return out


found = False
for crate in sys.argv[1:]:
    deps = graph(crate)
    groups = cycles(deps)
    edges = sum(len(d) for d in deps.values())
    if groups:
        found = True
        print(f"{crate}: import cycles between modules: {groups}")
    else:
        print(f"{crate}: {len(deps)} modules, {edges} module dependencies, no cycle")
sys.exit(1 if found else 0)
