"""A fault-injecting HTTP proxy on loopback, between the loader and moto_server / the GCS emulator.

The loader talks to the proxy as if it were the storage endpoint (`--endpoint-url` for S3,
`STORAGE_EMULATOR_HOST` for GCS); the proxy forwards each request to the real server, unless a
fault rule matches it first. Rules match a substring of the request path (query included) and,
optionally, the method, and fire `times` times (None: every time). Modes:

- "500", "503", "403": an error response with the server's body shape (S3 XML or GCS JSON);
- "slowdown": S3's throttling answer, 503 with code SlowDown;
- "reset": the real response's status, headers and half its body, then a TCP reset;
- "stall": no answer at all for `stall_seconds` (past the client's read timeout), then a close.

Every request and every injected fault is recorded, so tests can assert what the client retried.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MODES = ("500", "503", "403", "slowdown", "reset", "stall")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
S3_ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailable", "Service is unable to handle request."),
    "403": (403, "AccessDenied", "Access Denied"),
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
}


@dataclass
class Fault:
    mode: str
    match: str = ""  # substring of the request path, query included
    method: str | None = None  # only requests with this method
    times: int | None = 1  # how many requests it hits; None: all of them
    stall_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}: use one of {MODES}")


@dataclass
class Record:
    method: str
    path: str
    fault: str | None  # the mode injected, or None when forwarded untouched


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:port of the real server
    flavor: str = "s3"  # "s3" or "gcs": the shape of error bodies
    faults: list[Fault] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def add(self, mode: str, match: str = "", method: str | None = None, times: int | None = 1, **kw: float) -> Fault:
        fault = Fault(mode, match, method, times, **kw)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def injected(self, mode: str | None = None, match: str = "") -> int:
        """How many faults were injected (of this mode, on paths containing `match`)."""
        with self._lock:
            return sum(1 for r in self.records if r.fault and (mode in (None, r.fault)) and match in r.path)

    def requests(self, match: str = "", method: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.records if match in r.path and method in (None, r.method))

    def counts(self) -> Counter:
        with self._lock:
            return Counter(r.fault for r in self.records if r.fault)

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.match in path and fault.method in (None, method) and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    self.records.append(Record(method, path, fault.mode))
                    return fault
            self.records.append(Record(method, path, None))
            return None

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=60)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            connection.close()

    def _error_body(self, mode: str, path: str) -> tuple[int, str, bytes]:
        status, code, message = S3_ERRORS[mode]
        if self.flavor == "gcs":
            body = {"error": {"code": status, "message": message, "errors": [{"reason": code, "message": message}]}}
            return status, "application/json", json.dumps(body).encode()
        xml = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message>"
        xml += f"<Resource>{path.split('?')[0]}</Resource><RequestId>fault-proxy</RequestId></Error>"
        return status, "application/xml", xml.encode()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = proxy._take(self.command, self.path)
            if fault is None:
                self._relay(*proxy._forward(self.command, self.path, self._headers(), body))
            elif fault.mode == "stall":
                proxy._stopping.wait(fault.stall_seconds)
                self.close_connection = True
            elif fault.mode == "reset":
                status, headers, data = proxy._forward(self.command, self.path, self._headers(), body)
                self._relay(status, headers, data[: len(data) // 2], length=len(data))
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
            else:
                status, content_type, data = proxy._error_body(fault.mode, self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

        def _headers(self) -> dict[str, str]:
            return {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}

        def _relay(self, status: int, headers: list, data: bytes, length: int | None = None) -> None:
            if self.command == "HEAD":  # no body: the upstream's Content-Length is the object's size
                length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

    return Handler
