"""Low-quality pages made deterministically from real articles, for the demo's weak miners and for
adversarial tests: what quality and relevance filters exist to reject.

Four kinds, each a familiar pattern of the real web:
- `boilerplate`: a sentence of content lost among navigation, sharing and cookie text;
- `listicle`: every sentence chopped to a few words and turned into a bullet;
- `repeated`: the same two sentences over and over;
- `stuffed`: a short paragraph followed by lines of search keywords.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from glean.sampleweb.constants import AREA_DIGEST, AREA_PRIVATE, DIGEST_PAGES_PER_KIND, PAGE_ID_BASE, PRIVATE_PAGES
from glean.sampleweb.corpus import Article, Block

DIGEST_KINDS = ("boilerplate", "listicle", "repeated", "stuffed")

_NAV = ("Home", "Topics", "Latest", "Popular", "Newsletter", "Subscribe", "Log in", "Sign up", "Contact us",
        "Advertise", "Careers", "Privacy policy", "Terms of use", "Cookie settings")
_SHARE = ("Share on social media", "Copy link", "Email this page", "Print this page", "Save for later")
_COOKIES = ("We use cookies to improve your experience. By continuing to browse you accept our use of "
            "cookies. Manage your preferences at any time in the cookie settings.")
_STUFFING = ("python module function import interpreter statement expression object class method",
             "best python tutorial python tips python tricks learn python fast python code examples",
             "python standard library python syntax python keywords python docs python reference")
_TAGS = ("python", "tips", "tutorial", "beginners", "how-to", "cheat sheet", "reference", "examples", "faq")
_DISCLAIMER = ("The information on this page is provided as is, without warranty of any kind. Opinions are "
               "those of the authors. Some links on this page are affiliate links.")
_MIN_SENTENCES = 30  # sources long enough that every kind of digest page reaches ~150 words
_LISTICLE_WORDS = 5
_LISTICLE_ITEMS = 40
_REPEATS = 14
_STUFF_LINES = 10
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def _sentences(article: Article) -> list[str]:
    paragraphs = [b.text for b in article.blocks if b.kind == "p"]
    return [s.strip() for p in paragraphs for s in _SENTENCE.split(p) if len(s.split()) >= 4]


def _boilerplate(article: Article, others: Sequence[Article]) -> tuple[str, list[Block]]:
    related = tuple(f"Read next: {o.title}" for o in others)
    blocks = [Block("ul", items=_NAV), Block("p", " ".join(_sentences(article)[:2])), Block("ul", items=_SHARE),
              Block("ul", items=related), Block("ul", items=_TAGS), Block("p", _COOKIES), Block("p", _DISCLAIMER),
              Block("ul", items=_NAV),
              Block("p", "Copyright. All rights reserved. Reproduction without permission is prohibited.")]
    return f"{article.title}: quick links", blocks


def _listicle(article: Article, _others: Sequence[Article]) -> tuple[str, list[Block]]:
    items = tuple(" ".join(s.split()[:_LISTICLE_WORDS]) for s in _sentences(article)[:_LISTICLE_ITEMS])
    topic = article.title[0].lower() + article.title[1:] if article.title.startswith("The ") else article.title
    return f"{len(items)} things to know about {topic}", [Block("ul", items=items)]


def _repeated(article: Article, _others: Sequence[Article]) -> tuple[str, list[Block]]:
    line = " ".join(_sentences(article)[:2])
    return f"{article.title} (summary)", [Block("p", line) for _ in range(_REPEATS)]


def _stuffed(article: Article, _others: Sequence[Article]) -> tuple[str, list[Block]]:
    lines = [_STUFFING[i % len(_STUFFING)] for i in range(_STUFF_LINES)]
    return (f"{article.title} python tutorial python guide",
            [Block("p", " ".join(_sentences(article)[:3])), *(Block("p", line) for line in lines)])


_MAKERS = {"boilerplate": _boilerplate, "listicle": _listicle, "repeated": _repeated, "stuffed": _stuffed}


def digest_articles(sources: Sequence[Article]) -> list[Article]:
    """DIGEST_PAGES_PER_KIND pages of every kind, from sources picked at even steps (stable order)."""
    usable = [a for a in sources if len(_sentences(a)) >= _MIN_SENTENCES]
    count = DIGEST_PAGES_PER_KIND * len(DIGEST_KINDS)
    step = max(1, len(usable) // count)
    picked = usable[::step][:count]
    out = []
    for i, source in enumerate(picked):
        kind = DIGEST_KINDS[i % len(DIGEST_KINDS)]
        others = [picked[(i + j) % len(picked)] for j in range(1, 7)]
        title, blocks = _MAKERS[kind](source, others)
        slug = f"{kind}-{source.slug}"
        out.append(Article(key=f"{AREA_DIGEST}/{slug}", area=AREA_DIGEST, slug=slug, title=title,
                           blocks=tuple(blocks), page_id=PAGE_ID_BASE[AREA_DIGEST] + i,
                           origin=f"{kind} variant of {source.key}"))
    return out


def private_articles(sources: Sequence[Article]) -> list[Article]:
    """Drafts of the first articles, served under a path robots.txt disallows."""
    return [Article(key=f"{AREA_PRIVATE}/{a.slug}", area=AREA_PRIVATE, slug=a.slug, title=f"Draft: {a.title}",
                    blocks=a.blocks, page_id=PAGE_ID_BASE[AREA_PRIVATE] + i, origin=f"draft of {a.key}")
            for i, a in enumerate(sources[:PRIVATE_PAGES])]
