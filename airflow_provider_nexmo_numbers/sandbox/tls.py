"""Optional TLS for the sandbox: a throw-away self-signed certificate, made at start and deleted at stop.

Why: Vonage's own SDK builds every URL as `https://{rest_host}{path}`, so it can only talk to an https
sandbox. Clients verify the server against `ca_bundle` (the certificate itself), never by switching checks
off.

`cryptography` (which Airflow already depends on) is imported only when a certificate is generated, so the
plain-http default starts as fast as before. An EC P-256 key takes about a millisecond to generate, where RSA
would take tens.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .config import SandboxConfig

#: Names the generated certificate is valid for (plus the configured host when it is a specific address).
DEFAULT_NAMES = ("127.0.0.1", "::1", "localhost")
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def certificate_names(host: str) -> tuple[str, ...]:
    names = list(DEFAULT_NAMES)
    if host not in _WILDCARD_HOSTS and host not in names:
        names.append(host)
    return tuple(names)


def write_self_signed(
    directory: str | os.PathLike[str], names: tuple[str, ...] = DEFAULT_NAMES
) -> tuple[str, str]:
    """Write `cert.pem` and `key.pem` (mode 0600) into `directory`; returns their paths.

    One self-signed certificate that is its own trust anchor: it carries the CA basic constraint and key
    usages OpenSSL's strict mode wants (Python 3.13 turns that mode on by default), so `verify=cert.pem` works
    with requests, httpx and curl alike.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nexmo-numbers-sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, "nexmo-numbers-sandbox (local, self-signed)"),
        ]
    )
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = Path(directory)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    return str(cert_path), str(key_path)


def materialise(config: SandboxConfig) -> tuple[SandboxConfig, Callable[[], None]]:
    """The config to serve with, and a cleanup to call at stop.

    With `tls=True` and no certificate given, a self-signed one is written to a fresh temp directory (removed
    by the cleanup) and the returned config points at it; otherwise the config is returned as it is.
    """
    if not config.tls or config.ssl_certfile:
        return config, _nothing
    directory = tempfile.mkdtemp(prefix="nexmo-sandbox-tls-")
    try:
        certfile, keyfile = write_self_signed(directory, certificate_names(config.host))
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    resolved = dataclasses.replace(config, ssl_certfile=certfile, ssl_keyfile=keyfile)
    return resolved, lambda: shutil.rmtree(directory, ignore_errors=True)


def _nothing() -> None:
    return None
