#!/usr/bin/env python3
"""Fails when the crate's modules import each other in a cycle, or a layer imports upward.

Reads every `src/**/*.rs` file of the library (not `main.rs`, not test code: `tests.rs`,
`*_tests.rs`, and items under `#[cfg(test)]`), collects the paths it names through `crate::`,
`super::`, `self::` and the modules it declares, and builds a module graph:

- an edge A -> B is drawn between the two *siblings* under the closest common parent of the
  importing and the imported module (`core::triage::actions` using `core::store::Store` is the
  edge `triage -> store` under `core`); a module using its own parent or children adds none;
- a name re-exported with `pub use` is followed to the module that defines it.

It fails (exit 1) when any parent's siblings form a cycle, printing each cycle with one
`file:line` per edge, or when a top-level layer imports a layer above it
(`core` < `mailio` < `tui` < `cli`; see docs/architecture.md).

    scripts/check-module-cycles.py [SRC_DIR]
    scripts/check-module-cycles.py --edges tui [SRC_DIR]   the sibling edges under one module
"""

import os
import re
import sys
from collections import defaultdict

# Each layer may import only from layers to its left.
LAYERS = ["core", "mailio", "tui", "cli"]
# Outside the layers: entry points that may use any layer and that no layer uses.
UNLAYERED = {"fuzzing"}

# Cycles that were already there when this check was written (issue 17) were listed here by
# name so the check could run; all are fixed, so any cycle fails. Keep it empty.
KNOWN = {}


