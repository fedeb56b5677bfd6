"""The validator-derived columns come from what the validator established per row (validator/facts.py), never
from the miner's claims: the language its language id detected, its re-fetch when the row was sampled, and the
basis of its licence decision."""

from __future__ import annotations

from hub.columns import CLAIMED, VALIDATOR_DERIVED, to_batch
from tests.hub.records import accepted


def test_lang_verification_and_licence_basis_are_the_validators_own():
    rows = [accepted(1, lang="en").model_copy(update={"detected_lang": "de", "verification": "pass",
                                                      "licence_basis": "page:rel=license"}),
            accepted(2, lang="fr", detected_lang=None).model_copy(update={"verification": "unknown_then_pass",
                                                                          "licence_basis": "default"}),
            accepted(3, lang="en", detected_lang=None)]
    table = to_batch(rows, "r1").to_pydict()
    assert table["lang"] == ["de", None, None] and table["claimed_lang"] == ["en", "fr", "en"]
    assert table["verification"] == ["pass", "unknown_then_pass", None]
    assert table["licence_basis"] == ["page:rel=license", "default", None]
    assert {"lang", "verification", "licence_basis"} <= set(VALIDATOR_DERIVED) and "lang" not in CLAIMED
