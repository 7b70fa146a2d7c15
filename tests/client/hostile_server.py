"""A stdlib HTTP server on loopback that misbehaves on purpose: trickles its answers, states absurd token
lifetimes, answers 200 with a used-up daily quota. What the sandbox cannot produce."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HostileServer:
    """`behaviour` maps a path to what it does: "ok", "trickle-body", "trickle-headers", "quota-used-up", or
    "redirect:<path>" (a 307 to that path, the query kept). `bodies` maps a path to the JSON it answers
    (default `{"count": 0}`). `token_expires_in` is what the token endpoint states. `hits` counts requests
    per path; `requests` lists (path with query, Authorization header) of each."""

    def __init__(self) -> None:
        self.behaviour: dict[str, str] = {}
        self.bodies: dict[str, Any] = {}
        self.token_expires_in: Any = "3599"
        self.quota_reset_in = 3 * 3600.0
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, str | None]] = []
        self.stop_trickling = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self._answer()

            def _answer(self) -> None:
                path, _, query = self.path.partition("?")
                server.hits[path] += 1
                server.requests.append((self.path, self.headers.get("Authorization")))
                if path.endswith("/token"):
                    body = {"access_token": f"tok{server.hits[path]}", "expires_in": server.token_expires_in}
                else:
                    body = server.bodies.get(path, {"count": 0})
                data = json.dumps(body).encode()
                mode = server.behaviour.get(path, "ok")
                try:
                    if mode.startswith("redirect:"):
                        self.send_response(307)
                        self.send_header("Location", mode.partition(":")[2] + (f"?{query}" if query else ""))
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    if mode == "trickle-headers":
                        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                        self.wfile.flush()
                        for _ in range(60):  # one header byte a second: never a read timeout
                            if server.stop_trickling.wait(1.0):
                                return
                            self.wfile.write(b"X")
                            self.wfile.flush()
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if mode == "quota-used-up":
                        reset = (time.time() + server.quota_reset_in) * 1000
                        for name, value in (("quota-limit", "1000"), ("quota-used", "1000"),
                                            ("quota-interval", "1"), ("quota-time-unit", "day"),
                                            ("quota-reset-UTC", str(int(reset)))):  # fmt: skip
                            self.send_header(name, value)
                    self.end_headers()
                    if mode == "trickle-body":
                        for byte in data:  # one byte a second
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            if server.stop_trickling.wait(1.0):
                                return
                        return
                    self.wfile.write(data)
                except OSError:
                    pass  # the client hung up: that is what a bounded client does

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop_trickling.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def run_bounded(fn: Any, limit: float) -> tuple[Any, BaseException | None, float]:
    """Run `fn` in a helper thread; (result, error, seconds). Fails the test if it is still running after
    `limit` seconds (the defect: a call that holds past its budget), instead of hanging the suite."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = fn()
        except BaseException as exc:
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"the call was still running after {limit:g} s"
    return outcome.get("result"), outcome.get("error"), elapsed
