"""udp.server: the datagram length server (udp PROFILE §2)."""

from __future__ import annotations

import dataclasses
import ipaddress
import selectors
import time
from collections import Counter
from collections.abc import Callable

import pytest

from suites.udp.protocol import (
    COPIES,
    COPY_INTERVAL,
    LISTEN_AFTER,
    MAX_REQUEST,
    cycling,
    named_length,
    reply_for,
)
from wirecheck import MUST, CaseRecord, ConformanceFailure, ServerHandle, UdpEndpoint, case, expect
from wirecheck.wire import describe

pytestmark = pytest.mark.role("udp.server", transport="udp")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

Datagram = tuple[bytes, tuple[str, int]]


def same_host(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b.split("%")[0])
    except ValueError:
        return a == b


def peer(addr: tuple[str, int]) -> str:
    return f"[{addr[0]}]:{addr[1]}" if ":" in addr[0] else f"{addr[0]}:{addr[1]}"


def listing(received: list[Datagram]) -> str:
    if not received:
        return "nothing came back"
    shown = "; ".join(f"{describe(data, 80)} from {peer(src)}" for data, src in received[:5])
    more = f" (+{len(received) - 5} more)" if len(received) > 5 else ""
    return f"only {shown}{more}"


@dataclasses.dataclass
class Exchange:
    request: bytes
    copies: int = 0
    received: list[Datagram] = dataclasses.field(default_factory=list)
    reply: Datagram | None = None

    def silence(self, server: ServerHandle, what: str) -> ConformanceFailure:
        interval = server.timeouts(COPY_INTERVAL)
        return ConformanceFailure(
            what,
            f"no such reply to {self.copies} copies of the {len(self.request)}-octet request, "
            f"sent {interval:.2f} s apart: {listing(self.received)}",
        )


def naming(n: int) -> Callable[[bytes], bool]:
    """A `wanted` predicate: the datagram is a reply naming `n` (loose match, profile 1.3)."""
    return lambda data: named_length(data) == n


def ask(
    server: ServerHandle,
    ep: UdpEndpoint,
    request: bytes,
    wanted: Callable[[bytes], bool] = lambda data: True,
) -> Exchange:
    """Profile 1.4: send `request` up to COPIES times, COPY_INTERVAL apart, and stop as soon as a
    datagram from the server's host that `wanted` accepts arrives (from any of its ports)."""
    ex = Exchange(request)
    interval = server.timeouts(COPY_INTERVAL)
    while ex.copies < COPIES and server.alive():
        ep.sendto(request, server.address)
        ex.copies += 1
        deadline = time.monotonic() + interval
        while (left := deadline - time.monotonic()) > 0:
            got = ep.recvfrom(left)
            if got is None:
                continue
            ex.received.append(got)
            if same_host(got[1][0], server.host) and wanted(got[0]):
                ex.reply = got
                return ex
    return ex


def ask_all(
    server: ServerHandle, asks: list[tuple[UdpEndpoint, bytes]], mine: dict[UdpEndpoint, set[int]]
) -> None:
    """Profile 1.4 for several sockets at once: each sends its request, and every request still
    without a reply naming its length is sent again every COPY_INTERVAL, up to COPIES times.
    `mine` holds every length each socket has sent: a socket that receives a reply naming a
    length that only another socket sent fails the case."""
    __tracebackhide__ = True
    interval = server.timeouts(COPY_INTERVAL)
    everyone = set().union(*mine.values())
    pending = dict(asks)
    copies = dict.fromkeys(pending, 0)
    received: dict[UdpEndpoint, list[Datagram]] = {ep: [] for ep in pending}
    with selectors.DefaultSelector() as sel:
        for ep in pending:
            sel.register(ep.sock, selectors.EVENT_READ, ep)
        while pending and server.alive():
            for ep, request in pending.items():
                if copies[ep] == COPIES:
                    raise ConformanceFailure(
                        f"socket {ep.channel.label} ({peer(ep.address)}) receives a reply "
                        f"naming {len(request)}",
                        f"no such reply to {COPIES} copies of its {len(request)}-octet request, "
                        f"sent {interval:.2f} s apart: {listing(received[ep])}",
                    )
                ep.sendto(request, server.address)
                copies[ep] += 1
            deadline = time.monotonic() + interval
            while pending and (left := deadline - time.monotonic()) > 0:
                for key, _ in sel.select(left):
                    ep = key.data
                    got = ep.recvfrom(0)
                    if got is None:
                        continue
                    received[ep].append(got)
                    data, src = got
                    n = named_length(data)
                    if n in everyone and n not in mine[ep]:
                        raise ConformanceFailure(
                            f"socket {ep.channel.label} ({peer(ep.address)}) receives only "
                            "replies to its own requests",
                            f"it received {describe(data)} from {peer(src)}: a reply naming {n}, "
                            "the length another socket sent",
                        )
                    if ep in pending and n == len(pending[ep]) and same_host(src[0], server.host):
                        del pending[ep]
    if pending:
        ep, request = next(iter(pending.items()))
        raise ConformanceFailure(
            f"a reply naming {len(request)} on socket {ep.channel.label}",
            f"the server stopped: {listing(received[ep])}",
        )


