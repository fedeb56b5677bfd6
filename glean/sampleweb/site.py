"""The static site under /site/: article pages with boilerplate around them, area indexes, robots.txt
and sitemaps — what a web spider with `seeds`, `allow_patterns` and `sitemaps: true` crawls."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from html import escape

from glean.sampleweb.constants import (
    AREA_BUILTINS,
    AREA_DIGEST,
    AREA_LANGUAGE,
    AREA_NOTES,
    AREA_PRIVATE,
    AREA_STDLIB,
    LICENSE_URL,
    PUBLIC_AREAS,
    UNLICENSED_AREAS,
)
from glean.sampleweb.corpus import Article, Block
from glean.sampleweb.reply import Reply
from glean.sampleweb.state import Snapshot

SITE_NAME = "Python Documentation Mirror (glean sample web)"
AREA_TITLES = {
    AREA_LANGUAGE: "Language reference",
    AREA_STDLIB: "Standard library",
    AREA_DIGEST: "Python digest",
    AREA_PRIVATE: "Drafts",
    AREA_NOTES: "Module notes",
    AREA_BUILTINS: "Built-in types and functions",
}
AREA_BLURBS = {
    AREA_LANGUAGE: "Topics of the Python language reference: statements, expressions, the data model.",
    AREA_STDLIB: "The standard-library modules, from their own documentation strings.",
    AREA_DIGEST: "Quick digests of Python topics.",
    AREA_PRIVATE: "Unpublished drafts.",
    AREA_NOTES: "Notes on further modules, from their documentation strings.",
    AREA_BUILTINS: "Python's built-in types and functions, from their documentation strings.",
}
_RELATED_STEPS = (7, 13, 29)  # which other articles an article's sidebar links to (stable, spread out)


def article_path(article: Article) -> str:
    return f"/site/{article.area}/{article.slug}.html"


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _block_html(block: Block) -> str:
    if block.kind == "pre":
        return f"<pre><code>{escape(block.text)}</code></pre>"
    if block.kind in ("ul", "ol"):
        items = "".join(f"<li>{escape(item)}</li>" for item in block.items)
        return f"<{block.kind}>{items}</{block.kind}>"
    return f"<{block.kind}>{escape(block.text)}</{block.kind}>"


def body_html(blocks: tuple[Block, ...]) -> str:
    """The article body as HTML fragments, one per line."""
    return "\n".join(_block_html(b) for b in blocks)


def _header() -> str:
    links = "".join(f'<li><a href="/site/{area}/">{escape(AREA_TITLES[area])}</a></li>' for area in PUBLIC_AREAS)
    return (f'<header class="site-header"><a class="logo" href="/site/">{escape(SITE_NAME)}</a>'
            f'<nav aria-label="Sections"><ul><li><a href="/site/">Home</a></li>{links}'
            '<li><a href="/site/about.html">About</a></li></ul></nav></header>')


def _footer(licensed: bool = True) -> str:
    terms = ('<p>Text from the Python documentation, © Python Software Foundation, under the '
             '<a href="/site/about.html#licence">PSF License</a>.</p>') if licensed else ""
    return ('<footer class="site-footer">' + terms +
            '<ul><li><a href="/site/about.html">About this mirror</a></li><li><a href="/feed.xml">RSS</a></li>'
            '<li><a href="/sitemap.xml">Sitemap</a></li></ul></footer>')


# Listing pages tell crawlers to follow their links but not to index them, as real sites do.
LISTING_HEAD = '<meta name="robots" content="noindex, follow">\n'


def _page(title: str, main: str, *, head: str = "", aside: str = "", licensed: bool = True) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)} — {escape(SITE_NAME)}</title>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"{head}</head>\n<body>\n{_header()}\n<div class=\"layout\">\n{aside}\n"
            f"<main id=\"content\">\n{main}\n</main>\n</div>\n{_footer(licensed)}\n</body>\n</html>\n")


def _related(article: Article, snap: Snapshot) -> list[Article]:
    siblings = snap.in_area(article.area)
    if len(siblings) < 2:
        return []
    at = next(i for i, a in enumerate(siblings) if a.key == article.key)
    picks = [siblings[(at + step) % len(siblings)] for step in (1, -1, *_RELATED_STEPS)]
    seen: dict[str, Article] = {}
    for pick in picks:
        if pick.key != article.key:
            seen.setdefault(pick.key, pick)
    return list(seen.values())


def article_page(article: Article, snap: Snapshot, base_url: str) -> Reply:
    """An article page: head metadata, site chrome, the article, a sidebar of related links."""
    url = base_url + article_path(article)
    # A licensed page declares its licence as a link rel="license" (what scrapers.extract.page_license reads); the
    # notes area declares none, in the head or anywhere else.
    licensed = article.area not in UNLICENSED_AREAS
    head = (f'<link rel="canonical" href="{escape(url)}">\n'
            + (f'<link rel="license" href="{LICENSE_URL}">\n' if licensed else "") +
            f'<meta name="description" content="{escape(article.summary[:300])}">\n'
            f'<meta name="author" content="Python documentation authors">\n'
            '<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{escape(article.title)}">\n'
            f'<meta property="og:url" content="{escape(url)}">\n'
            f'<meta property="article:published_time" content="{_iso(article.published_at)}">\n'
            f'<meta property="article:modified_time" content="{_iso(article.modified_at)}">\n'
            f'<link rel="alternate" type="application/rss+xml" title="{escape(AREA_TITLES[article.area])}" '
            f'href="/site/{article.area}/feed.xml">\n')
    related = "".join(f'<li><a href="{article_path(a)}">{escape(a.title)}</a></li>' for a in _related(article, snap))
    area_name = escape(AREA_TITLES[article.area].lower())
    aside = (f'<aside class="sidebar"><h2>Related pages</h2><ul>{related}</ul>'
             f'<p><a href="/site/{article.area}/">All {area_name} pages</a></p></aside>')
    published = article.published_at.strftime("%B %d, %Y") if article.published_at else ""
    main = (f'<nav class="breadcrumbs"><a href="/site/">Home</a> › <a href="/site/{article.area}/">'
            f"{escape(AREA_TITLES[article.area])}</a></nav>\n<article>\n<h1>{escape(article.title)}</h1>\n"
            f'<p class="byline">Published <time datetime="{_iso(article.published_at)}">{published}</time></p>\n'
            f"{body_html(article.blocks)}\n</article>\n"
            '<div class="share">Share this page: <a href="#">Mastodon</a> · <a href="#">Email</a></div>')
    return Reply.html(_page(article.title, main, head=head, aside=aside, licensed=licensed),
                      **{"Last-Modified": _http_date(article.modified_at)})


def area_index(area: str, snap: Snapshot) -> Reply:
    """The list of an area's articles (newest first), with its feeds; the language index links the drafts."""
    articles = snap.in_area(area)
    items = "".join(f'<li><a href="{article_path(a)}">{escape(a.title)}</a></li>' for a in articles)
    drafts = ""
    if area == AREA_LANGUAGE:
        links = "".join(f'<li><a href="{article_path(a)}">{escape(a.title)}</a></li>'
                        for a in snap.in_area(AREA_PRIVATE))
        drafts = f"<h2>Drafts</h2><ul>{links}</ul>"
    main = (f"<h1>{escape(AREA_TITLES[area])}</h1><p>{escape(AREA_BLURBS[area])}</p>"
            f'<p>Follow: <a href="/site/{area}/feed.xml">RSS</a> · <a href="/site/{area}/atom.xml">Atom</a></p>'
            f'<ul class="index">{items}</ul>{drafts}')
    return Reply.html(_page(AREA_TITLES[area], main, head=LISTING_HEAD))


