"""Web pages: main-content extraction with trafilatura, page metadata and outgoing links.

`parse_page` is the one extraction path of every kind that reads web pages (web, feed articles, HN links), used
by the crawl and by `fetch_one` alike. Its settings are fixed here so both produce the same text for the same
bytes: fast mode (no fallback extractors), no comments, tables kept, no cross-document deduplication. Metadata
(title, author, date, licence) comes from trafilatura's readers and htmldate, without the category/tag and
footer-licence scans that cost a quarter of the extraction time and that records do not use.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin, urlsplit

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title
from trafilatura.settings import set_date_params, use_config
from trafilatura.utils import load_html
from w3lib.encoding import html_to_unicode

from schemas import canonical_url
from schemas.errors import RecordError
from scrapers import reasons, settings
from scrapers.parsing import Headers, ParseContext, Parsed, ParseError, content_type, make_record

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_CONFIG = use_config()
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(settings.TRAFILATURA_MIN_EXTRACTED_SIZE))
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageHints:
    """What a feed or HN item says about a page: used only where the page itself says nothing."""

    title: str = ""
    published_at: datetime | None = None
    author: str = ""


def decode_html(body: bytes, headers: Headers) -> str:
    """Unicode of an HTML body: the HTTP charset, then BOM and <meta charset>, then UTF-8 (as Scrapy does)."""
    _encoding, text = html_to_unicode(headers.get("content-type"), body)
    return text


def _check_html(body: bytes, headers: Headers) -> None:
    kind = content_type(headers)
    if kind and kind not in HTML_TYPES:
        raise ParseError(reasons.BAD_CONTENT_TYPE, kind)
    if not body.strip():
        raise ParseError(reasons.EMPTY)
    if not kind and not body.lstrip()[:1] == b"<":
        raise ParseError(reasons.BAD_CONTENT_TYPE, "no content type and not markup")


def _robots_meta(tree: HtmlElement) -> set[str]:
    values = tree.xpath("//meta[translate(@name,'ROBTS','robts')='robots']/@content")
    return {token.strip().lower() for value in values for token in str(value).split(",")}


def page_links(tree: HtmlElement, url: str) -> list[str]:
    """Absolute http(s) links of a page without fragments, in document order, nofollow links left out."""
    bases = tree.xpath("//base/@href")
    base = urljoin(url, str(bases[0]).strip()) if bases else url
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    hrefs: dict[str, None] = {}
    for anchor in tree.iterfind(".//a[@href]"):
        if "nofollow" not in (anchor.get("rel") or "").lower():
            hrefs.setdefault((anchor.get("href") or "").strip(), None)  # menus repeat links: join each once
    links: dict[str, None] = {}
    for href in hrefs:
        if not href or href.startswith(_NOT_PAGES):
            continue
        try:
            link = _absolute(href, base, origin)
        except ValueError:
            continue
        if "#" in link:
            link = urldefrag(link)[0]
        if link.startswith(("http://", "https://")):
            links.setdefault(link, None)
    return list(links)


_NOT_PAGES = ("#", "javascript:", "mailto:", "tel:", "data:")


def _absolute(href: str, base: str, origin: str) -> str:
    """urljoin, with shortcuts for the two common shapes (absolute URLs, root-relative paths without dots)."""
    if href.startswith(("http://", "https://")):
        return href
    if href.startswith("/") and not href.startswith("//") and "/." not in href:
        return origin + href
    return urljoin(base, href)


@dataclass(frozen=True)
class PageMeta:
    title: str
    author: str
    published_at: datetime | None
    license: str | None


def page_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """Title, author, publication date and licence a page declares (meta tags, JSON-LD, headings, links)."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:  # trafilatura's rule: a single token is rarely a person
        meta.author = None
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as exc:  # noqa: BLE001 - trafilatura's JSON-LD reader fails on odd documents
        logger.debug("JSON-LD metadata unreadable url=%s error=%r", url, exc)
    date = find_date(tree, url=url, **set_date_params(False))
    return PageMeta(title=meta.title or extract_title(tree) or "", author=meta.author or extract_author(tree) or "",
                    published_at=_published(date), license=page_license(tree))


def page_license(tree: HtmlElement) -> str | None:
    """The licence a page links with rel="license": an SPDX-style id for Creative Commons, else the URL."""
    for element in tree.iterfind(".//*[@rel][@href]"):
        if "license" not in (element.get("rel") or "").lower().split():
            continue
        href = (element.get("href") or "").strip()
        found = _CC_LICENSE.search(href)
        if found:
            return f"CC-{found.group(1).upper()}-{found.group(2)}" if found.group(1) != "zero" else "CC0-1.0"
        return href[:200] or None
    return None


_CC_LICENSE = re.compile(r"creativecommons\.org/(?:licenses|publicdomain)/([a-z\-]+)/(\d\.\d)", re.IGNORECASE)


def _published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_page(ctx: ParseContext, url: str, body: bytes, headers: Headers,
               hints: PageHints | None = None) -> Parsed:
    """The record of an HTML page (if it has main content) and the links it points to."""
    _check_html(body, headers)
    try:
        uri = canonical_url(url)
    except RecordError as exc:
        raise ParseError(reasons.INVALID_RECORD, str(exc)) from None
    tree = load_html(decode_html(body, headers))
    if tree is None:
        raise ParseError(reasons.NO_CONTENT, "not parseable as HTML")
    robots = _robots_meta(tree)
    links = () if "nofollow" in robots or "none" in robots else tuple(page_links(tree, url))
    if "noindex" in robots or "none" in robots:
        return Parsed(follow=links, skipped=("noindex",))
    meta = page_metadata(tree, uri)
    doc = trafilatura.bare_extraction(
        tree, url=uri, fast=True, with_metadata=False, include_comments=False, include_tables=True,
        deduplicate=False, config=_CONFIG,
    )
    if doc is None or not (doc.text or "").strip():
        return Parsed(follow=links, skipped=(reasons.NO_CONTENT,))
    hints = hints or PageHints()
    try:
        record = make_record(
            ctx, uri=uri, text=doc.text, title=meta.title or hints.title,
            published_at=meta.published_at or hints.published_at, lang=tree.get("lang"),
            license=meta.license, labels=[], meta={"author": (meta.author or hints.author or "")[:200]},
        )
    except ParseError as exc:
        return Parsed(follow=links, skipped=(exc.reason,))
    return Parsed(records=(record,), follow=links)
