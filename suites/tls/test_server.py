"""tls.server: the greeting server over TLS (tls PROFILE §2).

The suite plays the verifying client of §1.4 and the probes of §2.4 and §2.5. The module's server
runs with the server leaf and `{cafile}` empty; 2.3 and 2.8 start servers of their own.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Callable

import pytest

from fixtures.certs import Pki
from suites.tls.protocol import (
    FORWARD_SECRET_PREFIXES,
    GREETINGS,
    OLD_CIPHERS,
    STATIC_RSA_FIRST,
    client_hello_bytes,
    first_certificate_der,
    unverified_context,
    verifying_context,
)
from wirecheck import (
    MUST,
    SHOULD,
    ConformanceFailure,
    ServerHandle,
    TcpConnection,
    Timeouts,
    case,
    describe,
    expect,
    unimplemented,
)
from wirecheck.manifest import Implementation, Value
from wirecheck.transcript import RECEIVED

pytestmark = pytest.mark.role("tls.server")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

ROLE = "tls.server"
Launch = Callable[..., ServerHandle]
HANDSHAKE_S = 2.0  # profile §1.4: seconds for the handshake
GREETING_S = 2.0  # profile §1.4: seconds more for the greeting and the end of the connection
GARBAGE_READ_S = 1.0  # profile §2.6 check 1: how long client A reads after its plaintext
ABORT_PAUSE = 0.05  # profile §2.6 check 2: seconds between A's reset and the next client
STALL_SERVICE_S = 2.0  # profile §2.6 check 3: the greeting within 2 s of connecting
PLAINTEXT = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
LIMIT = 4096  # octets read at most after the handshake


@pytest.fixture(scope="module")
def role_placeholders(pki: Pki) -> dict[str, Value]:
    """Profile §1.2: the server leaf; `{cafile}` is the empty string outside 2.8."""
    values: dict[str, Value] = dict(pki.placeholders("good"))
    values["cafile"] = ""
    return values


def handshake(
    conn: TcpConnection,
    ctx: ssl.SSLContext,
    timeouts: Timeouts,
    hostname: str | None = "localhost",
    *,
    ragged_eofs: bool = True,
    timeout: float | None = None,
) -> ssl.SSLSocket:
    """The TLS handshake on ``conn``; a failure fails the case with the library's words."""
    __tracebackhide__ = True
    try:
        return conn.start_tls(
            ctx,
            server_hostname=hostname,
            timeout=timeout or timeouts(HANDSHAKE_S),
            suppress_ragged_eofs=ragged_eofs,
        )
    except (ssl.SSLError, OSError) as exc:
        raise ConformanceFailure(
            "a completed TLS handshake with the verifying client", f"{type(exc).__name__}: {exc}"
        ) from None


def expect_greeting(conn: TcpConnection, timeouts: Timeouts, timeout: float | None = None) -> None:
    """Profile §1.4: the greeting, and nothing more, before the end of the connection."""
    __tracebackhide__ = True
    wanted = "the greeting, then the end of the connection"
    got = conn.recv_until_eof(limit=LIMIT, timeout=timeout or timeouts(GREETING_S), what=wanted)
    expect(got in GREETINGS, expected=wanted, actual=f"{describe(got)}, then end of stream")


def greeted(
    server: ServerHandle,
    timeouts: Timeouts,
    ctx: ssl.SSLContext,
    hostname: str | None = "localhost",
    label: str = "verifying client",
) -> None:
    """The verifying client connects and the greeting arrives."""
    __tracebackhide__ = True
    with server.connect(label) as conn:
        handshake(conn, ctx, timeouts, hostname)
        expect_greeting(conn, timeouts)


