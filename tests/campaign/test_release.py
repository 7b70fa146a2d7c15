"""NexmoReleaseNumbersOperator against the sandbox: guards, explicit lists, dry run, idempotent re-runs."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.campaigns.selector import NumberSelector
from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator
from airflow_provider_nexmo_numbers.operators.release import NexmoReleaseNumbersOperator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def account(sandbox, nexmo_conn) -> dict[str, Any]:
    """4 campaign numbers (webhook A) and 2 foreign ones (webhook B), bought through the ensure operator."""
    hook_a = sandbox.admin.webhook_url("campaign-a", ready_after=0)
    hook_b = sandbox.admin.webhook_url("campaign-b", ready_after=0)
    ours = NexmoEnsureNumbersOperator(
        task_id="a", selector={"country": "GB", "type": "mobile-lvn", "mo_http_url": hook_a}, count=4
    ).execute({})
    theirs = NexmoEnsureNumbersOperator(
        task_id="b", selector={"country": "GB", "type": "landline", "mo_http_url": hook_b}, count=2
    ).execute({})
    return {"hook": hook_a, "ours": ours, "theirs": theirs, "writes": sandbox.admin.stats()["writes"]}


def owned_msisdns(sb) -> set[str]:
    return {n["msisdn"] for n in sb.admin.owned()}


def release(**kwargs: Any) -> NexmoReleaseNumbersOperator:
    return NexmoReleaseNumbersOperator(task_id="release", **kwargs)


def test_selector_releases_only_the_campaign(sandbox, account):
    result = release(selector={"country": "GB", "mo_http_url": account["hook"]}).execute({})
    assert sorted(r["msisdn"] for r in result["released"]) == account["ours"]["msisdns"]
    assert result["count"] == 4
    assert owned_msisdns(sandbox) == set(account["theirs"]["msisdns"])
    assert set(sandbox.admin.stats()["cancellations"].values()) == {1}


def test_empty_selector_is_refused_even_when_rendered_at_runtime(sandbox, account):
    op = release(selector="{{ params.selector }}")
    op.selector = {}  # as rendered
    before = sandbox.admin.stats()["api_requests"]
    with pytest.raises(AirflowFailException, match="allow_all"):
        op.execute({})
    assert sandbox.admin.stats()["api_requests"] == before
    assert sandbox.admin.stats()["cancellations"] == {}


def test_allow_all_releases_everything(sandbox, account):
    dry = release(allow_all=True, dry_run=True).execute({})
    assert dry["count"] == 6
    assert sandbox.admin.stats()["writes"] == account["writes"]
    result = release(allow_all=True).execute({})
    assert result["count"] == 6
    assert owned_msisdns(sandbox) == set()


def test_max_release_exceeded_cancels_nothing(sandbox, account):
    with pytest.raises(AirflowFailException, match="max_release=3"):
        release(selector={"country": "GB", "mo_http_url": account["hook"]}, max_release=3).execute({})
    assert sandbox.admin.stats()["cancellations"] == {}
    assert sandbox.admin.stats()["writes"] == account["writes"]
    result = release(selector={"country": "GB", "mo_http_url": account["hook"]}, max_release=4).execute({})
    assert result["count"] == 4


def test_keep_list_is_never_released(sandbox, account):
    kept = account["ours"]["msisdns"][:2]
    result = release(selector={"mo_http_url": account["hook"]}, keep=kept, max_release=2).execute(
        {}
    )  # the cap counts targets after `keep`
    assert result["kept"] == kept
    assert result["count"] == 2
    assert set(kept) <= owned_msisdns(sandbox)
    assert not set(kept) & set(sandbox.admin.stats()["cancellations"])


def test_dry_run_returns_what_would_be_released(sandbox, account):
    result = release(selector={"country": "GB", "type": "landline"}, dry_run=True).execute({})
    assert sorted(r["msisdn"] for r in result["would_release"]) == account["theirs"]["msisdns"]
    assert result["released"] == []
    assert sandbox.admin.stats()["writes"] == account["writes"]
    assert len(owned_msisdns(sandbox)) == 6


def test_explicit_list_from_an_ensure_result_filtered_by_selector(sandbox, account):
    listed = {"msisdns": account["ours"]["msisdns"][:3] + account["theirs"]["msisdns"][:1]}
    result = release(msisdns=listed, selector={"mo_http_url": account["hook"]}).execute({})
    assert sorted(r["msisdn"] for r in result["released"]) == account["ours"]["msisdns"][:3]
    assert result["not_matching"] == account["theirs"]["msisdns"][:1]
    assert account["theirs"]["msisdns"][0] in owned_msisdns(sandbox)


def test_explicit_list_rerun_is_idempotent(sandbox, account):
    listed = account["ours"]["msisdns"]
    first = release(msisdns=listed).execute({})
    assert first["count"] == 4
    second = release(msisdns=listed).execute({})
    assert second["count"] == 0
    assert second["already_released"] == listed
    assert set(sandbox.admin.stats()["cancellations"].values()) == {1}


def test_selector_rerun_after_partial_release_finishes_the_job(sandbox, account):
    """A try that died after cancelling some numbers: the retry releases the rest, nothing twice."""
    sandbox.admin.queue_fault("drop_after_commit", operation="POST /number/cancel")
    selector = {"mo_http_url": account["hook"]}
    first = release(selector=selector).execute({})
    assert sum(r["already_released"] for r in first["released"]) == 1  # resolved by looking, not re-sent
    second = release(selector=selector).execute({})
    assert second["count"] == 0
    stats = sandbox.admin.stats()
    assert set(stats["cancellations"].values()) == {1}
    assert sorted(stats["cancellations"]) == account["ours"]["msisdns"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_marker_is_refused_before_any_request(sandbox, nexmo_conn, blank):
    """{"mo_http_url": "{{ params.hook }}"} rendered with an empty default once released every unconfigured
    spare of every campaign."""
    sandbox.admin.seed_owned(3, country="GB", configured=False)
    op = release(selector="{{ params.selector }}")
    op.selector = {"country": "GB", "mo_http_url": blank}  # as rendered
    before = sandbox.admin.stats()["api_requests"]
    with pytest.raises(AirflowFailException, match=r"selector\.mo_http_url.*allow_unconfigured"):
        op.execute({})
    assert sandbox.admin.stats()["api_requests"] == before
    assert sandbox.admin.stats()["cancellations"] == {}


def test_allow_unconfigured_releases_numbers_without_the_setting(sandbox, nexmo_conn):
    sandbox.admin.seed_owned(2, country="GB", configured=False)
    unconfigured = {n["msisdn"] for n in sandbox.admin.owned() if not n.get("moHttpUrl")}
    result = release(selector={"country": "GB", "mo_http_url": ""}, allow_unconfigured=True).execute({})
    assert {r["msisdn"] for r in result["released"]} == unconfigured


def test_max_release_has_a_safe_default(sandbox, nexmo_conn):
    sandbox.admin.seed_owned(11, country="GB", configured=False)
    with pytest.raises(AirflowFailException, match="max_release=10"):
        release(selector={"country": "GB"}).execute({})
    assert sandbox.admin.stats()["cancellations"] == {}


def test_releases_are_recorded_in_the_ledger(sandbox, account):
    from airflow_provider_nexmo_numbers.ledger.airflow import open_ledger

    release(selector={"country": "GB", "mo_http_url": account["hook"]}).execute({})

    with open_ledger() as ledger:
        released = {row["msisdn"]: row for row in ledger.releases()}
        facts = ledger.facts(account["ours"]["msisdns"])
    assert sorted(released) == account["ours"]["msisdns"]
    assert {row["kind"] for row in released.values()} == {"release"}
    assert {f["state"] for f in facts.values()} == {"released"}
    assert {f["campaign"] for f in facts.values()} == {
        NumberSelector.parse(
            {"country": "GB", "type": "mobile-lvn", "mo_http_url": account["hook"]}
        ).describe()
    }
