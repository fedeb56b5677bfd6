"""A MediaWiki Action API (`/w/api.php`) over the language and stdlib articles, shaped like Wikipedia's.

Supported, in both `formatversion=1` (the default) and `formatversion=2`:
- `action=query` with `list=categorymembers|search|allpages|recentchanges` or the same as `generator=`, `titles=` or
  `pageids=`, and `prop=extracts|info|revisions|contributors|categories` (`rvlimit` gives the page history, newest
  first; TextExtracts rules: one whole-page extract
  per request, more only with `exintro`; `explaintext`, `exsectionformat`, `exchars`, `exsentences`);
  `meta=siteinfo` (general); `continue` objects to echo back, as MediaWiki documents;
- `action=parse` (`page`, `pageid`; `prop=text|revid|displaytitle|categories|wikitext`);
- errors as `{"error": {"code", "info", "*"}}` with HTTP 200 and a `MediaWiki-API-Error` header.
Article pages live at `/wiki/<Title>` (CC BY-SA 4.0, rel=license in the footer); `/w/index.php?title=<Title>&action=raw`
gives the wikitext, `action=history` (also `/wiki/<Title>?action=history`) the page history with its authors.

`params` holds the request rules, `pages` the articles as wiki pages, `lists` the list modules, `props` the page
props, `api` the actions.
"""

from glean.sampleweb.mediawiki.api import api
from glean.sampleweb.mediawiki.history import history_html
from glean.sampleweb.mediawiki.pages import article_html, find_by_path_title, normalize_title, wiki_url, wikitext

__all__ = ["api", "article_html", "find_by_path_title", "history_html", "normalize_title", "wiki_url", "wikitext"]
