"""OAuth 2 application-only access (the client credentials grant, RFC 6749 §4.4) for APIs that need it (Reddit's
Data API): credentials from the environment, the token request, and a per-process token cache renewed before expiry.

The crawl's middleware (scrapers.middlewares.OAuthMiddleware) and the re-fetch (scrapers.kinds.reddit) both ask
`TOKENS`; neither logs a credential or a token.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from schemas.errors import ScrapeError
from scrapers import settings
from scrapers.reasons import http_reason

# The grant of an application acting for itself (no user): read-only access to public data.
TOKEN_FORM = b"grant_type=client_credentials"
FORM_TYPE = "application/x-www-form-urlencoded"
# The validator holds no credentials (or refused ones) for an API that needs them: its own trouble, spelled as the
# 401 answer it stands for (unknown in validator/verification.py's table).
NO_CREDENTIALS = http_reason(401)
# Counted in the crawl: the token endpoint refused the source's credentials (the log says how to fix them).
OAUTH_REFUSED = "oauth_refused"
# Counted in the crawl, once per skipped source: its API credentials are not in the environment (the crawl's other
# sources run; the miner's log says what to set).
CREDENTIALS_MISSING = "credentials_missing"
OAUTH_META = "glean_oauth"  # a crawl request's meta key: the OAuthClient whose bearer token it carries


class CredentialsMissing(ScrapeError):
    """A source needs API credentials that the environment does not hold."""


class TokenRefused(ScrapeError):
    """The token endpoint refused the credentials or answered something that is no token."""


@dataclass(frozen=True)
class Credentials:
    """An application's client id and secret (the secret never shows in a repr or a log)."""

    client_id: str
    client_secret: str = field(repr=False)

    def basic(self) -> str:
        """The `Authorization` value of the token request (HTTP basic auth of id and secret)."""
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class OAuthClient:
    """Where and as whom a source's requests get their bearer token (client credentials grant)."""

    token_url: str
    credentials: Credentials

    @property
    def key(self) -> tuple[str, str]:
        """The token cache's key: one token per endpoint and application."""
        return self.token_url, self.credentials.client_id


def credentials_from_env(service: str, id_var: str, secret_var: str, setup: str,
                         environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials in `id_var`/`secret_var`; CredentialsMissing saying how to get and set them otherwise."""
    env = os.environ if environ is None else environ
    client_id, secret = env.get(id_var, "").strip(), env.get(secret_var, "").strip()
    missing = [name for name, value in ((id_var, client_id), (secret_var, secret)) if not value]
    if missing:
        raise CredentialsMissing(f"{service} needs OAuth credentials: {' and '.join(missing)} not set",
                                 hint=f"{setup}, then export {id_var}=<client id> and {secret_var}=<secret> "
                                      "(or remove the source from the domain)")
    return Credentials(client_id, secret)


def parse_token(status: int, body: bytes) -> tuple[str, float]:
    """(access token, seconds it lives) from a token endpoint's answer; TokenRefused otherwise."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if status in (401, 403):
        raise TokenRefused(f"the token endpoint refused the client credentials (HTTP {status})",
                           hint="check the client id and secret (a 'script' or 'web' app's, not an 'installed' "
                                "app's), and that the app is not revoked")
    token = data.get("access_token") if isinstance(data, dict) else None
    if status != 200 or not isinstance(token, str) or not token:
        error = data.get("error") if isinstance(data, dict) else None
        raise TokenRefused(f"the token endpoint answered HTTP {status} without a token (error: {error})",
                           hint="check the token URL and the credentials")
    expires = data.get("expires_in")
    lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else 3600.0
    return token, lifetime


class TokenCache:
    """Tokens by (token URL, client id), each until `OAUTH_TOKEN_MARGIN` seconds before it expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, key: tuple[str, str]) -> str | None:
        found = self._tokens.get(key)
        if found is None or self.clock() >= found[1]:
            return None
        return found[0]

    def put(self, key: tuple[str, str], token: str, lifetime: float) -> None:
        usable_for = max(lifetime - settings.OAUTH_TOKEN_MARGIN, lifetime / 2)
        self._tokens[key] = (token, self.clock() + usable_for)

    def drop(self, key: tuple[str, str]) -> None:
        """Forget a token the API no longer accepts (a 401 answer): the next request asks for a new one."""
        self._tokens.pop(key, None)

    def forget(self) -> None:
        self._tokens.clear()


TOKENS = TokenCache()  # one per process: the crawl process and the validator's re-fetches each keep their own
