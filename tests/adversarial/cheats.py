"""The data cheats of issue 16 ("pay only for evidence"): what each serves for one record it copies. Used by the
hostile processes of hostile.py (a feeder writes what these functions return into the cheat's own glean store).

- **padder**: each real page it copies plus PAD_PER_REAL records under URLs of the same site area that do not exist
  (real, relevant, never-served prose: docs of standard-library modules the sample web has no page for);
- **spinner**: two 5-7% word spins of each page, one at its URL and one at a variant URL the site ignores;
- **self-publisher**: pages it "posted" on the sample web's wiki (User:, Draft:, and a localised user namespace whose
  records claim namespace 0) served as records of the language domain's wikipedia source, live content and all;
- **freshness-liar**: each page with `published_at` (and `fetched_at`) set to now;
- **title-stuffer**: each page under a title of the domain's keywords, and off-topic prose under invented URLs of
  the domain's area with such a title;
- **disguised-copier**: records the validator accepted from others, disguised with Cyrillic/Greek look-alike
  letters (whole words, so no word mixes scripts), fullwidth forms and zero-width/format characters.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

EVIDENCE_KINDS = ("padder", "spinner", "self-publisher", "freshness-liar", "title-stuffer", "disguised-copier")

PAD_PER_REAL = 4  # invented records per real page: the ratio the issue measured at ~5.8x an honest miner's pay
PADDED_PAGES = 10  # real pages the padder pads (its invented pool is finite; ten batches show the rule)
CHUNK_WORDS = 220  # an invented record is about this long (a module's docs give several)
MIN_CHUNK_WORDS = 150
SPIN_RATES = (0.05, 0.07)  # share of words a spin replaces: the "changed_page" band the issue measured
SPUN_PAGES = 24  # pages the spinner spins (two spins each): enough batches, bounded validator work
SPIN_QUERY = "print=1"  # a query the sample web ignores: the variant URL serves the same page
SPIN_WORDS = ("indeed", "notably", "clearly", "simply", "truly", "really", "largely", "mostly", "quite", "often")
TITLE_KEYWORDS = 6  # the domain's heaviest keywords a stuffed title strings together
DISGUISE_EVERY = 3  # one word in this many written in look-alike letters, fullwidth, or with invisible characters

# Standard-library modules with no sample-web page, disjoint from hostile.FABRICATED_FROM and network.EDIT_SOURCES
# (tests/adversarial/test_cheats.py checks both): the padder's and the self-publisher's never-served prose.
PADDED_FROM = ("http.cookiejar", "email.policy", "xml.dom.pulldom", "xml.sax.handler", "importlib.abc",
               "importlib.resources", "unittest.case", "socket", "ssl", "array", "io", "math")
PUBLISHED_FROM = ("email.utils", "unittest.loader", "select", "posixpath", "gc", "concurrent.futures.process")
WIKI_USER = "Glean farmer"
# (title prefix, namespace the wiki files it under, namespace the records claim): User: and Draft: are pages glean's
# prefix list knows; "Benutzer:" is the user namespace of a localised wiki, which only the live page's `ns` exposes.
WIKI_PLACES = (("User:" + WIKI_USER + "/", 2, 2), ("Draft:", 118, 118), ("Benutzer:" + WIKI_USER + "/", 2, 0))

# Good prose about anything but Python, for the title stuffer's off-topic records (nothing on the sample web is).
OFF_TOPIC = (
    "Bread dough needs time more than it needs effort. Mix the flour, water, salt and a little yeast until no dry "
    "patches remain, then leave the bowl covered in a cool kitchen overnight. By morning the dough has doubled and "
    "smells faintly sour. Fold it gently a few times on a floured board, shape it into a round loaf and let it rise "
    "again for an hour while the oven heats with a heavy pot inside. Bake the loaf in the covered pot for twenty "
    "minutes, then uncover it so the crust can darken. A hollow sound when you tap the bottom tells you it is done. "
    "Let it cool on a rack before cutting, or the crumb will be gummy and the knife will tear it.",
    "A vegetable garden starts with the soil rather than the seeds. Dig in a thick layer of compost in autumn and "
    "let the winter frost break up the clods. In spring, sow peas and broad beans as soon as the ground can be "
    "worked, and wait for warmer weeks before planting tomatoes, courgettes and beans. Water deeply once or twice "
    "a week instead of a little every day, so that the roots grow down and the plants survive dry spells. Mulch "
    "between the rows with straw to keep the weeds down and the moisture in. Pick the courgettes while they are "
    "small and the plants will keep producing until the first cold nights of the year arrive.",
    "Birdwatching in winter rewards patience and warm clothes. Many small birds gather in mixed flocks that move "
    "along hedges and woodland edges, so a quiet walk at the same pace as the flock shows more than standing "
    "still. Learn the calls first: a thin high whistle, a dry rattle or a cheerful song often tells you which "
    "birds are near long before you see them. A pair of binoculars with a wide field of view helps in thick "
    "branches. Keep a notebook with the date, the weather and what you saw, and over the years it becomes a "
    "record of how the seasons change in your own neighbourhood and which visitors return every year.",
    "Looking after a bicycle takes only a few minutes each week. Keep the tyres pumped to the pressure printed on "
    "their sides, because soft tyres wear quickly and make every ride slower. Wipe the chain with a rag and add a "
    "drop of oil to each link, then wipe away the excess so that dirt does not stick to it. Check that the brakes "
    "grip firmly before the levers touch the handlebars and replace the pads when their grooves are gone. Once a "
    "season, look over the frame for cracks and tighten any loose bolts. A clean, well kept bicycle is safer, "
    "quieter and much more pleasant to ride through the city or along country lanes.",
)

# Look-alike letters: Cyrillic and Greek letters that TR39 maps to these Latin ones.
CYRILLIC = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і", "j": "ј", "s": "ѕ",
            "h": "һ"}
GREEK = {"o": "ο", "v": "ν", "i": "ι", "a": "α"}
INVISIBLE = ("\u200b", "\u00ad", "\u2060", "\u200d")  # zero-width space, soft hyphen, word joiner, ZWJ


def module_texts(names: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(title, text) of about CHUNK_WORDS words, paragraph-aligned pieces of the named modules' docs."""
    from glean.sampleweb.corpus import STDLIB_MODULES, stdlib_article

    for name in names:
        article = None if name in STDLIB_MODULES else stdlib_article(name)
        if article is None:
            continue
        part, words, paragraphs = 0, 0, []
        for paragraph in article.plain_text().split("\n\n"):
            paragraphs.append(paragraph)
            words += len(paragraph.split())
            if words >= CHUNK_WORDS:
                part += 1
                yield f"{article.title} (part {part})", "\n\n".join(paragraphs)
                words, paragraphs = 0, []
        if words >= MIN_CHUNK_WORDS:
            yield f"{article.title} (part {part + 1})", "\n\n".join(paragraphs)


