#!/usr/bin/env python3
"""Import cycles between a crate's modules, at every level: two sibling modules (under
the same parent) that each name something inside the other, directly or around a loop of
siblings, are a cycle. A module naming its own parent or child is not (a parent's shared
types and its `mod` lines). A reference is any `crate::`, `super::` or `self::` path
outside test code, grouped imports (`crate::{a, b::c}`) included.

Prints each crate's module and dependency counts, or the cycles, and exits 1 on any.
Usage: scripts/module_cycles.py CRATE_DIR...   (e.g. wire dpdk dataplane ctrlplane)
"""
import os
import re
import sys

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def modules(crate):
    """Module path (tuple) -> source text without its test code."""
    src = os.path.join(crate, "src")
    out = {}
    for dirpath, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), src).replace(os.sep, "/")
            parts = rel.removesuffix(".rs").split("/")
            if parts[0] == "bin" or "tests" in parts or parts[-1].endswith("tests"):
                continue
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            text = open(os.path.join(dirpath, name)).read().split("#[cfg(test)]")[0]
            text = re.sub(r"//[^\n]*", "", text)
            out[tuple(parts)] = text
    return out


def use_tree(text, at, prefix, paths):
    """Reads a path (with groups) starting at `at`; appends every full path to `paths`."""
    path = list(prefix)
    while True:
        m = IDENT.match(text, at)
        if m:
            path.append(m.group())
            at = m.end()
        elif text.startswith("{", at):
            at += 1
            while True:
                while at < len(text) and text[at] in " \n\t,":
                    at += 1
                if at >= len(text) or text[at] == "}":
                    return at + 1
                at = use_tree(text, at, path, paths)
        if text.startswith("::", at):
            at += 2
        else:
            paths.append(path)
            return at


def references(module, text):
    paths = []
    for m in re.finditer(r"\b(crate|super|self)::", text):
        base = {"crate": (), "super": module[:-1], "self": module}[m.group(1)]
        use_tree(text, m.end(), base, paths)
    return paths


def graph(crate):
    mods = modules(crate)
    edges = {}  # parent -> {child: {child}}
    for module, text in mods.items():
        for path in references(module, text):
            target = max((tuple(path[:i]) for i in range(len(path) + 1) if tuple(path[:i]) in mods), key=len)
            k = 0
            while k < min(len(module), len(target)) and module[k] == target[k]:
                k += 1
            if k < len(module) and k < len(target):
                edges.setdefault(module[:k], {}).setdefault(module[k], set()).add(target[k])
    return mods, edges


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
    mods, edges = graph(crate)
    count = sum(len(d) for level in edges.values() for d in level.values())
    bad = []
    for parent, deps in sorted(edges.items()):
        for group in cycles(deps):
            bad.append("::".join(("crate",) + parent) + ": " + " <-> ".join(group))
    if bad:
        found = True
        print(f"{crate}: import cycles between modules:\n  " + "\n  ".join(bad))
    else:
        print(f"{crate}: {len(mods)} modules, {count} dependencies between sibling modules, no cycle")
sys.exit(1 if found else 0)
