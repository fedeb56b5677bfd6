"""The four outcomes of a check (pass, fail, unverified, unknown): every re-fetch reason mapped on purpose, and the
claims that drive pay (title, published date, the kind's own) compared with the validator's own parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.record import Record
from scrapers import FetchOutcome, reasons
from validator import constants as K
from validator.verification import REASON_OUTCOMES, fetch_outcome, judge, similarity

TEXT = ("The interpreter reads the module once, caches its bytecode and reuses it on the next import, so the "
        "second start of a program is faster than the first one was.")
WHEN = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _record(**fields) -> Record:
    fields.setdefault("title", "How the import system caches bytecode")
    fields.setdefault("published_at", WHEN)
    return Record.build(uri="https://example.org/a", text=fields.pop("text", TEXT), source=fields.pop("source", "web"),
                        domain="python-language", **fields)


def _reason_constants() -> dict[str, str]:
    return {name: value for name, value in vars(reasons).items()
            if name.isupper() and isinstance(value, str) and not name.endswith("_PREFIX")}


def test_every_reason_of_the_scrapers_is_mapped_on_purpose():
    unmapped = sorted(name for name, value in _reason_constants().items() if value not in REASON_OUTCOMES)
    assert not unmapped, f"map these re-fetch reasons in validator.verification.REASON_OUTCOMES: {unmapped}"


@pytest.mark.parametrize("reason", sorted(set(_reason_constants().values())))
def test_each_reason_ends_in_unverified_or_unknown(reason):
    outcome = fetch_outcome(FetchOutcome.unavailable(reason))
    assert outcome == REASON_OUTCOMES[reason] and outcome in ("unverified", "unknown")


@pytest.mark.parametrize(("reason", "outcome"), [
    (reasons.TIMEOUT, "unknown"), (reasons.DNS, "unknown"), (reasons.CONNECTION, "unknown"),
    (reasons.ROBOTS_UNAVAILABLE, "unknown"), ("http_503", "unknown"), ("http_500", "unknown"),
    ("http_429", "unknown"), ("http_401", "unknown"), ("http_403", "unknown"),
    (reasons.ROBOTS_DISALLOWED, "unverified"), (reasons.OFF_ALLOW_LIST, "unverified"),
    (reasons.REDIRECT_OFF_ALLOW_LIST, "unverified"), (reasons.UNEXPECTED_SHAPE, "unverified"),
    (reasons.NO_CONTENT, "unverified"), ("http_400", "unverified"), ("http_451", "unverified"),
    (reasons.constraint("subreddit"), "unverified"), ("noindex", "unverified"),
])
def test_our_trouble_is_unknown_and_what_the_miner_can_cause_is_unverified(reason, outcome):
    assert fetch_outcome(FetchOutcome.unavailable(reason)) == outcome


@pytest.mark.parametrize("reason", ["http_404", "http_410", reasons.NOT_FOUND, reasons.DELETED])
def test_a_gone_page_is_unverified(reason):
    assert judge(_record(), FetchOutcome.gone(reason)).outcome == "unverified"


def test_a_reason_nobody_mapped_is_unknown_and_logged(caplog):
    assert fetch_outcome(FetchOutcome.unavailable("brand_new_reason")) == "unknown"
    assert "brand_new_reason" in caplog.text


def test_a_page_changed_beyond_the_pass_band_is_unverified():
    extra = "Later the page gained a paragraph about something else that nobody had written before today."
    changed = next(t for t in (TEXT + (" " + extra) * n for n in range(1, 20))
                   if K.VERIFY_FAIL_SIMILARITY <= similarity(TEXT, t) < K.VERIFY_PASS_SIMILARITY)
    check = judge(_record(), FetchOutcome.content(_record(text=changed)))
    assert (check.outcome, check.reason) == ("unverified", "changed_page")


def test_the_same_page_with_the_same_claims_passes():
    assert judge(_record(), FetchOutcome.content(_record())).outcome == "pass"


def test_a_title_stuffed_with_keywords_fails():
    stuffed = _record(title="How the import system caches bytecode python asyncio typing")
    check = judge(stuffed, FetchOutcome.content(_record()))
    assert (check.outcome, check.reason) == ("fail", "claim:title")


def test_a_title_differing_in_case_space_or_a_small_edit_passes():
    assert judge(_record(title="HOW the  import system caches bytecode"), FetchOutcome.content(_record())).outcome \
        == "pass"
    edited = _record(title="How the import system caches its bytecode")
    assert judge(edited, FetchOutcome.content(_record())).outcome == "pass"


def test_a_title_the_page_does_not_have_fails_and_no_title_claims_nothing():
    assert judge(_record(), FetchOutcome.content(_record(title=""))).reason == "claim:title"
    assert judge(_record(title=""), FetchOutcome.content(_record())).outcome == "pass"


def test_a_published_date_the_page_does_not_state_fails():
    check = judge(_record(), FetchOutcome.content(_record(published_at=None)))
    assert (check.outcome, check.reason) == ("fail", "claim:published_at")
    assert judge(_record(published_at=None), FetchOutcome.content(_record())).outcome == "pass"


def test_a_published_date_moved_beyond_the_tolerance_fails():
    tolerance = timedelta(seconds=K.VERIFY_PUBLISHED_TOLERANCE)
    archive = _record(published_at=WHEN - timedelta(days=400))
    assert judge(_record(), FetchOutcome.content(archive)).reason == "claim:published_at"
    near = _record(published_at=WHEN - tolerance + timedelta(minutes=1))
    assert judge(_record(), FetchOutcome.content(near)).outcome == "pass"
    beyond = _record(published_at=WHEN - tolerance - timedelta(minutes=1))
    assert judge(_record(), FetchOutcome.content(beyond)).reason == "claim:published_at"


def test_a_claim_of_the_kind_that_the_page_contradicts_fails_naming_the_key():
    meta = {"namespace": 0, "pageid": 7}
    delivered = _record(source="wikipedia", meta=meta)
    assert judge(delivered, FetchOutcome.content(_record(source="wikipedia", meta=meta))).outcome == "pass"
    moved = _record(source="wikipedia", meta={"namespace": 2, "pageid": 7})
    assert judge(delivered, FetchOutcome.content(moved)).reason == "claim:namespace"
    unsupported = _record(source="wikipedia", meta={"pageid": 7})
    assert judge(delivered, FetchOutcome.content(unsupported)).reason == "claim:namespace"
