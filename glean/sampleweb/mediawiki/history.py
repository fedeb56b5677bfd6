"""Page histories: who edited a wiki page and when (`prop=revisions` with `rvlimit`, `prop=contributors`,
`action=history`). The wiki's text is CC BY-SA 4.0, whose credit a wiki gives through each page's history, as
Wikipedia's Terms of Use (section 7) say; glean's attribution links `<page URL>?action=history`."""

from __future__ import annotations

from html import escape
from typing import Any

from glean.sampleweb.constants import WIKI_LICENSE_URL
from glean.sampleweb.corpus import Article
from glean.sampleweb.mediawiki.pages import SITENAME, timestamp, wiki_title, wiki_url
from glean.sampleweb.reply import Reply

# The wiki's editors (name, user id): revision k of a page is by EDITORS[(page id + k) % len], so pages have
# different authors, and an edit made at run time adds one.
EDITORS = (("Tamsin Reyes", 1041), ("Kofi.Mensah", 1187), ("Ilse Brandt", 2203), ("Arjun P", 2875),
           ("Lucía Ortega", 3310), ("Wen Zhao", 3952), ("Mbali_D", 4466))


def _editor(article: Article, k: int) -> tuple[str, int]:
    return EDITORS[(article.page_id + k) % len(EDITORS)]


def revisions(article: Article) -> list[dict[str, Any]]:
    """The page's revisions, newest first: revid, parentid, user, userid, timestamp, comment (no text: the wiki
    keeps only the current one)."""
    first, last, n = article.published_at, article.modified_at, article.revision
    out = []
    for k in range(n, 0, -1):
        when = last if k == n or first is None or last is None else first + (last - first) * (k - 1) / (n - 1)
        user, userid = _editor(article, k)
        out.append({"revid": article.page_id * 100 + k, "parentid": article.page_id * 100 + k - 1 if k > 1 else 0,
                    "user": user, "userid": userid, "timestamp": timestamp(when),
                    "comment": "Imported from the Python documentation" if k == 1 else "Copy edit"})
    return out


def contributors(article: Article) -> list[dict[str, Any]]:
    """The page's registered contributors, in the order of their first edit, as `prop=contributors` lists them."""
    seen: dict[int, str] = {}
    for rev in reversed(revisions(article)):
        seen.setdefault(rev["userid"], rev["user"])
    return [{"userid": uid, "name": name} for uid, name in seen.items()]


def history_html(article: Article, base_url: str) -> Reply:
    """The `action=history` page: one line per revision with its time, author and comment."""
    title = escape(wiki_title(article))
    rows = "".join(
        f'<li data-mw-revid="{r["revid"]}"><span class="mw-changeslist-date">{escape(r["timestamp"])}</span> '
        f'<a href="/wiki/User:{escape(r["user"].replace(" ", "_"))}" class="mw-userlink">{escape(r["user"])}</a> '
        f'<span class="comment">({escape(r["comment"])})</span></li>' for r in revisions(article))
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">\n"
            f"<title>{title}: Revision history - {SITENAME}</title>\n"
            '<meta name="robots" content="noindex,nofollow">\n</head>\n<body class="mediawiki action-history">\n'
            f'<h1 id="firstHeading">{title}: Revision history</h1>\n'
            f'<p><a href="{escape(wiki_url(article, base_url))}">{title}</a></p>\n'
            f'<ul id="pagehistory">{rows}</ul>\n'
            f'<footer id="footer"><a rel="license" href="{WIKI_LICENSE_URL}">CC BY-SA 4.0</a></footer>\n'
            "</body>\n</html>\n")
    return Reply.html(page)
