import hashlib
import json

import pytest
from pydantic import ValidationError

from schemas import DomainCatalog, DomainSpec
from schemas.desirability import (
    DesirabilityEntry,
    DesirabilityList,
    NetworkDesirability,
    combine,
    spec_hash,
    spec_json,
)
from schemas.errors import ProtocolError

CATALOG = DomainCatalog.load()


def _spec(domain_id: str = "ml-research", **changes) -> DomainSpec:
    return CATALOG.get(domain_id).model_copy(update=changes)


def _list(*pairs: tuple[DomainSpec, float]) -> DesirabilityList:
    return DesirabilityList.build(DesirabilityEntry.of(spec, weight) for spec, weight in pairs)


def test_spec_hash_ignores_how_the_yaml_was_written():
    spec = _spec()
    minimal = {k: v for k, v in spec.model_dump(mode="json", exclude_defaults=True).items()}
    assert spec_hash(DomainSpec.model_validate(minimal)) == spec_hash(spec)
    assert spec_hash(_spec(title="Another title")) != spec_hash(spec)


def test_list_bytes_and_hash_do_not_depend_on_entry_order():
    a, b = _spec("ml-research"), _spec("world-news")
    one, two = _list((a, 1.0), (b, 2.5)), _list((b, 2.5), (a, 1.0))
    assert one.canonical() == two.canonical()
    assert one.hash() == hashlib.sha256(one.canonical()).hexdigest()


def test_served_list_round_trips_under_its_hash():
    listed = _list((_spec(), 2.0))
    assert DesirabilityList.parse(listed.canonical(), listed.hash()) == listed


def test_served_list_that_does_not_match_its_hash_is_refused():
    listed, other = _list((_spec(), 2.0)), _list((_spec(), 3.0))
    with pytest.raises(ProtocolError, match="does not match"):
        DesirabilityList.parse(other.canonical(), listed.hash())


def test_served_list_that_is_not_canonical_is_refused():
    listed = _list((_spec(), 2.0))
    body = json.dumps(listed.model_dump(mode="json"), indent=1).encode()
    with pytest.raises(ProtocolError, match="canonical"):
        DesirabilityList.parse(body, hashlib.sha256(body).hexdigest())


def test_entry_whose_hash_does_not_match_its_spec_is_refused():
    entry = DesirabilityEntry.of(_spec(), 1.0)
    forged = entry.model_dump() | {"spec_hash": "0" * 64}
    with pytest.raises(ValidationError, match="sha256"):
        DesirabilityEntry.model_validate(forged)


def test_entry_whose_spec_is_not_a_domain_spec_is_refused_with_the_field():
    entry = DesirabilityEntry.of(_spec(), 1.0)
    bad = dict(entry.spec) | {"sources": []}
    with pytest.raises(ValidationError, match="sources"):
        DesirabilityEntry.model_validate(entry.model_dump() | {"spec": bad, "spec_hash": spec_hash(bad)})


def test_combine_weights_lists_by_stake_and_normalises():
    a, b = _spec("ml-research"), _spec("world-news")
    net = combine({"v1": _list((a, 1.0)), "v2": _list((b, 1.0))}, {"v1": 3.0, "v2": 1.0}, {})
    assert net.weights() == {"ml-research": 0.75, "world-news": 0.25}
    assert [e.domain_id for e in net.entries] == ["ml-research", "world-news"]


def test_combine_counts_a_list_relative_to_its_own_total():
    a, b = _spec("ml-research"), _spec("world-news")
    net = combine({"v1": _list((a, 10.0), (b, 30.0)), "v2": _list((a, 1.0))}, {"v1": 1.0, "v2": 1.0}, {})
    assert net.weights() == {"ml-research": 0.625, "world-news": 0.375}


def test_combine_is_byte_identical_whatever_the_mapping_order():
    a, b, c = _spec("ml-research"), _spec("world-news"), _spec("open-knowledge")
    lists = {"v1": _list((a, 1.0), (b, 2.0)), "v2": _list((c, 1.0)), "v3": _list((b, 1.0), (c, 3.0))}
    stakes = {"v1": 10.0, "v2": 7.0, "v3": 3.3}
    forward = combine(lists, stakes, {}, block=40)
    backward = combine(dict(reversed(lists.items())), dict(reversed(stakes.items())), {}, block=40)
    assert forward.canonical() == backward.canonical()
    assert forward.hash() == backward.hash()


def test_unfetched_list_falls_back_to_the_validators_previous_list():
    a, b = _spec("ml-research"), _spec("world-news")
    old = _list((b, 1.0))
    net = combine({"v1": _list((a, 1.0)), "v2": None}, {"v1": 1.0, "v2": 1.0}, {"v2": old})
    assert net.weights() == {"ml-research": 0.5, "world-news": 0.5}
    assert net.lists == {"v1": _list((a, 1.0)).hash(), "v2": old.hash()}


def test_unfetched_list_without_a_previous_one_is_left_out():
    a, b = _spec("ml-research"), _spec("world-news")
    net = combine({"v1": _list((a, 1.0)), "v2": None}, {"v1": 1.0, "v2": 99.0}, {"v3": _list((b, 1.0))})
    assert net.weights() == {"ml-research": 1.0}
    assert set(net.lists) == {"v1"}


def test_one_domain_id_with_two_specs_keeps_the_heavier_spec():
    plain, edited = _spec("ml-research"), _spec("ml-research", title="ML research (edited)")
    net = combine({"v1": _list((plain, 1.0)), "v2": _list((edited, 1.0)), "v3": _list((edited, 1.0))},
                  {"v1": 1.0, "v2": 1.0, "v3": 1.0}, {})
    assert [(e.domain_id, e.spec_hash, e.weight) for e in net.entries] == [("ml-research", spec_hash(edited), 1.0)]


def test_window_is_the_widest_any_list_asks_for():
    spec = _spec()
    narrow = DesirabilityList.build([DesirabilityEntry.of(spec, 1.0, window_days=7)])
    wide = DesirabilityList.build([DesirabilityEntry.of(spec, 1.0, window_days=30)])
    anyage = DesirabilityList.build([DesirabilityEntry.of(spec, 1.0)])
    assert combine({"a": narrow, "b": wide}, {"a": 1, "b": 1}, {}).entries[0].window_days == 30
    assert combine({"a": narrow, "b": anyage}, {"a": 1, "b": 1}, {}).entries[0].window_days is None


def test_network_list_round_trips_and_keeps_sources_out_of_its_bytes():
    listed = _list((_spec(), 1.0))
    net = combine({"v1": listed}, {"v1": 1.0}, {}, block=20)
    assert net.sources == {"v1": listed}
    again = NetworkDesirability.model_validate_json(net.canonical())
    assert again.canonical() == net.canonical() and again.sources == {}
    assert again.specs()[0] == _spec()


def test_nobody_to_count_gives_an_empty_network_list():
    assert combine({"v1": None}, {"v1": 5.0}, {}).entries == ()
    assert combine({"v1": _list((_spec(), 1.0))}, {"v1": 0.0}, {}).entries == ()


def test_full_spec_json_is_what_an_entry_carries():
    spec = _spec()
    assert DesirabilityEntry.of(spec, 1.5).spec == spec_json(spec)
    assert DesirabilityEntry.of(spec, 1.5).domain_spec() == spec
