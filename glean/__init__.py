"""glean: command line and local-network orchestration."""

__version__ = "0.1.0"
