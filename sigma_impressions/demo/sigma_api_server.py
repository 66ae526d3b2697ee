"""A local stand-in for Sigma's REST API v2: a real HTTP server on a loopback port.

It serves an organisation's inventory the way Sigma documents it (client-credentials tokens,
bearer auth, `limit` / opaque `page` tokens / `nextPage`, `entries`): GET /v2/members,
/v2/workbooks, /v2/workbooks/{id}/pages, .../pages/{pageId}/elements, /v2/teams and
/v2/teams/{teamId}/members. Tests make it misbehave: expire tokens, answer short pages, and
inject 401/403/404/429/500, connection resets, expired tokens and malformed JSON on chosen paths.
The demo (`make run`) serves its inventory from it.

    python -m sigma_impressions.demo.sigma_api_server -- sigma-impressions run ...

starts it on a free port, runs the command with SIGMA_IMPRESSIONS_SIGMA_API_URL / _CLIENT_ID /
_CLIENT_SECRET set for that command only, and stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret-not-a-real-one"  # noqa: S105 - the stand-in's own demo credential
MAX_LIMIT = 1000


@dataclass
class Fault:
    """Answer requests whose path matches `pattern` with `kind` (an HTTP status, 'reset',
    'malformed', or 'expire': every token expires, so the request gets the 401 of an expired
    token), `times` times."""

    pattern: str
    kind: int | str
    times: int = 1
    retry_after: str | None = None
    method: str = "GET"


@dataclass
class SigmaOrg:
    """The organisation the stand-in serves. Tests change it between syncs."""

    workbooks: list[dict[str, Any]] = field(default_factory=list)
    # workbookId -> pages; (workbookId, pageId) -> elements
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    elements: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    # teamId -> the memberIds of its members, in the order they are listed
    team_members: dict[str, list[str]] = field(default_factory=dict)

    def add_workbook(
        self, workbook: dict[str, Any], pages: dict[str, tuple[str, list[dict[str, Any]]]] | None = None
    ) -> None:
        """Add a workbook with {pageId: (page name, elements)}."""
        self.workbooks.append(workbook)
        wid = workbook["workbookId"]
        self.pages[wid] = []
        for page_id, (page_name, elements) in (pages or {}).items():
            self.pages[wid].append({"pageId": page_id, "name": page_name})
            self.elements[(wid, page_id)] = list(elements)

    def remove_workbook(self, workbook_id: str) -> None:
        self.workbooks = [w for w in self.workbooks if w.get("workbookId") != workbook_id]

    def workbook(self, workbook_id: str) -> dict[str, Any]:
        return next(w for w in self.workbooks if w.get("workbookId") == workbook_id)

    def add_team(self, team_id: str, name: str, description: str | None, member_ids: Sequence[str]) -> None:
        self.teams.append(
            {
                "teamId": team_id,
                "name": name,
                "description": description,
                "visibility": "public",
                "createdBy": self.members[0]["memberId"] if self.members else None,
                "createdAt": "2025-01-06T09:00:00Z",
                "updatedAt": "2026-10-01T09:00:00Z",
                "isArchived": False,
            }
        )
        self.team_members[team_id] = list(member_ids)

    def remove_team(self, team_id: str) -> None:
        self.teams = [t for t in self.teams if t.get("teamId") != team_id]

    def team_member_entries(self, team_id: str) -> list[dict[str, Any]]:
        """A team's members as GET /v2/teams/{teamId}/members lists them: the member's record."""
        by_id = {m.get("memberId"): m for m in self.members}
        return [by_id.get(mid, {"memberId": mid}) for mid in self.team_members.get(team_id, [])]


@dataclass
class _Listing:
    path: str
    offset: int


class SigmaApiStandIn:
    """The server's state: credentials, tokens, page tokens, faults, and a log of requests."""

    def __init__(
        self,
        org: SigmaOrg,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        page_size: int = 2,
        token_ttl_seconds: int = 3600,
        token_max_uses: int | None = None,
    ) -> None:
        self.org = org
        self.client_id = client_id
        self.client_secret = client_secret
        # The most entries one page holds, whatever `limit` asks: short pages.
        self.page_size = page_size
        self.token_ttl_seconds = token_ttl_seconds
        # A token stops working after this many authorized requests (None: only its TTL counts).
        self.token_max_uses = token_max_uses
        self.tokens: dict[str, float] = {}
        self.token_uses: dict[str, int] = {}
        self.page_tokens: dict[str, _Listing] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.delay_seconds = 0.0

    # ---- test controls ---------------------------------------------------------------------

    def inject(
        self, pattern: str, kind: int | str, times: int = 1, retry_after: str | None = None, method: str = "GET"
    ) -> None:
        with self.lock:
            self.faults.append(Fault(pattern, kind, times, retry_after, method))

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def paths(self, method: str = "GET") -> list[str]:
        with self.lock:
            return [path for m, path, _ in self.requests if m == method]

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    # ---- request handling ------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and fault.times > 0 and re.search(fault.pattern, path):
                    fault.times -= 1
                    return fault
        return None

    def issue_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl_seconds
        return {
            "access_token": token,
            "refresh_token": secrets.token_urlsafe(24),
            "token_type": "bearer",
            "expires_in": self.token_ttl_seconds,
        }

    def token_valid(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        token = header[len("Bearer ") :]
        with self.lock:
            expiry = self.tokens.get(token)
            if expiry is None or time.monotonic() >= expiry:
                return False
            uses = self.token_uses.get(token, 0) + 1
            self.token_uses[token] = uses
            return self.token_max_uses is None or uses <= self.token_max_uses

    def entries_for(self, path: str) -> list[dict[str, Any]] | None:
        parts = path.strip("/").split("/")
        org = self.org
        if parts == ["v2", "workbooks"]:
            return org.workbooks
        if parts == ["v2", "members"]:
            return org.members
        if parts == ["v2", "teams"]:
            return org.teams
        if len(parts) == 4 and parts[:2] == ["v2", "teams"] and parts[3] == "members":
            if not any(t.get("teamId") == parts[2] for t in org.teams):
                return None
            return org.team_member_entries(parts[2])
        if len(parts) == 4 and parts[:2] == ["v2", "workbooks"] and parts[3] == "pages":
            if not any(w.get("workbookId") == parts[2] for w in org.workbooks):
                return None
            return org.pages.get(parts[2], [])
        if len(parts) == 6 and parts[:2] == ["v2", "workbooks"] and parts[3] == "pages" and parts[5] == "elements":
            if (parts[2], parts[4]) not in org.elements:
                return None
            return org.elements[(parts[2], parts[4])]
        return None

    def page(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        entries = self.entries_for(path)
        if entries is None:
            return 404, {"code": "not_found", "message": f"{path} not found"}
        try:
            limit = int(query.get("limit", ["50"])[0])
        except ValueError:
            return 400, {"code": "bad_request", "message": "limit must be a number"}
        if not 1 <= limit <= MAX_LIMIT:
            return 400, {"code": "bad_request", "message": f"limit must be 1..{MAX_LIMIT}"}
        offset = 0
        token = query.get("page", [None])[0]
        if token is not None:
            with self.lock:
                listing = self.page_tokens.get(token)
            if listing is None or listing.path != path:
                return 400, {"code": "bad_request", "message": "unknown page token"}
            offset = listing.offset
        size = min(limit, self.page_size)
        chunk = entries[offset : offset + size]
        next_page = None
        if offset + size < len(entries):
            next_page = secrets.token_urlsafe(12)
            with self.lock:
                self.page_tokens[next_page] = _Listing(path, offset + size)
        return 200, {"entries": chunk, "nextPage": next_page, "total": len(entries)}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _fault(self, method: str, path: str) -> bool:
        state = self.server.state
        fault = state.take_fault(method, path)
        if fault is None:
            return False
        if fault.kind == "expire":
            state.expire_tokens()
            return False
        self._log(method, path, -1 if fault.kind == "reset" else (200 if fault.kind == "malformed" else fault.kind))
        if fault.kind == "reset":
            self._reset()
        elif fault.kind == "malformed":
            self._send(200, None, raw=b'{"entries": [{"workbookId": "x", ')
        else:
            status = int(fault.kind)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
            self._send(status, {"code": HTTPStatus(status).phrase, "message": "injected"}, headers)
        return True

    def _log(self, method: str, path: str, status: Any) -> None:
        with self.server.state.lock:
            self.server.state.requests.append((method, path, int(status)))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        if self._fault("POST", path):
            return
        state = self.server.state
        if path.rstrip("/") != "/v2/auth/token":
            self._log("POST", path, 404)
            self._send(404, {"code": "not_found", "message": "no such endpoint"})
            return
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        good = form.get("client_id") == state.client_id and form.get("client_secret") == state.client_secret
        if form.get("grant_type") not in ("client_credentials", "refresh_token") or not good:
            self._log("POST", path, 401)
            self._send(401, {"code": "unauthorized", "message": "invalid client credentials"})
            return
        self._log("POST", path, 200)
        self._send(200, state.issue_token())

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        state = self.server.state
        if state.delay_seconds:
            time.sleep(state.delay_seconds)
        if self._fault("GET", path):
            return
        if not state.token_valid(self.headers.get("Authorization")):
            self._log("GET", path, 401)
            self._send(401, {"code": "unauthorized", "message": "missing, invalid or expired token"})
            return
        status, body = state.page(path, query)
        self._log("GET", path, status)
        self._send(status, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: SigmaApiStandIn


class SigmaApiServer:
    """Start the stand-in on a free 127.0.0.1 port in a background thread; stop() ends it."""

    def __init__(self, state: SigmaApiStandIn) -> None:
        self.state = state
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = state
        self._thread = threading.Thread(target=self._server.serve_forever, name="sigma-api-stand-in", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SigmaApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> SigmaApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- the demo organisation: the seeds' workbooks and elements, with pages, members and teams ---


def _stable_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def _iso(value: str) -> str:
    return value.replace(" ", "T") + "Z" if value else value


def _read_seed(seeds: Path, name: str) -> list[dict[str, str]]:
    """A seed's rows; those with a deleted_at are left out (Sigma no longer lists them)."""
    with open(seeds / name, newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if not row.get("deleted_at")]


def demo_org(seeds: Path = SEEDS) -> SigmaOrg:
    """The demo inventory as Sigma's API would list it, from the shipped seeds (the one statement
    of the demo's inventory): the workbooks and elements, their pages, the members with their
    account types, the teams and who is in them."""
    workbooks = _read_seed(seeds, "sigma_workbooks.csv")
    elements = _read_seed(seeds, "sigma_workbook_elements.csv")
    org = SigmaOrg()
    members: dict[str, str] = {}  # email -> memberId
    for row in _read_seed(seeds, "sigma_members.csv"):
        members[row["email"]] = row["member_id"]
        org.members.append(
            {
                "memberId": row["member_id"],
                "email": row["email"],
                "firstName": row.get("first_name") or None,
                "lastName": row.get("last_name") or None,
                "memberType": row.get("member_type") or None,
            }
        )
    strangers = sorted({row["owner_email"] for row in workbooks} - members.keys())
    if strangers:
        raise ValueError(f"seeds: workbook owners missing from sigma_members.csv: {', '.join(strangers)}")
    memberships = _read_seed(seeds, "sigma_team_members.csv")
    for row in _read_seed(seeds, "sigma_teams.csv"):
        team_id = row["team_id"]
        listed = [m["member_id"] for m in memberships if m["team_id"] == team_id]
        org.add_team(team_id, row["name"], row.get("description") or None, listed)
    for row in workbooks:
        url_id = row["workbook_url_id"]
        wid = row["workbook_id"]
        pages: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for element in (e for e in elements if e["workbook_url_id"] == url_id):
            page_id = _stable_id("page", wid, element["page_name"])
            kind = element["element_type"]
            pages.setdefault(page_id, (element["page_name"], []))[1].append(
                {
                    "elementId": element["element_id"],
                    "name": element["name"],
                    "type": kind,
                    "vizualizationType": "bar" if kind == "visualization" else None,
                    "columns": [],
                }
            )
        owner = members[row["owner_email"]]
        org.add_workbook(
            {
                "workbookId": wid,
                "workbookUrlId": url_id,
                "name": row["name"],
                "url": f"https://app.sigmacomputing.com/acme/workbook/{url_id}",
                "path": row["path"],
                "ownerId": owner,
                "createdBy": owner,
                "updatedBy": owner,
                "createdAt": _iso(row["created_at"]),
                "updatedAt": _iso(row["updated_at"]),
                "latestVersion": 1,
                "isArchived": False,
            },
            pages,
        )
    return org


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sigma_impressions.demo.sigma_api_server",
        description="Serve the demo inventory from a local Sigma API stand-in while COMMAND runs "
        "(COMMAND gets SIGMA_IMPRESSIONS_SIGMA_API_URL, _CLIENT_ID and _CLIENT_SECRET). "
        "Without COMMAND: serve until interrupted.",
    )
    parser.add_argument("--page-size", type=int, default=2, help="entries per page (default 2: short pages)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command else []
    state = SigmaApiStandIn(demo_org(), page_size=args.page_size)
    with SigmaApiServer(state) as server:
        if not command:
            print(f"sigma api stand-in on {server.url} (client id {state.client_id}); Ctrl-C stops it", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        print(f"sigma api stand-in on {server.url}: the demo inventory comes from it", flush=True)
        env = {
            **os.environ,
            "SIGMA_IMPRESSIONS_SIGMA_API_URL": server.url,
            "SIGMA_IMPRESSIONS_SIGMA_CLIENT_ID": state.client_id,
            "SIGMA_IMPRESSIONS_SIGMA_CLIENT_SECRET": state.client_secret,
        }
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