def strip_code(text):
    """Blanks out comments, string and char literals, keeping line breaks and offsets."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_cfg_test(code):
    """Blanks out each item marked `#[cfg(test)]` (a `mod x;`, `mod x { .. }` or a fn)."""
    while True:
        m = re.search(r"#\[cfg\(test\)\]", code)
        if not m:
            return code
        i = m.end()
        semi = code.find(";", i)
        brace = code.find("{", i)
        if brace < 0 or (0 <= semi < brace):
            j = semi + 1
        else:
            depth, j = 0, brace
            while j < len(code):
                if code[j] == "{":
                    depth += 1
                elif code[j] == "}":
                    depth -= 1
                    if depth == 0:
                        j += 1
                        break
                j += 1
        code = code[: m.start()] + re.sub(r"[^\n]", " ", code[m.start() : j]) + code[j:]


def module_files(src):
    """Maps each library module path (a tuple) to its file, leaving out test-only files."""
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel in (["main"], ["lib"]) or rel[-1] == "tests" or rel[-1].endswith("_tests"):
                continue
            if rel[-1] == "mod":
                rel = rel[:-1]
            mods[tuple(rel)] = path
    return mods


def parse_use_tree(s):
    """Expands a use tree (`a::{b, c::{d as e, self}}`) into (path, alias) pairs."""
    s = re.sub(r"\s+", "", s)
    results = []

    def walk(prefix, t):
        parts, depth, cur = [], 0, ""
        for ch in t:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            parts.append(cur)
        for p in parts:
            if "{" in p:
                head, rest = p.split("{", 1)
                walk(prefix + [x for x in head.split("::") if x], rest[:-1])
            else:
                results.append((prefix + [x for x in p.split("::") if x], None))

    walk([], s)
    return results


USE_RE = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
MOD_RE = re.compile(r"\b(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")


def use_paths(raw_tree):
    """(path, alias, is_pub) from one `use` statement, keeping `as` aliases."""
    # Rewrite `x as y` to `x@y` before whitespace is removed, so it can be split back.
    tree = re.sub(r"\s+as\s+", "@", raw_tree)
    out = []
    for path, _ in parse_use_tree(tree):
        alias = None
        if path and "@" in path[-1]:
            name, alias = path[-1].split("@")
            path = path[:-1] + [name]
        out.append((path, alias))
    return out


def main():
    args = sys.argv[1:]
    show = None
    if args[:1] == ["--edges"]:
        show, args = args[1], args[2:]
    src = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "src")
    src = os.path.normpath(src)
    mods = module_files(src)
    known = set(mods)

    codes = {}
    for mod, path in mods.items():
        with open(path, encoding="utf-8") as f:
            codes[mod] = strip_cfg_test(strip_code(f.read()))

    # Re-exports: (module, name) -> absolute path of what it names.
    reexports = {}
    uses = defaultdict(list)  # module -> [(absolute path, line)]

    def absolute(mod, path):
        """Resolves a path written inside `mod` to an absolute one, or None if external."""
        if not path:
            return None
        if path[0] == "crate":
            return tuple(path[1:])
        if path[0] == "self":
            return mod + tuple(path[1:])
        if path[0] == "super":
            base = list(mod)
            while path and path[0] == "super":
                base = base[:-1]
                path = path[1:]
            return tuple(base) + tuple(path)
        if mod + (path[0],) in known:  # a child module, named relatively (2018 paths)
            return mod + tuple(path)
        if mod == () and (path[0],) in known:
            return tuple(path)
        return None

    for mod, code in codes.items():
        for m in USE_RE.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            for path, alias in use_paths(m.group(2)):
                if path and path[-1] == "self":
                    path = path[:-1]
                a = absolute(mod, path)
                if a is None:
                    continue
                uses[mod].append((a, line))
                if m.group(1) and path and path[-1] != "*":
                    reexports[(mod, alias or path[-1])] = a
        for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", code):
            line = code.count("\n", 0, m.start()) + 1
            a = absolute(mod, m.group(1).split("::"))
            if a is not None:
                uses[mod].append((a, line))

    def resolve(path, seen=()):
        """The module that defines what `path` names, following `pub use` re-exports."""
        for k in range(len(path), 0, -1):
            prefix = tuple(path[:k])
            if prefix in known:
                if k < len(path):
                    target = reexports.get((prefix, path[k]))
                    if target is not None and target not in seen:
                        return resolve(target + tuple(path[k + 1 :]), seen + (target,))
                return prefix
        return None

    edges = defaultdict(lambda: defaultdict(dict))  # parent -> a -> b -> [where]
    layer_errors = []
    for mod, items in uses.items():
        for path, line in items:
            target = resolve(path)
            if target is None or target == mod:
                continue
            k = 0
            while k < min(len(mod), len(target)) and mod[k] == target[k]:
                k += 1
            if k == len(mod) or k == len(target):
                continue  # a module and its own ancestor or descendant
            parent, a, b = mod[:k], mod[k], target[k]
            where = f"{os.path.relpath(mods[mod])}:{line} ({'::'.join(mod)} -> {'::'.join(target)})"
            edges[parent][a][b] = edges[parent][a].get(b, []) + [where]
            if parent == () and a not in UNLAYERED:
                if b in UNLAYERED or a not in LAYERS or b not in LAYERS or LAYERS.index(b) > LAYERS.index(a):
                    layer_errors.append(f"layer {a} imports {b}: {where}")

    if show is not None:
        graph = edges.get(tuple(x for x in show.split("::") if x and x != "crate"), {})
        for a in sorted(graph):
            print(f"{a} -> {', '.join(sorted(graph[a]))}")
        return 0

    cycles, known_seen = [], []
    for parent, graph in sorted(edges.items()):
        listed = KNOWN.get("::".join(parent), [])
        for scc in strongly_connected(graph):
            if len(scc) < 2:
                continue
            inside = [k for k in listed if scc <= k]
            if inside:
                known_seen.append(("::".join(parent), inside[0], scc))
            else:
                cycles.append((parent, scc, graph))
    for parent, known_list in sorted(KNOWN.items()):
        for k in known_list:
            now = [scc for p, kk, scc in known_seen if p == parent and kk == k]
            if not now or now[0] != k:
                left = " <-> ".join(sorted(now[0])) if now else "gone"
                print(f"note: known cycle under {parent} ({' <-> '.join(sorted(k))}) is now: {left}; update KNOWN")

    for e in sorted(set(layer_errors)):
        print(e)
    for parent, scc, graph in cycles:
        name = "::".join(parent) or "crate"
        print(f"cycle under {name}: {' <-> '.join(sorted(scc))}")
        for a in sorted(scc):
            for b in sorted(graph[a]):
                if b in scc:
                    print(f"  {a} -> {b}: {graph[a][b][0]}")
    if layer_errors or cycles:
        print(f"check-module-cycles: {len(cycles)} cycle(s), {len(set(layer_errors))} upward import(s)")
        return 1
    print(
        f"check-module-cycles: {len(known)} modules, no new cycles ({len(known_seen)} known, "
        f"listed in KNOWN), layers {' < '.join(LAYERS)}"
    )
    return 0


def strongly_connected(graph):
    """Tarjan's algorithm over {node: {node: ...}}."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    nodes = set(graph) | {b for a in graph for b in graph[a]}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on.discard(w)
                scc.add(w)
                if w == v:
                    break
            out.append(scc)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
