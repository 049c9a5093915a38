"""The dns suite's own helpers: queries built with dnspython, the strict decoder, the decoded view
for transcripts, and the two ways of asking a server (dns PROFILE §1.5).

Nothing here comes from the reference implementation: the judge builds and reads DNS messages
with dnspython and its own few lines of wire handling.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import struct
import time
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

from wirecheck import ConformanceFailure, TcpConnection, Timeouts, UdpEndpoint
from wirecheck.wire import describe

ROOT = Path(__file__).resolve().parent.parent.parent
ZONEFILE = ROOT / "fixtures" / "dns" / "example.test.zone"
ORIGIN = dns.name.from_text("example.test.")

HEADER_LEN = 12  # RFC 1035 §4.1.1
LENGTH_PREFIX = 2  # RFC 1035 §4.2.2: TCP messages are preceded by a two-octet length
UDP_CLASSIC_LIMIT = 512  # RFC 1035 §4.2.1
EDNS_PAYLOAD = 1232  # dns PROFILE §2.8: the payload size the suite offers with EDNS(0)
TC_BIT = 0x0200  # RFC 1035 §4.1.1, in the second 16-bit word of the header

# dns PROFILE §1.5: UDP queries go out up to 8 times, 0.25 s apart; "no response" is none
# within 2 s of the last copy.
UDP_TRIES = 8
UDP_INTERVAL = 0.25
UDP_LAST_WAIT = 2.0
TCP_WAIT = 2.0  # dns PROFILE §1.5: how long a TCP response may take


def name(text: str) -> dns.name.Name:
    """`www` is `www.example.test.`; a name with a final dot is absolute (PROFILE §1.3)."""
    return dns.name.from_text(text, origin=ORIGIN)


def name_wire(qname: dns.name.Name) -> bytes:
    """The uncompressed wire form of a name, its octets' case kept."""
    wire = qname.to_wire()
    assert wire is not None  # without a file, to_wire returns the octets
    return wire


def make_query(
    qname: str | dns.name.Name,
    rdtype: str = "A",
    *,
    edns: int | None = None,
    opcode: int = dns.opcode.QUERY,
) -> dns.message.Message:
    """A query of class IN with RD set and a random ID; EDNS(0) with payload ``edns`` if given."""
    qn = qname if isinstance(qname, dns.name.Name) else name(qname)
    if edns is None:
        query = dns.message.make_query(qn, rdtype, use_edns=False)
    else:
        query = dns.message.make_query(qn, rdtype, use_edns=0, payload=edns)
    query.set_opcode(dns.opcode.Opcode(opcode))
    return query


def with_length(wire: bytes) -> bytes:
    return struct.pack("!H", len(wire)) + wire


# -- decoding ------------------------------------------------------------------------------------
def _text(message: dns.message.Message) -> str:
    return message.to_text()


def decode_dns(data: bytes) -> str:
    """A readable view of one UDP datagram or one TCP chunk (length-prefixed messages).

    A TCP chunk that holds one or more whole length-prefixed messages is shown message by
    message; a chunk that holds part of a message says so.
    """
    if len(data) >= LENGTH_PREFIX:
        parts = []
        offset = 0
        while offset + LENGTH_PREFIX <= len(data):
            (size,) = struct.unpack_from("!H", data, offset)
            if size < HEADER_LEN or offset + LENGTH_PREFIX + size > len(data):
                break
            parts.append(data[offset + LENGTH_PREFIX : offset + LENGTH_PREFIX + size])
            offset += LENGTH_PREFIX + size
        if parts and offset == len(data):
            try:
                return "\n".join(
                    f";; TCP message, length {len(p)}\n{_text(dns.message.from_wire(p))}"
                    for p in parts
                )
            except Exception:
                pass
    try:
        return _text(dns.message.from_wire(data))
    except Exception as exc:
        if len(data) < HEADER_LEN:
            return f";; {len(data)} octets: not a whole DNS message (a fragment or a short packet)"
        return f";; does not decode as a DNS message: {type(exc).__name__}: {exc}"


def decode_strict(wire: bytes, what: str = "a response") -> dns.message.Message:
    """Decode strictly (PROFILE §1.5): forward pointers, overruns, leftover octets all fail."""
    try:
        return dns.message.from_wire(wire)
    except Exception as exc:
        raise ConformanceFailure(
            f"{what} that decodes as one whole DNS message (RFC 1035 §4.1, §4.1.4)",
            f"{type(exc).__name__}: {exc or 'malformed'}; {describe(wire)}",
        ) from None


@dataclasses.dataclass
class Response:
    wire: bytes
    message: dns.message.Message

    @property
    def rcode(self) -> dns.rcode.Rcode:
        return self.message.rcode()

    @property
    def tc(self) -> bool:
        return bool(self.message.flags & dns.flags.TC)

    @property
    def aa(self) -> bool:
        return bool(self.message.flags & dns.flags.AA)


def tc_in_header(wire: bytes) -> bool:
    return len(wire) >= 4 and bool(struct.unpack_from("!H", wire, 2)[0] & TC_BIT)


# -- asking a server -----------------------------------------------------------------------------
def _same_host(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b.split("%")[0])
    except ValueError:
        return a == b


