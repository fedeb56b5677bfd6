"""Scrapy spiders, one per source kind; they fetch, the parsers in scrapers.sources turn answers into Records."""

from scrapers.spiders.arxiv import ArxivSpider
from scrapers.spiders.base import ParseRunner, SourceSpider
from scrapers.spiders.feed import FeedSpider
from scrapers.spiders.hackernews import HackerNewsSpider
from scrapers.spiders.reddit import RedditSpider
from scrapers.spiders.stackexchange import StackExchangeSpider
from scrapers.spiders.web import WebSpider
from scrapers.spiders.wikipedia import WikipediaSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    spider.kind: spider
    for spider in (WebSpider, FeedSpider, WikipediaSpider, HackerNewsSpider, RedditSpider, ArxivSpider,
                   StackExchangeSpider)
}

__all__ = ["SPIDERS", "ParseRunner", "SourceSpider"]
