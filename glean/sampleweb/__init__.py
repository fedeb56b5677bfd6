"""The offline sample web: real prose from the Python documentation served on loopback through the
same source kinds the real domains use (a site with robots.txt and sitemaps, RSS/Atom feeds, a
MediaWiki API and a StackExchange API), with run-time page edits and fault rules. See docs/sampleweb.md.
"""

from glean.sampleweb.client import SampleWebClient
from glean.sampleweb.corpus import Article, Block
from glean.sampleweb.domains import SAMPLE_DOMAINS, domain_specs, write_domain_specs
from glean.sampleweb.faults import Fault
from glean.sampleweb.server import SampleWeb

__all__ = ["SAMPLE_DOMAINS", "Article", "Block", "Fault", "SampleWeb", "SampleWebClient", "domain_specs",
           "write_domain_specs"]
