"""Plain text from the HTML fragments APIs return (Stack Exchange bodies, HN text posts)."""

from __future__ import annotations

import lxml.html
from lxml import etree

from schemas import normalize_text

_BLOCKS = frozenset({
    "p", "div", "pre", "blockquote", "ul", "ol", "dl", "dt", "dd", "table", "tr", "hr", "section", "article",
    "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
})
_DROP = ("script", "style", "noscript", "template")


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment: blocks become paragraphs, list items lines starting with '- '."""
    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return normalize_text(fragment)
    etree.strip_elements(root, *_DROP, with_tail=False)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif tag == "li":
            el.text = "- " + (el.text or "")
            el.tail = "\n" + (el.tail or "")
        elif tag in _BLOCKS:
            el.text = "\n\n" + (el.text or "")
            el.tail = "\n\n" + (el.tail or "")
    return normalize_text(root.text_content())
