"""The sample web's articles: real prose from the documentation that ships with CPython.

Two sources, both present on every Python 3.11 install and both under the PSF licence:
`pydoc_data.topics` (the language reference topics behind `help("for")`) and the docstrings of a
fixed list of pure, platform-independent standard-library modules. The same Python minor version
gives the same articles on every machine.
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from glean.sampleweb.constants import (
    AREA_LANGUAGE,
    AREA_NOTES,
    AREA_OFFSET_HOURS,
    AREA_STDLIB,
    MAX_SIGNATURE_CHARS,
    MIN_ARTICLE_WORDS,
    PAGE_ID_BASE,
    PUBLISH_STEP_HOURS,
    STDLIB_MIN_MEMBER_WORDS,
    STDLIB_WORD_BUDGET,
)

BlockKind = Literal["h2", "h3", "p", "pre", "ul", "ol"]

# Modules whose docstrings and public members are the same on Linux, macOS and Windows, that import
# without side effects or deprecation warnings, and that have enough prose to read like a page.
STDLIB_MODULES = (
    "abc", "argparse", "ast", "base64", "bisect", "bz2", "calendar", "cmd", "codecs", "collections",
    "colorsys", "concurrent.futures", "configparser", "contextlib", "contextvars", "copy", "csv",
    "dataclasses", "datetime", "decimal", "difflib", "dis", "doctest", "email.message", "enum",
    "filecmp", "fileinput", "fnmatch", "fractions", "ftplib", "functools", "getopt", "gettext", "glob",
    "graphlib", "gzip", "heapq", "hmac", "html", "html.parser", "http.client", "http.cookies",
    "imaplib", "inspect", "ipaddress", "itertools", "json", "keyword", "linecache", "logging",
    "lzma", "mailbox", "mimetypes", "netrc", "numbers", "operator", "optparse", "pathlib", "pickle",
    "pickletools", "plistlib", "poplib", "pprint", "pstats", "queue", "quopri", "random", "re",
    "reprlib", "sched", "secrets", "shlex", "smtplib", "statistics", "string", "struct", "tabnanny",
    "tarfile", "textwrap", "timeit", "tokenize", "tomllib", "trace", "types", "typing", "unittest",
    "urllib.parse", "uuid", "warnings", "wave", "weakref", "xml.dom.minidom", "xml.etree.ElementTree",
    "xmlrpc.client", "zipfile", "zipimport", "zoneinfo",
)

# The notes area's modules (served without a licence declaration): not in STDLIB_MODULES nor in the reserve, the same
# on every platform, each a page of at least MIN_ARTICLE_WORDS words whose text names no licence (venv's does).
NOTES_MODULES = ("socketserver", "sqlite3", "locale", "site", "rlcompleter", "dbm.dumb")

_UNDERLINES = {"*": 1, "=": 2, "-": 3, "~": 3, "^": 3, '"': 3}
_BULLET = re.compile(r"^(?:[*\-•]|\d+\.|\(\d+\))\s+")
_ROLE = re.compile(r":(?:[a-z]+:)?[a-z]+:`~?([^`<]+?)(?:\s*<[^>]+>)?`")
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}([^*\s][^*]*?)\*{1,2}(?![\w*])")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_LITERAL = re.compile(r"``([^`]+)``")


@dataclass(frozen=True)
class Block:
    """One piece of an article body: a heading, a paragraph, a code block or a list (`items`)."""

    kind: BlockKind
    text: str = ""
    items: tuple[str, ...] = ()

    def words(self) -> int:
        return len(self.text.split()) + sum(len(item.split()) for item in self.items)

    def plain(self) -> str:
        """The block as plain text (list items one per line)."""
        if self.items:
            return "\n".join(self.items)
        return self.text


@dataclass(frozen=True)
class Article:
    """One page of the sample web, the same in every representation (site, feed, wiki, Q&A)."""

    key: str  # "<area>/<slug>", the address of the article in every control call
    area: str
    slug: str
    title: str
    blocks: tuple[Block, ...]
    page_id: int
    origin: str  # where the prose comes from, e.g. "pydoc_data.topics['for']" or "json docstrings"
    published_at: datetime | None = None
    modified_at: datetime | None = None
    revision: int = 1
    namespace: int = 0  # the wiki namespace (0: an article; pages users publish live in others)

    @property
    def words(self) -> int:
        return sum(block.words() for block in self.blocks)

    @property
    def summary(self) -> str:
        """The first paragraph, for feed descriptions and meta tags."""
        return next((b.text for b in self.blocks if b.kind == "p"), self.title)

    def plain_text(self) -> str:
        """Paragraphs separated by blank lines, headings on their own line."""
        return "\n\n".join(block.plain() for block in self.blocks)

    def with_blocks(self, blocks: Iterable[Block], modified_at: datetime) -> Article:
        """A new revision of this article with another body."""
        return replace(self, blocks=tuple(blocks), modified_at=modified_at, revision=self.revision + 1)


def _clean_inline(text: str) -> str:
    text = _ROLE.sub(r"\1", text)
    text = _LITERAL.sub(r'"\1"', text)  # ``x`` is written "x", as in pydoc's topics
    text = _EMPHASIS.sub(r"\1", text)
    text = _ADDRESS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_underline(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 3 and stripped[0] in _UNDERLINES and set(stripped) == {stripped[0]}


def _looks_like_code(lines: list[str]) -> bool:
    first = lines[0].strip()
    table = all(line.strip()[:1] in ("+", "|") for line in lines)  # reST grid tables keep their layout
    return table or first.startswith(">>>") or any("::=" in line for line in lines)


def _chunks(text: str) -> Iterator[list[str]]:
    """Groups of non-blank lines, split at blank lines."""
    chunk: list[str] = []
    for line in text.expandtabs(4).splitlines():
        if line.strip():
            chunk.append(line.rstrip())
        elif chunk:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def parse_text(text: str) -> list[Block]:
    """Blocks of a plain-text document as written by Sphinx's text builder or in a docstring.

    Headings are underlined lines, list items start with a bullet or a number, and a block indented
    deeper than the prose before it that follows a line ending in a colon is code (reST's `::`).
    """
    blocks: list[Block] = []
    prose_indent = 0
    code_indent: int | None = None
    after_colon = False
    for chunk in _chunks(text):
        indent = min(_indent(line) for line in chunk)
        if code_indent is not None and indent >= code_indent:
            previous = blocks[-1]
            blocks[-1] = Block("pre", previous.text + "\n\n" + _dedent(chunk, code_indent))
            continue
        code_indent = None
        if len(chunk) >= 2 and _is_underline(chunk[1]) and not _is_underline(chunk[0]):
            level = _UNDERLINES[chunk[1].strip()[0]]
            if level > 1:  # level 1 is the page title, taken separately
                blocks.append(Block("h2" if level == 2 else "h3", _clean_inline(chunk[0])))
            rest = chunk[2:]
            if not rest:
                continue
            chunk, indent = rest, min(_indent(line) for line in rest)
        if _looks_like_code(chunk) or (after_colon and indent > prose_indent):
            blocks.append(Block("pre", _dedent(chunk, indent)))
            code_indent = indent
            after_colon = False
            continue
        first = chunk[0].strip()
        joined = _clean_inline(" ".join(line.strip() for line in chunk))
        match = _BULLET.match(first)
        if match:
            kind: BlockKind = "ul" if first[0] in "*-•" else "ol"
            item = _clean_inline(_BULLET.sub("", joined, count=1))
            if blocks and blocks[-1].kind == kind:
                blocks[-1] = Block(kind, items=blocks[-1].items + (item,))
            else:
                blocks.append(Block(kind, items=(item,)))
            prose_indent = indent + len(match.group(0))
        else:
            blocks.append(Block("p", joined[:-1] if joined.endswith("::") else joined))
            prose_indent = indent
        after_colon = joined.endswith(":")
    return [b for b in blocks if b.text or b.items]


def _dedent(lines: list[str], indent: int) -> str:
    return "\n".join(line[indent:] for line in lines)


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def _topic_title(text: str, name: str) -> str:
    lines = text.strip().splitlines()
    if len(lines) >= 2 and _is_underline(lines[1]):
        return _clean_inline(lines[0])
    return name.replace("-", " ").capitalize()


def language_articles() -> list[Article]:
    """One article per language-reference topic with enough prose, in the order pydoc lists them."""
    from pydoc_data.topics import topics

    articles: list[Article] = []
    for name in sorted(topics):
        text = topics[name]
        blocks = tuple(parse_text(text))
        article = Article(key=f"{AREA_LANGUAGE}/{slugify(name)}", area=AREA_LANGUAGE, slug=slugify(name),
                          title=_topic_title(text, name), blocks=blocks, page_id=0,
                          origin=f"pydoc_data.topics[{name!r}]")
        if article.words >= MIN_ARTICLE_WORDS:
            articles.append(article)
    return _numbered(_unique_titles(articles))


def _signature(name: str, obj: object) -> str:
    try:
        text = f"{name}{inspect.signature(obj)}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return name
    if len(text) > MAX_SIGNATURE_CHARS or "<" in text:  # object reprs differ between runs
        return name
    return text


def _member_names(module: object) -> list[str]:
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return sorted(n for n in exported if not n.startswith("_"))
    own = {module.__name__, "_" + module.__name__.rsplit(".", 1)[-1]}  # type: ignore[attr-defined]
    return sorted(n for n, obj in vars(module).items()
                  if not n.startswith("_") and getattr(obj, "__module__", None) in own
                  and (inspect.isclass(obj) or callable(obj)))


def _doc_blocks(obj: object) -> list[Block]:
    doc = inspect.getdoc(obj) or ""
    return parse_text(doc) if len(doc.split()) >= STDLIB_MIN_MEMBER_WORDS else []


def _member_sections(module: object) -> Iterator[list[Block]]:
    for name in _member_names(module):
        obj = getattr(module, name, None)
        if obj is None or not (inspect.isclass(obj) or callable(obj)):
            continue
        blocks = _doc_blocks(obj)
        if not blocks:
            continue
        yield [Block("h2", _signature(f"{module.__name__}.{name}", obj)), *blocks]  # type: ignore[attr-defined]
        if inspect.isclass(obj):
            for attr in sorted(vars(obj)):
                method = vars(obj)[attr]
                if attr.startswith("_") or not callable(method):
                    continue
                method_blocks = _doc_blocks(method)
                if method_blocks:
                    yield [Block("h3", _signature(f"{name}.{attr}", method)), *method_blocks]


def _import_quietly(name: str) -> object | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except ImportError:  # a stripped-down Python (e.g. no _lzma): skip the page rather than fail
            return None


def stdlib_article(name: str) -> Article | None:
    """The page of one module: its docstring, then member docs until the word budget is spent."""
    module = _import_quietly(name)
    if module is None:
        return None
    blocks = parse_text(inspect.getdoc(module) or "")
    words = sum(b.words() for b in blocks)
    for section in _member_sections(module):
        if words >= STDLIB_WORD_BUDGET:
            break
        blocks.extend(section)
        words += sum(b.words() for b in section)
    slug = slugify(name)
    return Article(key=f"{AREA_STDLIB}/{slug}", area=AREA_STDLIB, slug=slug, title=f"The {name} module",
                   blocks=tuple(blocks), page_id=0, origin=f"{name} docstrings")


def stdlib_articles() -> list[Article]:
    """One article per module of STDLIB_MODULES with enough prose."""
    found = (stdlib_article(name) for name in STDLIB_MODULES)
    return _numbered([a for a in found if a is not None and a.words >= MIN_ARTICLE_WORDS])


def notes_articles() -> list[Article]:
    """The notes area: one page per module of NOTES_MODULES, titled as notes."""
    found = (stdlib_article(name) for name in NOTES_MODULES)
    notes = [replace(a, key=f"{AREA_NOTES}/{a.slug}", area=AREA_NOTES, title=f"Notes on {a.title[4:]}")
             for a in found if a is not None and a.words >= MIN_ARTICLE_WORDS]
    return _numbered(notes)


def _unique_titles(articles: list[Article]) -> list[Article]:
    seen: dict[str, int] = {}
    out = []
    for article in articles:
        count = seen.get(article.title, 0)
        seen[article.title] = count + 1
        out.append(article if count == 0 else replace(article, title=f"{article.title} ({article.slug})"))
    return out


def _numbered(articles: list[Article]) -> list[Article]:
    return [replace(a, page_id=PAGE_ID_BASE[a.area] + i) for i, a in enumerate(articles)]


def dated(articles: Iterable[Article], anchor: datetime) -> list[Article]:
    """Give article k of its area a publication time k+1 steps before `anchor` (newest first)."""
    out = []
    rank: dict[str, int] = {}
    for article in articles:
        k = rank.get(article.area, 0)
        rank[article.area] = k + 1
        when = anchor - timedelta(hours=PUBLISH_STEP_HOURS * (k + 1) + AREA_OFFSET_HOURS.get(article.area, 0))
        out.append(replace(article, published_at=when, modified_at=when))
    return out


@lru_cache(maxsize=1)
def source_articles() -> tuple[Article, ...]:
    """Language and stdlib articles (errata with personal data planted in some: glean/sampleweb/planted.py), then
    the notes area's (undated), built once per process."""
    from glean.sampleweb.planted import plant  # planted builds on this module's Article and Block

    return tuple(plant(language_articles() + stdlib_articles()) + notes_articles())


def articles_by_area(articles: Iterable[Article]) -> dict[str, list[Article]]:
    """Articles grouped by area, in their stable order."""
    grouped: dict[str, list[Article]] = {}
    for article in articles:
        grouped.setdefault(article.area, []).append(article)
    return grouped
