"""glean's versions in one place: the wire protocol miners and validators speak, the scoring rules validators
apply, and the installed package's version. docs/upgrade.md says what a change of each means for operators."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

# The wire format of the miner API and the normalisation a Record's derived fields are checked against
# (schemas.text, schemas.urls). Miners and validators must run the same one: a miner refuses a request that
# names another (or none), see miner/api.py. Raise it when old and new peers would misread each other.
PROTOCOL_VERSION = 2  # 2: normalised text drops format characters (Cf) and variation selectors

# The validator's scoring rules and the MinHash signature format of the novelty index (scoring/). A validator
# rebuilds its novelty index when it differs from the one its snapshot was written with (validator/corpus.py).
SCORING_VERSION = 2  # 2: hashes, shingles and signatures over the identity form (scoring.identity)

# The weights' version_key: a subnet can refuse weights older than its `weights_version` hyperparameter, so both
# versions go in, each raise making it larger (the scoring version stays below 1000).
WEIGHTS_VERSION_KEY = PROTOCOL_VERSION * 1000 + SCORING_VERSION

DISTRIBUTION = "glean"
UNKNOWN_VERSION = "0+unknown"


@cache
def package_version() -> str:
    """The installed glean's version (pyproject.toml), or "0+unknown" when run from a tree that is not installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return UNKNOWN_VERSION
