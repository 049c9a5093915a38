"""tls.client: the greeting client over TLS (tls PROFILE §3).

The suite's server is a FakeTcpServer whose handler peeks at the ClientHello and records it, then
completes the handshake with the scenario's certificate (``greet``), sends the greeting and, as
the case says, a close_notify. It keeps what it saw on each connection in a ``Served`` record;
the cases judge those records and the client's output once the client has exited.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import ssl
import time

import pytest

from fixtures.certs import Pki
from suites.tls.protocol import (
    GREETING,
    OLD_CIPHERS,
    OLD_VERSIONS,
    TEXT,
    ClientHello,
    NotAClientHello,
    handshake_message,
    parse_client_hello,
    server_context,
    version_name,
)
from wirecheck import (
    MUST,
    SHOULD,
    CaseRecord,
    ClientRun,
    ClientRunner,
    ConformanceFailure,
    FakeTcpServer,
    TcpConnection,
    Timeouts,
    case,
    expect,
    unimplemented,
)
from wirecheck.manifest import Implementation, Value
from wirecheck.transcript import RECEIVED

pytestmark = pytest.mark.role("tls.client")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

ROLE = "tls.client"
HOST = "localhost"  # profile §3: every case runs the client with {host} = localhost
CLIENT_SECONDS = 10.0  # profile §1.4: "A client is given 10 s to run"
HELLO_S = 2.0  # seconds the suite's server waits for a whole ClientHello
HANDSHAKE_S = 2.0  # seconds the suite's server gives the rest of the handshake
PEEK_PAUSE = 0.005  # seconds between two peeks at a ClientHello still arriving
PEEK_LIMIT = 65536


@pytest.fixture(scope="module")
def role_placeholders(pki: Pki) -> dict[str, Value]:
    """Profile §1.2: `{cafile}` is the session root; the client leaf in every case."""
    return dict(pki.placeholders("good"))


@dataclasses.dataclass
class Served:
    """What the suite's server saw on one connection."""

    hello: ClientHello | None = None
    version: str = ""  # the negotiated version, "" if the handshake did not complete
    failure: str = ""  # why the handshake did not complete
    client_cert: bytes = b""  # DER of the certificate the client presented, if any


class GreetingServer:
    """The suite's greeting server for one case: one certificate, one way to close."""

    def __init__(self, ctx: ssl.SSLContext, timeouts: Timeouts, close_notify: bool = True) -> None:
        self.ctx, self.timeouts, self.close_notify = ctx, timeouts, close_notify
        self.served: list[Served] = []

    def greet(self, conn: TcpConnection) -> None:
        """Record the ClientHello, handshake, send the greeting in one record, close."""
        served = Served()
        self.served.append(served)
        served.hello = peek_client_hello(conn, self.timeouts(HELLO_S))
        try:
            tls = conn.start_tls(self.ctx, server_side=True, timeout=self.timeouts(HANDSHAKE_S))
        except (ssl.SSLError, OSError) as exc:
            served.failure = f"{type(exc).__name__}: {exc}"
            return
        served.version = tls.version() or "?"
        served.client_cert = tls.getpeercert(binary_form=True) or b""
        # A client that hangs up after the handshake (a refusal, 3.2) is judged by its output.
        with contextlib.suppress(OSError, ConformanceFailure):
            conn.send(GREETING)
            if self.close_notify:
                tls.settimeout(self.timeouts(HANDSHAKE_S))
                # unwrap() sends close_notify, then waits for the client's reply: a client that
                # closes instead ends that wait with an error, which is not judged (RFC 8446 §6.1).
                conn.transcript.note(conn.channel, "close_notify from the suite")
                tls.unwrap()
            else:
                conn.transcript.note(conn.channel, "TCP close without close_notify")
                tls.shutdown(socket.SHUT_RDWR)
        conn.close()

    @property
    def handshakes(self) -> list[Served]:
        return [s for s in self.served if s.version]


def peek_client_hello(conn: TcpConnection, timeout: float) -> ClientHello | None:
    """Peek at the raw socket until a whole ClientHello has arrived; record and parse it."""
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            data = conn.sock.recv(PEEK_LIMIT, socket.MSG_PEEK)
        except OSError:
            break
        if not data:
            break
        try:
            body = handshake_message(data)
        except NotAClientHello as exc:
            conn.transcript.note(conn.channel, f"not a ClientHello: {exc}")
            return None
        if body is not None:
            conn.transcript.record(conn.channel, RECEIVED, data, note="peeked")
            try:
                hello = parse_client_hello(body)
            except NotAClientHello as exc:
                conn.transcript.note(conn.channel, f"malformed ClientHello: {exc}")
                return None
            conn.transcript.note(conn.channel, hello.summary())
            return hello
        time.sleep(PEEK_PAUSE)
    conn.transcript.note(conn.channel, f"no whole ClientHello: {len(data)} octets")
    return None


