"""One wording for pydantic validation errors: `field.path: message` of the first problem, and how many more."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError


def first_problem(exc: ValidationError, *, top: str = "", prefix: Sequence[str] = ()) -> str:
    """`field.path: message` of the error's first problem; `prefix` leads the path, `top` names an empty one."""
    first = exc.errors()[0]
    where = ".".join([*prefix, *(str(part) for part in first["loc"])]) or top
    return f"{where}: {first['msg']}"


def more_problems(exc: ValidationError) -> str:
    """` (and N more)` when the error holds more than one problem, else the empty string."""
    return f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
