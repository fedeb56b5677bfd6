"""Pay for evidence, the pure math: the Wilson lower bound, the paid fraction with its floor, the window of recent
checks and the sample size."""

from __future__ import annotations

import math

import pytest

from scoring import constants as k
from scoring.evidence import paid_fraction, sample_size, wilson_lower_bound, window_counts


def test_the_wilson_bound_matches_its_closed_form():
    # 8 of 10 at z = 1.645: (0.8 + 0.1353 - 1.645 * sqrt(0.016 + 0.00676)) / 1.2706 = 0.5408
    assert wilson_lower_bound(8, 10) == pytest.approx(0.5408, abs=1e-4)
    # all passes: n / (n + z^2)
    assert wilson_lower_bound(5, 5) == pytest.approx(5 / (5 + k.EVIDENCE_Z ** 2))
    assert wilson_lower_bound(0, 10) == 0.0 and wilson_lower_bound(0, 0) == 0.0


def test_the_bound_grows_with_evidence_and_stays_under_the_observed_rate():
    for passes, checks in ((9, 10), (90, 100), (450, 500)):
        assert wilson_lower_bound(passes, checks) < passes / checks
    assert wilson_lower_bound(9, 10) < wilson_lower_bound(90, 100) < wilson_lower_bound(900, 1000)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="passes"):
        wilson_lower_bound(6, 5)


def test_a_clean_long_window_pays_in_full_and_a_short_one_less():
    assert paid_fraction(500, 500) == 1.0
    assert 0.6 < paid_fraction(5, 5) < 0.7  # one batch of five passes proves little yet


def test_below_the_floor_nothing_is_paid():
    assert wilson_lower_bound(260, 500) < k.EVIDENCE_FLOOR
    assert paid_fraction(260, 500) == 0.0
    assert paid_fraction(2, 2) == 0.0  # two passes cannot lift the bound to the floor


def test_two_percent_honest_deletions_cost_little_in_a_full_window():
    assert paid_fraction(490, 500) >= 0.98


def test_the_window_keeps_this_batch_and_the_newest_before_it():
    assert window_counts([True, False], [True, True, False], size=4) == (3, 4)
    assert window_counts([False] * 5, [True] * 10, size=3) == (0, 3)
    assert window_counts([], [], size=3) == (0, 0)


@pytest.mark.parametrize(("records", "budget", "expected"), [
    (0, 10, 0), (3, 10, 3), (10, 64, 5), (25, 64, 5), (26, 64, 6), (1_000, 64, 32), (20_000, 64, 64),
    (20_000, 10, 10), (20_000, 0, 0),
])
def test_the_sample_grows_as_the_square_root_within_the_budget(records, budget, expected):
    assert sample_size(records, budget) == expected
    if records:
        assert sample_size(records, budget) == min(max(k.SAMPLE_MIN, math.ceil(math.sqrt(records))), budget, records)
