"""Helpers for the sandbox tests: an authenticated KPN session, a Vonage session, a two-client sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_nexmo_numbers.sandbox import SandboxConfig, SandboxHandle, run_sandbox

FORM = "application/x-www-form-urlencoded"
SUCCESS = {"error-code": "200", "error-code-label": "success"}
METHOD_FAILED = {"error-code": "420", "error-code-label": "method failed"}


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def fetch_token(sb: SandboxHandle, client_id: str | None = None, client_secret: str | None = None) -> str:
    client_id = client_id or sb.client_id
    client_secret = client_secret or sb.clients[client_id]
    response = requests.post(
        sb.token_url,
        params={"grant_type": "client_credentials"},
        data={"client_id": client_id, "client_secret": client_secret},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class Api:
    """The KPN flavour over HTTP with a bearer token (fetched on first use), like a minimal client."""

    def __init__(self, sb: SandboxHandle, client_id: str | None = None) -> None:
        self.sb = sb
        self.client_id = client_id or sb.client_id
        self.session = new_session()
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = fetch_token(self.sb, self.client_id)
        return self._token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, timeout: float = 5, **params: Any) -> requests.Response:
        return self.session.get(self.sb.base_url + path, params=params, headers=self.headers, timeout=timeout)

    def post(self, path: str, timeout: float = 5, **data: Any) -> requests.Response:
        return self.session.post(self.sb.base_url + path, data=data, headers=self.headers, timeout=timeout)

    def owned(self, **params: Any) -> dict[str, Any]:
        response = self.get("/account/numbers", **params)
        assert response.status_code == 200, response.text
        return response.json()

    def search(self, country: str, **params: Any) -> dict[str, Any]:
        response = self.get("/number/search", country=country, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def buy(self, country: str, msisdn: str) -> requests.Response:
        return self.post("/number/buy", country=country, msisdn=msisdn)

    def first_available(self, country: str = "GB", **params: Any) -> dict[str, Any]:
        return self.search(country, **params)["numbers"][0]


class Vonage:
    """The Vonage-direct flavour at the root path with api_key/api_secret in a Basic auth header."""

    def __init__(self, sb: SandboxHandle, api_key: str | None = None) -> None:
        self.sb = sb
        self.auth = (api_key or sb.client_id, sb.clients[api_key or sb.client_id])
        self.session = new_session()

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.sb.vonage_url + path, params=params, auth=self.auth, timeout=5)

    def post(self, path: str, **data: Any) -> requests.Response:
        return self.session.post(self.sb.vonage_url + path, data=data, auth=self.auth, timeout=5)


@pytest.fixture
def api(sandbox: SandboxHandle) -> Iterator[Api]:
    client = Api(sandbox)
    yield client
    client.session.close()


@pytest.fixture
def vonage(sandbox: SandboxHandle) -> Iterator[Vonage]:
    client = Vonage(sandbox)
    yield client
    client.session.close()


@pytest.fixture(scope="module")
def two_clients_server() -> Iterator[SandboxHandle]:
    with run_sandbox(
        SandboxConfig(clients={"alpha": "alpha-secret", "beta": "beta-secret"}, webhook_allow_loopback=True)
    ) as sb:
        yield sb


@pytest.fixture
def two_clients(two_clients_server: SandboxHandle) -> SandboxHandle:
    two_clients_server.admin.reset()
    return two_clients_server


#: A TLS sandbox's clients: the second one doubles as a Vonage sub-account (`target_api_key`).
TLS_CLIENTS = {"sandbox-client": "sandbox-secret", "sub-account": "sub-secret"}


@pytest.fixture(scope="session")
def tls_sandbox_server() -> Iterator[SandboxHandle]:
    """One https sandbox (self-signed certificate made at start) for the TLS and Vonage SDK tests."""
    with run_sandbox(SandboxConfig(tls=True, clients=TLS_CLIENTS, webhook_allow_loopback=True)) as sb:
        yield sb


@pytest.fixture
def tls_sandbox(tls_sandbox_server: SandboxHandle) -> SandboxHandle:
    tls_sandbox_server.admin.reset()
    return tls_sandbox_server
