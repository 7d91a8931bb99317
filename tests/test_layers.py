"""The package's shape, read from the source (issue 23): layers without back arrows or cycles, objective checks in
one place, and the size limits of STYLE.md.

Layers, lowest first: infrastructure (errors, atomic, config) -> functional -> data / diffusion / metrics -> measures
-> experiments -> report -> cli (tools/import_graph.py, which prints the same graph).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
graph_tool = importlib.util.module_from_spec(SPEC)
sys.modules["import_graph"] = graph_tool  # its dataclasses look their module up
SPEC.loader.exec_module(graph_tool)
GRAPH = graph_tool.build(ROOT / "audiospec")


def test_every_module_has_a_layer():
    assert sorted(m for m in GRAPH.files if m != "audiospec" and graph_tool.layer_of(m) is None) == []


def test_no_import_points_to_a_higher_layer():
    assert graph_tool.back_arrows(GRAPH) == []


def test_experiments_import_nothing_from_the_report():
    assert [(a, b) for a, targets in GRAPH.arrows.items() for b in targets
            if a.startswith("audiospec.experiments") and b.startswith("audiospec.report")] == []


def test_no_import_cycle_not_even_through_annotations():
    assert graph_tool.cycles(GRAPH) == [] and graph_tool.typed_cycles(GRAPH) == []
    assert graph_tool.package_cycles(GRAPH) == []


def test_the_checker_sees_a_back_arrow_and_a_cycle(tmp_path):
    package = tmp_path / "audiospec"
    for sub, text in {"functional/a.py": "from audiospec.experiments.b import x\n",
                      "experiments/b.py": "x = 1\nfrom audiospec.experiments.c import y\n",
                      "experiments/c.py": "from audiospec.experiments import b\ny = 2\n"}.items():
        (package / sub).parent.mkdir(parents=True, exist_ok=True)
        (package / sub).parent.joinpath("__init__.py").touch()
        (package / sub).write_text(text)
    (package / "__init__.py").touch()
    graph = graph_tool.build(package)
    assert graph_tool.back_arrows(graph) == [("audiospec.functional.a", "audiospec.experiments.b", True)]
    assert graph_tool.cycles(graph) == [["audiospec.experiments.b", "audiospec.experiments.c"]]


OBJECTIVE_CHECK = re.compile(r"objective\s*(==|!=|\bin\b)|\bkind\s*==\s*\"(heat|cepstral_ar|flow_matching|vp_eps)\""
                             r"|==\s*\"(heat|cepstral_ar|vp_eps|flow_matching)\"|in\s+COARSE_TO_FINE")


def test_objective_checks_live_only_in_the_process_registry():
    found = []
    for path in (ROOT / "audiospec").rglob("*.py"):
        if "processes" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if OBJECTIVE_CHECK.search(line.split("#")[0]):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_the_training_loop_and_the_solver_do_not_branch_on_the_objective():
    for name in ("training.py", "solver.py", "heldout.py"):
        tree = ast.parse((ROOT / "audiospec" / "diffusion" / name).read_text())
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert "objective" not in names, name


def test_modules_and_functions_stay_small():
    modules, functions = graph_tool.oversized(GRAPH)
    assert modules == [] and functions == [], (modules, functions)
