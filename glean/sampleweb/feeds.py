"""RSS 2.0 and Atom 1.0 feeds whose items link to article pages, newest first.

Items carry a summary (the first paragraph), not the full text, as most news feeds do: a feed spider
follows the link and extracts the page, the same way a validator re-fetches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from glean.sampleweb.corpus import Article
from glean.sampleweb.reply import Reply
from glean.sampleweb.site import article_path

FEED_AUTHOR = "Python documentation authors"


def _newest_time(articles: Sequence[Article], fallback: datetime) -> datetime:
    return max((a.modified_at or fallback for a in articles), default=fallback)


def rss(articles: Sequence[Article], *, title: str, description: str, home_url: str, feed_url: str,
        base_url: str, built: datetime) -> Reply:
    """An RSS 2.0 channel (with atom:link rel=self, as validators of feeds expect)."""
    items = []
    for a in articles:
        link = base_url + article_path(a)
        pub = format_datetime(a.published_at, usegmt=True) if a.published_at else ""
        items.append(f"<item><title>{escape(a.title)}</title><link>{escape(link)}</link>"
                     f'<guid isPermaLink="true">{escape(link)}</guid><pubDate>{pub}</pubDate>'
                     f"<dc:creator>{FEED_AUTHOR}</dc:creator><category>{a.area}</category>"
                     f"<description>{escape(a.summary)}</description></item>")
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            f"<title>{escape(title)}</title>\n<link>{escape(home_url)}</link>\n"
            f"<description>{escape(description)}</description>\n<language>en</language>\n"
            f"<lastBuildDate>{format_datetime(_newest_time(articles, built), usegmt=True)}</lastBuildDate>\n"
            f'<atom:link href={quoteattr(feed_url)} rel="self" type="application/rss+xml"/>\n'
            + "\n".join(items) + "\n</channel>\n</rss>\n")
    return Reply.xml(body, content_type="application/rss+xml")


def atom(articles: Sequence[Article], *, title: str, description: str, home_url: str, feed_url: str,
         base_url: str, built: datetime) -> Reply:
    """An Atom 1.0 feed (RFC 4287): id, updated, author and an alternate link on every entry."""
    entries = []
    for a in articles:
        link = base_url + article_path(a)
        entries.append(f"<entry><title>{escape(a.title)}</title><id>{escape(link)}</id>"
                       f'<link rel="alternate" type="text/html" href={quoteattr(link)}/>'
                       f"<published>{a.published_at.isoformat() if a.published_at else ''}</published>"
                       f"<updated>{(a.modified_at or built).isoformat()}</updated>"
                       f'<category term="{a.area}"/><summary type="text">{escape(a.summary)}</summary></entry>')
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
            f"<title>{escape(title)}</title>\n<subtitle>{escape(description)}</subtitle>\n"
            f"<id>{escape(feed_url)}</id>\n<updated>{_newest_time(articles, built).isoformat()}</updated>\n"
            f'<link rel="self" type="application/atom+xml" href={quoteattr(feed_url)}/>\n'
            f'<link rel="alternate" type="text/html" href={quoteattr(home_url)}/>\n'
            f"<author><name>{FEED_AUTHOR}</name></author>\n" + "\n".join(entries) + "\n</feed>\n")
    return Reply.xml(body, content_type="application/atom+xml")
