"""The wiki's pages: titles, URLs, revision ids, the article as wikitext, extracts and the rendered HTML page."""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from urllib.parse import quote

from glean.sampleweb.constants import WIKI_ARTICLE_NAMESPACE, WIKI_CATEGORY, WIKI_LICENSE_URL, WIKI_NAMESPACES
from glean.sampleweb.corpus import Article, Block
from glean.sampleweb.reply import Reply
from glean.sampleweb.site import body_html
from glean.sampleweb.state import Snapshot

SITENAME = "PythonDocsWiki"
GENERATOR = "MediaWiki 1.43.0"
_SECTION_MARKUP = {"h2": "==", "h3": "==="}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def wiki_title(article: Article) -> str:
    """The article's page title (first letter upper-case, as MediaWiki stores it)."""
    return article.title[:1].upper() + article.title[1:]


def wiki_url(article: Article, base_url: str) -> str:
    """The article's /wiki/<Title> URL."""
    return f"{base_url}/wiki/{quote(wiki_title(article).replace(' ', '_'), safe=':/()')}"


def normalize_title(raw: str) -> str:
    """A title as MediaWiki normalises it: underscores to spaces, whitespace collapsed, first letter upper (of the
    namespace prefix and of the page name: "user:farmer/x" is "User:Farmer/x")."""
    title = " ".join(raw.replace("_", " ").split())
    prefix, sep, rest = title.partition(":")
    if sep and prefix.casefold() in WIKI_NAMESPACES and rest.strip():
        rest = rest.strip()
        return f"{prefix[:1].upper()}{prefix[1:].lower()}:{rest[:1].upper()}{rest[1:]}"
    return title[:1].upper() + title[1:]


def namespace_of(title: str) -> int:
    """The namespace a title's prefix names (0, an article, without a known prefix): what the API reports for a
    page, missing or not."""
    prefix, sep, _rest = title.partition(":")
    return WIKI_NAMESPACES.get(prefix.casefold(), WIKI_ARTICLE_NAMESPACE) if sep else WIKI_ARTICLE_NAMESPACE


def timestamp(moment: datetime | None) -> str:
    """An ISO 8601 UTC timestamp as the API writes it (empty for none)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def revid(article: Article) -> int:
    """The article's current revision id (page id × 100 + revision)."""
    return article.page_id * 100 + article.revision


def wiki_articles(snap: Snapshot) -> list[Article]:
    """Articles that are pages of the wiki: the areas that have a category."""
    return [a for a in snap.articles.values() if a.area in WIKI_CATEGORY]


def wiki_pages(snap: Snapshot) -> list[Article]:
    """Every page the wiki serves by title or id: its articles and the pages users published."""
    return wiki_articles(snap) + list(snap.user_pages.values())


def category_of(article: Article) -> str | None:
    """The page's category (None for a page a user published)."""
    return WIKI_CATEGORY.get(article.area)


def wikitext(article: Article) -> str:
    """The article as wikitext, with its category link at the end."""
    parts = []
    for block in article.blocks:
        if block.kind in _SECTION_MARKUP:
            mark = _SECTION_MARKUP[block.kind]
            parts.append(f"{mark} {block.text} {mark}")
        elif block.kind == "pre":
            parts.append(f'<syntaxhighlight lang="python">\n{block.text}\n</syntaxhighlight>')
        elif block.items:
            bullet = "*" if block.kind == "ul" else "#"
            parts.append("\n".join(f"{bullet} {item}" for item in block.items))
        else:
            parts.append(block.text)
    if category_of(article):
        parts.append(f"[[{category_of(article)}]]")
    return "\n\n".join(parts)