def _slug(title: str) -> str:
    from glean.sampleweb.corpus import slugify

    return slugify(title)


def _sibling(uri: str, slug: str) -> str:
    """A URL in the same folder as `uri` (same host and area path) for a page named `slug`."""
    parts = urlsplit(uri)
    folder = parts.path.rsplit("/", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, f"{folder}/{slug}.html", "", ""))


def _twin(record: Any, **changes: Any) -> Any:
    from tests.adversarial.hostile import _twin as twin

    return twin(record, **changes)


class Twister:
    """What one evidence cheat serves for each record it copies (state: its pools and how much it served)."""

    def __init__(self, kind: str, catalog: Any) -> None:
        self.kind = kind
        self.catalog = catalog
        self.copied = 0
        self._invented = module_texts(PADDED_FROM)
        self._off_topic = iter(OFF_TOPIC)

    def __call__(self, record: Any) -> list[Any]:
        self.copied += 1
        twist = {"padder": self.pad, "spinner": self.spin, "freshness-liar": self.lie_fresh,
                 "title-stuffer": self.stuff_title, "disguised-copier": self.disguise}[self.kind]
        return twist(record)

    def pad(self, record: Any) -> list[Any]:
        if self.copied > PADDED_PAGES:
            return []
        out = [_twin(record)]
        for title, text in self._invented:
            invented = _twin(record, uri=_sibling(record.uri, _slug(title)), title=title, text=text, published_at=None)
            if passes_ladder(self.catalog, invented):  # a padder checks its wares (`glean miner check` would do)
                out.append(invented)
            if len(out) > PAD_PER_REAL:
                break
        return out

    def spin(self, record: Any) -> list[Any]:
        if self.copied > SPUN_PAGES:
            return []
        variant = f"{record.uri}{'&' if '?' in record.uri else '?'}{SPIN_QUERY}"
        # seeded by the page's path, not its URL: the sample web's port differs from run to run
        return [_twin(record, uri=uri, text=spun(record.text, random.Random(f"{urlsplit(record.uri).path}#{i}")))
                for i, uri in enumerate((record.uri, variant))]

    def lie_fresh(self, record: Any) -> list[Any]:
        now = datetime.now(UTC)
        return [_twin(record, published_at=now, fetched_at=now)]

    def stuff_title(self, record: Any) -> list[Any]:
        title = stuffed_title(self.catalog.get(record.domain))
        out = [_twin(record, title=f"{title}: {record.title}")]
        text = next(self._off_topic, None)
        if text is not None:
            out.append(_twin(record, uri=_sibling(record.uri, f"{_slug(title)}-{self.copied}"), title=title,
                             text=text, published_at=None))
        return out

    def disguise(self, record: Any) -> list[Any]:
        return [_twin(record, text=disguised(record.text, random.Random(record.content_hash)))]


