"""Fixtures of the adversarial suite: the sample web the validator tests use (one per session)."""

from tests.validator.conftest import web  # noqa: F401  (the same session-wide sample web)
