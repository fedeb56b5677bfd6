"""The built-ins area: pages on Python's built-in types and functions, from their own documentation strings.

No demo domain crawls this area: it is the material of the dataset `glean local up` requests from the network
(`glean.sampleweb.domains.request_spec`), so its records are new to every validator and not copies of another
domain's pages. The same rules as the standard-library pages (glean/sampleweb/corpus.py): prose from the
interpreter itself (PSF licence), the same on every machine with the same Python minor version.
"""

from __future__ import annotations

import builtins
import inspect
from dataclasses import replace
from functools import lru_cache

from glean.sampleweb.constants import (
    AREA_BUILTINS,
    BUILTIN_FUNCTION_PAGES,
    BUILTIN_TYPE_WORD_BUDGET,
    BUILTIN_TYPES,
    MIN_ARTICLE_WORDS,
    PAGE_ID_BASE,
)
from glean.sampleweb.corpus import Article, Block, parse_text, slugify
from glean.sampleweb.corpus import _doc_blocks as doc_blocks
from glean.sampleweb.corpus import _signature as signature


def type_article(name: str) -> Article:
    """The page of one built-in type: its docstring, then documented methods until the word budget is spent."""
    cls = getattr(builtins, name)
    blocks = parse_text(inspect.getdoc(cls) or "")
    for attr in sorted(vars(cls)):
        method = vars(cls)[attr]
        if sum(b.words() for b in blocks) >= BUILTIN_TYPE_WORD_BUDGET:
            break
        if attr.startswith("_") or not callable(method):
            continue
        method_blocks = doc_blocks(method)
        if method_blocks:
            blocks.extend([Block("h2", signature(f"{name}.{attr}", method)), *method_blocks])
    slug = slugify(f"{name} type")
    return Article(key=f"{AREA_BUILTINS}/{slug}", area=AREA_BUILTINS, slug=slug, title=f"The built-in {name} type",
                   blocks=tuple(blocks), page_id=0, origin=f"builtins.{name} docstrings")


def function_article(first: str, last: str) -> Article:
    """A page of the documented built-in functions whose names fall in first..last (letters, inclusive)."""
    names = sorted(n for n, obj in vars(builtins).items()
                   if inspect.isbuiltin(obj) and not n.startswith("_") and first <= n[0] <= last)
    blocks: list[Block] = []
    for name in names:
        found = doc_blocks(getattr(builtins, name))
        if found:
            blocks.extend([Block("h2", signature(name, getattr(builtins, name))), *found])
    slug = f"functions-{first}-{last}"
    return Article(key=f"{AREA_BUILTINS}/{slug}", area=AREA_BUILTINS, slug=slug,
                   title=f"Built-in functions {first.upper()} to {last.upper()}", blocks=tuple(blocks), page_id=0,
                   origin="builtins function docstrings")


@lru_cache(maxsize=1)
def builtin_articles() -> tuple[Article, ...]:
    """Every page of the area with enough prose (undated), in a stable order; built once per process."""
    pages = [type_article(name) for name in BUILTIN_TYPES]
    pages += [function_article(first, last) for first, last in BUILTIN_FUNCTION_PAGES]
    usable = [a for a in pages if a.words >= MIN_ARTICLE_WORDS]
    return tuple(replace(a, page_id=PAGE_ID_BASE[AREA_BUILTINS] + i) for i, a in enumerate(usable))
