"""The name servers the dns.client cases run against (dns PROFILE §1.6).

Each fake binds UDP and TCP on the same ephemeral port, answers from the zone of
fixtures/dns/example.test.zone with the suite's own small authoritative answering (dnspython),
records every query and response into the case's transcript, decoded next to its octets, and
misbehaves in the one way its name says.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from wirecheck import ConformanceFailure, FakeUdpServer, TcpConnection, Transcript, UdpEndpoint

ZONE_FILE: Final = Path(__file__).resolve().parents[2] / "fixtures" / "dns" / "example.test.zone"
HEADER: Final = 12
# RFC 1035 §4.2.1: "Messages carried by UDP are restricted to 512 bytes".
UDP_LIMIT: Final = 512
# The largest UDP response the fakes send to a query with EDNS (profile §1.6).
EDNS_LIMIT: Final = 1232
TC_BIT: Final = 0x02  # in the third octet of the header (flags, high byte)
MAX_CHAIN: Final = 16  # CNAME links followed within the zone
TCP_POLL: Final = 0.2  # seconds a TCP handler waits between looks at its stop flag
BIND_TRIES: Final = 8  # UDP ports tried until the same TCP port is free too
IN: Final = dns.rdataclass.IN
Address = tuple[str, int]


# -- decoded views for the transcript ------------------------------------------------------------
def decode_dns(data: bytes) -> str:
    """A DNS message (a UDP datagram) as text; its header alone if it does not decode."""
    try:
        return str(dns.message.from_wire(data).to_text())
    except (dns.exception.DNSException, ValueError, IndexError) as exc:
        return f"{header_text(data)}\n(does not decode as a whole message: {exc})"


def decode_dns_tcp(data: bytes) -> str:
    """A TCP chunk: the length prefix, and the message when the chunk holds it whole."""
    if len(data) == 2:
        return f"(length prefix: {int.from_bytes(data, 'big')} octets follow)"
    if len(data) > 2 and int.from_bytes(data[:2], "big") == len(data) - 2:
        return f"(length prefix: {len(data) - 2})\n{decode_dns(data[2:])}"
    return decode_dns(data)


def header_text(data: bytes) -> str:
    if len(data) < HEADER:
        return f"(shorter than a DNS header: {len(data)} octets)"
    ident, flags, qd, an, ns, ar = struct.unpack_from("!6H", data)
    names = dns.flags.to_text(flags & 0x87F0) or "-"
    rcode = dns.rcode.to_text(dns.rcode.Rcode(flags & 0xF))
    return f"id {ident}, flags {names}, rcode {rcode}, counts qd {qd} an {an} ns {ns} ar {ar}"


# -- the judge's own authoritative answering -----------------------------------------------------
@functools.cache
def zone() -> dns.zone.Zone:
    return dns.zone.from_file(str(ZONE_FILE), relativize=False)


def origin() -> dns.name.Name:
    found = zone().origin
    assert found is not None
    return found


def _rrset(name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> dns.rrset.RRset | None:
    node = zone().get_node(name)
    rds = node.get_rdataset(IN, rdtype) if node is not None else None
    return dns.rrset.from_rdata_list(name, rds.ttl, list(rds)) if rds else None


def _soa() -> dns.rrset.RRset:
    soa = _rrset(origin(), dns.rdatatype.SOA)
    assert soa is not None
    return soa


def _delegation(name: dns.name.Name) -> dns.rrset.RRset | None:
    """The NS records of a zone cut at or above `name` (below the origin), if any."""
    cut = name
    while cut != origin() and cut.is_subdomain(origin()):
        ns = _rrset(cut, dns.rdatatype.NS)
        if ns is not None:
            return ns
        cut = cut.parent()
    return None


def true_response(query: dns.message.Message) -> dns.message.Message:
    """The response a conforming authoritative server gives (profile section 2), untruncated."""
    response = dns.message.make_response(query, our_payload=EDNS_LIMIT)
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return response
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    if question.rdclass != IN or not question.name.is_subdomain(origin()):
        response.set_rcode(dns.rcode.REFUSED)  # profile 2.9: outside the zone
        return response
    response.flags |= dns.flags.AA
    name, rdtype = question.name, question.rdtype
    for _ in range(MAX_CHAIN):
        cut = _delegation(name)
        if cut is not None:  # profile 2.6: a referral, with glue
            if not response.answer:
                response.flags &= ~dns.flags.AA
            response.authority.append(cut)
            for ns in cut:
                for kind in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    glue = _rrset(ns.target, kind)
                    if glue is not None:
                        response.additional.append(glue)
            return response
        node = zone().get_node(name)
        if node is None:
            # RFC 8020: a name with names below it exists (an empty non-terminal): NODATA.
            if not any(other.is_subdomain(name) for other in zone().nodes):
                response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(_soa())
            return response
        found = _rrset(name, rdtype)
        if found is not None:
            response.answer.append(found)
            return response
        alias = _rrset(name, dns.rdatatype.CNAME)
        if alias is None or rdtype == dns.rdatatype.CNAME:
            response.authority.append(_soa())  # NODATA
            return response
        response.answer.append(alias)  # RFC 1034 §4.3.2 step 3.a: follow the CNAME
        name = alias[0].target
        if not name.is_subdomain(origin()):
            return response
    return response


def udp_limit(query: dns.message.Message) -> int:
    if query.edns < 0:
        return UDP_LIMIT
    return min(max(query.payload, UDP_LIMIT), EDNS_LIMIT)


def truncated(response: dns.message.Message) -> bytes:
    """`response` with TC set and no records (the OPT record, if any, stays)."""
    response.answer.clear()
    response.authority.clear()
    response.additional.clear()
    response.flags |= dns.flags.TC
    return bytes(response.to_wire())


def over_udp(query: dns.message.Message) -> bytes:
    """The true response as a conforming server sends it over UDP: within the size limit."""
    response = true_response(query)
    try:
        return bytes(response.to_wire(max_size=udp_limit(query)))
    except dns.exception.TooBig:
        return truncated(response)


def rcode_only(query: dns.message.Message, rcode: dns.rcode.Rcode) -> dns.message.Message:
    """A response with the query's ID and question, no records, and `rcode`."""
    response = dns.message.make_response(query, our_payload=EDNS_LIMIT)
    response.set_rcode(rcode)
    return response


