"""The local network's summary of the living sample web: pages published per epoch and the records of them accepted,
changed pages whose new version was accepted, and removed pages that a validator's check found gone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from glean.local import living

START = datetime(2030, 1, 1, 12, tzinfo=UTC)


def _net(tmp_path: Path, edits: list[dict]) -> SimpleNamespace:
    (tmp_path / living.STATE_FILE).write_text(json.dumps({"edits": edits}), encoding="utf-8")
    return SimpleNamespace(layout=SimpleNamespace(sampleweb=tmp_path), validators_started_at=START,
                           options=SimpleNamespace(tempo=12, block_time=1.0))


def _at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def test_the_summary_counts_new_pages_per_epoch_and_removed_pages_found_gone(tmp_path: Path) -> None:
    net = _net(tmp_path, [
        {"op": "article", "key": "stdlib/new-one", "at": _at(3)},       # epoch 1
        {"op": "article", "key": "stdlib/new-two", "at": _at(15)},      # epoch 2
        {"op": "edit", "key": "language/for", "at": _at(16)},
        {"op": "delete", "key": "stdlib/json", "at": _at(20)},
        {"op": "delete", "key": "stdlib/re", "at": _at(21)},
    ])
    base = "http://127.0.0.1:9/site"
    accepted = [(f"{base}/stdlib/new-one.html", "x", START), (f"{base}/stdlib/new-two.html", "y", START),
                (f"{base}/language/for.html", "z", START + timedelta(seconds=30))]
    unverified = frozenset({f"{base}/stdlib/json.html", f"{base}/stdlib/unrelated.html"})

    web = living.summarise(net, accepted, unverified)

    assert (web["published"], web["changed"], web["removed"]) == (2, 1, 2)
    assert web["published_per_epoch"] == {"1": 1, "2": 1} and web["accepted_new_per_epoch"] == {"1": 1, "2": 1}
    assert web["changed_reverified"] == 1
    assert web["removed_unverified"] == 1  # stdlib/json was checked and found gone; stdlib/re never came back


def test_a_new_page_accepted_as_its_stack_exchange_question_counts_for_its_epoch(tmp_path: Path) -> None:
    """A page published from the reserve reaches the miners as the site page, the Stack Exchange question and the
    wiki article; the validator keeps one (the others are duplicates of it). The question, under its own title and
    a URI without the page's slug, is the page's accepted record too."""
    from glean.sampleweb.reserve import reserve_articles

    first, second = reserve_articles()[:2]
    net = _net(tmp_path, [{"op": "article", "key": first.key, "at": _at(3)},
                          {"op": "article", "key": second.key, "at": _at(4)}])
    accepted = [(f"http://127.0.0.1:9/questions/{first.page_id}", "How do I use it?", START),
                (f"http://127.0.0.1:9/questions/{second.page_id + 1}", "Another question", START)]

    web = living.summarise(net, accepted)

    assert web["published_per_epoch"] == {"1": 2} and web["accepted_new_per_epoch"] == {"1": 1}
