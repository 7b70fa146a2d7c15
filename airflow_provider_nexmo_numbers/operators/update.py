"""Change some settings of an owned number and keep all the others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_nexmo_numbers.operators.base import (
    NexmoBaseOperator,
    is_late,
    parse_bool,
    validation,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

CHANGE_FIELDS: tuple[str, ...] = (
    "mo_http_url",
    "mo_smpp_sys_type",
    "voice_callback_type",
    "voice_callback_value",
    "voice_status_callback",
    "app_id",
)
_VOICE_PAIR = ("voice_callback_type", "voice_callback_value")


class NexmoUpdateNumberOperator(NexmoBaseOperator):
    """Apply the given setting changes to an owned number; settings not given are kept.

    The API's update replaces every setting, so the client reads the number, merges the changes, writes all
    settings and reads the number back to verify (a silently ignored change fails the task, not passes).
    ``None`` (the default) leaves a setting as it is; ``""`` clears it. The API calls ``mo_http_url`` before
    accepting it (its GET must answer 200, also when only another setting changes, since every setting is
    re-sent), so put a ``NexmoWebhookReadySensor`` upstream when the endpoint is new.

    Nothing is lost silently: if the number carries a setting the connection's flavour cannot send back
    (over KPN: ``app_id``, the deprecated messages callback), the task fails before writing, naming it,
    unless ``allow_clearing=True``. Linking to a Vonage Application is ``app_id`` (Vonage flavour);
    the deprecated ``voice_callback_type="app"`` is refused (the API answers 500 to it).

    :param country: ISO 3166-1 alpha-2 country code of the number (templated).
    :param msisdn: the number (templated).
    :param mo_http_url: inbound SMS webhook URL (templated).
    :param mo_smpp_sys_type: SMPP system type for inbound SMS (templated).
    :param voice_callback_type: ``sip`` or ``tel``; goes with ``voice_callback_value`` (templated).
    :param voice_callback_value: SIP URI or phone number (templated).
    :param voice_status_callback: voice call status webhook URL (templated).
    :param app_id: the Vonage Application to link the number to, ``""`` to unlink it (Vonage flavour,
        connection extra ``api=vonage``; templated).
    :param allow_clearing: let the update clear settings the flavour cannot send back (default False).
    :param nexmo_conn_id: connection id (templated).

    XCom: the number as read back after the update, ``OwnedNumber.to_dict()``: ``{"country", "msisdn", "type",
    "features", "mo_http_url", "mo_smpp_sys_type", "voice_callback_type", "voice_callback_value",
    "voice_status_callback", "messages_callback_type", "messages_callback_value", "app_id"}``.
    """

    template_fields: Sequence[str] = ("nexmo_conn_id", "country", "msisdn", *CHANGE_FIELDS)

    def __init__(
        self,
        *,
        country: str,
        msisdn: str,
        mo_http_url: str | None = None,
        mo_smpp_sys_type: str | None = None,
        voice_callback_type: str | None = None,
        voice_callback_value: str | None = None,
        voice_status_callback: str | None = None,
        app_id: str | None = None,
        allow_clearing: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.country = country
        self.msisdn = msisdn
        self.mo_http_url = mo_http_url
        self.mo_smpp_sys_type = mo_smpp_sys_type
        self.voice_callback_type = voice_callback_type
        self.voice_callback_value = voice_callback_value
        self.voice_status_callback = voice_status_callback
        self.app_id = app_id
        self.allow_clearing = allow_clearing
        self.validate_at_construction()

    @property
    def changes(self) -> dict[str, Any]:
        """The settings to change (those not None)."""
        return {name: getattr(self, name) for name in CHANGE_FIELDS if getattr(self, name) is not None}

    def validate_inputs(self) -> None:
        self.check_input("country", lambda v: validation().validate_country(v), optional=False)
        self.check_input("msisdn", lambda v: validation().validate_msisdn(v), optional=False)
        changes = self.changes
        if not changes:
            self.fail_input(
                "changes", f"give at least one setting to change: {', '.join(CHANGE_FIELDS)} ('' clears)"
            )
        if not self.validating_at_runtime:
            # Check what is concrete now; the voice type and value are checked together or not at all.
            late = {name for name, value in changes.items() if is_late(value)}
            if late & set(_VOICE_PAIR):
                late |= set(_VOICE_PAIR)
            changes = {name: value for name, value in changes.items() if name not in late}
        if changes:
            validation().validate_update_changes(changes)
        self.check_input("allow_clearing", lambda v: parse_bool("allow_clearing", v), optional=False)

    def execute(self, context: Context) -> dict[str, Any]:
        self.validate_before_requests()
        changes = self.changes
        self.log.info("Updating %s (%s): %s", self.msisdn, self.country, ", ".join(sorted(changes)))
        allow = parse_bool("allow_clearing", self.allow_clearing)
        number = self.hook.update_number(self.country, self.msisdn, allow_clearing=allow, **changes)
        self.log.info("Read back %s after the update: settings verified.", number.msisdn)
        return number.to_dict()
