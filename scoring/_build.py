"""Which scoring modules are compiled, and a check that the compiled builds are present and current.

`setup.py` compiles `COMPILED` with Cython when glean is installed (`pip install -e .` in a checkout). Python
imports a compiled module in preference to its `.py` source, so after an edit the old build would keep running:
`check()` warns about that. No imports from glean here: `setup.py` reads this file before anything is installed.
"""

from __future__ import annotations

import importlib.machinery
import warnings
from pathlib import Path

COMPILED = ("scoring/_fast.pyx", "scoring/tokenize.py", "scoring/quality.py", "scoring/relevance.py")
REBUILD = "rebuild with `pip install -e .` in the checkout (needs a C compiler and the Python headers)"


def stale(root: Path) -> list[str]:
    """Sources under `root` (a checkout) edited after their compiled module was built."""
    out = []
    for source in COMPILED:
        path = root / source
        stem = path.with_suffix("")
        builds = [stem.with_name(stem.name + suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES]
        built = [b.stat().st_mtime for b in builds if b.exists()]
        if built and path.exists() and path.stat().st_mtime > max(built):
            out.append(source)
    return out


def check() -> None:
    """Raise a clear ImportError when `scoring._fast` was never built; warn about stale builds."""
    try:
        import scoring._fast  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"scoring._fast (compiled from scoring/_fast.pyx) is not built: {REBUILD}") from exc
    for source in stale(Path(__file__).resolve().parents[1]):
        warnings.warn(f"{source} changed after it was compiled, so the old build is what runs: {REBUILD}",
                      stacklevel=2)
