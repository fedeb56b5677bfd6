"""A corpus of real documents built offline from what every glean checkout has: the Python standard library's
reference text (`pydoc_data.topics`), its docstrings and source, and the READMEs and licences of installed packages.

Good prose comes straight from those texts; realistic bad documents (navigation menus, code dumps, repeated
paragraphs, search-result snippets, lorem ipsum, tables, hashtag spam, word salad, ...) are assembled from the
same real pieces, deterministically (seeded), so the datatrove parity check and the benchmark see the same corpus
on every run in one environment.
"""

from __future__ import annotations

import ast
import pydoc_data.topics
import random
import re
import sys
import sysconfig
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas import normalize_text

SEED = 20240611
_BLANK = re.compile(r"\n\s*\n")

# Standard-library modules with long docstrings (parsed with `ast`, never imported).
DOCSTRING_MODULES = (
    "argparse", "asyncio/events", "asyncio/tasks", "asyncio/streams", "base64", "bisect", "calendar", "cmd",
    "codecs", "collections/__init__", "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "decimal", "difflib", "doctest", "email/message", "email/utils", "enum", "fileinput", "fnmatch",
    "fractions", "ftplib", "functools", "getopt", "gettext", "glob", "gzip", "heapq", "hmac", "http/client",
    "http/cookiejar", "imaplib", "inspect", "ipaddress", "json/__init__", "json/decoder", "logging/__init__",
    "mailbox", "netrc", "numbers", "optparse", "os", "pathlib", "pdb", "pickle", "pickletools", "pkgutil",
    "platform", "plistlib", "poplib", "pprint", "profile", "pstats", "queue", "random", "re/__init__",
    "sched", "secrets", "selectors", "shelve", "shlex", "shutil", "smtplib", "socket", "socketserver",
    "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit", "token",
    "tokenize", "trace", "traceback", "turtle", "typing", "unittest/case", "urllib/parse", "urllib/request",
    "uuid", "warnings", "weakref", "wave", "xml/dom/minidom", "zipfile/__init__", "zipfile", "zipimport",
)
CODE_MODULES = ("heapq", "bisect", "colorsys", "fnmatch", "textwrap", "shlex", "queue", "sched", "statistics",
                "string", "glob", "difflib", "json/encoder", "csv", "base64", "calendar", "copy", "enum")

COOKIE_LINES = (
    "This website uses cookies to improve your experience.",
    "By continuing to browse you agree to our use of cookies.",
    "Read our Privacy Policy and Terms of Use.",
    "Accept all cookies", "Manage preferences", "Cookie policy",
)
FOOTER_LINES = ("Home", "About", "Contact", "Blog", "Careers", "Press", "Sitemap", "Subscribe",
                "Follow us on Twitter", "Share on Facebook", "© 2024 All rights reserved.", "Back to top",
                "Log in", "Sign up", "Next page »", "« Previous", "Download", "Pricing", "Support", "FAQ")
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
         "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip "
         "ex ea commodo consequat.")


@dataclass(frozen=True)
class Doc:
    """One corpus document: `kind` is "prose:<source>" or "bad:<pattern>"."""

    id: str
    kind: str
    text: str

    @property
    def good(self) -> bool:
        return self.kind.startswith("prose:")


def _stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _unwrap(paragraph: str) -> str:
    """Join a hard-wrapped paragraph into one line, as an HTML extractor would; code blocks stay as they are."""
    lines = paragraph.split("\n")
    if any(line.startswith("   ") for line in lines):
        return paragraph
    return " ".join(line.strip() for line in lines)


def _paragraphs(text: str) -> list[str]:
    return [p for p in (q.strip("\n") for q in _BLANK.split(text)) if p.strip()]


def _chunks(paragraphs: list[str], lo: int, hi: int) -> list[list[str]]:
    """Group consecutive paragraphs into chunks of lo..hi words (a long paragraph may exceed hi)."""
    out: list[list[str]] = []
    current: list[str] = []
    words = 0
    for para in paragraphs:
        n = len(para.split())
        if current and words + n > hi:
            if words >= lo:
                out.append(current)
            current, words = [], 0
        current.append(para)
        words += n
    if current and words >= lo:
        out.append(current)
    return out


