"""Real prose every Python install has: the docstrings of the standard library's modules, classes and functions."""

from __future__ import annotations

import ast
import contextlib
import sysconfig
from collections.abc import Iterator
from pathlib import Path


def stdlib_docstrings() -> Iterator[tuple[str, str]]:
    """(qualified name, docstring) for every documented module, class and function of the stdlib's *.py files."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.glob("*.py")):
        with contextlib.suppress(SyntaxError, UnicodeDecodeError, ValueError):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    doc = ast.get_docstring(node)
                    if doc:
                        yield f"{path.stem}.{getattr(node, 'name', path.stem)}", doc
