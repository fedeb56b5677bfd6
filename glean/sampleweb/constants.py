"""Every tunable of the sample web in one place, with the reason for its value."""

from __future__ import annotations

LICENSE = "PSF-2.0"  # the Python Software Foundation License covers the documentation text we serve
# Where a licensed page's rel=license link points: an spdx.org URL names the licence unambiguously (scrapers.licence).
LICENSE_URL = "https://spdx.org/licenses/PSF-2.0.html"
# The wiki plays Wikipedia: its pages are CC BY-SA 4.0, credited through their page history (docs/sampleweb.md).
WIKI_LICENSE = "CC-BY-SA-4.0"
WIKI_LICENSE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"

# Areas (topical sections) of the sample web; each becomes a folder under /site/ and a demo domain.
AREA_LANGUAGE = "language"  # pages from pydoc_data.topics (the language reference shipped with CPython)
AREA_STDLIB = "stdlib"  # pages from the docstrings of a fixed list of standard-library modules
AREA_DIGEST = "digest"  # low-quality pages generated deterministically from the two areas above
AREA_PRIVATE = "private"  # drafts that robots.txt disallows; a polite crawler never fetches them
# Notes on further modules, served without any licence declaration: what a site that states no terms looks like
# (a release publishes them as metadata only).
AREA_NOTES = "notes"
# Python's built-in types and functions, from their docstrings: crawled by no demo domain, the material of the dataset
# `glean local up` requests from the network (glean/sampleweb/builtin_types.py).
AREA_BUILTINS = "builtins"
PUBLIC_AREAS = (AREA_LANGUAGE, AREA_STDLIB, AREA_DIGEST, AREA_NOTES, AREA_BUILTINS)
UNLICENSED_AREAS = (AREA_NOTES,)

# A page needs this many words of prose to be worth serving (short topics are just grammar snippets).
MIN_ARTICLE_WORDS = 150
# Stdlib pages stop adding member docs past this many words: long enough to read like a doc page,
# short enough that one module does not dwarf the rest.
STDLIB_WORD_BUDGET = 2000
# A member docstring shorter than this is a one-liner that adds nothing to a page.
STDLIB_MIN_MEMBER_WORDS = 8
# Signatures longer than this are lists of keyword arguments, not prose; they are left out.
MAX_SIGNATURE_CHARS = 120

# The built-ins area: a page per built-in type with enough documented methods (those under MIN_ARTICLE_WORDS are
# left out; bytearray's methods read as bytes' do), and the built-in functions on two pages by first letter. A type's
# page stops adding methods past BUILTIN_TYPE_WORD_BUDGET words: the docstrings of str's, bytes' and int's many
# methods repeat their phrasing, and a longer page fails the quality rules' repetition checks (gopher_dup_5gram).
BUILTIN_TYPES = ("str", "bytes", "int", "dict", "set", "memoryview", "list")
BUILTIN_TYPE_WORD_BUDGET = 300
BUILTIN_FUNCTION_PAGES = (("a", "h"), ("i", "z"))

# Publication dates: article k of an area is published k+1 steps before the anchor (the hour the
# server first started), areas interleaved by a fixed offset so the feeds mix in a stable order.
PUBLISH_STEP_HOURS = 6
AREA_OFFSET_HOURS = {AREA_LANGUAGE: 0, AREA_STDLIB: 2, AREA_DIGEST: 4, AREA_PRIVATE: 1, AREA_NOTES: 3, AREA_BUILTINS: 5}

# Stable page ids (MediaWiki pageid, StackExchange question_id) per area: base + position.
PAGE_ID_BASE = {AREA_LANGUAGE: 10_000, AREA_STDLIB: 20_000, AREA_DIGEST: 30_000, AREA_PRIVATE: 40_000,
                AREA_NOTES: 50_000, AREA_BUILTINS: 60_000}
# Every PLANT_EVERY-th language and standard-library page carries an errata paragraph with personal data (e-mail
# addresses, phone numbers, public IPs) beside look-alikes a scrub must leave alone (glean/sampleweb/planted.py).
PLANT_EVERY = 7
ANSWER_ID_OFFSET = 500_000  # answer ids = question id * 2 + offset (+1 for the second answer)

# The site-wide feed carries this many of the newest language + stdlib articles; area feeds carry all.
SITE_FEED_ITEMS = 50
# Low-quality digest pages: how many source articles feed each kind of bad page.
DIGEST_PAGES_PER_KIND = 8
# Private drafts (disallowed by robots.txt), copied from the first language articles.
PRIVATE_PAGES = 3

# MediaWiki emulation.
WIKI_CATEGORY = {AREA_LANGUAGE: "Category:Python language reference", AREA_STDLIB: "Category:Python standard library"}
WIKI_MAX_LIMIT = 500  # cmlimit/srlimit "max"
WIKI_DEFAULT_LIMIT = 10  # MediaWiki's default for cmlimit/srlimit
WIKI_EXTRACTS_WHOLE_PAGE_LIMIT = 1  # TextExtracts returns one whole-page extract per request
WIKI_EXTRACTS_INTRO_LIMIT = 20  # ... and up to 20 intro-only extracts
WIKI_MAX_TITLES = 50  # titles=/pageids= per request for ordinary clients
# Namespaces by title prefix (case-folded), as MediaWiki numbers them: the built-in ones, Wikipedia's Draft, and the
# German alias of User ("Benutzer", as on a localised wiki: glean's own prefix list does not know it, so only the
# `ns` of the API's answer tells that such a page is no article). Pages users publish live in these namespaces.
WIKI_NAMESPACES = {"talk": 1, "user": 2, "user talk": 3, "benutzer": 2, "project": 4, "wikipedia": 4, "file": 6,
                   "mediawiki": 8, "template": 10, "help": 12, "category": 14, "draft": 118, "draft talk": 119}
WIKI_ARTICLE_NAMESPACE = 0  # articles come from the corpus; users publish only in the other namespaces
AREA_USER_PAGES = "user-pages"  # the area of pages users published on the wiki (no site folder, no category)
USER_PAGE_ID_BASE = 90_000  # page ids of published pages: base + order of publication

# StackExchange 2.3 emulation.
SE_TAGS = {AREA_LANGUAGE: "language-reference", AREA_STDLIB: "standard-library"}
SE_QUOTA_MAX = 10_000  # the quota of a registered app key
SE_MAX_PAGESIZE = 100
SE_DEFAULT_PAGESIZE = 30
SE_MAX_IDS = 100  # ids per /questions/{ids} call
# The real API reports "CC BY-SA 4.0"; our text is the PSF's, and a record must carry its true licence.
SE_LICENSE = LICENSE

# HTTP behaviour.
GZIP_MIN_BYTES = 512  # below this gzip costs more than it saves
MAX_FAULT_DELAY_SECONDS = 30.0  # a fault may slow answers down to provoke timeouts, but never hang a test
MAX_CONTROL_BODY_BYTES = 1_000_000
SHUTDOWN_POLL_SECONDS = 0.05  # how often serve_forever checks for stop(); the default 0.5 s slows tests

# Pages published at run time with a caller's own text get ids after the served and reserve pages of their area
# (glean/sampleweb/reserve.py uses +1000).
PUBLISHED_ID_OFFSET = 2_000
