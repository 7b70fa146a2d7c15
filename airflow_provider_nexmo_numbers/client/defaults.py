"""The client's defaults and the two API flavours, in a module without imports of its own.

The connection settings (hook side) read them to show the same defaults in the connection form and to fill
unset extras, without importing the client (requests, tenacity) while Airflow discovers providers.
"""

from __future__ import annotations

__all__ = [
    "API_FLAVOURS",
    "DEFAULT_API",
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_BASE_URL",
    "DEFAULT_BASE_URLS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_TIME",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN_URL",
    "KPN",
    "TOKEN_PATH",
    "VONAGE",
]

#: The KPN API Store: OAuth2 client credentials, then bearer tokens.
KPN = "kpn"
#: Vonage direct (rest.nexmo.com): api key and secret as HTTP Basic auth.
VONAGE = "vonage"
API_FLAVOURS: tuple[str, ...] = (KPN, VONAGE)
DEFAULT_API = KPN

DEFAULT_BASE_URL = "https://api-prd.kpn.com/communication/nexmo/phone-numbers"
DEFAULT_BASE_URLS: dict[str, str] = {KPN: DEFAULT_BASE_URL, VONAGE: "https://rest.nexmo.com"}
#: KPN's token endpoint path; on another host (a test gateway, the sandbox) the same path is used.
TOKEN_PATH = "/oauth/client_credential/accesstoken"
DEFAULT_TOKEN_URL = "https://api-prd.kpn.com" + TOKEN_PATH
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_RETRY_TIME = 120.0
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_MAX = 30.0
