"""Built-in domain specs: YAML data files, one per domain (see schemas.domain for the format)."""
