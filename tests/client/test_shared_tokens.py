"""One token per lifetime per process: clients with the same credentials share it (and its renewal)."""

from __future__ import annotations

import os
import threading

import pytest

from airflow_provider_nexmo_numbers.client import NexmoAuthError, clear_shared_tokens, token_registry
from tests.client.conftest import request_counts

LIST = "GET /account/numbers"


def test_two_clients_in_one_process_share_one_token(sandbox, make_client):
    seen_a, seen_b = [], []
    a, b = make_client(on_token=seen_a.append), make_client(on_token=seen_b.append)
    a.list_owned_numbers(size=1)
    b.list_owned_numbers(size=1)
    b.search_available_numbers("GB", size=1)
    assert sandbox.admin.stats()["tokens_issued"] == 1
    assert a.stats["token_fetches"] == 1
    assert b.stats["token_fetches"] == 0  # reused a's token
    assert a.tokens.get_token() == b.tokens.get_token()
    # Every client's on_token (mask_secret in the hook) sees every token it uses, granted or reused.
    assert seen_a == seen_b == [a.tokens.get_token()]
    assert b.tokens.expires_in == 3599.0


def test_share_tokens_false_keeps_a_private_token(sandbox, make_client):
    a, b = make_client(), make_client(share_tokens=False)
    a.list_owned_numbers(size=1)
    b.list_owned_numbers(size=1)
    assert sandbox.admin.stats()["tokens_issued"] == 2
    assert a.tokens.get_token() != b.tokens.get_token()


def test_a_revoked_shared_token_is_renewed_once_for_all(sandbox, make_client):
    seen_b = []
    a, b = make_client(), make_client(on_token=seen_b.append)
    a.list_owned_numbers(size=1)
    b.list_owned_numbers(size=1)
    sandbox.admin.revoke_tokens()
    a.list_owned_numbers(size=1)  # 401, one renewal, replay
    b.list_owned_numbers(size=1)  # the renewed token, no 401
    stats = sandbox.admin.stats()
    assert stats["tokens_issued"] == 2
    assert request_counts(sandbox, LIST) == {"200": 4, "401": 1}
    assert (a.stats["token_fetches"], b.stats["token_fetches"]) == (2, 0)
    assert len(seen_b) == 2  # b's callback saw the renewed token too, before b used it


def test_a_revoked_shared_token_seen_by_many_clients_at_once_is_renewed_once(sandbox, make_client):
    clients = [make_client() for _ in range(6)]
    clients[0].list_owned_numbers(size=1)
    sandbox.admin.revoke_tokens()
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(clients))

    def work(client):
        barrier.wait()
        try:
            client.list_owned_numbers(size=1)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox.admin.stats()["tokens_issued"] == 2
    assert sum(client.stats["token_fetches"] for client in clients) == 2


def test_other_credentials_get_their_own_slot(sandbox, make_client):
    good = make_client()
    good.list_owned_numbers(size=1)
    wrong = make_client(client_secret="wrong-secret")
    with pytest.raises(NexmoAuthError):
        wrong.list_owned_numbers(size=1)
    assert wrong.stats["token_fetches"] == 1  # did not reuse the good credentials' token
    good.list_owned_numbers(size=1)
    assert sandbox.admin.stats()["tokens_issued"] == 1
    other_url = make_client(token_url=sandbox.token_url.replace("127.0.0.1", "localhost"))
    other_url.list_owned_numbers(size=1)
    assert sandbox.admin.stats()["tokens_issued"] == 2


def test_the_registry_keys_hold_no_secret(sandbox, make_client):
    make_client().list_owned_numbers(size=1)
    registry = token_registry._PROCESS_TOKENS
    assert len(registry) == 1
    ((token_url, client_id, fingerprint),) = registry._slots
    assert (token_url, client_id) == (sandbox.token_url, sandbox.client_id)
    assert sandbox.client_secret not in repr(registry._slots)
    assert len(fingerprint) == 64
    assert "token" not in repr(next(iter(registry._slots.values()))).replace("TokenSlot", "")


def test_clear_shared_tokens_makes_every_client_grant_anew(sandbox, make_client):
    a = make_client()
    first = a.tokens.get_token()
    clear_shared_tokens()
    assert a.tokens.get_token() != first
    assert make_client().tokens.get_token() != first
    assert sandbox.admin.stats()["tokens_issued"] == 3  # a's slot was emptied; the new client got a new slot


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_with_an_empty_registry(sandbox, make_client):
    make_client().list_owned_numbers(size=1)
    assert len(token_registry._PROCESS_TOKENS) == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, str(len(token_registry._PROCESS_TOKENS)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_slots = pipe.read()
    os.waitpid(pid, 0)
    assert child_slots == "0"
    assert len(token_registry._PROCESS_TOKENS) == 1
