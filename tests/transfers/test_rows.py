"""Row flattening and snapshot resolution: the shape every export writes."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import pytest

from airflow_provider_nexmo_numbers.client.paging import planned_requests
from airflow_provider_nexmo_numbers.transfers._rows import (
    COLUMN_NAMES,
    Snapshot,
    number_record,
    resolve_snapshot,
)
from airflow_provider_nexmo_numbers.transfers._source import ExportProgress

SNAP = Snapshot("scheduled__2024-05-01", dt.date(2024, 5, 1), "scheduled__2024-05-01")


def test_record_has_every_column_in_order_and_feature_flags():
    number = {
        "country": "NL",
        "msisdn": "31612345678",
        "type": "mobile-lvn",
        "features": ["SMS", "VOICE"],
        "mo_http_url": "https://example.com/sms",
        "voice_callback_type": "app",
        "voice_callback_value": "abc",
    }
    record = number_record(number, SNAP)
    assert tuple(record) == COLUMN_NAMES
    assert record["snapshot_id"] == "scheduled__2024-05-01"
    assert record["snapshot_date"] == dt.date(2024, 5, 1)
    assert record["features"] == ["SMS", "VOICE"]
    assert (record["has_sms"], record["has_voice"], record["has_mms"]) == (True, True, False)
    assert record["mo_smpp_sys_type"] is None
    assert record["app_id"] is None


def test_record_accepts_a_model_with_to_dict():
    model = SimpleNamespace(to_dict=lambda: {"country": "GB", "msisdn": "447700900000", "features": ["MMS"]})
    record = number_record(model, SNAP)
    assert record["msisdn"] == "447700900000"
    assert (record["has_sms"], record["has_mms"]) == (False, True)


def test_snapshot_defaults_to_run_id_and_ds():
    snap = resolve_snapshot({"run_id": "manual__x", "ds": "2024-02-29"}, None, None)
    assert snap == Snapshot("manual__x", dt.date(2024, 2, 29), "manual__x")


def test_snapshot_explicit_values_win():
    snap = resolve_snapshot({"run_id": "r", "ds": "2024-02-29"}, "nightly", "2023-12-31")
    assert (snap.snapshot_id, snap.snapshot_date, snap.run_id) == ("nightly", dt.date(2023, 12, 31), "r")


def test_snapshot_without_logical_date_uses_run_after():
    run = SimpleNamespace(run_after=dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.timezone.utc))
    snap = resolve_snapshot(
        {"run_id": "asset_triggered__1", "logical_date": None, "dag_run": run}, None, None
    )
    assert snap.snapshot_date == dt.date(2025, 1, 2)


def test_snapshot_outside_a_run_gets_an_adhoc_id():
    snap = resolve_snapshot({}, None, None)
    assert snap.snapshot_id.startswith("adhoc__")
    assert snap.run_id is None


def test_snapshot_date_must_be_iso():
    with pytest.raises(ValueError, match="snapshot_date: must be an ISO date"):
        resolve_snapshot({"run_id": "r"}, None, "01/02/2024")


def test_progress_names_pages_of_total_and_rate(caplog):
    logger = logging.getLogger("test.progress")
    progress = ExportProgress(logger, interval=0, what="export to t", pace=10.0, planned=planned_requests)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress.page_fetched(250, 100, 100)
        progress.page_fetched(250, 100, 100)
        progress.finished()
    assert "export to t: 250 numbers in about 3 requests" in caplog.text
    assert "pace 10 requests/s, ETA about 0 s" in caplog.text
    assert "page 2 of 3, 200 of 250 numbers" in caplog.text
    assert "numbers/s" in caplog.text
    assert "finished: 200 numbers from 2 pages" in caplog.text


def test_estimate_of_a_large_export_names_requests_pace_and_eta(caplog):
    logger = logging.getLogger("test.estimate")
    progress = ExportProgress(logger, what="export to t", pace=2.0, planned=planned_requests)
    with caplog.at_level(logging.INFO, logger="test.estimate"):
        progress.page_fetched(100_000, 100, 100)
    assert "100,000 numbers in about 1,143 requests" in caplog.text
    assert "pace 2 requests/s, ETA about 10 min" in caplog.text  # 1,143 / 2 = 572 s


def test_estimate_without_count(caplog):
    logger = logging.getLogger("test.nocount")
    progress = ExportProgress(logger, what="export to t")
    with caplog.at_level(logging.INFO, logger="test.nocount"):
        progress.page_fetched(None, 100, 100)
    assert "the API gave no count" in caplog.text
    assert "pace not limited" in caplog.text


def test_progress_logs_at_a_sane_cadence(caplog):
    logger = logging.getLogger("test.cadence")
    progress = ExportProgress(logger, interval=3600)
    with caplog.at_level(logging.INFO, logger="test.cadence"):
        for _ in range(50):
            progress.page_fetched(5000, 100, 100)
    assert len(caplog.records) == 1  # the first page only; the next line is an hour away


def test_progress_of_a_large_export_plans_the_read_once_not_once_per_page(monkeypatch):
    """The estimate walks the whole paging plan; asked after every page of 100,000 numbers it had cost
    more CPU than the export itself (quadratic in the number of pages)."""
    from airflow_provider_nexmo_numbers.client import paging

    getattr(paging.planned_requests, "cache_clear", lambda: None)()  # remembered since the fix
    steps: list[int] = []
    real_plan_page = paging.plan_page

    def counting_plan_page(end: int, max_size: int = 100) -> tuple[int, int]:
        steps.append(end)
        return real_plan_page(end, max_size)

    monkeypatch.setattr(paging, "plan_page", counting_plan_page)
    progress = ExportProgress(
        logging.getLogger("test.plan"), interval=0, what="export", planned=planned_requests
    )
    for _ in range(200):
        progress.page_fetched(100_000, 100, 100)
    assert len(steps) <= 1_143  # one walk of the plan (1,143 requests), not one per page