def passes_ladder(catalog: Any, record: Any) -> bool:
    """True when the validator's cheap rungs (schema, source, quality, relevance) let `record` through."""
    from schemas.record import utcnow
    from validator.ladder import judge_record

    spec = catalog.get(record.domain)
    return judge_record(0, 1, record.model_dump(mode="json"), spec, utcnow())[0] is not None


def spun(text: str, rng: random.Random) -> str:
    """`text` with a SPIN_RATES share of its words replaced (what an article spinner does to look new)."""
    words = text.split(" ")
    rate = rng.uniform(*SPIN_RATES)
    for i in rng.sample(range(len(words)), max(1, round(rate * len(words)))):
        words[i] = rng.choice(SPIN_WORDS)
    return " ".join(words)


def stuffed_title(spec: Any) -> str:
    """The domain's heaviest keywords as a title."""
    keywords = sorted(spec.relevance.keywords.items(), key=lambda kv: (-kv[1], kv[0]))[:TITLE_KEYWORDS]
    return " ".join(word.capitalize() for word, _weight in keywords)


def disguised(text: str, rng: random.Random) -> str:
    """Every DISGUISE_EVERY-th word rewritten: in Cyrillic or Greek look-alikes when every letter has one (so no word
    mixes scripts), else in fullwidth forms, else with an invisible character inside."""
    words = text.split(" ")
    for i in range(rng.randrange(DISGUISE_EVERY), len(words), DISGUISE_EVERY):
        words[i] = _disguise_word(words[i], i)
    return " ".join(words)


def _disguise_word(word: str, i: int) -> str:
    for table in (CYRILLIC, GREEK) if i % 2 else (GREEK, CYRILLIC):
        if word.isalpha() and word.isascii() and all(ch in table for ch in word):
            return "".join(table[ch] for ch in word)
    if word.isascii() and word.isalnum() and i % 4 == 1:
        return "".join(chr(ord(ch) + 0xFEE0) for ch in word)  # U+FF01..U+FF5E: fullwidth forms of ASCII
    if len(word) > 3:
        return word[:2] + INVISIBLE[i % len(INVISIBLE)] + word[2:]
    return word


# --- the self-publisher's pages: posted on the wiki by the test on the attacker's behalf, then served --------------

def publish_pages(web: Any, path: Path, catalog: Any, domain: str) -> list[dict[str, Any]]:
    """Post one page per (place, text) on the sample web's wiki and write what the cheat serves to `path`: texts
    the domain's ladder would take (so only the namespace rule stands between them and pay)."""
    from schemas.record import Record

    pages = []
    spec = catalog.get(domain)
    texts = [(title, text) for title, text in module_texts(PUBLISHED_FROM) if passes_ladder(catalog, Record.build(
        uri=web.url("/site/language/probe.html"), text=text, title=title, source="web", domain=spec.id))]
    for n, (title, text) in enumerate(texts):
        prefix, namespace, claim = WIKI_PLACES[n % len(WIKI_PLACES)]
        url = web.publish_wiki_page(prefix + title, text, namespace)
        pages.append({"url": url, "title": prefix + title, "namespace": namespace, "claim": claim})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(pages, indent=1), encoding="utf-8")
    return pages


async def published_records(catalog: Any, pages_file: Path, domain: str, user_agent: str) -> list[Any]:
    """The posted pages read with glean's own wikipedia code (the live page, so the text verifies), each claiming
    the namespace the plan says; the constraint check a re-fetch applies is what the cheat skips."""
    from scrapers import settings
    from scrapers.address import GuardedClient
    from scrapers.fetcher import Fetcher
    from scrapers.kinds import kind_of
    from scrapers.parsing import ParseContext

    spec = catalog.get(domain)
    source = next(s for s in spec.sources if s.kind == "wikipedia")
    kind = kind_of(source.kind)
    ctx = ParseContext(domain=spec.id, source_id=source.source_id, kind=source.kind,
                       params=kind.load_params(source, spec.id))
    out = []
    async with GuardedClient(allow_private=True, timeout=10) as client:
        fetcher = Fetcher(client, user_agent, settings.MAX_BYTES)
        for page in json.loads(pages_file.read_text(encoding="utf-8")):
            record = await kind.fetch_item(fetcher, ctx, page["url"], page["title"])
            out.append(_twin(record, meta={**record.meta, "namespace": page["claim"]}))
    return out