def run_against(
    client: ClientRunner,
    record: CaseRecord,
    timeouts: Timeouts,
    server: GreetingServer,
) -> ClientRun:
    with FakeTcpServer(server.greet, record.transcript, timeout=timeouts.reply_s) as fake:
        run = client.run(port=fake.port, host=HOST, timeout=CLIENT_SECONDS)
        fake.check()
    return run


def scenario_server(
    pki: Pki, timeouts: Timeouts, scenario: str, close_notify: bool = True
) -> GreetingServer:
    files = pki.scenarios[scenario]
    ctx = server_context(str(files.certfile), str(files.keyfile))
    return GreetingServer(ctx, timeouts, close_notify)


def status_text(run: ClientRun) -> str:
    return "still running after 10 s" if run.timed_out else f"exit status {run.status}"


# -- §3.1 Verified connection and output ----------------------------------------------------------
OUTPUT_RULE = (
    "The client MUST connect to `{host}`, complete the handshake with a server whose certificate "
    "path leads to the authority of `{cafile}` and names `{host}`, write every octet it receives "
    "to its standard output, and exit with status 0 when the server has closed the connection."
)


@case("tls/3.1/1", MUST, OUTPUT_RULE)
def test_prints_the_greeting(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    run = run_against(client, record, timeouts, scenario_server(pki, timeouts, "good"))
    expect(
        GREETING in run.stdout or TEXT + b"\r\n" in run.stdout,
        expected=f"standard output containing {GREETING!r}",
        actual=f"{run.stdout[:300]!r}",
    )


@case("tls/3.1/2", MUST, OUTPUT_RULE)
def test_exit_status_0(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    run = run_against(client, record, timeouts, scenario_server(pki, timeouts, "good"))
    expect(run.status == 0, expected="exit status 0 within 10 s", actual=status_text(run))


# -- §3.2 Refusals --------------------------------------------------------------------------------
REFUSE_RULE = (
    "The client MUST verify the server's certificate path against `{cafile}`, its validity period "
    "and its name against `{host}`, and when any of these fails it MUST refuse the server: it MUST "
    "NOT write the server's data to its standard output, and MUST exit with a non-zero status."
)


def refuses(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki, name: str
) -> None:
    __tracebackhide__ = True
    run = run_against(client, record, timeouts, scenario_server(pki, timeouts, name))
    expect(
        TEXT not in run.stdout and run.status not in (0, None),
        expected=f"a refusal of the {name} certificate: no greeting on standard output and a "
        "non-zero exit status within 10 s",
        actual=f"{status_text(run)}, standard output {run.stdout[:300]!r}",
    )


@case("tls/3.2/1", MUST, REFUSE_RULE, rfc="RFC 5280 §6")
def test_refuses_untrusted(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    refuses(client, record, timeouts, pki, "untrusted")


@case("tls/3.2/2", MUST, REFUSE_RULE, rfc="RFC 9525 §6")
def test_refuses_wrong_host(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    refuses(client, record, timeouts, pki, "wrong-host")


@case("tls/3.2/3", MUST, REFUSE_RULE, rfc="RFC 5280 §4.1.2.5")
def test_refuses_expired(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    refuses(client, record, timeouts, pki, "expired")


@case("tls/3.2/4", MUST, REFUSE_RULE, rfc="RFC 5280 §4.1.2.5")
def test_refuses_not_yet_valid(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    refuses(client, record, timeouts, pki, "not-yet-valid")


@case("tls/3.2/5", MUST, REFUSE_RULE, rfc="RFC 5280 §6")
def test_refuses_self_signed(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    refuses(client, record, timeouts, pki, "self-signed")


# -- §3.3 SNI -------------------------------------------------------------------------------------
def recorded_hello(server: GreetingServer) -> ClientHello:
    __tracebackhide__ = True
    hellos = [s.hello for s in server.served if s.hello is not None]
    expect(
        bool(hellos),
        expected="a ClientHello on a connection to the suite's server",
        actual=f"{len(server.served)} connection(s), no whole ClientHello",
    )
    return hellos[0]


@case(
    "tls/3.3/1",
    SHOULD,
    "When `{host}` is a DNS name, the client SHOULD send the server_name extension with one "
    "HostName equal to `{host}`.",
    rfc="RFC 6066 §3",
)
def test_sends_sni(client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki) -> None:
    server = scenario_server(pki, timeouts, "good")
    run_against(client, record, timeouts, server)
    hello = recorded_hello(server)
    names = hello.server_names
    expect(
        names == [(0, HOST.encode())],
        expected=f"a server_name extension with one host_name entry, {HOST!r}",
        actual="no server_name extension" if names is None else f"server_name entries {names!r}",
    )


# -- §3.4 Protocol floor --------------------------------------------------------------------------
FLOOR_RULE = (
    "The client SHOULD NOT complete a handshake in TLS 1.0 or TLS 1.1, and SHOULD NOT offer them "
    "in its ClientHello."
)


@case("tls/3.4/1", SHOULD, FLOOR_RULE, rfc="RFC 8996 §4")
def test_no_tls10_handshake(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    good = pki.scenarios["good"]
    ctx = server_context(
        str(good.certfile), str(good.keyfile), version=ssl.TLSVersion.TLSv1, ciphers=OLD_CIPHERS
    )
    server = GreetingServer(ctx, timeouts)
    run = run_against(client, record, timeouts, server)
    done = [s.version for s in server.handshakes]
    expect(
        not done and TEXT not in run.stdout,
        expected="no completed handshake with a server that speaks TLS 1.0 only, and no greeting "
        "on standard output",
        actual=f"{len(done)} handshake(s) completed ({', '.join(done) or 'none'}), standard output "
        f"{run.stdout[:300]!r}",
    )


@case("tls/3.4/2", SHOULD, FLOOR_RULE, rfc="RFC 8996 §5")
def test_offers_no_old_version(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    server = scenario_server(pki, timeouts, "good")
    run_against(client, record, timeouts, server)
    hello = recorded_hello(server)
    if hello.supported_versions is None:
        expect(
            hello.legacy_version == 0x0303,
            expected="without supported_versions, a legacy_version of 0x0303 (TLS 1.2)",
            actual=f"legacy_version {version_name(hello.legacy_version)}",
        )
        return
    old = [v for v in hello.supported_versions if v in OLD_VERSIONS]
    expect(
        not old,
        expected="supported_versions without 0x0301 (TLS 1.0) and 0x0302 (TLS 1.1)",
        actual="supported_versions: "
        + ", ".join(version_name(v) for v in hello.supported_versions),
    )


# -- §3.5 Close without close_notify --------------------------------------------------------------
@case(
    "tls/3.5/1",
    MUST,
    "The client MUST accept the end of the TCP connection without a close_notify alert after the "
    "greeting: it MUST write the greeting to its standard output and exit with status 0.",
)
def test_close_without_close_notify(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    server = scenario_server(pki, timeouts, "good", close_notify=False)
    run = run_against(client, record, timeouts, server)
    expect(
        GREETING in run.stdout and run.status == 0,
        expected=f"standard output containing {GREETING!r} and exit status 0 within 10 s",
        actual=f"{status_text(run)}, standard output {run.stdout[:300]!r}",
    )


# -- §3.6 Client certificate ----------------------------------------------------------------------
@case(
    "tls/3.6/1",
    MUST,
    "The client MUST present the certificate of `{clientcert}`, with the key of `{clientkey}`, "
    "when the server requests one.",
    rfc="RFC 8446 §4.4.2",
)
def test_presents_client_certificate(
    impl: Implementation, client: ClientRunner, record: CaseRecord, timeouts: Timeouts, pki: Pki
) -> None:
    if "{clientcert}" not in impl.roles[ROLE].command:
        unimplemented("the client command has no {clientcert}: it offers no client certificate")
    good = pki.scenarios["good"]
    ctx = server_context(str(good.certfile), str(good.keyfile), client_ca=str(pki.cafile))
    server = GreetingServer(ctx, timeouts)
    run = run_against(client, record, timeouts, server)
    wanted = ssl.PEM_cert_to_DER_cert(pki.client.certfile.read_text())
    presented = [s.client_cert for s in server.served if s.client_cert]
    failures = [s.failure for s in server.served if s.failure]
    expect(
        wanted in presented,
        expected="the client leaf of {clientcert} in the client's Certificate message",
        actual=f"another certificate ({len(presented[0])} octets of DER)"
        if presented
        else f"no client certificate ({'; '.join(failures) or 'no handshake'})",
    )
    expect(
        GREETING in run.stdout and run.status == 0,
        expected=f"standard output containing {GREETING!r} and exit status 0",
        actual=f"{status_text(run)}, standard output {run.stdout[:300]!r}",
    )
