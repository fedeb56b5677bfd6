"""The dataset card (README.md): YAML front matter the Hub and `datasets` read, and a body people read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import yaml

from hub import constants
from hub.columns import COLUMN_DOCS, COLUMN_GROUPS, features_yaml
from hub.release import domain_glob
from hub.stats import TEXT_FREE, TEXT_METADATA_ONLY, TEXT_RESTRICTED, UNKNOWN, UNKNOWN_LANG, DomainStats
from schemas.domain import DomainCatalog, DomainSpec

PRETTY_NAME = "glean curated domain datasets"
BASE_TAGS = ["glean", "bittensor", "web-scraped", "curated", "deduplicated"]

DEFAULT_REMOVAL_CONTACT = ("open an issue on the dataset's repository (its Community tab on the Hub) or contact the "
                           "operator of the publishing validator")

SCORING_SUMMARY = """\
Every record passed the validator's ladder, cheapest check first: schema and recomputed hash and canonical
URL; domain relevance and quality thresholds (below); novelty (exact hash and MinHash near-duplicates,
Jaccard >= 0.8 on word 5-gram shingles, against everything accepted before and everything other miners
delivered in the same step); and verification, in which a sample of each miner's delivery is re-fetched
with the same scraper code and compared (a miner whose sample failed has none of that step accepted).

