"""TLS for the mail clients (SMTP and IMAP): whom to trust, and how to say why it failed.

A server with a certificate from a private CA is trusted through its settings' `ca_file`; every
other one through the system's CAs. A failed handshake becomes one sentence naming the server
and the likely cause, the same for both protocols.
"""

from __future__ import annotations

import ssl

from engine.config import ServerSettings, TlsMode


def client_context(settings: ServerSettings) -> ssl.SSLContext:
    """The system's trusted CAs, plus `ca_file` when the configuration names one."""
    cafile = str(settings.ca_file) if settings.ca_file is not None else None
    return ssl.create_default_context(cafile=cafile)


def handshake_failure(where: str, tls: TlsMode, error: ssl.SSLError) -> str:
    """What went wrong securing the connection to `where` ("SMTP host:port"), for a person."""
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = error.verify_message or error.reason or str(error)
        return (
            f"{where}: server certificate not accepted: {detail} "
            "(for a private CA, set ca_file in this server's settings)"
        )
    if tls is TlsMode.IMPLICIT and error.reason == "WRONG_VERSION_NUMBER":
        return (
            f"{where}: TLS handshake failed: the server does not speak TLS on this port "
            "(is it a STARTTLS port? use tls: starttls)"
        )
    return f"{where}: TLS handshake failed: {error.reason or error}"
