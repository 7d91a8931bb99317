#!/usr/bin/env python3
"""The import graph of the audiospec package, read from the source (AST, nothing imported), and its sizes.

Layers, lowest first (DESIGN.md section 6): an import may point to its own layer or a lower one, never up.

    0  errors, atomic, config, weight_init      (infrastructure)
    1  functional, transforms                   (pure maths and its modules)
    2  data, diffusion, metrics                 (the model core)
    3  measures                                 (measuring tools: exact Gaussian, band swap, likelihood, ordering)
    4  experiments                              (stages, the run context, the pipeline)
    5  report                                   (words, tables, figures)
    6  cli, __main__                            (the command line)

Every import counts: module level, inside functions (lazy) and under ``TYPE_CHECKING`` (marked "type only").
Cycles are strongly connected components of the module graph without the type-only arrows.

Usage: ``python tools/import_graph.py [--root DIR]`` prints the layers, back arrows, cycles, and the modules and
functions over the size limits (400 lines per module, 60 lines of code per function, its docstring not counted).
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

LAYERS: dict[str, int] = {
    "errors": 0, "atomic": 0, "config": 0, "weight_init": 0,
    "functional": 1, "transforms": 1,
    "data": 2, "diffusion": 2, "metrics": 2,
    "measures": 3,
    "experiments": 4,
    "report": 5,
    "cli": 6, "__main__": 6,
}
MODULE_LINES = 400
FUNCTION_LINES = 60


@dataclass
class Graph:
    """Modules (dotted names) and their imports of other audiospec modules: ``arrows[a][b]`` is True when some
    import of b by a runs (False: only under TYPE_CHECKING)."""

    files: dict[str, Path] = field(default_factory=dict)
    arrows: dict[str, dict[str, bool]] = field(default_factory=dict)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for child in node.body:
                    for sub in ast.walk(child):
                        inside.add(id(sub))
    return inside


def _resolve(target: str, modules: set[str]) -> str | None:
    """The longest known module that ``target`` (a dotted import path) names or lies in."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def build(root: Path) -> Graph:
    """The graph of every ``*.py`` under ``root`` (the ``audiospec`` folder)."""
    graph = Graph()
    for path in sorted(root.rglob("*.py")):
        graph.files[_module_name(path, root)] = path
    modules = set(graph.files)
    for name, path in graph.files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typed = _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out: dict[str, bool] = {}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                found = _resolve(target, modules) if target.startswith("audiospec") else None
                if found is None or found == name or found == "audiospec":
                    continue
                if found in package.split(".") or (found == package and target != found):
                    continue
                runs = id(node) not in typed
                out[found] = out.get(found, False) or runs
                break  # ``from a.b import c``: the first resolvable target is the import
        graph.arrows[name] = out
    return graph


def layer_of(module: str) -> int | None:
    """The layer of a dotted module name (None for the package root ``audiospec``)."""
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def back_arrows(graph: Graph) -> list[tuple[str, str, bool]]:
    """(importer, imported, runs) of every import that points to a higher layer."""
    out = []
    for a, targets in graph.arrows.items():
        for b, runs in targets.items():
            la, lb = layer_of(a), layer_of(b)
            if la is not None and lb is not None and lb > la:
                out.append((a, b, runs))
    return sorted(out)


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components (size > 1) of the runtime import graph (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w, runs in graph.arrows.get(v, {}).items():
            if not runs:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph.arrows):
        if v not in index:
            visit(v)
    return sorted(found)


def typed_cycles(graph: Graph) -> list[list[str]]:
    """Cycles of the module graph counting the type-only arrows too (annotations that point back)."""
    full = Graph(files=graph.files, arrows={a: {b: True for b in t} for a, t in graph.arrows.items()})
    return cycles(full)


def package_cycles(graph: Graph) -> list[list[str]]:
    """Cycles between sub-packages (``audiospec.experiments`` -> ``audiospec.report`` -> ...), runtime imports."""
    top = Graph()
    for a, targets in graph.arrows.items():
        pa = ".".join(a.split(".")[:2])
        top.arrows.setdefault(pa, {})
        for b, runs in targets.items():
            pb = ".".join(b.split(".")[:2])
            if pb != pa and runs:
                top.arrows[pa][pb] = True
    return cycles(top)


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's docstring (not counted in its length: the limit is on code)."""
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno - first.lineno + 1
    return 0


def oversized(graph: Graph) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(modules over :data:`MODULE_LINES` lines, functions over :data:`FUNCTION_LINES` lines) with their lengths."""
    modules, functions = [], []
    for name, path in graph.files.items():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MODULE_LINES:
            modules.append((name, lines))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1 - _docstring_lines(node)
                if length > FUNCTION_LINES:
                    functions.append((f"{name}.{node.name}", length))
    return sorted(modules), sorted(functions)


def report(root: Path) -> str:
    """The text printed by the command line (module doc)."""
    graph = build(root)
    lines = ["layers (modules per layer):"]
    per_layer: dict[int, list[str]] = {}
    for module in graph.files:
        layer = layer_of(module)
        if layer is not None:
            per_layer.setdefault(layer, []).append(module)
    for layer in sorted(per_layer):
        packages = sorted({m.split(".")[1] for m in per_layer[layer]})
        lines.append(f"  {layer}: {', '.join(packages)} ({len(per_layer[layer])} modules)")
    arrows = sum(len(t) for t in graph.arrows.values())
    back = back_arrows(graph)
    lines.append(f"imports between modules: {arrows}; back arrows (to a higher layer): {len(back)}")
    lines += [f"  {a} -> {b}{'' if runs else ' (type only)'}  [{layer_of(a)} -> {layer_of(b)}]" for a, b, runs in back]
    found = cycles(graph)
    lines.append(f"module cycles: {len(found)}")
    lines += [f"  {len(c)} modules: {', '.join(c)}" for c in found]
    found = [c for c in typed_cycles(graph) if c not in cycles(graph)]
    lines.append(f"further module cycles through type-only imports: {len(found)}")
    lines += [f"  {len(c)} modules: {', '.join(c)}" for c in found]
    found = package_cycles(graph)
    lines.append(f"package cycles: {len(found)}")
    lines += [f"  {', '.join(c)}" for c in found]
    modules, functions = oversized(graph)
    lines.append(f"modules over {MODULE_LINES} lines: {len(modules)}")
    lines += [f"  {name}: {n}" for name, n in modules]
    lines.append(f"functions over {FUNCTION_LINES} lines: {len(functions)}")
    lines += [f"  {name}: {n}" for name, n in functions]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1] / "audiospec")
    print(report(parser.parse_args().root))


if __name__ == "__main__":
    main()
