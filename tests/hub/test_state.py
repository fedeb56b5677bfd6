"""Publishing state on SQLite and PostgreSQL: pending, then published with statistics, in one step."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.columns import to_batch
from hub.state import MIGRATIONS_DIR, VERSION_TABLE, PublishState
from hub.stats import DomainStats
from storage import current, make_engine
from tests.hub.records import accepted

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _stats(ids) -> DomainStats:
    stats = DomainStats()
    stats.add_batch(to_batch([accepted(i, miner=f"5Miner{i % 2}", published_days=i) for i in ids], "r"))
    return stats


def test_migrations_create_the_hub_version_table(database_url):
    engine = make_engine(database_url)
    PublishState(engine)

    assert current(engine, MIGRATIONS_DIR, VERSION_TABLE) == "hub_0002"


def test_pending_release_does_not_move_the_watermark(database_url):
    state = PublishState(make_engine(database_url))
    state.begin("t", name="r00000001", first_accepted_id=1, last_accepted_id=10, rows=10, created_at=T0,
                validator_hotkey="5V", schema_version=2)

    assert state.watermark("t") == 0
    assert state.pending("t").last_accepted_id == 10 and state.history("t") == []


def test_completed_release_moves_the_watermark_and_sums_statistics(database_url):
    state = PublishState(make_engine(database_url))
    for first, last in ((1, 10), (11, 14)):
        name = f"r{first:08d}"
        state.begin("t", name=name, first_accepted_id=first, last_accepted_id=last, rows=last - first + 1,
                    created_at=T0, validator_hotkey="5V", schema_version=2)
        state.complete("t", name, revision=f"rev{first}", location=f"org/x@{name}", verification={"pass": first},
                       stats={"ml-research": _stats(range(first, last + 1))}, published_at=T0)

    totals = state.totals("t")["ml-research"]
    assert state.watermark("t") == 14 and state.pending("t") is None
    assert [r.rows_by_domain for r in state.history("t")] == [{"ml-research": 10}, {"ml-research": 4}]
    assert totals.rows == 14 and dict(totals.counts["contributor_hotkey"]) == {"5Miner0": 7, "5Miner1": 7}
    assert totals.first_published_at == datetime(2025, 1, 2, tzinfo=UTC)
    assert state.history("t")[1].verification == {"pass": 11}


def test_targets_keep_separate_watermarks(database_url):
    state = PublishState(make_engine(database_url))
    state.begin("a", name="r00000001", first_accepted_id=1, last_accepted_id=5, rows=5, created_at=T0,
                validator_hotkey="5V", schema_version=2)
    state.complete("a", "r00000001", revision="x", location="a@r00000001", verification={}, stats={},
                   published_at=T0)

    assert state.watermark("a") == 5 and state.watermark("b") == 0
