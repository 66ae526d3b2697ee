"""A small client for Sigma's REST API v2: client-credentials auth, paging, bounded retries.

Rules:
- A token comes from POST /v2/auth/token (client credentials) and is renewed before it expires;
  a 401 gets one new token and one retry, a second 401 is an error.
- 429 (and a 5xx that sends one) honours Retry-After; 5xx, timeouts and connection resets are
  retried with backoff. Both are bounded: at most `max_attempts` tries and `max_wait_seconds` of
  waiting per request.
- 403/404 raise NotAccessible (the caller decides what one inaccessible object means); any other
  answer that is not JSON of the documented shape raises SigmaApiError with one line.
- Lists follow `nextPage` until it is null; a page may hold fewer entries than asked for.
- The client secret and tokens never appear in an error message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from loader.sigma_api.config import SigmaApiSettings

USER_AGENT = "sigma-impressions (inventory sync)"


class SigmaApiError(RuntimeError):
    """The API could not be used. The message is one line, free of secrets."""


class AuthError(SigmaApiError):
    """Sigma refused the credentials."""


class NotAccessible(SigmaApiError):
    """403 or 404 on one object: the credentials cannot see it (or it is gone)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Transient(Exception):
    """A failure worth retrying; retry_after in seconds when the server asked for it."""

    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after


class _Unauthorized(Exception):
    pass


@dataclass
class CallStats:
    api_calls: int = 0
    retries: int = 0
    token_requests: int = 0


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


class SigmaClient:
    def __init__(self, settings: SigmaApiSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.stats = CallStats()
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._token: str | None = None
        self._refresh_token: str | None = None
        self._token_expires_at = 0.0

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> SigmaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scrub(self, text: str) -> str:
        """Remove the secret and every token this client has held from a message."""
        for secret in (*self.settings.secrets(), self._token, self._refresh_token):
            if secret:
                text = text.replace(secret, "***")
        return " ".join(text.split())

    # ---- transport -------------------------------------------------------------------------

    def _next_wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return exc.retry_after
        return min(0.5 * 2 ** (state.attempt_number - 1), 8.0)

    def _out_of_time(self, state: RetryCallState) -> bool:
        return state.idle_for + self._next_wait(state) > self.settings.max_wait_seconds

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange with bounded retries of transient failures."""
        label = f"{method} /v2/{path.lstrip('/')}"

        def before_sleep(state: RetryCallState) -> None:
            self.stats.retries += 1

        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.settings.max_attempts) | self._out_of_time,
            wait=self._next_wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, path, label, **kwargs)
        except _Transient as exc:
            raise SigmaApiError(
                self.scrub(f"{label} failed after {self.stats_attempts(retrying)} attempt(s): {exc.description}")
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def stats_attempts(retrying: Retrying) -> int:
        return int(retrying.statistics.get("attempt_number", 1))

    def _attempt(self, method: str, path: str, label: str, **kwargs: Any) -> requests.Response:
        self.stats.api_calls += 1
        try:
            response = self._session.request(
                method, self.settings.api(path), timeout=self.settings.timeout_seconds, **kwargs
            )
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise _Transient(f"connection failed ({type(exc).__name__})") from None
        status = response.status_code
        if status == 429 or status >= 500:
            what = "rate limited (429)" if status == 429 else f"server error {status}"
            wait = _retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > self.settings.max_wait_seconds:
                raise SigmaApiError(
                    f"{label}: {what} with Retry-After {wait:.0f} s, more than the "
                    f"{self.settings.max_wait_seconds:.0f} s this sync waits; run again later"
                )
            raise _Transient(what, retry_after=wait)
        if status == 401:
            raise _Unauthorized()
        if status in (403, 404):
            raise NotAccessible(f"{label}: {status} {response.reason or ''}".strip(), status)
        if status >= 400:
            raise SigmaApiError(self.scrub(f"{label}: HTTP {status} {_short(response.text)}"))
        return response

    @staticmethod
    def _json(response: requests.Response, label: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise SigmaApiError(f"{label}: malformed JSON in the answer ({_short(response.text)!r})") from None
        except requests.RequestException as exc:
            raise SigmaApiError(f"{label}: the answer broke off ({type(exc).__name__})") from None

    # ---- auth ------------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Get a new access token with the client credentials."""
        self.stats.token_requests += 1
        data = {
            "grant_type": "client_credentials",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
        }
        try:
            response = self._send("POST", "auth/token", data=data, headers={"Accept": "application/json"})
        except _Unauthorized:
            raise AuthError(
                "Sigma refused the client id and secret (401): check --sigma-client-id/--sigma-client-secret "
                "(Administration > Developer Access) and --sigma-api-url"
            ) from None
        except NotAccessible as exc:
            raise AuthError(
                f"POST /v2/auth/token answered {exc.status}: check --sigma-api-url "
                "(the API base URL from Administration > Developer Access)"
            ) from None
        except SigmaApiError as exc:
            if "HTTP 400" in str(exc):
                raise AuthError(
                    "Sigma refused the client id and secret (400): check --sigma-client-id/--sigma-client-secret"
                ) from None
            raise
        body = self._json(response, "POST /v2/auth/token")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SigmaApiError("POST /v2/auth/token: the answer has no access_token")
        self._token = token
        refresh = body.get("refresh_token")
        self._refresh_token = refresh if isinstance(refresh, str) else None
        try:
            lifetime = float(body.get("expires_in") or 0)
        except (TypeError, ValueError):
            lifetime = 0.0
        lifetime = lifetime if lifetime > 0 else 3600.0
        # Renew a little before Sigma would refuse the token.
        self._token_expires_at = time.monotonic() + lifetime * 0.9

    def _auth_headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() >= self._token_expires_at:
            self.authenticate()
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    # ---- reading ---------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a /v2 path and return its JSON. A 401 gets one new token and one retry."""
        label = f"GET /v2/{path.lstrip('/')}"
        try:
            response = self._send("GET", path, params=params, headers=self._auth_headers())
        except _Unauthorized:
            self.authenticate()
            try:
                response = self._send("GET", path, params=params, headers=self._auth_headers())
            except _Unauthorized:
                raise AuthError(
                    f"{label}: 401 even with a new token: the credentials lost access; check them in "
                    "Administration > Developer Access"
                ) from None
        return self._json(response, label)

    def list_entries(self, path: str, max_pages: int | None = None) -> list[Any]:
        """Every entry of a paged list, following `nextPage` (opaque) until it is null."""
        label = f"GET /v2/{path.lstrip('/')}"
        entries: list[Any] = []
        page: str | None = None
        seen: set[str] = set()
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": self.settings.page_size}
            if page is not None:
                params["page"] = page
            body = self.get(path, params)
            if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
                raise SigmaApiError(f"{label}: malformed answer (no `entries` list)")
            entries.extend(body["entries"])
            pages += 1
            next_page = body.get("nextPage")
            if next_page is None or next_page == "" or (max_pages is not None and pages >= max_pages):
                return entries
            next_page = str(next_page)
            if next_page in seen:
                raise SigmaApiError(f"{label}: the API returned the same nextPage twice; stopped paging")
            seen.add(next_page)
            page = next_page

    def first_page(self, path: str) -> dict[str, Any]:
        """The first page of a list (for `check`)."""
        body = self.get(path, {"limit": self.settings.page_size})
        if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
            raise SigmaApiError(f"GET /v2/{path.lstrip('/')}: malformed answer (no `entries` list)")
        return body


def _short(text: str, limit: int = 120) -> str:
    return " ".join((text or "").split())[:limit]
