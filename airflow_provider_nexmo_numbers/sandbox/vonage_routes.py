"""Vonage-direct flavour at the root path (like https://rest.nexmo.com), with api_key/api_secret auth.

Same operations and state as the KPN flavour (api_key = client id), plus Vonage's extra parameters:
`target_api_key` (buy, cancel), `app_id` and the deprecated messages callback (update), `country`,
`application_id`, `has_application` (list), and the MMS feature.
"""

from __future__ import annotations

from fastapi import APIRouter

from .operations import add_operation_routes

router = APIRouter()
add_operation_routes(router, "", kpn=False)
