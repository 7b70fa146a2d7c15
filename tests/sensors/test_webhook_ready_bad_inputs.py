"""Table of bad inputs for the webhook-readiness sensor and trigger: each fails at once, naming the field.

Otherwise-valid URLs point at a local server, so "no request was made" is checked by its hit count.
"""

from __future__ import annotations

import math

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_nexmo_numbers.readiness.config import WebhookReadyConfigError
from airflow_provider_nexmo_numbers.sensors.webhook_ready import NexmoWebhookReadySensor
from airflow_provider_nexmo_numbers.triggers.webhook_ready import NexmoWebhookReadyTrigger

pytestmark = pytest.mark.timeout(30)

SENSOR_CASES = [
    # (case id, kwargs, field named in the message)
    ("url-not-a-url", {"url": "not a url"}, "url"),
    ("url-relative", {"url": "/hooks/sms"}, "url"),
    ("url-ftp-scheme", {"url": "ftp://example.com/hook"}, "url"),
    ("url-no-host", {"url": "http:///hook"}, "url"),
    ("url-empty", {"url": ""}, "url"),
    ("url-none", {"url": None}, "url"),
    ("url-bad-port", {"url": "http://127.0.0.1:99999/hook"}, "url"),
    ("url-whitespace", {"url": "http://exa mple.com/hook"}, "url"),
    ("statuses-below-100", {"expected_statuses": 99}, "expected_statuses"),
    ("statuses-above-599", {"expected_statuses": [200, 600]}, "expected_statuses"),
    ("statuses-string", {"expected_statuses": "200"}, "expected_statuses"),
    ("statuses-empty", {"expected_statuses": []}, "expected_statuses"),
    ("statuses-float", {"expected_statuses": [200.0]}, "expected_statuses"),
    ("statuses-bool", {"expected_statuses": True}, "expected_statuses"),
    ("request-timeout-zero", {"request_timeout": 0}, "request_timeout"),
    ("request-timeout-negative", {"request_timeout": -1}, "request_timeout"),
    ("request-timeout-string", {"request_timeout": "5"}, "request_timeout"),
    ("request-timeout-nan", {"request_timeout": math.nan}, "request_timeout"),
    ("poke-interval-negative", {"poke_interval": -1}, "poke_interval"),
    ("poke-interval-string", {"poke_interval": "fast"}, "poke_interval"),
    ("timeout-negative", {"timeout": -5}, "timeout"),
    ("mode-unknown", {"mode": "push"}, "mode"),
    ("headers-list", {"headers": ["X-Hook-Secret: s3cret"]}, "headers"),
    ("headers-int-value", {"headers": {"X-Count": 1}}, "headers"),
    ("headers-bad-name", {"headers": {"Bad Name": "x"}}, "headers"),
    ("headers-newline", {"headers": {"X-Evil": "a\r\nInjected: 1"}}, "headers"),
    ("deferrable-not-bool", {"deferrable": "yes"}, "deferrable"),
    ("url-with-credentials", {"url": "https://user:pw@hooks.example.com/sms"}, "url"),
    ("max-permanent-failures-zero", {"max_permanent_failures": 0}, "max_permanent_failures"),
    ("max-permanent-failures-float", {"max_permanent_failures": 2.5}, "max_permanent_failures"),
]

TRIGGER_CASES = [
    ("trigger-url-mailto", {"url": "mailto:ops@example.com"}, "url"),
    ("trigger-url-no-host", {"url": "https://"}, "url"),
    ("trigger-statuses-zero", {"expected_statuses": [0]}, "expected_statuses"),
    ("trigger-request-timeout-zero", {"request_timeout": 0}, "request_timeout"),
    ("trigger-poke-interval-negative", {"poke_interval": -0.5}, "poke_interval"),
    ("trigger-poke-interval-inf", {"poke_interval": math.inf}, "poke_interval"),
    ("trigger-deadline-string", {"deadline": "tomorrow"}, "deadline"),
    ("trigger-headers-none-value", {"headers": {"Authorization": None}}, "headers"),
    ("trigger-url-with-credentials", {"url": "http://user:pw@127.0.0.1/hook"}, "url"),
    ("trigger-max-permanent-failures-bool", {"max_permanent_failures": True}, "max_permanent_failures"),
]


@pytest.mark.parametrize(("kwargs", "field"), [c[1:] for c in SENSOR_CASES], ids=[c[0] for c in SENSOR_CASES])
def test_sensor_rejects_bad_input_at_construction(local_webhook, kwargs, field):
    arguments = {"url": local_webhook.url("status/200"), **kwargs}
    with pytest.raises(WebhookReadyConfigError) as raised:
        NexmoWebhookReadySensor(task_id="wait", **arguments)
    assert raised.value.field == field
    assert f"`{field}`" in str(raised.value)
    assert raised.value.rule in str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert local_webhook.hits == []


@pytest.mark.parametrize(
    ("kwargs", "field"), [c[1:] for c in TRIGGER_CASES], ids=[c[0] for c in TRIGGER_CASES]
)
def test_trigger_rejects_bad_input(local_webhook, kwargs, field):
    arguments = {"url": local_webhook.url("status/200"), **kwargs}
    url = arguments.pop("url")
    with pytest.raises(WebhookReadyConfigError) as raised:
        NexmoWebhookReadyTrigger(url, **arguments)
    assert raised.value.field == field
    assert f"`{field}`" in str(raised.value)
    assert local_webhook.hits == []


@pytest.mark.parametrize(
    ("rendered", "field"),
    [
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "hooks.example.com/sms"}, "url"),
        ({"headers": {"X-Hook-Secret": 42}}, "headers"),
    ],
    ids=["rendered-url-ftp", "rendered-url-no-scheme", "rendered-headers-int"],
)
def test_sensor_rejects_bad_rendered_values_before_any_request(local_webhook, rendered, field):
    sensor = NexmoWebhookReadySensor(
        task_id="wait", url="{{ params.hook }}", headers={"X-Hook-Secret": "{{ params.secret }}"}
    )
    sensor.url = local_webhook.url("status/200")  # what a good rendering would produce...
    for name, value in rendered.items():  # ...and the bad part of this case
        setattr(sensor, name, value)
    with pytest.raises(AirflowFailException, match=f"`{field}`"):
        sensor.execute({})
    assert local_webhook.hits == []


def test_header_values_are_never_echoed_in_errors():
    with pytest.raises(WebhookReadyConfigError) as raised:
        NexmoWebhookReadySensor(
            task_id="wait", url="https://example.com/h", headers={"X-Token": b"t0p-s3cret"}
        )
    assert "t0p-s3cret" not in str(raised.value)
    assert "X-Token" in str(raised.value)


def test_table_is_big_enough():
    assert len(SENSOR_CASES) + len(TRIGGER_CASES) >= 10
