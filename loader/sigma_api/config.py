"""Sigma API settings: one validated, immutable object built from CLI options and environment.

Everything here runs before any I/O. A bad value raises ConfigError (one line that says what to
fix); the CLI prints it and exits 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from loader.config import DEFAULT_DATABASE, ConfigError

# option name -> environment variable. The env var is the fallback when the option is absent.
ENV_VARS = {
    "sigma_api_url": "SIGMA_IMPRESSIONS_SIGMA_API_URL",
    "sigma_client_id": "SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID",
    "sigma_client_secret": "SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET",
}
DATABASE_ENV = "SIGMA_IMPRESSIONS_DUCKDB_PATH"
# Sigma's documented maximum for `limit` on list endpoints.
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class SigmaApiSettings:
    """Where and how to reach Sigma's API. repr() never shows the secret."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    database: str = DEFAULT_DATABASE
    full: bool = False
    page_size: int = MAX_PAGE_SIZE
    # Bounds of the retry policy: attempts per request and total seconds spent waiting per request.
    max_attempts: int = 5
    max_wait_seconds: float = 60.0
    timeout_seconds: float = 30.0

    def secrets(self) -> list[str]:
        return [self.client_secret]

    def api(self, path: str) -> str:
        """The absolute URL of an API path such as 'workbooks' or '/v2/members'."""
        path = path.lstrip("/")
        if path.startswith("v2/"):
            path = path[3:]
        return f"{self.base_url}/v2/{path}"


def _pick(options: Mapping[str, object], env: Mapping[str, str], name: str) -> str | None:
    value = options.get(name)
    if value is None or value == "":
        value = env.get(ENV_VARS[name]) if name in ENV_VARS else None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normalize_base_url(url: str) -> str:
    """'https://aws-api.sigmacomputing.com/v2/' -> 'https://aws-api.sigmacomputing.com'."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ConfigError("--sigma-api-url must not hold credentials: give them as --sigma-client-id/-secret")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"--sigma-api-url must be an http(s) URL such as https://aws-api.sigmacomputing.com, got '{url}'"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"--sigma-api-url takes no query or fragment, got '{url}'")
    path = parts.path.rstrip("/")
    if path.endswith("/v2"):
        path = path[: -len("/v2")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def api_settings_present(options: Mapping[str, object], env: Mapping[str, str] | None = None) -> bool:
    """True when any Sigma API setting is given (then `run` and `check` use the API)."""
    env = os.environ if env is None else env
    return any(_pick(options, env, name) for name in ENV_VARS)


def build_api_settings(
    options: Mapping[str, object], env: Mapping[str, str] | None = None, **overrides: object
) -> SigmaApiSettings:
    """Validate the API options (falling back to the environment) into SigmaApiSettings."""
    env = os.environ if env is None else env
    url = _pick(options, env, "sigma_api_url")
    client_id = _pick(options, env, "sigma_client_id")
    secret = _pick(options, env, "sigma_client_secret")
    if client_id and not secret:
        raise ConfigError(
            "--sigma-client-id is set without --sigma-client-secret [SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET]: give both"
        )
    if secret and not client_id:
        raise ConfigError(
            "--sigma-client-secret is set without --sigma-client-id [SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID]: give both"
        )
    if not url:
        raise ConfigError(
            "--sigma-api-url is required [SIGMA_IMPRESSIONS_SIGMA_API_URL]: the API base URL from Sigma's "
            "Administration > Developer Access page, e.g. https://aws-api.sigmacomputing.com"
        )
    base_url = normalize_base_url(url)
    if not client_id or not secret:
        raise ConfigError(
            "--sigma-client-id and --sigma-client-secret are required [SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID, "
            "SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET]: create them under Administration > Developer Access"
        )
    database = options.get("database") or env.get(DATABASE_ENV) or DEFAULT_DATABASE
    values: dict[str, object] = {
        "base_url": base_url,
        "client_id": client_id,
        "client_secret": secret,
        "database": str(database),
        "full": bool(options.get("full", False)),
    }
    values.update(overrides)
    return SigmaApiSettings(**values)  # type: ignore[arg-type]
