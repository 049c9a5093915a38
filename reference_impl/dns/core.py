"""DNS without sockets: an authoritative server's answers and a mail lookup's address order.

The server half takes a zone (dnspython) and the octets of a query and returns the octets of the
response, or None for a packet that gets no response. The client half takes the responses a
name server gave and decides what they mean for mail: which exchanges, in which order, with
which addresses. server.py and client.py do the socket work.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Final

import dns.exception
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
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.NS import NS
from dns.rdtypes.ANY.SOA import SOA

HEADER_LENGTH: Final = 12
# RFC 1035 §4.2.1: "Messages carried by UDP are restricted to 512 bytes".
UDP_LIMIT: Final = 512
# The EDNS payload size real servers use and advertise (DNS Flag Day 2020).
EDNS_LIMIT: Final = 1232
TCP_LIMIT: Final = 65_535
EDNS_VERSION: Final = 0
# A chain longer than this is treated as a loop.
MAX_CNAME_HOPS: Final = 16
ADDRESS_TYPES: Final = (dns.rdatatype.A, dns.rdatatype.AAAA)
IN: Final = dns.rdataclass.IN

# --------------------------------------------------------------------------- server half


def load_zone(path: str, origin: str | None = None) -> dns.zone.Zone:
    """The zone in the master file at `path`, with absolute names."""
    return dns.zone.from_file(path, origin=origin, relativize=False)


def origin_of(zone: dns.zone.Zone) -> dns.name.Name:
    """The zone's origin (a zone read from a file always has one)."""
    assert zone.origin is not None
    return zone.origin


def udp_limit(query: dns.message.Message) -> int:
    """The largest UDP response `query` may get."""
    if query.edns < 0:
        return UDP_LIMIT
    # RFC 6891 §6.2.5: "Values lower than 512 MUST be treated as equal to 512."
    return min(max(query.payload, UDP_LIMIT), EDNS_LIMIT)


def formerr(wire: bytes) -> bytes:
    """A bare FORMERR for a query whose header could be read but the rest could not."""
    query_id, flags = struct.unpack_from("!HH", wire)
    opcode_and_rd = flags & (0x7800 | dns.flags.RD)
    return struct.pack(
        "!6H", query_id, dns.flags.QR | opcode_and_rd | dns.rcode.FORMERR, 0, 0, 0, 0
    )


def respond(zone: dns.zone.Zone, wire: bytes, *, over_tcp: bool) -> bytes | None:
    """The response to the query octets `wire`, or None if the packet gets none."""
    # Profile 2.10: a packet too short for a header has no ID to answer, so it gets "no
    # response at all".
    if len(wire) < HEADER_LENGTH:
        return None
    # RFC 1035 §4.1.1: QR "specifies whether this message is a query (0), or a response (1)".
    # A response is never answered: two servers would bounce it between them forever.
    if wire[2] & 0x80:
        return None
    try:
        # from_wire refuses looping or forward compression pointers and trailing octets.
        query = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError, IndexError):
        # Profile 2.10: "A packet that is not a well-formed query MUST get either a response
        # with RCODE FORMERR (1) [...] or no response at all."
        return formerr(wire)
    response = answer(zone, query)
    limit = TCP_LIMIT if over_tcp else udp_limit(query)
    return render(response, limit)


def render(response: dns.message.Message, limit: int) -> bytes:
    """The octets of `response`, truncated (TC set, sections emptied) if over `limit`."""
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        pass
    # Profile 2.7: "When the answer does not fit, the server MUST set TC; the truncated
    # response MAY hold part of the records or none."
    response.answer.clear()
    response.authority.clear()
    response.additional.clear()
    response.flags |= dns.flags.TC
    return response.to_wire(max_size=limit)


