"""Visiting order: every miner once per round before any repeats, in an order seeded by the block hash."""

from validator.selection import Round, seeded_order


def test_every_uid_is_visited_once_before_any_repeats():
    visiting, seen = Round(), []
    for step in range(7):
        seen += visiting.take(range(10), 3, f"0xhash{step}")
    first_round, second_round = seen[:10], seen[10:20]
    assert sorted(first_round) == list(range(10))
    assert sorted(second_round) == list(range(10))


def test_order_depends_on_the_block_hash():
    assert seeded_order(range(20), "0xaa") != seeded_order(range(20), "0xbb")
    assert seeded_order(range(20), "0xaa") == seeded_order(reversed(range(20)), "0xaa")


def test_newcomers_join_the_current_round_and_leavers_are_dropped():
    visiting = Round()
    first = visiting.take([1, 2, 3, 4], 2, "0x1")
    rest = visiting.take([u for u in [1, 2, 3, 4, 9] if u != first[0]], 10, "0x2")
    assert 9 in rest and first[0] not in rest


def test_round_survives_a_restart_through_json():
    visiting = Round()
    visiting.take(range(6), 2, "0x1")
    restored = Round.from_json(visiting.to_json())
    assert sorted(restored.take(range(6), 4, "0x2") + visiting.visited) == list(range(6))


def test_a_step_larger_than_the_rest_of_the_round_never_repeats_a_uid():
    visiting = Round()
    visiting.take(range(5), 3, "0x1")
    chosen = visiting.take(range(5), 4, "0x2")
    assert len(set(chosen)) == 4
