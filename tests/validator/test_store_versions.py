"""One current accepted row per (domain, uri) on SQLite and PostgreSQL: a confirmed version supersedes the current row
in the transaction that inserts it, nothing else can add a second current row, the facts the validator established
are kept per row, and the 0002 -> 0003 migration supersedes older duplicates of a populated store and goes back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from schemas.record import Record, utcnow
from storage import downgrade, make_engine, upgrade
from validator.store import MIGRATIONS, VERSION_TABLE, Accepted, Facts, MinerCommit, ValidatorStore

DOMAIN = "python-ecosystem"
URI = "https://example.org/page"


def _record(text: str, uri: str = URI) -> Record:
    return Record.build(uri=uri, text=text, source="web", domain=DOMAIN, title="A page")


def _accepted(record: Record, *, version: bool = False, facts: Facts = Facts()) -> Accepted:
    return Accepted(record=record, quality=0.9, relevance=0.8, novelty=1.0, freshness=1.0, size=0.5,
                    desirability=1.0, value=0.36, signals={"words": 5.0}, minhash=b"\x01" * 16, facts=facts,
                    version=version)


def _commit(store: ValidatorStore, step: int, *accepted: Accepted) -> list:
    return store.commit_miner(MinerCommit(uid=1, hotkey="hk1", step=step, validator_hotkey="v", credibility=0.5,
                                          score=0.1, step_score=0.2, accepted=list(accepted)))


@pytest.fixture
def store(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    yield store
    store.close()


def test_a_confirmed_version_supersedes_the_current_row_and_keeps_it(store):
    [(old, _, _)] = _commit(store, 1, _accepted(_record("The first text of the page.")))
    [(new, new_hash, _)] = _commit(store, 2, _accepted(_record("The page was rewritten since."), version=True))
    assert store.versions_of(DOMAIN, URI) == [(old, _record("The first text of the page.").content_hash, new),
                                              (new, new_hash, None)]
    assert store.current_versions([(DOMAIN, URI), (DOMAIN, "https://example.org/none")]) == {(DOMAIN, URI):
                                                                                            (new, new_hash)}


def test_another_text_of_a_current_uri_is_skipped_unless_it_is_a_confirmed_version(store):
    [(old, old_hash, _)] = _commit(store, 1, _accepted(_record("The first text of the page.")))
    assert _commit(store, 2, _accepted(_record("An unconfirmed other text."))) == []
    assert store.current_versions([(DOMAIN, URI)]) == {(DOMAIN, URI): (old, old_hash)}


def test_two_versions_of_one_uri_in_one_commit_leave_one_current_row(store):
    _commit(store, 1, _accepted(_record("The first text of the page.")))
    inserted = _commit(store, 2, _accepted(_record("Second text."), version=True),
                       _accepted(_record("Third text."), version=True))
    assert len(inserted) == 1
    rows = store.versions_of(DOMAIN, URI)
    assert [s for _, _, s in rows].count(None) == 1 and len(rows) == 2


def test_a_version_that_is_not_inserted_gives_the_row_back(store):
    first = _record("The first text of the page.")
    _commit(store, 1, _accepted(_record("Elsewhere's own text.", uri="https://example.org/elsewhere")))
    [(old, _, _)] = _commit(store, 2, _accepted(first))
    other = _record("The first text of the page.", uri="https://example.org/elsewhere")
    assert other.content_hash == first.content_hash  # the hash covers the text only
    assert _commit(store, 3, _accepted(other, version=True)) == []  # skipped as an exact duplicate
    assert store.versions_of(DOMAIN, URI) == [(old, first.content_hash, None)]
    assert [s for _, _, s in store.versions_of(DOMAIN, other.uri)] == [None]  # the row set aside is current again


def test_the_facts_of_a_row_are_kept_and_read_back(store):
    facts = Facts(detected_lang="de", verification="pass", licence="CC-BY-SA-4.0", text_allowed=True,
                  attribution='"A page", https://example.org/page', licence_basis="page:rel=license")
    _commit(store, 1, _accepted(_record("Der Text der Seite."), facts=facts),
            _accepted(_record("Another page's text.", uri="https://example.org/other")))
    first, second = store.accepted_after(0, 10)
    assert (first.detected_lang, first.verification, first.licence, first.text_allowed, first.attribution,
            first.licence_basis) == ("de", "pass", "CC-BY-SA-4.0", True, facts.attribution, "page:rel=license")
    assert (second.verification, second.licence, second.text_allowed) == (None, None, None)


def test_migration_0003_supersedes_older_duplicates_of_a_populated_store_and_goes_back(database_url):
    engine = make_engine(database_url)
    upgrade(engine, MIGRATIONS, VERSION_TABLE, "0002_validator_evidence")
    now = utcnow()
    rows = [("a", URI), ("b", URI), ("c", "https://example.org/other"), ("d", URI), ("e", "https://example.org/x")]
    with engine.begin() as conn:
        for content_hash, uri in rows:
            conn.execute(sa.text(
                "INSERT INTO validator_accepted (content_hash, uri, domain, source, title, text, fetched_at, labels, "
                "meta, quality, relevance, novelty, freshness, size, desirability, value, signals, minhash, "
                "miner_uid, miner_hotkey, validator_hotkey, step, accepted_at) VALUES (:h, :u, :d, 'web', 't', "
                "'text', :t, '[]', '{}', 1, 1, 1, 1, 1, 1, 1, '{}', :m, 1, 'hk', 'v', 1, :t)"),
                {"h": content_hash * 64, "u": uri, "d": DOMAIN, "t": now, "m": b"\x00"})
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    store = ValidatorStore(engine)
    assert [s for _, _, s in store.versions_of(DOMAIN, URI)] == [4, 4, None]  # the newest of the URI stays current
    assert len(store.current_versions([(DOMAIN, URI), (DOMAIN, "https://example.org/other"),
                                       (DOMAIN, "https://example.org/x")])) == 3
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the index holds a second current row off
        conn.execute(sa.text("UPDATE validator_accepted SET superseded_by = NULL WHERE accepted_id = 1"))
    with engine.connect() as conn:  # nothing dropped
        assert conn.execute(sa.text("SELECT count(*) FROM validator_accepted")).scalar_one() == 5
    downgrade(engine, MIGRATIONS, VERSION_TABLE, "0002_validator_evidence")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM validator_accepted")).scalar_one() == 5
        assert "superseded_by" not in {c["name"] for c in sa.inspect(conn).get_columns("validator_accepted")}
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    engine.dispose()