The value credited to the contributor is
`value = quality x relevance x novelty x freshness x desirability(domain) x size`, where freshness is
`0.5 ^ (age / half-life)` (1 for evergreen domains) and size is `min(words, cap) / cap`. A miner's step
score is `credibility^2.5 x sum(value)`; weights on the subnet are the normalised EMA of those scores."""


@dataclass(frozen=True)
class ReleaseLine:
    """One changelog entry."""

    name: str
    created_at: datetime
    first_accepted_id: int
    last_accepted_id: int
    rows_by_domain: Mapping[str, int]
    revision: str | None
    pii_replacements: int = 0
    withheld: int = 0


@dataclass(frozen=True)
class RequestNote:
    """The dataset request a domain was collected for (the card names it and its requester)."""

    request_id: str
    requester: str
    note: str = ""


@dataclass(frozen=True)
class CardInput:
    """Everything the card states; numbers are totals over all releases, this one included."""

    load_hint: str  # repo id or folder, for the "how to load" section
    local: bool  # True: load_hint is a folder (no git revisions; `glean pull --path … --revision` instead)
    validator_hotkey: str
    totals: Mapping[str, DomainStats]
    releases: Sequence[ReleaseLine]  # oldest first, the new release last
    verification: Mapping[str, int]
    catalog: DomainCatalog
    chart: str | None = None  # path of the chart in the repo
    scrub_personal_data: bool = True
    removal_contact: str | None = None
    publish_restricted_text: bool = False
    requests: Mapping[str, RequestNote] = field(default_factory=dict)  # domain -> the request it answers

    @property
    def shown(self) -> dict[str, DomainStats]:
        """Domains with published rows (a domain whose rows were all withheld has no files, so no config)."""
        return {d: s for d, s in sorted(self.totals.items()) if s.rows}


def _size_category(rows: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
              (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
    return next((label for bound, label in bounds if rows < bound), "1B<n<10B")


def default_domain(totals: Mapping[str, DomainStats]) -> str:
    """The config marked default: the largest domain (ties go to the name that sorts first); a placeholder when
    no domain has rows (every row so far was withheld)."""
    return min(totals, key=lambda d: (-totals[d].rows, d)) if totals else "<domain>"


def _languages(data: CardInput) -> list[str]:
    seen: set[str] = set()
    for stats in data.totals.values():
        seen.update(k for k in stats.counts["lang"] if k != UNKNOWN_LANG)
    if not seen:
        for domain in data.totals:
            if domain in data.catalog:
                seen.update(data.catalog.get(domain).languages)
    return sorted(seen)


def _license(data: CardInput) -> dict:
    # Rows keep their own licence; the card only names one when every domain admits a single licence.
    allowed: set[str] = set()
    for domain in data.totals:
        policy = data.catalog.get(domain).license if domain in data.catalog else None
        if policy is None or policy.allowed is None:
            allowed = set()
            break
        allowed.update(a.lower() for a in policy.allowed)
    if len(allowed) == 1:
        return {"license": allowed.pop()}
    return {"license": "other", "license_name": "per-record",
            "license_details": "Each row carries the validator's licence decision in the `license` column."}


def front_matter(data: CardInput) -> dict:
    """The YAML metadata: configs per domain (largest one default), features and split sizes, licence, tags."""
    domains = sorted(data.shown)
    default = default_domain(data.shown)
    configs = []
    for domain in domains:
        config = {"config_name": domain,
                  "data_files": [{"split": constants.SPLIT, "path": domain_glob(domain)}]}
        if domain == default:
            config["default"] = True
        configs.append(config)
    infos = [{"config_name": d, "features": features_yaml(),
              "splits": [{"name": constants.SPLIT, "num_bytes": data.totals[d].text_bytes,
                          "num_examples": data.totals[d].rows}],
              "download_size": data.totals[d].file_bytes, "dataset_size": data.totals[d].text_bytes}
             for d in domains]
    total_rows = sum(s.rows for s in data.shown.values())
    return {"pretty_name": PRETTY_NAME, **_license(data), "language": _languages(data),
            "task_categories": ["text-generation"], "size_categories": [_size_category(total_rows)],
            "tags": BASE_TAGS + domains, "configs": configs, "dataset_info": infos}


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else "—"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _top(counter, n: int = 3) -> str:
    items = counter.most_common()
    shown = ", ".join(f"{k} {v:,}" for k, v in items[:n])
    return (shown + (f", +{len(items) - n} more" if len(items) > n else "")) or "—"


def _span(st: DomainStats) -> str:
    days = st.counts["day"]  # the date `glean pull --since` filters on and the chart plots
    return f"{min(days)} → {max(days)}" if days else "—"


def _quality_summary(st: DomainStats) -> str:
    bins = st.counts["quality_bin"]
    high = sum(n for k, n in bins.items() if int(k) >= 8)
    return f"mean {st.mean_quality:.3f}; ≥ 0.8: {100 * high / st.rows:.0f}%" if st.rows else "—"


def _glance_section(data: CardInput) -> list[str]:
    total = sum(s.rows for s in data.shown.values()) or 1
    rows = []
    for domain, st in data.shown.items():
        rows.append([f"`{domain}`", f"{st.rows:,} ({100 * st.rows / total:.1f}%)", f"{st.words:,}",
                     _top(st.counts["lang"]), _top(st.counts["license"]), _top(st.counts["source"]),
                     _span(st), _quality_summary(st),
                     f"{len(st.counts['contributor_hotkey']):,}", f"{st.pii_replacements:,}", f"{st.withheld:,}"])
    chart = [f"![rows per day and quality histogram per config]({data.chart})", ""] if data.chart else []
    return ["## At a glance", "",
            "Each domain is a config; the config with the most rows is the default. *Claimed* values are the "
            "miner's word (see *Columns*); everything else the validator measured or decided.", "",
            *_table(["config", "rows", "words", "languages (detected)", "licences", "sources",
                     "dates (claimed published, else fetched)", "quality", "contributors", "PII replaced",
                     "withheld"], rows),
            *chart]


def _distribution_section(data: CardInput) -> list[str]:
    header = ["config", *(f"{i / 10:.1f}–{(i + 1) / 10:.1f}" for i in range(10))]
    rows = [[f"`{d}`", *(f"{st.counts['quality_bin'].get(str(i), 0):,}" for i in range(10))]
            for d, st in data.shown.items()]
    return ["### Quality distribution (rows per tenth of the validator's quality score)", "", *_table(header, rows)]


def _sources_section(data: CardInput) -> list[str]:
    lines = ["## Sources, languages and licences", ""]
    for domain, st in data.shown.items():
        sources = ", ".join(f"{k} {n:,}" for k, n in st.counts["source"].most_common())
        langs = ", ".join(f"{k} {n:,}" for k, n in st.counts["lang"].most_common())
        licences = ", ".join(f"{k} {n:,}" for k, n in st.counts["license"].most_common())
        lines += [f"- `{domain}` — sources: {sources or '—'}; languages (detected): {langs or '—'}; "
                  f"licences: {licences or '—'}"]
    return lines + [""]


# What each licence asks of whoever reuses a row's text (by SPDX id prefix, the first match wins).
LICENCE_TERMS = (
    ("CC-BY-SA-", "credit as in `attribution` (title, URL, author or page history, licence link); what you make "
                  "from the text is shared under the same licence"),
    ("CC-BY-", "credit as in `attribution` (title, URL, author, licence link)"),
    ("CC0-", "none (public domain dedication); `attribution` says where it came from"),
    ("CC-PDM-", "none (public domain); `attribution` says where it came from"),
    ("PSF-", "keep the PSF License and its copyright notice with the text (`attribution` links them)"),
    ("", "keep the licence and its copyright notice with the text (`attribution` links them)"),
)


def _terms(licence: str) -> str:
    if licence == UNKNOWN:
        return "no licence known: metadata only"
    return next(text for prefix, text in LICENCE_TERMS if licence.startswith(prefix))


def _licences_section(data: CardInput) -> list[str]:
    opt_in = ("**The operator of the publishing validator opted in to publishing such text as well** "
              "(`[hub] publish_restricted_text = true`): rows with `text_allowed` false and a non-empty `text` are "
              "not redistributable under their licence; do not reuse them without the rights holders' permission."
              if data.publish_restricted_text else
              "Such rows keep their `uri`, claimed title, dates, hashes and signals with an empty `text`.")
    rows, licences = [], Counter()
    for domain, st in data.shown.items():
        status = st.counts["text_status"]
        rows.append([f"`{domain}`", f"{status.get(TEXT_FREE, 0):,}", f"{status.get(TEXT_METADATA_ONLY, 0):,}",
                     f"{status.get(TEXT_RESTRICTED, 0):,}", _top(st.counts["license"], 5)])
        licences.update(st.counts["license"])
    terms = [f"- `{lic}` ({n:,} rows): {_terms(lic)}" for lic, n in sorted(licences.items())]
    return ["## Licences", "",
            "The validator decides each row's licence from the source's own terms and what the page or API "
            "declared when the validator fetched it, never from the miner's word (`license`, `text_allowed`, "
            "`attribution`). Text is published only where that licence allows redistribution; other rows are "
            "metadata only. " + opt_in, "",
            *_table(["config", "rows with text", "metadata only", "restricted text published", "licences"], rows),
            "What the licences ask when you reuse a row's text:", "", *terms, ""]


def _request_lines(request: RequestNote | None) -> list[str]:
    if request is None:
        return []
    note = f": “{request.note}”" if request.note else ""
    return [f"- collected for dataset request `{request.request_id}`, asked by `{request.requester}`{note}"]


def _spec_lines(spec: DomainSpec, request: RequestNote | None = None) -> list[str]:
    terms = sorted({**spec.relevance.keywords, **spec.relevance.phrases}.items(), key=lambda kv: (-kv[1], kv[0]))
    half_life = ("evergreen (no decay)" if spec.freshness_half_life_days is None
                 else f"{spec.freshness_half_life_days:g} days")
    licences = "any" if spec.license.allowed is None else ", ".join(spec.license.allowed)
    return [
        f"### `{spec.id}` — {spec.title}", "",
        *([spec.description.strip(), ""] if spec.description.strip() else []),
        *_request_lines(request),
        f"- languages: {', '.join(spec.languages)}",
        f"- sources: {', '.join(f'{s.source_id} ({s.kind})' for s in spec.sources)}",
        f"- relevance: minimum score {spec.relevance.min_score:g}; top terms "
        + ", ".join(f"{t} ({w:g})" for t, w in terms[:12]),
        f"- quality: minimum score {spec.quality.min_quality:g}, {spec.quality.min_words}–"
        f"{spec.quality.max_words:,} words",
        f"- licences accepted: {licences}{' (required)' if spec.license.require else ''}",
        *(["- licence of pages that declare none: " + ", ".join(f"{h} {lic}" for h, lic in
                                                                 sorted(spec.license.hosts.items()))]
          if spec.license.hosts else []),
        f"- freshness half-life: {half_life}; desirability {spec.desirability:g}; size cap "
        f"{spec.size_cap_words:,} words", "",
    ]


def _filters_section(data: CardInput) -> list[str]:
    lines = ["## Filters and thresholds", ""]
    for domain in sorted(data.totals):
        if domain in data.catalog:
            lines += _spec_lines(data.catalog.get(domain), data.requests.get(domain))
        else:
            lines += [f"### `{domain}`", "", "- the publishing validator no longer has this domain's spec", ""]
    return lines


def _contributors_section(data: CardInput) -> list[str]:
    per_miner: Counter[str] = Counter()
    for st in data.shown.values():
        per_miner.update(st.counts["contributor_hotkey"])
    top = per_miner.most_common(constants.CARD_MAX_CONTRIBUTORS)
    rest = per_miner.total() - sum(n for _, n in top)
    rows = [[f"`{hotkey}`", f"{n:,}"] for hotkey, n in top]
    if rest:
        rows.append([f"{len(per_miner) - len(top)} more", f"{rest:,}"])
    return ["## Contributors", "", f"{len(per_miner)} miners contributed accepted records.", "",
            *_table(["miner hotkey", "accepted rows"], rows)]


def _verification_section(data: CardInput) -> list[str]:
    lines = ["## Verification", "",
             f"Published by validator `{data.validator_hotkey}`. Outcomes of re-fetching sampled records "
             "(an error on the validator's side is *unknown* and never counts against a miner):", ""]
    if not data.verification:
        return lines + ["No verification statistics were reported for this release.", ""]
    return lines + _table(["outcome", "count"], [[k, f"{v:,}"] for k, v in sorted(data.verification.items())])


def _load_section(data: CardInput, default: str) -> list[str]:
    where = "path" if data.local else "repo"
    release = data.releases[-1].name
    pinned = ([f"# the data as of one release: glean's loader reads {data.load_hint}/releases/<release>.json",
               "from hub import pull",
               f'old = pull("{default}", path="{data.load_hint}", revision="{release}")']
              if data.local else
              [f'old = load_dataset("{data.load_hint}", "{default}", split="{constants.SPLIT}", revision="{release}")'])
    return ["## How to load", "", "Every release is tagged with its name; each config reads all releases so far.", "",
            "```python", "from datasets import load_dataset", "",
            f'ds = load_dataset("{data.load_hint}", "{default}", split="{constants.SPLIT}")', *pinned,
            "```", "", "or filtered, from the command line:", "", "```bash",
            f"glean pull {default} --{where} {data.load_hint} --since 2025-01-01 --min-quality 0.7 "
            "--out data.parquet", "```", ""]


def _changelog_section(data: CardInput) -> list[str]:
    rows = []
    for rel in reversed(data.releases):
        added = ", ".join(f"{d} +{n:,}" for d, n in sorted(rel.rows_by_domain.items()))
        rows.append([f"`{rel.name}`", rel.created_at.strftime("%Y-%m-%d %H:%M UTC"), added or "—",
                     f"{rel.first_accepted_id}–{rel.last_accepted_id}", f"{rel.pii_replacements:,}",
                     f"{rel.withheld:,}", f"`{rel.revision[:12]}`" if rel.revision else "this commit"])
    return ["## Changelog", "", "Each release only adds rows; a row appears in exactly one release.", "",
            *_table(["release", "created", "rows added", "accepted ids", "PII replaced", "withheld", "revision"],
                    rows)]


def _personal_data_section(data: CardInput) -> list[str]:
    total = sum(s.pii_replacements for s in data.shown.values())
    if not data.scrub_personal_data:
        scrub = ("**The operator of the publishing validator turned the personal data scrub off for the latest "
                 "release** (`[hub] scrub_personal_data = false`): its text is published as verified.")
    else:
        scrub = ("E-mail addresses, public IP addresses and phone numbers in `text` and `claimed_title` are replaced "
                 "with `<email>`, `<ip>` and `<phone>` when a release is made (documentation, private and loopback "
                 "addresses, version numbers, dates, ISBNs, DOIs and prices are left as they are). Each row counts "
                 "its replacements in `pii_replacements`; `content_hash` stays the hash of the text as the validator "
                 "verified it, so it equals sha256(`text`) only where `pii_replacements` is 0.")
    return ["## Personal data", "", scrub, "", f"{total:,} replacements in all releases so far (per release: see "
            "*Changelog*).", ""]


def _removal_section(data: CardInput) -> list[str]:
    contact = data.removal_contact or DEFAULT_REMOVAL_CONTACT
    return ["## Removal requests", "",
            f"To have a page, a site or a document removed, {contact}, naming its `uri`, its host or its "
            "`content_hash`. The validator then adds it to its deny-list: every later release leaves matching rows "
            "out (the *withheld* counts). Rows already published stay in the files of earlier releases.", ""]


def _columns_section() -> list[str]:
    lines = ["## Columns", ""]
    for title, names in COLUMN_GROUPS:
        lines += [f"**{title}**", "", *_table(["column", "meaning"], [[f"`{n}`", COLUMN_DOCS[n]] for n in names])]
    return lines


def render_card(data: CardInput) -> str:
    """README.md text: YAML front matter, then the human-readable card."""
    meta = yaml.safe_dump(front_matter(data), sort_keys=False, allow_unicode=True, width=1000)
    default = default_domain(data.shown)
    total = sum(s.rows for s in data.shown.values())
    body = [
        f"# {PRETTY_NAME}", "",
        "Domain datasets collected by the miners of **glean**, an incentivized dataset-collection network on "
        "Bittensor, and accepted by a validator that checked every record for relevance, quality, novelty "
        "and provenance. Each row is a deduplicated document with its source, times, scores and the hotkey "
        "of the miner who contributed it.", "",
        f"{total:,} rows in {len(data.shown)} domain(s) over {len(data.releases)} release(s); "
        f"latest release `{data.releases[-1].name}`.", "",
        *_glance_section(data), *_distribution_section(data), *_sources_section(data), *_licences_section(data),
        *_personal_data_section(data), *_removal_section(data), *_filters_section(data),
        "## How records are scored", "", SCORING_SUMMARY, "",
        *_contributors_section(data), *_verification_section(data), *_columns_section(),
        *_load_section(data, default), *_changelog_section(data),
    ]
    return f"---\n{meta}---\n\n" + "\n".join(body).rstrip() + "\n"
