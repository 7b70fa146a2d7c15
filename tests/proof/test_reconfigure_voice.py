"""Found by the chaos campaign: changing only the voice callback *value* of a campaign failed every try.

`build_plan` puts into a reconfigure item only the settings that differ (`settings_diff`); when the numbers
already routed voice to `sip` and the campaign asked for another SIP URI, the item held
`voice_callback_value` without `voice_callback_type`, and the client's validation refused that update
("requires voice_callback_type in the same update") before any write, on every retry. Now either voice field
differing puts both into the item. Plain run, no faults: this is not about chaos.
"""

from __future__ import annotations

from airflow_provider_nexmo_numbers.operators.ensure import NexmoEnsureNumbersOperator

COUNT = 3


def _ensure(hook: str, sip: str) -> NexmoEnsureNumbersOperator:
    return NexmoEnsureNumbersOperator(
        task_id="ensure",
        selector={"country": "GB", "type": "mobile-lvn", "mo_http_url": hook},
        count=COUNT,
        configuration={"voice_callback_type": "sip", "voice_callback_value": sip},
        max_monthly_cost="5",
        search_limit=100,
    )


def test_ensure_moves_campaign_numbers_to_a_new_sip_uri(sandbox, nexmo_conn):
    hook = sandbox.admin.webhook_url("proof-voice", ready_after=0)
    first = _ensure(hook, "sip:v1@pbx.example.com").execute({})
    assert len(first["msisdns"]) == COUNT

    second = _ensure(hook, "sip:v2@pbx.example.com").execute({})

    assert second["msisdns"] == first["msisdns"]
    assert sorted(second["applied"]["reconfigured"]) == first["msisdns"]
    owned = {n["msisdn"]: n for n in sandbox.admin.owned()}
    for msisdn in first["msisdns"]:
        assert owned[msisdn]["voiceCallbackType"] == "sip"
        assert owned[msisdn]["voiceCallbackValue"] == "sip:v2@pbx.example.com"
    assert set(sandbox.admin.stats()["purchases"].values()) == {1}