def answer(zone: dns.zone.Zone, query: dns.message.Message) -> dns.message.Message:
    """The authoritative response to a parsed query."""
    if query.opcode() != dns.opcode.QUERY:
        # RFC 1035 §4.1.1: RCODE 4, "Not Implemented - The name server does not support the
        # requested kind of query."
        return _bare(query, dns.rcode.NOTIMP)
    # RFC 1035 §4.1.2 and RFC 9619: a query holds exactly one question.
    if len(query.question) != 1:
        return _bare(query, dns.rcode.FORMERR)
    # make_response echoes the ID, the opcode, RD and the question as it came (case included),
    # and adds an OPT record when the query had one (RFC 6891 §6.1.1).
    response = dns.message.make_response(query, our_payload=EDNS_LIMIT)
    if query.edns > EDNS_VERSION:
        # RFC 6891 §6.1.3: a server that does not implement the version "MUST respond with
        # RCODE=BADVERS".
        response.set_rcode(dns.rcode.BADVERS)
        return response
    question = query.question[0]
    # Profile 2.9: "A query for a name outside the server's zone MUST get RCODE REFUSED (5)."
    if question.rdclass != IN or not question.name.is_subdomain(origin_of(zone)):
        response.set_rcode(dns.rcode.REFUSED)
        return response
    if dns.rdatatype.is_metatype(question.rdtype) and question.rdtype != dns.rdatatype.ANY:
        response.set_rcode(dns.rcode.REFUSED)  # AXFR, IXFR, OPT and friends: not served here
        return response
    response.flags |= dns.flags.AA
    _resolve(zone, question.name, question.rdtype, response)
    return response


def _bare(query: dns.message.Message, rcode: dns.rcode.Rcode) -> dns.message.Message:
    response = dns.message.Message(id=query.id)
    response.flags = dns.flags.QR | (query.flags & dns.flags.RD)
    response.set_opcode(query.opcode())
    response.set_rcode(rcode)
    return response


def _resolve(
    zone: dns.zone.Zone,
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    response: dns.message.Message,
) -> None:
    """Fill `response` with the answer for qname/qtype, following CNAMEs inside the zone."""
    name = qname
    for _ in range(MAX_CNAME_HOPS):
        cut = delegation_point(zone, name)
        if cut is not None and not (name == cut and qtype == dns.rdatatype.DS):
            _refer(zone, cut, response)
            return
        node = zone.get_node(name)
        if node is None:
            # RFC 6604 §3: after a CNAME, the RCODE describes the last name in the chain.
            # RFC 8020 §2: an empty non-terminal exists, so it is NODATA, not NXDOMAIN.
            if not has_descendants(zone, name):
                response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(negative_soa(zone))
            return
        if qtype == dns.rdatatype.ANY and node.rdatasets:
            response.answer.extend(_rrset(name, rds) for rds in node.rdatasets)
            return
        found = node.get_rdataset(IN, qtype)
        if found is not None:
            response.answer.append(_rrset(name, found))
            return
        alias = node.get_rdataset(IN, dns.rdatatype.CNAME)
        if alias is None:
            response.authority.append(negative_soa(zone))  # NODATA: NOERROR with the SOA
            return
        response.answer.append(_rrset(name, alias))
        target: CNAME = alias[0]
        name = target.target
        # A target outside the zone is for the client to chase: NOERROR with the CNAME.
        if not name.is_subdomain(origin_of(zone)):
            return


def _rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))


def delegation_point(zone: dns.zone.Zone, name: dns.name.Name) -> dns.name.Name | None:
    """The topmost zone cut at or above `name` (below the apex), or None."""
    found = None
    while name != origin_of(zone) and name.is_subdomain(origin_of(zone)):
        node = zone.get_node(name)
        if node is not None and node.get_rdataset(IN, dns.rdatatype.NS) is not None:
            found = name
        name = name.parent()
    return found