def _pydoc_docs() -> list[Doc]:
    docs = []
    for topic, text in sorted(pydoc_data.topics.topics.items()):
        for i, chunk in enumerate(_chunks(_paragraphs(text), 120, 420)):
            wrapped = (len(docs) % 3 == 2)  # one in three keeps the hard wrapping of the plain-text docs
            paras = chunk if wrapped else [_unwrap(p) for p in chunk]
            docs.append(Doc(f"pydoc:{topic}:{i}", "prose:pydoc", normalize_text("\n\n".join(paras))))
    return docs


def _docstrings(module: str) -> list[str]:
    path = _stdlib() / f"{module}.py"
    if not path.is_file():
        return []
    tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    found = [ast.get_docstring(tree) or ""]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            found.append(ast.get_docstring(node) or "")
    return [d for d in found if len(d.split()) >= 12]


def _docstring_docs() -> list[Doc]:
    docs = []
    for module in DOCSTRING_MODULES:
        strings = _docstrings(module)
        paras = [_unwrap(p) for s in strings for p in _paragraphs(s)]
        for i, chunk in enumerate(_chunks(paras, 100, 350)[:2]):
            docs.append(Doc(f"docstring:{module}:{i}", "prose:docstring", normalize_text("\n\n".join(chunk))))
    return docs