def refused(server: ServerHandle, timeouts: Timeouts, ctx: ssl.SSLContext) -> None:
    """Profile §1.4 "Refused": no handshake, or a first read that ends without a greeting octet."""
    __tracebackhide__ = True
    with server.connect("verifying client") as conn:
        try:
            conn.start_tls(ctx, server_hostname="localhost", timeout=timeouts(HANDSHAKE_S))
        except (ssl.SSLError, OSError):
            return  # refused in the handshake
        conn.wait_readable(lambda got: bool(got), timeout=timeouts(GREETING_S), limit=LIMIT)
        got = bytes(conn.buffer)
        expect(
            not got and conn.eof,
            expected="a refusal: an alert, an error or the end of the connection, no greeting",
            actual=f"{describe(got)} after the handshake"
            + ("" if conn.eof else ", and the connection stayed open"),
        )


# -- §2.1 Handshake and greeting ------------------------------------------------------------------
GREETING_RULE = (
    "The server MUST complete a TLS handshake with a client that verifies its certificate and "
    "host name, and MUST then send the greeting, and nothing else, and close the connection."
)


@case("tls/2.1/1", MUST, GREETING_RULE, rfc="RFC 8446 §4")
def test_greeting(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    greeted(server, timeouts, verifying_context(str(pki.cafile)))


@case("tls/2.1/2", MUST, GREETING_RULE + " It MUST do so on every connection.")
def test_three_greetings(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    ctx = verifying_context(str(pki.cafile))
    for n in range(1, 4):
        greeted(server, timeouts, ctx, label=f"verifying client {n}")


# -- §2.2 Host name -------------------------------------------------------------------------------
HOST_RULE = (
    "The server MUST present the certificate of `{certfile}` as its own (the first certificate "
    "of its Certificate message); a client MUST be able to match either identity against it."
)


@case("tls/2.2/1", MUST, HOST_RULE, rfc="RFC 8446 §4.4.2")
def test_presents_certfile(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    wanted = first_certificate_der(str(pki.server.certfile))
    with server.connect("unverifying client") as conn:
        tls = handshake(conn, unverified_context(), timeouts, "localhost")
        got = tls.getpeercert(binary_form=True) or b""
    expect(
        got == wanted,
        expected=f"the first certificate of {{certfile}} ({len(wanted)} octets of DER)",
        actual=f"another certificate ({len(got)} octets of DER)" if got else "no certificate",
    )


@case("tls/2.2/2", MUST, HOST_RULE, rfc="RFC 9525 §6")
def test_ip_identity(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    # An IP address as server_hostname: the ssl module sends no SNI and checks the IP-ID.
    greeted(server, timeouts, verifying_context(str(pki.cafile)), hostname=server.host)


# -- §2.3 Certificate chain -----------------------------------------------------------------------
@case(
    "tls/2.3/1",
    MUST,
    "The server MUST send, after its own certificate, every intermediate certificate that "
    "`{certfile}` holds, in order, so that a client that trusts only the root can build the path.",
    rfc="RFC 8446 §4.4.2",
)
def test_sends_the_chain(launch_server: Launch, timeouts: Timeouts, pki: Pki) -> None:
    server = launch_server(**pki.scenarios["chain"].placeholders())
    greeted(server, timeouts, verifying_context(str(pki.cafile)))


# -- §2.4 Protocol versions -----------------------------------------------------------------------
VERSIONS_RULE = (
    "The server MUST NOT negotiate TLS 1.0 or TLS 1.1, and MUST negotiate TLS 1.2 or TLS 1.3 "
    "with a client that offers both."
)


def old_version_refused(server: ServerHandle, timeouts: Timeouts, version: ssl.TLSVersion) -> None:
    __tracebackhide__ = True
    name = "TLS 1.0" if version is ssl.TLSVersion.TLSv1 else "TLS 1.1"
    ctx = unverified_context(version, OLD_CIPHERS)
    with server.connect(f"{name} probe") as conn:
        try:
            tls = conn.start_tls(ctx, server_hostname="localhost", timeout=timeouts(HANDSHAKE_S))
        except (ssl.SSLError, OSError) as exc:
            conn.transcript.note(conn.channel, f"refused: {exc}")
            return
        cipher = tls.cipher()
        raise ConformanceFailure(
            f"a refusal of a ClientHello that offers {name} only: an alert or the end of the "
            "connection",
            f"the handshake completed in {tls.version()} with {cipher[0] if cipher else '?'}",
        )


@case("tls/2.4/1", MUST, VERSIONS_RULE, rfc="RFC 8996 §4")
def test_refuses_tls10(server: ServerHandle, timeouts: Timeouts) -> None:
    old_version_refused(server, timeouts, ssl.TLSVersion.TLSv1)


@case("tls/2.4/2", MUST, VERSIONS_RULE, rfc="RFC 8996 §5")
def test_refuses_tls11(server: ServerHandle, timeouts: Timeouts) -> None:
    old_version_refused(server, timeouts, ssl.TLSVersion.TLSv1_1)


@case("tls/2.4/3", MUST, VERSIONS_RULE, rfc="RFC 8446 §4.2.1")
def test_negotiates_modern_version(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    with server.connect("verifying client") as conn:
        tls = handshake(conn, verifying_context(str(pki.cafile)), timeouts)
        version = tls.version()
        expect(
            version in ("TLSv1.2", "TLSv1.3"),
            expected="TLS 1.2 or TLS 1.3",
            actual=str(version),
        )
        with contextlib.suppress(ConformanceFailure):  # the greeting is judged by 2.1
            conn.recv_until_eof(limit=LIMIT, timeout=timeouts(GREETING_S))


# -- §2.5 Forward secrecy -------------------------------------------------------------------------
@case(
    "tls/2.5/1",
    SHOULD,
    "In TLS 1.2 the server SHOULD choose a forward-secret key exchange (ECDHE or DHE) even when "
    "the client lists static-RSA cipher suites first.",
    rfc="RFC 9325 §4.1",
)
def test_forward_secrecy(server: ServerHandle, timeouts: Timeouts) -> None:
    ctx = unverified_context(ssl.TLSVersion.TLSv1_2, ":".join(STATIC_RSA_FIRST))
    with server.connect("TLS 1.2 probe, static RSA first") as conn:
        try:
            tls = conn.start_tls(ctx, server_hostname="localhost", timeout=timeouts(HANDSHAKE_S))
        except (ssl.SSLError, OSError) as exc:
            conn.transcript.note(conn.channel, f"no TLS 1.2 handshake ({exc}): nothing to judge")
            return
        cipher = tls.cipher()
        name = cipher[0] if cipher else "?"
        expect(
            name.startswith(FORWARD_SECRET_PREFIXES),
            expected="an ECDHE or DHE cipher suite",
            actual=f"{name} (static RSA key exchange)",
        )


# -- §2.6 Robustness ------------------------------------------------------------------------------
ROBUST_RULE = (
    "The server MUST survive a client that sends octets that are not TLS, aborts the handshake "
    "or stalls in it; such a client MUST NOT delay the service of any other client."
)


def half_client_hello() -> bytes:
    hello = client_hello_bytes()
    return hello[: len(hello) // 2]


@case("tls/2.6/1", MUST, ROBUST_RULE)
def test_plaintext_client(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    with server.connect("A, plaintext") as a:
        a.send(PLAINTEXT)
        deadline = time.monotonic() + timeouts(GARBAGE_READ_S)
        while not a.eof and time.monotonic() < deadline and len(a.buffer) < LIMIT:
            a.recv_some(timeout=max(0.001, deadline - time.monotonic()))
    greeted(server, timeouts, verifying_context(str(pki.cafile)))


@case("tls/2.6/2", MUST, ROBUST_RULE)
def test_aborted_handshake(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    a = server.connect("A, who aborts")
    a.send(half_client_hello())
    a.reset()
    time.sleep(timeouts(ABORT_PAUSE))
    greeted(server, timeouts, verifying_context(str(pki.cafile)))


@case("tls/2.6/3", MUST, ROBUST_RULE)
def test_stalled_handshake(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    with server.connect("A, stalled mid-handshake") as a:
        a.send(half_client_hello())
        with server.connect("verifying client") as conn:
            start = time.monotonic()
            limit = timeouts(STALL_SERVICE_S)
            handshake(conn, verifying_context(str(pki.cafile)), timeouts, timeout=limit)
            left = max(0.001, limit - (time.monotonic() - start))
            expect_greeting(conn, timeouts, timeout=left)


# -- §2.7 close_notify ----------------------------------------------------------------------------
@case(
    "tls/2.7/1",
    SHOULD,
    "The server SHOULD send a close_notify alert after the greeting, before it closes the "
    "connection.",
    rfc="RFC 8446 §6.1",
)
def test_close_notify(server: ServerHandle, timeouts: Timeouts, pki: Pki) -> None:
    with server.connect("verifying client") as conn:
        tls = handshake(conn, verifying_context(str(pki.cafile)), timeouts, ragged_eofs=False)
        deadline = time.monotonic() + timeouts(GREETING_S)
        got = b""
        while True:  # read by hand: the way the stream ends is what is judged
            left = deadline - time.monotonic()
            if left <= 0 or len(got) > LIMIT:
                raise ConformanceFailure(
                    "the greeting, a close_notify alert, then the end of the connection",
                    f"{describe(got)}, then the connection stayed open",
                )
            tls.settimeout(left)
            try:
                chunk = tls.recv(LIMIT)
            except ssl.SSLEOFError as exc:
                conn.transcript.note(conn.channel, f"end of stream without close_notify: {exc}")
                raise ConformanceFailure(
                    "a close_notify alert before the end of the TCP connection",
                    f"{describe(got)}, then the end of the TCP connection without close_notify",
                ) from None
            except TimeoutError:
                continue
            if not chunk:
                conn.transcript.note(conn.channel, "close_notify from the implementation")
                return
            conn.transcript.record(conn.channel, RECEIVED, chunk)
            got += chunk


# -- §2.8 Client certificates ---------------------------------------------------------------------
CLIENT_CERT_RULE = (
    "When `{cafile}` is filled, the server MUST request a client certificate and MUST NOT send "
    "the greeting to a client that presents none, or one that `{cafile}` does not verify; it MUST "
    "send the greeting to a client that presents a certificate issued by the authority of "
    "`{cafile}`."
)


def client_cert_server(impl: Implementation, launch_server: Launch, pki: Pki) -> ServerHandle:
    """Profile §1.2: a command without `{cafile}` does not offer client certificates."""
    __tracebackhide__ = True
    command = impl.roles[ROLE].command if ROLE in impl.roles else ""
    if "{cafile}" not in command:
        unimplemented("the server command has no {cafile}: it offers no client certificates")
    return launch_server(cafile=str(pki.cafile))


@case("tls/2.8/1", MUST, CLIENT_CERT_RULE, rfc="RFC 8446 §4.4.2.4")
def test_no_client_certificate(
    impl: Implementation, launch_server: Launch, timeouts: Timeouts, pki: Pki
) -> None:
    server = client_cert_server(impl, launch_server, pki)
    refused(server, timeouts, verifying_context(str(pki.cafile)))


@case("tls/2.8/2", MUST, CLIENT_CERT_RULE, rfc="RFC 8446 §4.3.2")
def test_trusted_client_certificate(
    impl: Implementation, launch_server: Launch, timeouts: Timeouts, pki: Pki
) -> None:
    server = client_cert_server(impl, launch_server, pki)
    client = pki.scenarios["client"]
    ctx = verifying_context(str(pki.cafile), str(client.certfile), str(client.keyfile))
    greeted(server, timeouts, ctx, label="verifying client with the client leaf")


@case("tls/2.8/3", MUST, CLIENT_CERT_RULE, rfc="RFC 5246 §7.4.6")
def test_untrusted_client_certificate(
    impl: Implementation, launch_server: Launch, timeouts: Timeouts, pki: Pki
) -> None:
    server = client_cert_server(impl, launch_server, pki)
    other = pki.scenarios["client-untrusted"]
    refused(
        server,
        timeouts,
        verifying_context(str(pki.cafile), str(other.certfile), str(other.keyfile)),
    )