def parse(data: bytes) -> dns.message.Message | None:
    try:
        return dns.message.from_wire(data)
    except (dns.exception.DNSException, ValueError, IndexError):
        return None


def whole(query: dns.message.Message) -> bytes:
    return bytes(true_response(query).to_wire())


# -- the fake servers of profile §1.6 ------------------------------------------------------------
UdpHandler = Callable[["DnsFake", dns.message.Message, Address], None]
TcpAnswer = Callable[[dns.message.Message], bytes | None]


def answer_promptly(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """prompt: the true response, truncated at 512 octets (or the EDNS size, up to 1232)."""
    fake.reply(over_udp(query), addr)


def drop_first_query(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """drop-first: ignores the first UDP query, then answers as prompt."""
    if len(fake.udp.requests) > 1:  # this query is already counted
        answer_promptly(fake, query, addr)


def never_answer(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """silent: receives and never answers (over TCP too); its ports stay bound."""


def answer_servfail(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """servfail: RCODE SERVFAIL to every query, no records."""
    fake.reply(bytes(rcode_only(query, dns.rcode.SERVFAIL).to_wire()), addr)


def truncate_with_no_records(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """truncate-clean: every UDP response is the true header and question, TC set, no records."""
    fake.reply(truncated(true_response(query)), addr)


def cut_at_512_octets(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """truncate-cut: a true response over 512 octets is cut after octet 512 and TC is set."""
    wire = whole(query)
    if len(wire) <= UDP_LIMIT:
        fake.reply(over_udp(query), addr)
        return
    cut = bytearray(wire[:UDP_LIMIT])
    cut[2] |= TC_BIT
    fake.reply(bytes(cut), addr)


def forge_from_other_port(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """forge-port: an NXDOMAIN with the right ID and question from another port, then the truth."""
    assert fake.forger is not None
    fake.forger.sendto(bytes(rcode_only(query, dns.rcode.NXDOMAIN).to_wire()), addr)
    answer_promptly(fake, query, addr)


def forge_wrong_id(fake: DnsFake, query: dns.message.Message, addr: Address) -> None:
    """forge-id: an NXDOMAIN from the server's own port with ID + 1, then the truth."""
    forged = rcode_only(query, dns.rcode.NXDOMAIN)
    forged.id = (query.id + 1) % 65536
    fake.reply(bytes(forged.to_wire()), addr)
    answer_promptly(fake, query, addr)


def never_over_tcp(query: dns.message.Message) -> bytes | None:
    return None


def servfail_over_tcp(query: dns.message.Message) -> bytes | None:
    return bytes(rcode_only(query, dns.rcode.SERVFAIL).to_wire())


@dataclasses.dataclass(frozen=True)
class Behaviour:
    name: str  # as profile §1.6 names it
    udp: UdpHandler
    tcp: TcpAnswer = whole  # over TCP the response is whole, unless said otherwise
    forger: bool = False  # needs a second UDP socket, on another port


BEHAVIOURS: Final = {
    b.name: b
    for b in (
        Behaviour("prompt", answer_promptly),
        Behaviour("drop-first", drop_first_query),
        Behaviour("silent", never_answer, never_over_tcp),
        Behaviour("servfail", answer_servfail, servfail_over_tcp),
        Behaviour("truncate-clean", truncate_with_no_records),
        Behaviour("truncate-cut", cut_at_512_octets),
        Behaviour("forge-port", forge_from_other_port, forger=True),
        Behaviour("forge-id", forge_wrong_id),
    )
}


class DnsFake:
    """One of the servers of profile §1.6: UDP and TCP on the same port of `host`."""

    def __init__(
        self, behaviour: str, transcript: Transcript, host: str = "127.0.0.1", timeout: float = 5.0
    ) -> None:
        self.behaviour = BEHAVIOURS[behaviour]
        self.transcript, self.host, self.timeout = transcript, host, timeout
        self.tcp_queries: list[bytes] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: list[TcpConnection] = []
        self.udp, self.listener = self._bind()
        self.udp.endpoint.channel.decoder = decode_dns
        self.forger: UdpEndpoint | None = None
        if self.behaviour.forger:
            self.forger = UdpEndpoint(transcript, host, label="forger (another port)")
            self.forger.channel.decoder = decode_dns
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True)

    def _bind(self) -> tuple[FakeUdpServer, socket.socket]:
        """A UDP fake on an ephemeral port, and a TCP listener on the same port number."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(BIND_TRIES):
            udp = FakeUdpServer(self._on_udp, self.transcript, host=self.host)
            listener = socket.socket(family, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self.host, udp.port))
            except OSError as exc:
                listener.close()
                udp.endpoint.close()  # never started: nothing to stop but the socket
                if exc.errno != errno.EADDRINUSE:
                    raise
                self.transcript.note(
                    udp.endpoint.channel, "TCP port taken: the fake tries another port"
                )
                continue
            listener.listen(16)
            self.transcript.note(
                udp.endpoint.channel,
                f"fake server '{self.behaviour.name}': TCP listens on the same port {udp.port}",
            )
            return udp, listener
        raise OSError(f"no port free for both UDP and TCP after {BIND_TRIES} tries")

    @property
    def port(self) -> int:
        return self.udp.port

    @property
    def requests(self) -> list[tuple[float, bytes, Address]]:
        """The UDP queries received: (arrival, octets, source)."""
        return self.udp.requests

    def __enter__(self) -> DnsFake:
        self.udp.__enter__()
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reply(self, data: bytes, addr: Address) -> None:
        self.udp.reply(data, addr)

    def _on_udp(self, server: FakeUdpServer, data: bytes, addr: Address) -> None:
        query = parse(data)
        if query is None:
            self.transcript.note(
                server.endpoint.channel, "the query does not decode: it gets no response"
            )
            return
        self.behaviour.udp(self, query, addr)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:  # closed: shutdown() woke the accept
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = TcpConnection(sock, self.transcript, self.timeout, label="client's (TCP)")
            conn.channel.decoder = decode_dns_tcp
            self._connections.append(conn)
            thread = threading.Thread(target=self._serve_tcp, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve_tcp(self, conn: TcpConnection) -> None:
        """Length-prefixed queries (RFC 1035 §4.2.2), answered one by one until end of stream."""

        def whole_message(buffer: bytes) -> bool:
            return len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big")

        try:
            while not self._stop.is_set() and not conn.eof:
                if not conn.wait_readable(whole_message, timeout=TCP_POLL, limit=1 << 17):
                    continue
                size = int.from_bytes(conn.buffer[:2], "big")
                data = conn.recv_exactly(2 + size)[2:]
                self.tcp_queries.append(data)
                query = parse(data)
                if query is None:
                    self.transcript.note(conn.channel, "the query does not decode: no response")
                    continue
                answer = self.behaviour.tcp(query)
                if answer is not None:
                    conn.send(len(answer).to_bytes(2, "big") + answer)
        except ConformanceFailure as exc:  # the client went away: the case judges what it did
            self.transcript.note(conn.channel, f"the fake stops serving: {exc.actual}")
        except BaseException as exc:  # kept for check()
            self.errors.append(exc)

    def check(self) -> None:
        """Re-raise, in the test, what went wrong inside the fake."""
        __tracebackhide__ = True
        self.udp.check()
        if self.errors:
            raise self.errors[0]

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        if self._accepter.is_alive():
            self._accepter.join(1.0)
        self.listener.close()
        for thread in self._threads:
            thread.join(1.0)
        for conn in self._connections:
            with contextlib.suppress(OSError):
                conn.sock.close()
        self.udp.close()
        if self.forger is not None:
            self.forger.close()