def plain_extract(blocks: tuple[Block, ...], section_format: str) -> str:
    """TextExtracts' plain text: one paragraph per line, headings set off by blank lines."""
    out: list[str] = []
    for block in blocks:
        if block.kind in _SECTION_MARKUP:
            mark = _SECTION_MARKUP[block.kind]
            heading = f"{mark} {block.text} {mark}" if section_format == "wiki" else block.text
            out.append(f"\n\n{heading}")
        else:
            out.append(block.plain())
    return "\n".join(out).strip()


def html_extract(blocks: tuple[Block, ...]) -> str:
    """TextExtracts' HTML form of the blocks."""
    return body_html(blocks)


def intro(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """The blocks before the first section heading."""
    cut = next((i for i, b in enumerate(blocks) if b.kind in _SECTION_MARKUP), len(blocks))
    return blocks[:cut]


def limit_text(text: str, chars: int | None, sentences: int | None) -> str:
    """Cut an extract to whole sentences (exsentences) and then to a word boundary past exchars."""
    if sentences:
        text = " ".join(_SENTENCE_END.split(text.replace("\n", " "))[:sentences])
    if chars and len(text) > chars:
        cut = text.find(" ", chars)
        text = (text if cut < 0 else text[:cut]) + "…"
    return text


def parser_html(article: Article) -> str:
    """The article body as action=parse renders it (headings wrapped in mw-heading divs)."""
    parts = []
    for block in article.blocks:
        if block.kind in _SECTION_MARKUP:
            anchor = escape(block.text.replace(" ", "_"), quote=True)
            level = block.kind[1]
            parts.append(f'<div class="mw-heading mw-heading{level}"><h{level} id="{anchor}">'
                         f"{escape(block.text)}</h{level}></div>")
        else:
            parts.append(body_html((block,)))
    return "\n".join(parts)


def article_html(article: Article, base_url: str) -> Reply:
    """The /wiki/<Title> page, in the layout of a MediaWiki skin."""
    title = escape(wiki_title(article))
    history_url = wiki_url(article, base_url) + "?action=history"
    category = category_of(article)
    catlinks = (f'<div id="catlinks" class="catlinks"><a href="/wiki/{quote(category.replace(" ", "_"))}">'
                f"{escape(category)}</a></div>") if category else ""
    page = ("<!DOCTYPE html>\n<html class=\"client-nojs\" lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"UTF-8\">\n"
            f"<title>{title} - {SITENAME}</title>\n"
            f'<link rel="canonical" href="{escape(wiki_url(article, base_url))}">'
            "\n</head>\n<body class=\"mediawiki skin-vector\">\n"
            '<div id="mw-navigation"><nav id="p-navigation"><ul><li><a href="/wiki/Main_Page">Main page</a></li>'
            '<li><a href="/wiki/Special:Random">Random article</a></li></ul></nav></div>\n'
            f'<main id="content" class="mw-body"><h1 id="firstHeading" class="firstHeading">{title}</h1>\n'
            f'<div id="bodyContent"><div id="siteSub">From {SITENAME}</div>\n'
            f'<div id="mw-content-text" class="mw-body-content"><div class="mw-content-ltr mw-parser-output" '
            f'lang="en" dir="ltr">\n{parser_html(article)}\n</div></div>\n'
            f"{catlinks}</div></main>\n"
            f'<footer id="footer"><ul><li id="footer-info-lastmod">This page was last edited on '
            f"{article.modified_at:%d %B %Y}.</li><li id=\"footer-info-copyright\">Text is available under the "
            f'<a rel="license" href="{WIKI_LICENSE_URL}">Creative Commons Attribution-ShareAlike 4.0 License</a>; '
            f'its authors are listed in the <a href="{escape(history_url)}">page history</a>.</li></ul>'
            "</footer>\n</body>\n</html>\n")
    return Reply.html(page)


def find_by_path_title(snap: Snapshot, path_title: str) -> Article | None:
    """The article a /wiki/<Title> path names (underscores and spaces are the same)."""
    title = normalize_title(path_title)
    return next((a for a in wiki_pages(snap) if wiki_title(a) == title), None)
