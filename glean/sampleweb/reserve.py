"""Material the sample web holds back: standard-library pages it does not serve at start, published one by one by
its schedule (or `SampleWeb.publish`) as a news or documentation site adds pages.

The same rules as the served standard-library pages (glean/sampleweb/corpus.py): pure modules that import without
side effects, rendered from their docstrings, the same on every machine with the same Python minor version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from glean.sampleweb.constants import AREA_STDLIB, MIN_ARTICLE_WORDS, PAGE_ID_BASE
from glean.sampleweb.corpus import Article, stdlib_article

# Modules not in corpus.STDLIB_MODULES whose documentation strings make a page of at least MIN_ARTICLE_WORDS words on
# 3.11 (about 85 pages). Order is publication order.
RESERVE_MODULES = (
    "asyncio.locks", "http.cookiejar", "shutil", "email.headerregistry", "threading", "tempfile", "io", "pdb",
    "asyncio.queues", "xml.sax.saxutils", "subprocess", "traceback", "math", "bdb", "code", "urllib.request",
    "asyncio.tasks", "unittest.mock", "importlib.abc", "pkgutil", "email.charset", "xml.sax.handler", "array",
    "asyncio.streams", "shelve", "selectors", "hashlib", "py_compile", "compileall", "email.utils", "codeop",
    "asyncio.futures", "xml.dom.pulldom", "profile", "pyclbr", "tracemalloc", "unicodedata", "zlib", "gc",
    "marshal", "collections.abc", "logging.config", "logging.handlers", "unittest.case", "unittest.loader",
    "unittest.result", "wsgiref.simple_server", "wsgiref.validate", "wsgiref.handlers", "wsgiref.util",
    "xml.sax.xmlreader", "http.server", "importlib.resources", "importlib.metadata", "importlib.util",
    "json.decoder", "json.encoder", "concurrent.futures.process", "concurrent.futures._base", "email.policy",
    "email.generator", "email.errors", "email.header", "encodings.idna", "multiprocessing.shared_memory",
    "posixpath", "runpy", "pydoc", "sysconfig", "binascii", "chunk", "cmath", "dbm", "asyncio.runners",
    "asyncio.protocols", "asyncio.sslproto", "cProfile", "getpass", "pipes", "cgi", "cgitb", "sndhdr", "sunau",
    "aifc", "telnetlib", "asynchat",
)
def _quality_check() -> Callable[[Article], bool]:
    from glean.sampleweb.domains import domain_specs
    from schemas.domain import DomainSpec
    from scoring.quality import assess_quality

    spec = DomainSpec.model_validate(domain_specs("http://127.0.0.1:1")[QUALITY_DOMAIN])
    return lambda article: assess_quality(article.plain_text(), spec.quality, list(spec.languages)).reason is None


# The demo domain whose quality rules reserve pages pass.
QUALITY_DOMAIN = "python-stdlib"
# Reserve pages get page ids (MediaWiki pageid, StackExchange question_id) after the served ones of their area.
RESERVE_ID_OFFSET = 1_000


@lru_cache(maxsize=1)
def reserve_articles() -> tuple[Article, ...]:
    """The held-back standard-library pages (undated), in publication order; built once per process. Only pages
    that pass the demo domain's quality rules are held back: a site's new articles are its regular ones (~65 of
    the ~85 on 3.11), while the digest area shows what the quality rules turn away."""
    found = (stdlib_article(name) for name in RESERVE_MODULES)
    passes = _quality_check()
    usable = [a for a in found if a is not None and a.words >= MIN_ARTICLE_WORDS and passes(a)]
    base = PAGE_ID_BASE[AREA_STDLIB] + RESERVE_ID_OFFSET
    return tuple(replace(a, page_id=base + i) for i, a in enumerate(usable))
