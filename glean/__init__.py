"""glean: command line and local-network orchestration."""

from schemas.version import package_version

__version__ = package_version()