def has_descendants(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
    """Whether some name in the zone lies below `name` (which makes it an empty non-terminal)."""
    return any(other != name and other.is_subdomain(name) for other in zone.nodes)


def negative_soa(zone: dns.zone.Zone) -> dns.rrset.RRset:
    """The apex SOA for the authority section of NXDOMAIN and NODATA answers."""
    rdataset = zone.find_rdataset(origin_of(zone), dns.rdatatype.SOA)
    soa: SOA = rdataset[0]
    # RFC 2308 §3: the TTL of this record is "the minimum of the MINIMUM field of the SOA
    # record and the TTL of the SOA itself".
    return dns.rrset.from_rdata_list(origin_of(zone), min(rdataset.ttl, soa.minimum), [soa])


def _refer(zone: dns.zone.Zone, cut: dns.name.Name, response: dns.message.Message) -> None:
    """A referral to the servers of the child zone at `cut`."""
    ns_set = zone.find_rdataset(cut, dns.rdatatype.NS)
    if not response.answer:
        # RFC 1034 §4.3.2: the answer is not authoritative when the name lies in a child zone.
        response.flags &= ~dns.flags.AA
    response.authority.append(_rrset(cut, ns_set))
    for ns in ns_set:
        assert isinstance(ns, NS)
        # RFC 1034 §4.3.2: "Put whatever addresses are available into the additional section".
        node = zone.get_node(ns.target)
        for rdtype in ADDRESS_TYPES:
            glue = node.get_rdataset(IN, rdtype) if node is not None else None
            if glue is not None:
                response.additional.append(_rrset(ns.target, glue))


# --------------------------------------------------------------------------- client half


class MailError(Exception):
    """The lookup ended without a single address to try for mail."""


def check_rcode(response: dns.message.Message, name: dns.name.Name) -> None:
    """Raise MailError unless `response` is a NOERROR answer."""
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        raise MailError(f"{name.to_text()}: no such domain (NXDOMAIN)")
    if rcode != dns.rcode.NOERROR:
        raise MailError(f"{name.to_text()}: the name server answered {dns.rcode.to_text(rcode)}")


def follow_chain(
    response: dns.message.Message, qname: dns.name.Name, rdtype: int
) -> tuple[dns.name.Name, dns.rrset.RRset | None]:
    """Follow the CNAMEs in the answer section from `qname`; the last name and its records."""
    name = qname
    for _ in range(MAX_CNAME_HOPS):
        for rrset in response.answer:
            if rrset.name == name and rrset.rdtype == rdtype:
                return name, rrset
        alias = next(
            (r for r in response.answer if r.name == name and r.rdtype == dns.rdatatype.CNAME),
            None,
        )
        if alias is None:
            return name, None
        target: CNAME = alias[0]
        name = target.target
    raise MailError(f"{qname.to_text()}: CNAME chain longer than {MAX_CNAME_HOPS} names")


def exchanges(mx_records: Iterable[MX], domain: dns.name.Name) -> list[dns.name.Name]:
    """The mail exchangers in the order to try them; MailError for a null MX."""
    records = list(mx_records)
    # Profile 3.4: "A domain whose MX record has the exchange `.` (a null MX) does not accept
    # mail: the client MUST NOT print any address for it, not even the domain's own".
    if any(mx.exchange == dns.name.root for mx in records):
        raise MailError(f"{domain.to_text()} does not accept mail (null MX, RFC 7505)")
    # Profile 3.1: "The client MUST print the addresses of the exchanges in the order of their
    # MX preferences, lowest first". sorted() is stable: ties keep the server's order.
    ordered = sorted(records, key=lambda mx: mx.preference)
    names: list[dns.name.Name] = []
    for mx in ordered:
        if mx.exchange not in names:
            names.append(mx.exchange)
    return names


def addresses_in_order(
    ordered_exchanges: Iterable[dns.name.Name],
    addresses: Mapping[dns.name.Name, Iterable[str]],
) -> list[str]:
    """Every exchange's addresses, exchange after exchange, each address once."""
    result: list[str] = []
    for name in ordered_exchanges:
        for address in addresses.get(name, ()):
            if address not in result:
                result.append(address)
    return result
