"""The API reference cannot regress: every public function and class of the four documented
packages has a Google-style docstring (as torchaudio's functional module) whose sections
match the code.

For each name in the ``__all__`` of :mod:`audiospec.functional`, :mod:`audiospec.data`,
:mod:`audiospec.diffusion`, :mod:`audiospec.metrics` and :mod:`audiospec.measures` that is a function or a class, and
each public method of those classes:

- ``Args:`` names exactly the parameters of the signature (for a class: of its constructor;
  ``Attributes:`` also serves a dataclass), and a tensor argument states its shape (``[``);
- ``Returns:`` (or ``Yields:``) is there when the annotation returns something other than None
  (properties excepted: their docstring is the description of the value);
- ``Raises:`` is there when the body raises, naming each exception class it raises
  (``NotImplementedError`` of an interface's abstract method excepted).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from typing import Any, Callable

import pytest

PACKAGES = ("audiospec.functional", "audiospec.data", "audiospec.diffusion", "audiospec.metrics", "audiospec.measures")
SECTION = re.compile(r"^(Args|Returns|Yields|Raises|Attributes|Example|Examples|Note|Notes):\s*$")
ENTRY = re.compile(r"^(\*{0,2}\w+)( \([^)]*\))?:")
NO_VALUE = (inspect.Signature.empty, None, "None", "NoReturn", "Never")


def sections(doc: str) -> dict[str, str]:
    """``{"Args": body, ...}`` of a dedented docstring; bodies dedented."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in doc.splitlines():
        match = SECTION.match(line)
        if match:
            current = found.setdefault(match.group(1), [])
        elif current is not None:
            if line and not line.startswith(" "):  # prose after a section ends it
                current = None
            else:
                current.append(line)
    return {name: textwrap.dedent("\n".join(body)) for name, body in found.items()}


def entries(body: str) -> dict[str, str]:
    """``{name: description}`` of the top-level entries of an Args / Attributes / Raises body."""
    out: dict[str, str] = {}
    name = None
    for line in body.splitlines():
        match = ENTRY.match(line)
        if match:
            name = match.group(1).lstrip("*")
            out[name] = line[match.end():]
        elif name is not None:
            out[name] += " " + line.strip()
    return out


def raised_names(function: Callable[..., Any]) -> set[str]:
    """Exception classes raised directly in ``function``'s body (not in nested functions)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError):
        return set()
    names: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)) and not top:
                continue
            if isinstance(child, ast.Raise) and child.exc is not None:
                exc = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
                name = exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else ""
                if name[:1].isupper():  # an exception class, not a helper that builds one
                    names.add(name)
            visit(child, False)

    visit(tree, True)
    return names


def problems_of_callable(function: Callable[..., Any], *, parameters: list[inspect.Parameter],
                         returns: Any, doc: str, allow_attributes: bool = False) -> list[str]:
    found = sections(doc)
    problems = []
    named = {p.name: p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if named:
        args = entries(found.get("Args", "")) or (entries(found.get("Attributes", "")) if allow_attributes else {})
        if not args:
            problems.append(f"no Args section for {sorted(named)}")
        else:
            if missing := [name for name in named if name not in args]:
                problems.append(f"Args misses {missing}")
            if stale := [name for name in args if name not in named]:
                problems.append(f"Args names {stale}, not parameters")
            for name, parameter in named.items():
                annotation = str(parameter.annotation)
                if "Tensor" in annotation and name in args and "[" not in args[name]:
                    problems.append(f"tensor argument {name!r} without a shape ([...])")
    if returns not in NO_VALUE and "Returns" not in found and "Yields" not in found:
        problems.append(f"returns {returns} but has no Returns section")
    raised = raised_names(function) - {"NotImplementedError"}  # an interface's abstract method
    if raised:
        documented = set(entries(found.get("Raises", "")))
        if missing := sorted(raised - documented):
            problems.append(f"raises {missing} but its Raises section names {sorted(documented)}")
    return problems


def problems_of(obj: Any) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    if not doc.strip():
        return ["no docstring"]
    if inspect.isfunction(obj):
        signature = inspect.signature(obj)
        return problems_of_callable(obj, parameters=list(signature.parameters.values()),
                                    returns=signature.return_annotation, doc=doc)
    problems = []
    try:
        parameters = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    init = obj.__dict__.get("__init__")
    own_init = inspect.isfunction(init) and init.__module__ == obj.__module__  # not typing.Protocol's
    problems += problems_of_callable(init if own_init else obj, parameters=parameters,
                                     returns=None, doc=doc, allow_attributes=True)
    for name, member in vars(obj).items():
        if name.startswith("_"):
            continue
        where = f"{obj.__name__}.{name}: "
        if isinstance(member, property):
            if not (inspect.getdoc(member) or "").strip():
                problems.append(where + "no docstring")
            continue
        function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        if not inspect.isfunction(function):
            continue
        member_doc = inspect.getdoc(getattr(obj, name)) or ""
        if not member_doc.strip():
            problems.append(where + "no docstring")
            continue
        signature = inspect.signature(function)
        parameters = list(signature.parameters.values())
        if not isinstance(member, staticmethod):
            parameters = parameters[1:]  # self / cls
        problems += [where + p for p in problems_of_callable(function, parameters=parameters,
                                                            returns=signature.return_annotation, doc=member_doc)]
    return problems


def public_objects() -> list[tuple[str, Any]]:
    out = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                out.append((f"{package}.{name}", obj))
    return out


OBJECTS = public_objects()


def test_the_four_packages_export_documented_objects():
    assert len(OBJECTS) > 150  # functions and classes, not the constants


@pytest.mark.parametrize("name, obj", OBJECTS, ids=[name for name, _ in OBJECTS])
def test_docstring_has_the_sections_its_signature_needs(name, obj):
    assert problems_of(obj) == []


def test_the_checker_catches_what_it_should():
    def undocumented(x, *, n: int) -> int:
        """Something.

        Args:
            x: a tensor.
            m: gone.
        """
        if n < 0:
            raise ValueError(n)
        return n

    problems = problems_of(undocumented)
    assert "Args misses ['n']" in problems and "Args names ['m'], not parameters" in problems
    assert any("no Returns section" in p for p in problems)
    assert any("raises ['ValueError']" in p for p in problems)

    def shapeless(x: "torch.Tensor") -> None:  # noqa: F821
        """Something.

        Args:
            x: a tensor.
        """

    assert problems_of(shapeless) == ["tensor argument 'x' without a shape ([...])"]