def home(snap: Snapshot) -> Reply:
    sections = "".join(
        f'<li><a href="/site/{area}/">{escape(AREA_TITLES[area])}</a> — {escape(AREA_BLURBS[area])} '
        f"({len(snap.in_area(area))} pages)</li>" for area in PUBLIC_AREAS)
    main = f"<h1>{escape(SITE_NAME)}</h1><ul>{sections}</ul>"
    return Reply.html(_page("Home", main, head=LISTING_HEAD))


def about() -> Reply:
    main = ("<article><h1>About this mirror</h1>"
            "<p>This site is served by glean's offline sample web. Its pages are built from the documentation "
            "that ships with the Python interpreter: the language reference topics in pydoc_data and the "
            "documentation strings of standard-library modules.</p>"
            '<h2 id="licence">Licence</h2><p>The text is © Python Software Foundation and is used under the '
            "PSF License Agreement (PSF-2.0). The low-quality digest pages are derived from the same text. The module "
            "notes state no licence at all.</p>"
            "</article>")
    return Reply.html(_page("About", main, head=LISTING_HEAD))


def robots(base_url: str) -> Reply:
    return Reply.text("User-agent: *\nDisallow: /site/private/\nDisallow: /_control/\nAllow: /\n\n"
                      f"Sitemap: {base_url}/sitemap.xml\n")


def sitemap(snap: Snapshot, base_url: str, areas: tuple[str, ...] = PUBLIC_AREAS) -> Reply:
    """A urlset of every public article (and the indexes), with lastmod; drafts are left out."""
    urls = [f"<url><loc>{base_url}/site/</loc></url>"]
    for area in areas:
        urls.append(f"<url><loc>{base_url}/site/{area}/</loc></url>")
        urls.extend(f"<url><loc>{escape(base_url + article_path(a))}</loc><lastmod>{_iso(a.modified_at)}</lastmod>"
                    "<changefreq>weekly</changefreq></url>" for a in snap.in_area(area))
    return Reply.xml('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                     + "\n".join(urls) + "\n</urlset>\n")


def _http_date(moment: datetime | None) -> str:
    return format_datetime(moment, usegmt=True) if moment else ""
