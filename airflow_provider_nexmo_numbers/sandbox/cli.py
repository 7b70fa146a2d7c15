"""`nexmo-numbers-sandbox`: run the sandbox from a shell. Port 0 picks a free port; prints the URL first."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence

from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, KPN_PREFIX, TOKEN_PATH, SandboxConfig


def _client(value: str) -> tuple[str, str]:
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:SECRET")
    return client_id, secret


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError("expected a probability between 0 and 1")
    return rate


def build_parser() -> argparse.ArgumentParser:
    d = SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="nexmo-numbers-sandbox",
        description="Local Nexmo Numbers API behind a KPN-style OAuth gateway (Vonage-direct at the root).",
    )
    parser.add_argument("--host", default=d.host, help="interface to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port; 0 picks a free one (default %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=d.seed, help="seed of the number pool (default %(default)s)"
    )
    parser.add_argument(
        "--client",
        type=_client,
        action="append",
        metavar="ID:SECRET",
        help=f"client credentials, repeatable (default {DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET})",
    )
    parser.add_argument(
        "--owned",
        type=int,
        default=0,
        metavar="N",
        help="configured numbers the first client's account starts with (default 0)",
    )
    parser.add_argument(
        "--owned-country", default=d.owned_country, help="country of those (default %(default)s)"
    )
    parser.add_argument(
        "--pool-per-type",
        type=int,
        default=d.pool_per_type,
        help="available numbers per country and type (default %(default)s)",
    )
    parser.add_argument(
        "--address-required",
        action="append",
        metavar="CC",
        help="country whose numbers need an address (repeatable; default FR)",
    )
    parser.add_argument(
        "--token-ttl", type=int, default=d.token_ttl, help="token lifetime, s (default %(default)s)"
    )
    parser.add_argument(
        "--quota-rps", type=float, default=None, help="gateway quota per client id, requests/s"
    )
    parser.add_argument(
        "--fault-rate", type=_rate, default=0.0, help="probability of an injected error status"
    )
    parser.add_argument("--fault-statuses", default="500,502,503,429", help="statuses to inject (comma list)")
    parser.add_argument(
        "--retry-after",
        type=float,
        default=d.retry_after,
        metavar="S",
        help="Retry-After of the injected 429s, seconds, fractions allowed (default %(default)g)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every API request")
    parser.add_argument("--hang-rate", type=_rate, default=0.0, help="probability of a hang")
    parser.add_argument("--hang-seconds", type=float, default=d.hang_seconds, help="length of a hang")
    parser.add_argument(
        "--drop-rate",
        type=_rate,
        default=0.0,
        help="probability of dropping the connection after committing a write",
    )
    parser.add_argument("--revoke-rate", type=_rate, default=0.0, help="probability of revoking the token")
    parser.add_argument(
        "--fault-seed", type=int, default=None, help="seed of the fault draws (default: --seed)"
    )
    parser.add_argument(
        "--no-webhook-check", action="store_true", help="skip the moHttpUrl readiness GET on update"
    )
    parser.add_argument(
        "--webhook-allow-loopback",
        action="store_true",
        help="let the readiness GET reach loopback/private hosts (the real API's check cannot)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="opt-in strict parameters: canonical feature order, lower-case booleans, upper-case country",
    )
    parser.add_argument(
        "--webhook-timeout", type=float, default=d.webhook_timeout, help="readiness GET timeout, s"
    )
    parser.add_argument(
        "--demo-webhook-delay",
        type=float,
        default=d.demo_webhook_delay,
        help="seconds before /_sandbox/webhooks/demo answers 200 (default %(default)s)",
    )
    parser.add_argument(
        "--no-vonage", action="store_true", help="do not serve the Vonage-direct flavour at /"
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve https with a self-signed certificate for 127.0.0.1/localhost, made at start and deleted "
        "at stop (its path is printed as 'CA bundle'); Vonage's SDK needs this",
    )
    parser.add_argument("--ssl-certfile", default=None, help="serve https with this certificate (PEM)")
    parser.add_argument("--ssl-keyfile", default=None, help="the key of --ssl-certfile (PEM)")
    parser.add_argument("--log-level", default=d.log_level, choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--config-json",
        default=None,
        help="a full SandboxConfig as JSON (used by run_sandbox_subprocess); "
        "--host/--port given explicitly still apply",
    )
    return parser


def config_from_args(args: argparse.Namespace, argv: Sequence[str]) -> SandboxConfig:
    if args.config_json is not None:
        cfg = SandboxConfig.from_json(args.config_json)
        if any(a == "--host" or a.startswith("--host=") for a in argv):
            cfg.host = args.host
        if any(a == "--port" or a.startswith("--port=") for a in argv):
            cfg.port = args.port
        return cfg
    return SandboxConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        clients=dict(args.client) if args.client else {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET},
        owned_numbers=args.owned,
        owned_country=args.owned_country,
        pool_per_type=args.pool_per_type,
        address_required_countries=tuple(args.address_required) if args.address_required else ("FR",),
        token_ttl=args.token_ttl,
        quota_rps=args.quota_rps,
        webhook_check=not args.no_webhook_check,
        webhook_allow_loopback=args.webhook_allow_loopback,
        strict=args.strict,
        webhook_timeout=args.webhook_timeout,
        demo_webhook_delay=args.demo_webhook_delay,
        vonage_direct=not args.no_vonage,
        error_rate=args.fault_rate,
        error_statuses=tuple(int(s) for s in args.fault_statuses.split(",") if s.strip()),
        retry_after=args.retry_after,
        latency_ms=args.latency_ms,
        hang_rate=args.hang_rate,
        hang_seconds=args.hang_seconds,
        drop_after_commit_rate=args.drop_rate,
        revoke_token_rate=args.revoke_rate,
        fault_seed=args.fault_seed,
        log_level=args.log_level,
        tls=args.tls,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )


def banner(url: str, cfg: SandboxConfig) -> str:
    """What the console script prints once it accepts requests; `cfg` is the served (TLS-resolved) one."""
    client_id, secret = cfg.first_client
    extra: dict[str, str] = {"oauth_url": url + TOKEN_PATH}
    if cfg.tls and cfg.ssl_certfile:
        extra["verify_ssl"] = cfg.ssl_certfile
    conn = json.dumps(
        {
            "conn_type": "nexmo_numbers",
            "host": url + KPN_PREFIX,
            "login": client_id,
            "password": secret,
            "extra": extra,
        }
    )
    lines = [
        f"nexmo-numbers-sandbox listening on {url}",
        f"  KPN base URL   {url}{KPN_PREFIX}",
        f"  token URL      {url}{TOKEN_PATH}",
        f"  Vonage direct  {url if cfg.vonage_direct else '(off)'}",
        f"  admin          {url}/_sandbox/stats   (docs: {url}/_sandbox/docs)",
        f"  clients        {', '.join(f'{c}:{s}' for c, s in cfg.clients.items())}",
    ]
    if cfg.tls:
        lines.append(f"  CA bundle      {cfg.ssl_certfile}   (verify=<this>, or REQUESTS_CA_BUNDLE=<this>)")
    lines.append(f"  Airflow        AIRFLOW_CONN_NEXMO_NUMBERS_DEFAULT='{conn}'")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args, argv)
    except ValueError as exc:
        print(f"nexmo-numbers-sandbox: {exc}", file=sys.stderr)
        return 2

    for path in (cfg.ssl_certfile, cfg.ssl_keyfile):
        if path and not os.path.isfile(path):
            print(f"nexmo-numbers-sandbox: no such certificate/key file: {path}", file=sys.stderr)
            return 2

    from .serving import bind_socket, make_server, socket_url
    from .tls import materialise

    try:
        sock = bind_socket(cfg.host, cfg.port)
    except OSError as exc:
        print(f"nexmo-numbers-sandbox: cannot bind {cfg.host}:{cfg.port}: {exc}", file=sys.stderr)
        return 1
    cleanup = None
    # uvicorn re-raises the SIGTERM/SIGINT it handled once it has shut down; end quietly with status 0 then.
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        served, cleanup = materialise(cfg)  # a generated certificate lives until the finally below
        url = socket_url(sock, served.scheme)
        # the banner is printed only once requests are being accepted
        server = make_server(
            served, in_process=False, on_started=lambda: print(banner(url, served), flush=True)
        )
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        sock.close()
        if cleanup is not None:
            cleanup()
    return 0


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
