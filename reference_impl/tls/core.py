"""The greeting service's TLS policy without I/O: the greeting and the TLS contexts.

Nothing here touches a socket: the server and the client in this folder accept or connect,
wrap their sockets with the contexts made here and move the octets.
"""

from __future__ import annotations

import ssl
from typing import Final

# Profile 1.4: "The *greeting* is the 30 ASCII octets `Simple is better than complex.` followed
# by a line feed (0x0A)"; 2.1: "The server MUST ... then send the greeting, and nothing else".
GREETING: Final = b"Simple is better than complex.\n"

# Profile 2.4: "The server MUST NOT negotiate TLS 1.0 or TLS 1.1" and 3.4: "The client SHOULD
# NOT complete a handshake in TLS 1.0 or TLS 1.1" (RFC 8996).
MINIMUM_VERSION: Final = ssl.TLSVersion.TLSv1_2


def client_auth_requested(cafile: str) -> bool:
    """Whether the server's optional cafile argument asks for client certificates.

    Profile 1.2: "in every other case it is the empty string, and the server then asks for no
    client certificate".
    """
    return cafile != ""


def server_context(certfile: str, keyfile: str, cafile: str = "") -> ssl.SSLContext:
    """The server's context: TLS 1.2 or later, forward-secret suites, the whole chain."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = MINIMUM_VERSION
    # Profile 2.5: "the server SHOULD choose a forward-secret key exchange (ECDHE or DHE)".
    # The default cipher list of the ssl module offers no static-RSA suite, and the server's
    # own order wins over the client's.
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    # Profile 2.3: "The server MUST send, after its own certificate, every intermediate
    # certificate that `{certfile}` holds". load_cert_chain keeps them all.
    context.load_cert_chain(certfile, keyfile)
    if client_auth_requested(cafile):
        # Profile 2.8: "When `{cafile}` is filled, the server MUST request a client certificate
        # ... and MUST NOT send the greeting to a client that presents none, or one that
        # `{cafile}` does not verify".
        context.load_verify_locations(cafile=cafile)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(cafile: str, clientcert: str = "", clientkey: str = "") -> ssl.SSLContext:
    """The client's context: trusts `cafile` only, checks the host name, TLS 1.2 or later."""
    # Profile 3.2: "The client MUST verify the server's certificate path against `{cafile}`
    # (RFC 5280 §6), its validity period (RFC 5280 §4.1.2.5) and its name against `{host}`".
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = MINIMUM_VERSION
    # Profile 3.6: "The client MUST present the certificate of `{clientcert}`, with the key of
    # `{clientkey}`, when the server requests one."
    if clientcert:
        context.load_cert_chain(clientcert, clientkey or None)
    return context


def describe_failure(exc: Exception) -> str:
    """One line for standard error that says why the connection failed."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    return f"connection failed: {exc}"