# -- §2.1 Reply content ----------------------------------------------------------------------------
REPLY_CONTENT = (
    "For every request it answers, the server MUST send a reply whose octets are exactly the "
    "ASCII text `Your data was N bytes long`, N being the number of octets in the request, in "
    "decimal. The reply MUST NOT contain anything else [...] the server MUST NOT take N from a "
    "decoded form of the request, such as a string of characters."
)
UTF8_TEXT = "Grüße ☃ 日本 🙂".encode()


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(b"", id="empty", marks=case("udp/2.1/1", MUST, REPLY_CONTENT)),
        pytest.param(b"x", id="one-octet", marks=case("udp/2.1/2", MUST, REPLY_CONTENT)),
        pytest.param(
            b"The quick brown fox jumps over the lazy dog",
            id="ascii",
            marks=case("udp/2.1/3", MUST, REPLY_CONTENT),
        ),
        pytest.param(UTF8_TEXT, id="utf-8", marks=case("udp/2.1/4", MUST, REPLY_CONTENT)),
        pytest.param(cycling(256), id="all-octets", marks=case("udp/2.1/5", MUST, REPLY_CONTENT)),
        pytest.param(
            cycling(MAX_REQUEST), id="largest", marks=case("udp/2.1/6", MUST, REPLY_CONTENT)
        ),
    ],
)
def test_reply_content(server: ServerHandle, request_: bytes) -> None:
    wanted = reply_for(len(request_))
    with server.udp() as ep:
        ex = ask(server, ep, request_)
        if ex.reply is None:
            raise ex.silence(server, f"a reply, exactly {wanted!r}")
        data, src = ex.reply
        expect(
            data == wanted,
            expected=f"exactly {describe(wanted)}",
            actual=f"{describe(data)} from {peer(src)}",
        )


# -- §2.2 Reply destination ------------------------------------------------------------------------
@case(
    "udp/2.2/1",
    MUST,
    "The server MUST send each reply to the source address and source port of the request it "
    "answers, that is, to the address `recvfrom` returned with the request.",
    rfc="RFC 768",
)
def test_reply_destination(server: ServerHandle) -> None:
    with server.udp("A") as a, server.udp("B") as b:
        ask_all(server, [(a, b"a" * 11), (b, b"b" * 22)], {a: {11}, b: {22}})


# -- §2.3 Reply source -----------------------------------------------------------------------------
REPLY_SOURCE = (
    "The server MUST send each reply from the address and port the request was sent to: "
    "from `{host}` and `{port}`."
)


@case("udp/2.3/1", MUST, REPLY_SOURCE, rfc="RFC 1122 §4.1.3.5")
def test_reply_source(server: ServerHandle) -> None:
    with server.udp("unconnected") as ep:
        ex = ask(server, ep, b"s" * 17)
        if ex.reply is None:
            raise ex.silence(server, f"a reply from {peer(server.address)}")
        data, src = ex.reply
        expect(
            same_host(src[0], server.host) and src[1] == server.port,
            expected=f"the reply comes from {peer(server.address)}",
            actual=f"{describe(data)} came from {peer(src)}",
        )


