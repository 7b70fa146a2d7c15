"""A tiny threaded HTTP server on 127.0.0.1 for conditions the sandbox's delayed webhook does not cover.

It records every hit (path, monotonic time and the request headers) so tests can count attempts and see
what was sent, and serves a few behaviours chosen by path: `/status/<code>` answers that status,
`/ready-after-hits/<n>[/<name>]` answers 503 to the first n hits of that path then 200 (readiness by count,
so no test races a clock), `/hang/<seconds>` sleeps before answering 200 (to provoke client timeouts),
`/trickle/<seconds>` sends its status line and headers one byte at a time spread over that many seconds
(recording in `aborted` a client that hung up first), `/redirect?to=<url>` answers 302 to `url`, and
`/headers` answers 200 only when the `X-Hook-Secret` header equals "s3cret" (401 otherwise).
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        hit_number = self.server.record(self.path, dict(self.headers))
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        status, extra_headers = 404, {}
        if parts[0] == "trickle" and len(parts) == 2:
            self._trickle(float(parts[1]))
            return
        if parts[0] == "status" and len(parts) == 2:
            status = int(parts[1])
        elif parts[0] == "ready-after-hits" and len(parts) >= 2:
            status = 200 if hit_number > int(parts[1]) else 503
        elif parts[0] == "redirect":
            status, extra_headers = 302, {"Location": unquote(query.removeprefix("to="))}
        elif parts[0] == "hang" and len(parts) == 2:
            time.sleep(float(parts[1]))
            status = 200
        elif parts[0] == "headers":
            status = 200 if self.headers.get("X-Hook-Secret") == "s3cret" else 401
        body = f"status {status}\n".encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout test); nothing to do

    def _trickle(self, seconds: float) -> None:
        head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"x" * 20) for i in range(10))
        head += b"Content-Length: 0\r\n\r\n"
        pause = seconds / len(head)
        try:
            for byte in head:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            self.server.aborted.append(self.path)  # the client gave up before the answer was complete

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.started = time.monotonic()
        self.hits: list[tuple[str, float]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.aborted: list[str] = []
        self._lock = threading.Lock()

    def record(self, path: str, headers: dict[str, str]) -> int:
        """Log one hit; return how many times this exact path has now been hit."""
        with self._lock:
            self.hits.append((path, time.monotonic()))
            self.requests.append((path, headers))
            return sum(1 for hit_path, _ in self.hits if hit_path == path)


class LocalWebhook:
    """Context manager running the server in a daemon thread; `url(path)` builds absolute URLs."""

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def hits(self) -> list[tuple[str, float]]:
        return list(self._server.hits)

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        """(path, request headers) of every hit, in order."""
        return list(self._server.requests)

    @property
    def aborted(self) -> list[str]:
        """Paths of /trickle requests whose client hung up before the answer was complete."""
        return list(self._server.aborted)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def __enter__(self) -> LocalWebhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A loopback port with nothing listening (bound then released), so connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def local_webhook() -> Iterator[LocalWebhook]:
    """A fresh LocalWebhook per test."""
    with LocalWebhook() as server:
        yield server


@pytest.fixture
def delayed_webhook(sandbox, request: pytest.FixtureRequest) -> Callable[[float], str]:
    """Factory: the sandbox's delayed webhook, answering 503 until `ready_after` s from the call, then 200."""
    base = re.sub(r"[^A-Za-z0-9-]+", "-", request.node.name)[:40].strip("-")
    counter = itertools.count()

    def make(ready_after: float) -> str:
        return sandbox.admin.webhook_url(f"{base}-{next(counter)}", ready_after=ready_after)

    return make