def udp_exchange(
    endpoint: UdpEndpoint,
    address: tuple[str, int],
    wire: bytes,
    timeouts: Timeouts,
    *,
    tries: int = UDP_TRIES,
    last_wait: float = UDP_LAST_WAIT,
    match_id: bool = True,
) -> bytes | None:
    """Send ``wire`` up to ``tries`` times; the first datagram from ``address`` with its ID
    (with any ID when ``match_id`` is false).

    None when nothing matching came within ``last_wait`` seconds of the last copy.
    """
    query_id = wire[:2]
    for attempt in range(tries):
        endpoint.sendto(wire, address)
        wait = timeouts(last_wait if attempt == tries - 1 else UDP_INTERVAL)
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            got = endpoint.recvfrom(left)
            if got is None:
                break
            data, (host, port) = got
            if (
                port == address[1]
                and _same_host(host, address[0])
                and (data[:2] == query_id or not match_id)
            ):
                return data
    return None


def udp_query(
    endpoint: UdpEndpoint, address: tuple[str, int], query: dns.message.Message, timeouts: Timeouts
) -> Response:
    """Ask over UDP (PROFILE §1.5) and decode the response strictly; no response fails."""
    __tracebackhide__ = True
    wire = udp_exchange(endpoint, address, query.to_wire(), timeouts)
    if wire is None:
        raise ConformanceFailure(
            f"a response over UDP to {describe_query(query)}",
            f"no response with ID {query.id} to {UDP_TRIES} copies of the query "
            f"(the last one {UDP_LAST_WAIT:.0f} s ago)",
        )
    return Response(wire, decode_strict(wire, f"the response to {describe_query(query)}"))


def tcp_read(conn: TcpConnection, timeout: float, what: str) -> bytes:
    """One length-prefixed message from the connection (PROFILE §1.5)."""
    prefix = conn.recv_exactly(LENGTH_PREFIX, timeout=timeout, what=f"{what} (its length prefix)")
    (size,) = struct.unpack("!H", prefix)
    return conn.recv_exactly(size, timeout=timeout, what=f"{what}: {size} octets")


def tcp_query(conn: TcpConnection, query: dns.message.Message, timeouts: Timeouts) -> Response:
    """Send one query with its length in one write, read and strictly decode the response."""
    __tracebackhide__ = True
    conn.send(with_length(query.to_wire()))
    what = f"a response over TCP to {describe_query(query)}"
    wire = tcp_read(conn, timeouts(TCP_WAIT), what)
    return Response(wire, decode_strict(wire, what))


# -- describing ----------------------------------------------------------------------------------
def describe_query(query: dns.message.Message) -> str:
    q = query.question[0] if query.question else None
    if q is None:
        return f"query ID {query.id}"
    edns = f", EDNS payload {query.payload}" if query.edns >= 0 else ""
    return f"{q.name} {dns.rdatatype.to_text(q.rdtype)} (ID {query.id}{edns})"


def records(section: list[dns.rrset.RRset]) -> set[tuple[dns.name.Name, str, str]]:
    """A section as a set of (owner, type, data): owners compare case-insensitively, TTLs and
    order are not judged (PROFILE §1.4)."""
    out = set()
    for rrset in section:
        for rdata in rrset:
            out.add(
                (
                    rrset.name.canonicalize(),
                    dns.rdatatype.to_text(rrset.rdtype),
                    rdata.to_digestable(ORIGIN).hex(),
                )
            )
    return out


def rrs(*entries: tuple[str, str, str]) -> set[tuple[dns.name.Name, str, str]]:
    """The expected records, written as master-file text: ("www", "A", "192.0.2.10")."""
    section = []
    for owner, rdtype, data in entries:
        section.append(
            dns.rrset.from_text_list(
                name(owner), 3600, "IN", rdtype, [data], origin=ORIGIN, relativize=False
            )
        )
    return records(section)


def show(section: list[dns.rrset.RRset]) -> str:
    if not section:
        return "an empty section"
    return "; ".join(line for rrset in section for line in rrset.to_text().splitlines())


def rcode_text(rcode: int) -> str:
    return f"{dns.rcode.to_text(dns.rcode.Rcode(rcode))} ({int(rcode)})"


# -- the zone, as the judge reads it ------------------------------------------------------------
_ZONE: list[dns.zone.Zone] = []


def zone() -> dns.zone.Zone:
    """The fixture zone (PROFILE §1.3), read once with dnspython."""
    if not _ZONE:
        _ZONE.append(dns.zone.from_file(str(ZONEFILE), origin=ORIGIN, relativize=False))
    return _ZONE[0]


def zone_records(owner: str, rdtype: str) -> set[tuple[dns.name.Name, str, str]]:
    """The records the zone holds for ``owner`` and ``rdtype``, as :func:`records` sets them."""
    rdataset = zone().find_rdataset(name(owner), rdtype)
    return records([_as_rrset(name(owner), rdataset)])


def _as_rrset(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(owner, rdataset.rdclass, rdataset.rdtype)
    for rdata in rdataset:
        rrset.add(rdata)
    return rrset
