"""How a miner chooses what to crawl from the network's desirability: spread in proportion to it, stable when the
list changes, pinned domains left to the pin."""

from __future__ import annotations

from collections import Counter

from miner.desirability import choose
from schemas import DomainSpec
from schemas.desirability import DesirabilityEntry, DesirabilityList, NetworkDesirability, combine

HOTKEYS = [f"miner-{i}" for i in range(3000)]


def spec(domain_id: str, host: str = "docs.example.org") -> DomainSpec:
    return DomainSpec.model_validate({
        "id": domain_id, "title": domain_id, "relevance": {"keywords": {"data": 1.0}},
        "sources": [{"kind": "web", "params": {"seeds": [f"https://{host}/{domain_id}/"],
                                               "allow_patterns": [f"^https://{host}/{domain_id}/"]}}]})


def network(weights: dict[str, float], *, host: str = "docs.example.org") -> NetworkDesirability:
    """The network list one validator's list with these weights gives."""
    wanted = DesirabilityList.build(DesirabilityEntry.of(spec(d, host), w) for d, w in weights.items())
    return combine({"validator": wanted}, {"validator": 1.0}, {})


def crawled(net: NetworkDesirability, hotkey: str, count: int) -> set[str]:
    return {c.entry.domain_id for c in choose(net.entries, hotkey, count) if c.crawling}


def test_miners_spread_over_domains_in_proportion_to_desirability():
    net = network({"big": 6.0, "mid": 3.0, "small": 1.0})
    per_domain = Counter(d for hotkey in HOTKEYS for d in crawled(net, hotkey, 1))
    assert sum(per_domain.values()) == len(HOTKEYS)
    for entry in net.entries:  # 3,000 draws: a binomial's sd is under 0.01 of the share
        assert abs(per_domain[entry.domain_id] / len(HOTKEYS) - entry.weight) < 0.03


def test_with_two_domains_each_the_small_ones_are_not_left_out():
    net = network({"big": 6.0, "mid": 3.0, "small": 1.0})
    per_domain = Counter(d for hotkey in HOTKEYS for d in crawled(net, hotkey, 2))
    assert all(len(crawled(net, h, 2)) == 2 for h in HOTKEYS[:50])
    assert per_domain["big"] > per_domain["mid"] > per_domain["small"] > 0.1 * len(HOTKEYS)
    assert per_domain["big"] < len(HOTKEYS)  # not everyone on the top one


def test_a_newly_adopted_domain_replaces_at_most_one_choice_of_a_miner():
    before = network({"aa": 4.0, "bb": 3.0, "cc": 2.0, "dd": 1.0})
    after = network({"aa": 4.0, "bb": 3.0, "cc": 2.0, "dd": 1.0, "requested": 3.0})
    moved = 0
    for hotkey in HOTKEYS:
        old, new = crawled(before, hotkey, 2), crawled(after, hotkey, 2)
        assert new == old or (len(new - old) == 1 and new - old == {"requested"})
        moved += new != old
    assert 0 < moved < len(HOTKEYS)


def test_an_expired_domain_moves_only_the_miners_that_crawled_it():
    before = network({"aa": 4.0, "bb": 3.0, "cc": 2.0, "requested": 3.0})
    after = network({"aa": 4.0, "bb": 3.0, "cc": 2.0})
    for hotkey in HOTKEYS:
        old, new = crawled(before, hotkey, 2), crawled(after, hotkey, 2)
        assert "requested" not in new
        assert new == old if "requested" not in old else old - {"requested"} <= new


def test_a_skipped_entry_is_shown_but_not_crawled_and_its_place_goes_to_another():
    net = network({"aa": 1.0, "bb": 1.0, "cc": 1.0})
    hashes = {e.domain_id: e.spec_hash for e in net.entries}
    choices = choose(net.entries, "miner-1", 2, skip={hashes["aa"]: "pinned"})
    by_domain = {c.entry.domain_id: c for c in choices}
    assert not by_domain["aa"].crawling and by_domain["aa"].problem == "pinned"
    assert by_domain["bb"].crawling and by_domain["cc"].crawling


def test_the_choice_depends_only_on_the_hotkey_and_the_list():
    net = network({"aa": 2.0, "bb": 1.0, "cc": 1.0, "dd": 1.0})
    assert [crawled(net, h, 2) for h in HOTKEYS[:100]] == [crawled(net, h, 2) for h in HOTKEYS[:100]]
    assert len({frozenset(crawled(net, h, 2)) for h in HOTKEYS[:100]}) > 1
