"""Pure parsers, one module per source kind: (url, body, headers) -> Records, shared by crawl and fetch_one."""