def _metadata_body(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    return raw.split("\n\n", 1)[1] if "\n\n" in raw else ""


def _readme_docs() -> list[Doc]:
    docs = []
    for path in sorted(_site_packages().glob("*.dist-info/METADATA")):
        paras = [_unwrap(p) for p in _paragraphs(_metadata_body(path))]
        chunks = _chunks(paras, 150, 500)
        if chunks and len(docs) < 90:
            name = path.parent.name.split("-")[0].lower()
            docs.append(Doc(f"readme:{name}", "prose:readme", normalize_text("\n\n".join(chunks[0]))))
    return docs


def _licence_docs() -> list[Doc]:
    seen: set[str] = set()
    docs = []
    candidates = [_stdlib() / "LICENSE.txt", *sorted(_site_packages().glob("*.dist-info/licenses/LICENSE*"))]
    for path in candidates:
        if not path.is_file():
            continue
        text = normalize_text("\n\n".join(_unwrap(p) for p in _paragraphs(path.read_text(errors="replace"))))
        head = " ".join(text.split()[:40])
        if head in seen or len(text.split()) < 100:
            continue
        seen.add(head)
        words = text.split(" ")
        owner = path.parent.parent if path.parent.name == "licenses" else path.parent
        docs.append(Doc(f"licence:{owner.name.split('-')[0].lower()}:{path.name}", "prose:licence",
                        text if len(words) < 700 else " ".join(words[:600])))
    return docs[:25]


# ---- realistic bad documents assembled from the same real text ----------------------------------------------

def _code_docs(rng: random.Random) -> list[Doc]:
    docs = []
    for module in CODE_MODULES:
        path = _stdlib() / f"{module}.py"
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        start = rng.randrange(0, max(1, len(lines) - 80))
        docs.append(Doc(f"code:{module}", "bad:code", normalize_text("\n".join(lines[start:start + 70]))))
    return docs


def _sentences(prose: list[Doc]) -> list[str]:
    out = []
    for doc in prose:
        out.extend(s for s in re.split(r"(?<=[.!?])\s+", doc.text.replace("\n", " ")) if 6 <= len(s.split()) <= 40)
    return out


def _bad_docs(prose: list[Doc], rng: random.Random) -> list[Doc]:
    sentences = _sentences(prose)
    titles = sorted({line for d in prose for line in d.text.split("\n") if 1 <= len(line.split()) <= 5})
    vocab = sorted({w for d in prose[:80] for w in d.text.split() if w.isalpha()})
    paras = [p for d in prose for p in d.text.split("\n\n") if 40 <= len(p.split()) <= 150]
    docs: list[Doc] = []

    def add(kind: str, text: str) -> None:
        docs.append(Doc(f"{kind}:{len(docs)}", f"bad:{kind}", normalize_text(text)))

    for _ in range(12):  # navigation menus and link farms
        add("nav", "\n".join(rng.sample(titles, rng.randint(30, 70)) + rng.sample(FOOTER_LINES, 8)))
    for _ in range(12):  # the same paragraph repeated
        para = rng.choice(paras)
        add("repeated", "\n\n".join([para] * rng.randint(2, 5)))
    for _ in range(12):  # search-result snippets cut with an ellipsis
        add("snippets", "\n".join(" ".join(rng.choice(sentences).split()[:rng.randint(6, 14)]) + " ..."
                                  for _ in range(rng.randint(8, 20))))
    for _ in range(8):  # lorem ipsum placeholder pages
        add("lorem", "\n".join(rng.sample(sentences, 6)) + "\n" + LOREM + "\n" + "\n".join(rng.sample(sentences, 4)))
    for _ in range(10):  # real prose wrapped in cookie banners and footers (mostly fine: the lines go)
        add("boilerplate", "\n".join(COOKIE_LINES[:rng.randint(2, 6)]) + "\n" + rng.choice(paras) + "\n"
            + "\n".join(rng.sample(FOOTER_LINES, rng.randint(4, 14))))
    for _ in range(8):  # numeric tables
        rows = [", ".join(f"{rng.uniform(0, 1000):.2f}" for _ in range(6)) for _ in range(rng.randint(20, 50))]
        add("table", "id, open, high, low, close, volume\n" + "\n".join(rows))
    for _ in range(12):  # too short
        add("short", " ".join(rng.choice(paras).split()[:rng.randint(15, 48)]))
    for _ in range(8):  # hashtag spam
        add("hashtags", " ".join(w if rng.random() > 0.35 else f"#{w.lower()}"
                                 for w in " ".join(rng.sample(sentences, 8)).split()))
    for _ in range(10):  # bullet lists
        mark = rng.choice(["-", "•", "*"])
        add("bullets", "\n".join(f"{mark} {s}" for s in rng.sample(sentences, rng.randint(12, 30))))
    for _ in range(10):  # word salad (keyword-farm pages)
        words = [rng.choice(vocab) for _ in range(rng.randint(120, 300))]
        add("salad", "\n".join(" ".join(words[i:i + 12]) for i in range(0, len(words), 12)))
    for _ in range(6):  # JSON / config dumps
        items = [f'"{rng.choice(vocab).lower()}": {rng.randint(0, 999)},' for _ in range(rng.randint(30, 60))]
        add("json", "{\n" + "\n".join(items) + "\n}")
    for _ in range(8):  # one sentence repeated (spun content)
        sentence = rng.choice(sentences)
        add("spam", " ".join([sentence] * rng.randint(5, 15)))
    for _ in range(10):  # prose whose lines are all short (poems, lyrics, captions)
        words = " ".join(rng.sample(sentences, 10)).split()
        add("shortlines", "\n".join(" ".join(words[i:i + rng.randint(2, 5)]) for i in range(0, len(words), 4)))
    for _ in range(8):  # forum pages whose posts end with ellipses
        add("ellipsis", "\n".join(rng.choice(sentences).rstrip(".") + "..." for _ in range(rng.randint(10, 20))))
    return docs


@cache
def build_corpus() -> tuple[Doc, ...]:
    """All documents, good prose first; deterministic for one environment."""
    rng = random.Random(SEED)
    prose = _pydoc_docs() + _docstring_docs() + _readme_docs() + _licence_docs()
    bad = _code_docs(rng) + _bad_docs(prose, rng)
    return tuple(d for d in prose + bad if d.text)


def cut_to_words(text: str, words: int) -> str:
    """The leading lines of `text` holding about `words` words (the last line is cut at a word)."""
    out, total = [], 0
    for line in text.split("\n"):
        tokens = line.split(" ")
        if total + len(tokens) >= words:
            out.append(" ".join(tokens[: words - total]))
            break
        out.append(line)
        total += len(line.split())
    return normalize_text("\n".join(out))


def prose_of_about(words: int = 250, limit: int | None = None) -> list[str]:
    """Real prose documents cut to about `words` words (for benchmarks on ~250-word documents)."""
    docs = [cut_to_words(d.text, words) for d in build_corpus() if d.good and len(d.text.split()) >= words]
    return docs[:limit]


if __name__ == "__main__":  # summary: python -m tests.scoring.corpus
    from collections import Counter

    corpus = build_corpus()
    print(len(corpus), "documents on Python", sys.version.split()[0])
    for kind, n in sorted(Counter(d.kind for d in corpus).items()):
        print(f"  {kind:20} {n}")
