"""The facts the validator establishes about every row it accepts, kept per accepted row and published as the
validator-derived columns (hub/columns.py): the language its language id detected (not the miner's `lang`), its own
re-fetch of the row when the row was sampled, and the licence decision of the source's policy
(scrapers.licence.decide) from what the page declared when the validator fetched it — never the miner's `license`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from schemas.domain import DomainCatalog
from scrapers import source_for
from scrapers.licence import decide
from validator.ladder import Candidate
from validator.pull import MinerPull
from validator.store import Facts, MinerCommit
from validator.verification import Check

# `verification` of a row whose batch was held for the validator's own trouble and passed when checked again.
HELD_THEN_PASS = "unknown_then_pass"


def sampled_checks(p: MinerPull) -> dict[str, Check]:
    """key -> the validator's re-fetch of each record it checked: the random sample and the contested records."""
    found = {p.novel[i].key: check for i, check in zip(p.sample, p.checks, strict=True)}
    return {**p.forced, **found}


def establish(catalog: DomainCatalog, candidate: Candidate, check: Check | None, *, held: bool = False) -> Facts:
    """The facts of one accepted record; `check` is its re-fetch when it was sampled, `held` says its batch was held
    before that check."""
    record = candidate.record
    spec = catalog.get(record.domain)
    source = source_for(spec, record)
    verification = None if check is None else HELD_THEN_PASS if held and check.outcome == "pass" else check.outcome
    facts = Facts(detected_lang=candidate.lang, verification=verification)
    if source is None:  # the ladder admits only records a source covers; no source, no decision to record
        return facts
    decision = decide(spec, source, record, check.declared_license if check is not None else None)
    return replace(facts, licence=decision.licence, text_allowed=decision.text_allowed,
                   attribution=decision.attribution, licence_basis=decision.basis)


def attach(commit: MinerCommit, p: MinerPull, catalog: DomainCatalog, *, held: bool = False,
           remembered: Mapping[str, Check] | None = None) -> None:
    """Give each row of the commit its facts, and mark the confirmed new versions (validator/versions.py) that
    supersede their page's current row. `remembered`: checks of earlier steps that confirmed a version."""
    if not commit.accepted:
        return
    by_hash = {c.record.content_hash: c for c in p.novel}
    checks = {**(remembered or {}), **sampled_checks(p)}
    rows = []
    for a in commit.accepted:
        c = by_hash[a.record.content_hash]
        rows.append(replace(a, facts=establish(catalog, c, checks.get(c.key), held=held), version=c.key in p.versions))
    commit.accepted = rows