@case("udp/2.3/2", MUST, REPLY_SOURCE, rfc="RFC 1122 §4.1.3.5")
def test_reply_reaches_connected_socket(server: ServerHandle, record: CaseRecord) -> None:
    with UdpEndpoint(
        record.transcript, server.host, server.timeouts.reply_s, "connected", server.address
    ) as ep:
        ex = ask(server, ep, b"c" * 17, naming(17))
        if ex.reply is None:
            raise ex.silence(
                server,
                f"a reply naming 17 on a socket connected to {peer(server.address)} (its kernel "
                "discards datagrams from any other address or port)",
            )


# -- §2.4 One reply per request --------------------------------------------------------------------
@case(
    "udp/2.4/1",
    MUST,
    "The server MUST NOT send more than one reply to a request datagram.",
)
def test_one_reply_per_request(server: ServerHandle, record: CaseRecord) -> None:
    lengths = (5, 50, 500)
    copies: dict[int, int] = {}
    received: list[Datagram] = []
    with server.udp() as ep:
        for n in lengths:
            ex = ask(server, ep, b"r" * n, naming(n))
            copies[n] = ex.copies
            received += ex.received
            if ex.reply is None:
                record.note(f"no reply to the {n}-octet request: no further requests are sent")
                break
        deadline = time.monotonic() + server.timeouts(LISTEN_AFTER)
        while (left := deadline - time.monotonic()) > 0:
            got = ep.recvfrom(left)
            if got is not None:
                received.append(got)
    counts = Counter(named_length(data) for data, src in received if same_host(src[0], server.host))
    for n, sent in copies.items():
        expect(
            counts[n] <= sent,
            expected=f"at most {sent} repl{'y' if sent == 1 else 'ies'} naming {n} "
            f"({sent} cop{'y' if sent == 1 else 'ies'} of the {n}-octet request sent)",
            actual=f"{counts[n]} replies naming {n}",
        )


# -- §2.5 Many clients, interleaved ----------------------------------------------------------------
@case(
    "udp/2.5/1",
    MUST,
    "The server MUST serve any number of clients whose requests arrive interleaved in any order, "
    "and MUST answer each request on its own: it MUST NOT wait for one client to finish before "
    "serving another, and the reply to a request MUST NOT depend on earlier requests.",
)
def test_interleaved_clients(server: ServerHandle) -> None:
    with server.udp("A") as a, server.udp("B") as b, server.udp("C") as c:
        sockets = (a, b, c)
        mine: dict[UdpEndpoint, set[int]] = {ep: set() for ep in sockets}
        for r in range(1, 6):
            asks = [(ep, b"i" * (100 * r + i)) for i, ep in enumerate(sockets, 1)]
            for ep, request in asks:
                mine[ep].add(len(request))
            ask_all(server, asks, mine)


# -- §2.6 Keeps serving ----------------------------------------------------------------------------
KEEPS_SERVING = (
    "After receiving any datagram, whatever its size or content, the server MUST go on serving: "
    "it MUST NOT exit, crash or stop answering."
)
PROBE = b"probe"


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(b"", id="empty", marks=case("udp/2.6/1", MUST, KEEPS_SERVING)),
        pytest.param(
            cycling(MAX_REQUEST), id="largest", marks=case("udp/2.6/2", MUST, KEEPS_SERVING)
        ),
        pytest.param(b"\xff\xfe\x80", id="not-utf-8", marks=case("udp/2.6/3", MUST, KEEPS_SERVING)),
    ],
)
def test_keeps_serving(server: ServerHandle, first: bytes) -> None:
    with server.udp() as ep:
        ep.sendto(first, server.address)
        ex = ask(server, ep, PROBE, naming(len(PROBE)))
        if ex.reply is None:
            raise ex.silence(
                server, f"a reply naming {len(PROBE)} to the probe sent after {describe(first, 8)}"
            )
