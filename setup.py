"""Builds the one compiled module, `scoring._fast` (Cython); everything else is declared in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(ext_modules=cythonize([Extension("scoring._fast", ["scoring/_fast.pyx"], extra_compile_args=["-O2"])],
                            language_level=3))
