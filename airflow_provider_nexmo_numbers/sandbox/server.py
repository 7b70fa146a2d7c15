"""Run the sandbox: in a background thread of this process, or as a subprocess; always on a free port.

`run_sandbox` is what tests use (about 0.1 s to start); `run_sandbox_subprocess` runs the console script's
code in its own interpreter (about a second), for tests that must not share the process (or the GIL) with
the server. With `tls=True` both serve https with a certificate generated at start (`handle.ca_bundle`),
deleted at stop.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from .admin_client import SandboxAdmin
from .config import KPN_PREFIX, TOKEN_PATH, SandboxConfig
from .serving import bind_socket, make_server, socket_url
from .tls import materialise

URL_LINE = re.compile(r"listening on (https?://\S+)")


@dataclass
class SandboxHandle:
    """A running sandbox: where it is, whom to log in as, and its admin client."""

    url: str
    config: SandboxConfig
    admin: SandboxAdmin = field(init=False)
    started_in: float = 0.0  # seconds from start call to accepting requests
    pid: int | None = None  # the server's process (this one for run_sandbox)
    #: TLS only: the PEM file to verify the server with (`verify=sb.ca_bundle`, REQUESTS_CA_BUNDLE ...).
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        self.admin = SandboxAdmin(self.url, verify=self.ca_bundle if self.ca_bundle else True)

    @property
    def base_url(self) -> str:
        """KPN-flavour API base URL (what a connection's host should be)."""
        return self.url + KPN_PREFIX

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def vonage_url(self) -> str:
        """Vonage-direct base URL (the stand-in for https://rest.nexmo.com)."""
        return self.url

    @property
    def rest_host(self) -> str:
        """host:port of the Vonage-direct flavour, what Vonage's SDK takes as `rest_host` (TLS only)."""
        return self.url.split("://", 1)[1]

    @property
    def client_id(self) -> str:
        return self.config.first_client[0]

    @property
    def client_secret(self) -> str:
        return self.config.first_client[1]

    @property
    def clients(self) -> dict[str, str]:
        return dict(self.config.clients)

    def connection_extra(self, api: str = "kpn", **extra: Any) -> dict[str, Any]:
        """oauth_url (KPN) or api=vonage, plus verify_ssl=<ca_bundle> for a TLS sandbox, plus your extras
        (which win)."""
        tls = {"verify_ssl": self.ca_bundle} if self.ca_bundle else {}
        flavour = {"oauth_url": self.token_url} if api == "kpn" else {"api": api}
        return {**flavour, **tls, **extra}

    def connection_json(self, api: str = "kpn", **extra: Any) -> str:
        """JSON for an AIRFLOW_CONN_<ID> environment variable pointing at this sandbox, in flavour `api`
        ("kpn", the default, or "vonage": Vonage direct, api key and secret as login and password)."""
        return json.dumps(
            {
                "conn_type": "nexmo_numbers",
                "host": self.base_url if api == "kpn" else self.vonage_url,
                "login": self.client_id,
                "password": self.client_secret,
                "extra": self.connection_extra(api, **extra),
            }
        )

    def connection_uri(self, api: str = "kpn", **extra: Any) -> str:
        """The same connection as an Airflow URI (the host, a full URL, percent-encoded)."""
        query = urlencode(
            {
                k: v if isinstance(v, str) else json.dumps(v)
                for k, v in self.connection_extra(api, **extra).items()
            }
        )
        host = self.base_url if api == "kpn" else self.vonage_url
        return (
            f"nexmo-numbers://{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            f"@{quote(host, safe='')}?{query}"
        )

    def close(self) -> None:
        self.admin.close()


def _config(config: SandboxConfig | None, overrides: dict[str, Any]) -> SandboxConfig:
    if config is None:
        return SandboxConfig(**overrides)
    return dataclasses.replace(config, **overrides) if overrides else config


class _ThreadedServer:
    def __init__(self, config: SandboxConfig) -> None:
        config, self._cleanup = materialise(config)
        self.ca_bundle = config.ssl_certfile if config.tls else None
        try:
            self.sock = bind_socket(config.host, config.port)
            self.url = socket_url(self.sock, config.scheme)
            logging.getLogger("uvicorn.error").setLevel(config.log_level.upper())
            self.server = make_server(config, in_process=True)
        except BaseException:
            self._cleanup()
            raise
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name=f"nexmo-sandbox-{self.sock.getsockname()[1]}",
            daemon=True,
        )

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the sandbox server thread died during start-up (see the log)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox did not start within {timeout} s")
            time.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=5)
        self.sock.close()
        self._cleanup()


@contextmanager
def run_sandbox(config: SandboxConfig | None = None, **overrides: Any) -> Iterator[SandboxHandle]:
    """Run a sandbox in a background thread of this process on a free port (unless config.port is set).

    Example::

        with run_sandbox(SandboxConfig(seed=7, owned_numbers=100)) as sb:
            requests.post(sb.token_url, params={"grant_type": "client_credentials"},
                          data={"client_id": sb.client_id, "client_secret": sb.client_secret})
    """
    cfg = _config(config, overrides)
    t0 = time.perf_counter()
    server = _ThreadedServer(cfg)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    handle = SandboxHandle(
        server.url, cfg, started_in=time.perf_counter() - t0, pid=os.getpid(), ca_bundle=server.ca_bundle
    )
    try:
        yield handle
    finally:
        handle.close()
        server.stop()


@contextmanager
def run_sandbox_subprocess(
    config: SandboxConfig | None = None, *, start_timeout: float = 30.0, **overrides: Any
) -> Iterator[SandboxHandle]:
    """Run a sandbox in its own Python process (the console script's code) on a free port.

    With TLS, this process writes the certificate (so it knows `ca_bundle`, and removes it even if the child
    has to be killed) and hands the files to the child."""
    cfg = _config(config, overrides)
    t0 = time.perf_counter()
    served, cleanup = materialise(cfg)
    try:
        cmd = [
            sys.executable,
            "-m",
            "airflow_provider_nexmo_numbers.sandbox.cli",
            "--config-json",
            served.to_json(),
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        try:
            url = _read_url(proc, start_timeout)
            handle = SandboxHandle(
                url,
                cfg,
                started_in=time.perf_counter() - t0,
                pid=proc.pid,
                ca_bundle=served.ssl_certfile if served.tls else None,
            )
            threading.Thread(target=_drain, args=(proc,), daemon=True).start()
            try:
                yield handle
            finally:
                handle.close()
        finally:
            stop_process(proc)
    finally:
        cleanup()


def _read_url(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    result: list[str] = []

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            match = URL_LINE.search(line)
            if match:
                result.append(match.group(1))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not result:
        stop_process(proc)
        raise RuntimeError(
            f"the sandbox subprocess did not report its URL within {timeout} s (exit code {proc.returncode})"
        )
    return result[0]


def _drain(proc: subprocess.Popen[str]) -> None:
    try:
        for _ in proc.stdout or ():
            pass
    except (OSError, ValueError):
        pass


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> int | None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode
