"""Compiled parts of glean, built with Cython; everything else is declared in pyproject.toml.

`scoring/_fast.pyx` holds hand-written inner loops. The tokenizer, the quality rules and relevance are plain
Python modules that Cython compiles as they are (a third faster: most of their time goes to calls between
small functions). After editing one of them, rebuild with `pip install -e .`; `scoring._build.check()` warns
when a compiled module is older than its source.
"""

import importlib.util
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

_spec = importlib.util.spec_from_file_location("_build", Path(__file__).parent / "scoring" / "_build.py")
_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_build)

setup(ext_modules=cythonize(
    [Extension(path.rsplit(".", 1)[0].replace("/", "."), [path], extra_compile_args=["-O2"])
     for path in _build.COMPILED],
    language_level=3))
