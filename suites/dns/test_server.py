"""dns.server: an authoritative name server for example.test. (dns PROFILE §2)."""

from __future__ import annotations

import struct
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from suites.dns.protocol import (
    EDNS_PAYLOAD,
    HEADER_LEN,
    ORIGIN,
    TCP_WAIT,
    UDP_CLASSIC_LIMIT,
    ZONEFILE,
    Response,
    decode_dns,
    decode_strict,
    describe_query,
    make_query,
    name,
    name_wire,
    rcode_text,
    records,
    rrs,
    show,
    tc_in_header,
    tcp_query,
    tcp_read,
    udp_exchange,
    udp_query,
    with_length,
    zone_records,
)
from wirecheck import (
    MUST,
    SHOULD,
    ConformanceFailure,
    ServerHandle,
    TcpConnection,
    Timeouts,
    UdpEndpoint,
    case,
    expect,
)
from wirecheck.manifest import Value
from wirecheck.wire import describe

pytestmark = pytest.mark.role("dns.server", transport="udp")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

MALFORMED_WAIT = 1.0  # PROFILE §2.10: how long the suite waits for a response to a bad packet
OCTET_PAUSE = 0.005  # PROFILE §2.11/3: seconds between the one-octet segments


@pytest.fixture(scope="module")
def role_placeholders() -> dict[str, Value]:
    """PROFILE §1.1: `{zonefile}` is the fixture zone."""
    return {"zonefile": str(ZONEFILE)}


# -- asking ----------------------------------------------------------------------------------------
def udp(server: ServerHandle, label: str = "") -> UdpEndpoint:
    endpoint = server.udp(label)
    endpoint.channel.decoder = decode_dns
    return endpoint


def tcp(server: ServerHandle, label: str = "") -> TcpConnection:
    conn = server.connect(label)
    conn.channel.decoder = decode_dns
    return conn


def ask(
    server: ServerHandle,
    timeouts: Timeouts,
    qname: str,
    rdtype: str = "A",
    *,
    edns: int | None = None,
) -> tuple[dns.message.Message, Response]:
    """One query over UDP (PROFILE §1.5); the query and its strictly decoded response."""
    __tracebackhide__ = True
    query = make_query(qname, rdtype, edns=edns)
    with udp(server, f"{qname} {rdtype}") as endpoint:
        return query, udp_query(endpoint, server.address, query, timeouts)


def ask_tcp(
    server: ServerHandle, timeouts: Timeouts, qname: str, rdtype: str = "A"
) -> tuple[dns.message.Message, Response]:
    __tracebackhide__ = True
    query = make_query(qname, rdtype)
    with tcp(server, f"{qname} {rdtype}") as conn:
        return query, tcp_query(conn, query, timeouts)


def ask_any_id(
    server: ServerHandle, timeouts: Timeouts, query: dns.message.Message
) -> tuple[bytes, Response]:
    """Like ``ask``, but takes the first datagram from the server whatever its ID."""
    __tracebackhide__ = True
    wire = query.to_wire()
    with udp(server, describe_query(query)) as endpoint:
        got = udp_exchange(endpoint, server.address, wire, timeouts, match_id=False)
    if got is None:
        raise ConformanceFailure(
            f"a response over UDP to {describe_query(query)}", "no response at all"
        )
    return wire, Response(got, decode_strict(got))


def expect_answer(
    response: Response, wanted: set[tuple[dns.name.Name, str, str]], how: str
) -> None:
    __tracebackhide__ = True
    expect(
        records(response.message.answer) == wanted,
        expected=f"the answer section holds exactly {how}",
        actual=show(response.message.answer),
    )


def expect_rcode(response: Response, *allowed: int) -> None:
    __tracebackhide__ = True
    expect(
        response.rcode in allowed,
        expected="RCODE " + " or ".join(rcode_text(r) for r in allowed),
        actual=f"RCODE {rcode_text(response.rcode)}",
    )


def expect_soa(response: Response) -> None:
    __tracebackhide__ = True
    soas = [r for r in response.message.authority if r.rdtype == dns.rdatatype.SOA]
    expect(
        any(r.name == ORIGIN for r in soas),
        expected="the SOA record of example.test. in the authority section (RFC 2308 §3)",
        actual=f"authority: {show(response.message.authority)}",
    )


# -- §2.1 Header and question ----------------------------------------------------------------------
HEADER_RULE = (
    "The server MUST copy the query's ID into its response, and MUST copy the question section "
    "(one question) unchanged. It MUST set QR, copy the OPCODE and RD, set AA in every response "
    "that answers from its zone's data, and set RCODE to NOERROR (0) when the name exists."
)


def ask_www_a(server: ServerHandle, timeouts: Timeouts) -> tuple[bytes, Response]:
    """The query most of 2.1 judges. Asked in each case, not in a fixture: a server that answers
    badly fails the case (call phase) rather than making it an error (setup phase)."""
    return ask_any_id(server, timeouts, make_query("www", "A"))


@case("dns/2.1/1", MUST, HEADER_RULE, rfc="RFC 1035 §4.1.1")
def test_id_copied(server: ServerHandle, timeouts: Timeouts) -> None:
    www_a = ask_www_a(server, timeouts)
    wire, response = www_a
    (query_id,) = struct.unpack_from("!H", wire)
    expect(
        response.message.id == query_id,
        expected=f"the response's ID is the query's, {query_id}",
        actual=f"ID {response.message.id}",
    )


@case("dns/2.1/2", MUST, HEADER_RULE, rfc="RFC 1035 §4.1.2")
def test_question_copied(server: ServerHandle, timeouts: Timeouts) -> None:
    www_a = ask_www_a(server, timeouts)
    question = www_a[1].message.question
    ok = (
        len(question) == 1
        and question[0].name == name("www")
        and question[0].rdtype == dns.rdatatype.A
        and question[0].rdclass == dns.rdataclass.IN
    )
    expect(
        ok,
        expected="exactly one question: www.example.test. IN A",
        actual="; ".join(q.to_text() for q in question) or "no question",
    )


@case("dns/2.1/3", MUST, HEADER_RULE, rfc="RFC 1035 §4.1.1")
def test_qr_and_opcode(server: ServerHandle, timeouts: Timeouts) -> None:
    www_a = ask_www_a(server, timeouts)
    message = www_a[1].message
    expect(
        bool(message.flags & dns.flags.QR) and message.opcode() == dns.opcode.QUERY,
        expected="QR set, OPCODE 0 (QUERY)",
        actual=f"flags {dns.flags.to_text(message.flags) or 'none'}, "
        f"OPCODE {dns.opcode.to_text(message.opcode())}",
    )


@case("dns/2.1/4", MUST, HEADER_RULE, rfc="RFC 1035 §4.1.1")
def test_rd_copied(server: ServerHandle, timeouts: Timeouts) -> None:
    www_a = ask_www_a(server, timeouts)
    message = www_a[1].message
    expect(
        bool(message.flags & dns.flags.RD),
        expected="RD set, as in the query",
        actual=f"flags {dns.flags.to_text(message.flags) or 'none'}",
    )


@case("dns/2.1/5", MUST, HEADER_RULE, rfc="RFC 1035 §4.1.1")
def test_aa_set(server: ServerHandle, timeouts: Timeouts) -> None:
    www_a = ask_www_a(server, timeouts)
    message = www_a[1].message
    expect(
        bool(message.flags & dns.flags.AA),
        expected="AA set: the answer comes from the server's own zone",
        actual=f"flags {dns.flags.to_text(message.flags) or 'none'}",
    )


@case("dns/2.1/6", MUST, HEADER_RULE, rfc="RFC 1035 §4.1.1")
def test_rcode_noerror(server: ServerHandle, timeouts: Timeouts) -> None:
    www_a = ask_www_a(server, timeouts)
    expect_rcode(www_a[1], dns.rcode.NOERROR)


# -- §2.2 Answers ----------------------------------------------------------------------------------
ANSWERS_RULE = (
    "For a name of the zone that owns records of the asked type, the server MUST answer with "
    "exactly those records: all of them, and no record of another name or type in the answer "
    "section (CNAMEs aside, 2.4)."
)
MAIL_MX = (
    ("mail", "MX", "20 mike"),
    ("mail", "MX", "30 alpha"),
    ("mail", "MX", "10 zulu"),
    ("mail", "MX", "40 mx-alias"),
    ("mail", "MX", "20 echo"),
)


@case("dns/2.2/1", MUST, ANSWERS_RULE, rfc="RFC 1034 §4.3.2")
def test_answer_a(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "www", "A")
    expect_answer(response, rrs(("www", "A", "192.0.2.10")), "www A 192.0.2.10")


@case("dns/2.2/2", MUST, ANSWERS_RULE, rfc="RFC 3596 §2")
def test_answer_aaaa(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "www", "AAAA")
    expect_answer(response, rrs(("www", "AAAA", "2001:db8::10")), "www AAAA 2001:db8::10")


@case("dns/2.2/3", MUST, ANSWERS_RULE, rfc="RFC 1034 §4.3.2")
def test_answer_mx(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "mail", "MX")
    expect_answer(
        response,
        rrs(*MAIL_MX),
        "the five MX of mail: 10 zulu, 20 mike, 20 echo, 30 alpha, 40 mx-alias",
    )


@case("dns/2.2/4", MUST, ANSWERS_RULE, rfc="RFC 1034 §4.3.2")
def test_answer_ns(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "example.test.", "NS")
    expect_answer(
        response,
        rrs(("example.test.", "NS", "ns1"), ("example.test.", "NS", "ns2")),
        "example.test. NS ns1 and NS ns2",
    )


@case(
    "dns/2.2/5",
    MUST,
    "[The server] MAY use name compression (RFC 1035 §4.1.4); every pointer MUST point to an "
    "earlier position in the message.",
    rfc="RFC 1035 §4.1.4",
)
def test_compression_points_back(server: ServerHandle, timeouts: Timeouts) -> None:
    # The strict decoder of §1.5 (in ask) fails a forward or looping pointer.
    _, response = ask(server, timeouts, "mail", "MX")
    exchanges = {
        rdata.exchange.canonicalize()
        for rrset in response.message.answer
        if rrset.rdtype == dns.rdatatype.MX
        for rdata in rrset
    }
    wanted = {name(n) for n in ("zulu", "mike", "echo", "alpha", "mx-alias")}
    expect(
        exchanges == wanted,
        expected="the exchanges decode to zulu, mike, echo, alpha and mx-alias .example.test.",
        actual=", ".join(sorted(str(e) for e in exchanges)) or "no exchange",
    )


# -- §2.3 NXDOMAIN and NODATA ----------------------------------------------------------------------
NEGATIVE_RULE = (
    "For a name that does not exist in the zone, the server MUST answer with RCODE NXDOMAIN (3). "
    "For a name that exists but owns no record of the asked type, it MUST answer with RCODE "
    "NOERROR and an empty answer section (NODATA). A name that owns no records but has names "
    "below it (an empty non-terminal) exists: the answer is NODATA. Both negative answers MUST "
    "carry the zone's SOA record in the authority section."
)


@case("dns/2.3/1", MUST, NEGATIVE_RULE, rfc="RFC 1035 §4.1.1")
def test_nxdomain(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "nonexistent", "A")
    expect_rcode(response, dns.rcode.NXDOMAIN)
    expect(
        response.aa,
        expected="AA set on the NXDOMAIN",
        actual=f"flags {dns.flags.to_text(response.message.flags)}",
    )


@case("dns/2.3/2", MUST, NEGATIVE_RULE, rfc="RFC 2308 §3")
def test_nxdomain_soa(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "nonexistent", "A")
    expect_answer(response, set(), "nothing")
    expect_soa(response)


@case("dns/2.3/3", MUST, NEGATIVE_RULE, rfc="RFC 2308 §2.2")
def test_nodata(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "nodata", "A")
    expect_rcode(response, dns.rcode.NOERROR)
    expect_answer(response, set(), "nothing (NODATA)")


@case("dns/2.3/4", MUST, NEGATIVE_RULE, rfc="RFC 2308 §3")
def test_nodata_soa(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "nodata", "A")
    expect_soa(response)


@case("dns/2.3/5", MUST, NEGATIVE_RULE, rfc="RFC 8020 §2")
def test_empty_non_terminal(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "ent", "A")
    expect_rcode(response, dns.rcode.NOERROR)
    expect_answer(response, set(), "nothing (NODATA: ent exists, leaf.ent is below it)")


# -- §2.4 CNAME ------------------------------------------------------------------------------------
CNAME_RULE = (
    "When the asked name owns a CNAME record and the query is for another type, the server MUST "
    "put the CNAME in the answer and go on with the CNAME's target, adding the target's records "
    "(and further CNAMEs) as long as the target is in its zone. [...] A query for type CNAME gets "
    "the CNAME record itself."
)
DANGLING_RULE = (
    "When the chain ends at a name of the zone that does not exist, the RCODE SHOULD be NXDOMAIN, "
    "with the CNAMEs in the answer."
)


@case("dns/2.4/1", MUST, CNAME_RULE, rfc="RFC 1034 §4.3.2")
def test_cname(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "alias", "A")
    expect_answer(
        response,
        rrs(("alias", "CNAME", "www"), ("www", "A", "192.0.2.10")),
        "alias CNAME www, www A 192.0.2.10",
    )
    expect_rcode(response, dns.rcode.NOERROR)


@case("dns/2.4/2", MUST, CNAME_RULE, rfc="RFC 1034 §4.3.2")
def test_cname_chain(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "chain1", "A")
    expect_answer(
        response,
        rrs(
            ("chain1", "CNAME", "chain2"),
            ("chain2", "CNAME", "chain3"),
            ("chain3", "CNAME", "www"),
            ("www", "A", "192.0.2.10"),
        ),
        "chain1 CNAME chain2, chain2 CNAME chain3, chain3 CNAME www, www A 192.0.2.10",
    )


@case("dns/2.4/3", MUST, CNAME_RULE, rfc="RFC 1034 §4.3.2")
def test_dangling_cname(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "dangling", "A")
    expect_answer(response, rrs(("dangling", "CNAME", "nowhere")), "dangling CNAME nowhere")
    expect_rcode(response, dns.rcode.NXDOMAIN, dns.rcode.NOERROR)


@case("dns/2.4/4", SHOULD, DANGLING_RULE, rfc="RFC 6604 §3")
def test_dangling_cname_nxdomain(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "dangling", "A")
    expect_rcode(response, dns.rcode.NXDOMAIN)


@case("dns/2.4/5", MUST, CNAME_RULE, rfc="RFC 1034 §4.3.2")
def test_cname_query(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "alias", "CNAME")
    expect_answer(response, rrs(("alias", "CNAME", "www")), "alias CNAME www, nothing else")


# -- §2.5 Case -------------------------------------------------------------------------------------
@case(
    "dns/2.5/1",
    MUST,
    "The server MUST match names case-insensitively.",
    rfc="RFC 4343 §3",
)
@pytest.mark.parametrize(
    "qname",
    [
        pytest.param("MIXEDCASE", id="upper"),
        pytest.param("mixedcase", id="lower"),
        pytest.param("mIxEdCaSe.ExAmPlE.tEsT.", id="mixed"),
    ],
)
def test_case_insensitive(server: ServerHandle, timeouts: Timeouts, qname: str) -> None:
    _, response = ask(server, timeouts, qname, "A")
    expect_answer(response, rrs(("mixedcase", "A", "192.0.2.13")), "MixedCase A 192.0.2.13")


@case(
    "dns/2.5/2",
    SHOULD,
    "It SHOULD copy the question name into the response with the case of its octets unchanged.",
    rfc="RFC 4343 §4.1",
)
def test_question_case_kept(server: ServerHandle, timeouts: Timeouts) -> None:
    query, response = ask(server, timeouts, "wWw.ExAmPlE.tEsT.", "A")
    asked = name_wire(query.question[0].name)
    got = [name_wire(q.name) for q in response.message.question]
    expect(
        got == [asked],
        expected=f"the question name as asked, {asked!r}",
        actual=", ".join(repr(g) for g in got) or "no question",
    )


# -- §2.6 Referral ---------------------------------------------------------------------------------
REFERRAL_RULE = (
    "For a name at or below a delegation (`sub`), the server MUST answer with a referral: RCODE "
    "NOERROR, an empty answer section, AA clear, the delegation's NS records in the authority "
    "section, and the glue addresses it holds for those name servers in the additional section."
)


def ask_referral(server: ServerHandle, timeouts: Timeouts) -> Response:
    """The referral 2.6 judges, asked in each case (see ask_www_a)."""
    return ask(server, timeouts, "www.sub", "A")[1]


@case("dns/2.6/1", MUST, REFERRAL_RULE, rfc="RFC 1035 §4.1.1")
def test_referral_not_authoritative(server: ServerHandle, timeouts: Timeouts) -> None:
    referral = ask_referral(server, timeouts)
    expect(
        not referral.aa,
        expected="AA clear: the data below sub.example.test. is another zone's",
        actual=f"flags {dns.flags.to_text(referral.message.flags)}",
    )


@case("dns/2.6/2", MUST, REFERRAL_RULE, rfc="RFC 1034 §4.3.2")
def test_referral_empty_answer(server: ServerHandle, timeouts: Timeouts) -> None:
    referral = ask_referral(server, timeouts)
    expect_rcode(referral, dns.rcode.NOERROR)
    expect_answer(referral, set(), "nothing (a referral)")


@case("dns/2.6/3", MUST, REFERRAL_RULE, rfc="RFC 1034 §4.3.2")
def test_referral_ns(server: ServerHandle, timeouts: Timeouts) -> None:
    referral = ask_referral(server, timeouts)
    wanted = rrs(("sub", "NS", "ns.sub"))
    expect(
        wanted <= records(referral.message.authority),
        expected="sub.example.test. NS ns.sub.example.test. in the authority section",
        actual=f"authority: {show(referral.message.authority)}",
    )


@case("dns/2.6/4", MUST, REFERRAL_RULE, rfc="RFC 1034 §4.3.2")
def test_referral_glue(server: ServerHandle, timeouts: Timeouts) -> None:
    referral = ask_referral(server, timeouts)
    wanted = rrs(("ns.sub", "A", "192.0.2.60"))
    expect(
        wanted <= records(referral.message.additional),
        expected="ns.sub.example.test. A 192.0.2.60 in the additional section",
        actual=f"additional: {show(referral.message.additional)}",
    )


# -- §2.7 Truncation and TCP -----------------------------------------------------------------------
TRUNCATION_RULE = (
    "A response over UDP to a query without EDNS MUST NOT exceed 512 octets. When the answer "
    "does not fit, the server MUST set TC; the truncated response MAY hold part of the records or "
    "none."
)
TCP_RULE = "The server MUST serve the same queries over TCP, where the response is whole."


def expect_truncated(wire: bytes, limit: int) -> None:
    __tracebackhide__ = True
    expect(
        len(wire) <= limit,
        expected=f"a UDP response of at most {limit} octets",
        actual=f"{len(wire)} octets, TC {'set' if tc_in_header(wire) else 'clear'}",
    )
    expect(
        tc_in_header(wire),
        expected="TC set: the answer does not fit",
        actual=f"{len(wire)} octets with TC clear",
    )
    decode_strict(wire, "the truncated response")


@case("dns/2.7/1", MUST, TRUNCATION_RULE, rfc="RFC 1035 §4.2.1")
def test_udp_512_truncates(server: ServerHandle, timeouts: Timeouts) -> None:
    query = make_query("medium", "TXT")
    with udp(server, "medium TXT") as endpoint:
        wire = udp_exchange(endpoint, server.address, query.to_wire(), timeouts)
    if wire is None:
        raise ConformanceFailure("a response over UDP to medium TXT", "none came")
    expect_truncated(wire, UDP_CLASSIC_LIMIT)


def check_tcp_whole(server: ServerHandle, timeouts: Timeouts, owner: str, count: str) -> None:
    __tracebackhide__ = True
    _, response = ask_tcp(server, timeouts, owner, "TXT")
    expect(not response.tc, expected="TC clear over TCP", actual="TC set")
    expect_answer(response, zone_records(owner, "TXT"), f"the {count} TXT records of {owner}")


@case("dns/2.7/2", MUST, TCP_RULE, rfc="RFC 7766 §5")
def test_tcp_medium(server: ServerHandle, timeouts: Timeouts) -> None:
    check_tcp_whole(server, timeouts, "medium", "four")


@case("dns/2.7/3", MUST, TCP_RULE, rfc="RFC 7766 §5")
def test_tcp_large(server: ServerHandle, timeouts: Timeouts) -> None:
    check_tcp_whole(server, timeouts, "large", "eight")


# -- §2.8 EDNS -------------------------------------------------------------------------------------
EDNS_RULE = (
    "When the query holds an OPT record (EDNS version 0), the response MUST hold exactly one OPT "
    "record; when it holds none, the response MUST hold none. A response over UDP MUST NOT exceed "
    "the payload size the query offers (512 when it offers less)."
)


@case("dns/2.8/1", MUST, EDNS_RULE, rfc="RFC 6891 §6.1.1")
def test_edns_echoed(server: ServerHandle, timeouts: Timeouts) -> None:
    # The strict decoder refuses a second OPT record.
    _, response = ask(server, timeouts, "www", "A", edns=EDNS_PAYLOAD)
    expect(
        response.message.edns == 0,
        expected="one OPT record, EDNS version 0",
        actual="no OPT record"
        if response.message.edns < 0
        else f"EDNS version {response.message.edns}",
    )


@case("dns/2.8/2", MUST, EDNS_RULE, rfc="RFC 6891 §7")
def test_no_edns_no_opt(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "www", "A")
    expect(
        response.message.edns < 0,
        expected="no OPT record: the query held none",
        actual=f"an OPT record, version {response.message.edns}, "
        f"payload {response.message.payload}",
    )


@case(
    "dns/2.8/3",
    SHOULD,
    "An answer that fits in 1232 octets SHOULD come whole over UDP when the query offers at "
    "least 1232.",
    rfc="RFC 6891 §6.2.5",
)
def test_edns_medium_whole(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "medium", "TXT", edns=EDNS_PAYLOAD)
    expect(not response.tc, expected="TC clear", actual=f"TC set, {len(response.wire)} octets")
    expect_answer(response, zone_records("medium", "TXT"), "the four TXT records of medium")


@case("dns/2.8/4", MUST, EDNS_RULE, rfc="RFC 6891 §6.2.3")
def test_edns_large_truncates(server: ServerHandle, timeouts: Timeouts) -> None:
    query = make_query("large", "TXT", edns=EDNS_PAYLOAD)
    with udp(server, "large TXT") as endpoint:
        wire = udp_exchange(endpoint, server.address, query.to_wire(), timeouts)
    if wire is None:
        raise ConformanceFailure("a response over UDP to large TXT", "none came")
    expect_truncated(wire, EDNS_PAYLOAD)


# -- §2.9 Refused and not implemented --------------------------------------------------------------
@case(
    "dns/2.9/1",
    MUST,
    "A query for a name outside the server's zone MUST get RCODE REFUSED (5).",
    rfc="RFC 1035 §4.1.1",
)
def test_refused(server: ServerHandle, timeouts: Timeouts) -> None:
    _, response = ask(server, timeouts, "www.example.org.", "A")
    expect_rcode(response, dns.rcode.REFUSED)


@case(
    "dns/2.9/2",
    MUST,
    "A query with an OPCODE the server does not implement MUST get RCODE NOTIMP (4), with the "
    "query's ID.",
    rfc="RFC 1035 §4.1.1",
)
def test_notimp(server: ServerHandle, timeouts: Timeouts) -> None:
    query = make_query("www", "A", opcode=3)
    _, response = ask_any_id(server, timeouts, query)
    expect(
        response.message.id == query.id,
        expected=f"the query's ID, {query.id}",
        actual=f"ID {response.message.id}",
    )
    expect_rcode(response, dns.rcode.NOTIMP)


# -- §2.10 Malformed input -------------------------------------------------------------------------
MALFORMED_RULE = (
    "A packet that is not a well-formed query MUST get either a response with RCODE FORMERR (1), "
    "the query's ID and QR set (its question section MAY be empty), or no response at all. Either "
    "way the server MUST go on serving."
)
WWW_QUESTION = name_wire(name("www")) + struct.pack("!HH", dns.rdatatype.A, dns.rdataclass.IN)


def header(query_id: int, qdcount: int) -> bytes:
    return struct.pack("!6H", query_id, dns.flags.RD, qdcount, 0, 0, 0)


def formerr_problem(packet: bytes, wire: bytes) -> str | None:
    """Why ``wire`` is not an acceptable FORMERR response to ``packet`` (None: it is)."""
    if len(wire) < HEADER_LEN:
        return f"{len(wire)} octets, shorter than a header"
    query_id, flags = struct.unpack_from("!HH", wire)
    if packet[:2] != wire[:2]:
        return f"ID {query_id}, not the packet's {int.from_bytes(packet[:2])}"
    if not flags & dns.flags.QR:
        return "QR clear"
    rcode = flags & 0x000F
    if rcode != dns.rcode.FORMERR:
        return f"RCODE {rcode_text(rcode)}"
    return None


def judge_trailing(packet: bytes, wire: bytes) -> str | None:
    """§2.10/5: FORMERR, or the answer to `www` A as if the extra octets were not there."""
    if formerr_problem(packet, wire) is None:
        return None
    try:
        message = dns.message.from_wire(wire)
    except Exception as exc:  # any decoding error makes it unacceptable
        return f"a response that does not decode ({type(exc).__name__})"
    if message.id != int.from_bytes(packet[:2]):
        return f"ID {message.id}"
    if message.rcode() != dns.rcode.NOERROR or records(message.answer) != rrs(
        ("www", "A", "192.0.2.10")
    ):
        return f"RCODE {rcode_text(message.rcode())}, answer {show(message.answer)}"
    return None


def check_malformed(
    server: ServerHandle, timeouts: Timeouts, packet: bytes, *, trailing: bool = False
) -> None:
    __tracebackhide__ = True
    with udp(server, "malformed") as endpoint:
        endpoint.sendto(packet, server.address)
        deadline = time.monotonic() + timeouts(MALFORMED_WAIT)
        wire = None
        while (left := deadline - time.monotonic()) > 0:
            got = endpoint.recvfrom(left)
            if got is None:
                break
            if got[1][1] == server.port:
                wire = got[0]
                break
    if wire is not None:
        problem = judge_trailing(packet, wire) if trailing else formerr_problem(packet, wire)
        allowed = "no response, or FORMERR with the packet's ID and QR set" + (
            ", or the answer to www A" if trailing else ""
        )
        expect(problem is None, expected=allowed, actual=f"{problem}: {describe(wire)}")
    expect(
        server.alive(),
        expected="the server goes on serving",
        actual=f"the server has exited: {exit_of(server)}",
    )
    query = make_query("www", "A")
    with udp(server, "probe www A") as endpoint:
        wire = udp_exchange(endpoint, server.address, query.to_wire(), timeouts)
    expect(
        wire is not None,
        expected="the server goes on serving: the probe www A is answered",
        actual="no response to the probe"
        + ("" if server.alive() else f" (the server has exited: {exit_of(server)})"),
    )
    assert wire is not None
    response = Response(wire, decode_strict(wire, "the response to the probe"))
    expect_answer(response, rrs(("www", "A", "192.0.2.10")), "www A 192.0.2.10")


def exit_of(server: ServerHandle) -> str:
    process = server.process
    return process.describe_exit() if process is not None else "unknown"


@case("dns/2.10/1", MUST, MALFORMED_RULE, rfc="RFC 1035 §4.1.1")
def test_malformed_short(server: ServerHandle, timeouts: Timeouts) -> None:
    check_malformed(server, timeouts, b"\x4d\x41\x01\x00\x00")


@case("dns/2.10/2", MUST, MALFORMED_RULE, rfc="RFC 1035 §4.1.4")
def test_malformed_pointer_loop(server: ServerHandle, timeouts: Timeouts) -> None:
    # The question name is a pointer to offset 12: to itself.
    packet = header(0x4D42, 1) + b"\xc0\x0c" + struct.pack("!HH", dns.rdatatype.A, 1)
    check_malformed(server, timeouts, packet)


@case("dns/2.10/3", MUST, MALFORMED_RULE, rfc="RFC 1035 §4.1.1")
def test_malformed_no_question(server: ServerHandle, timeouts: Timeouts) -> None:
    check_malformed(server, timeouts, header(0x4D43, 0))


@case("dns/2.10/4", MUST, MALFORMED_RULE, rfc="RFC 1035 §4.1.1")
def test_malformed_two_questions(server: ServerHandle, timeouts: Timeouts) -> None:
    check_malformed(server, timeouts, header(0x4D44, 2) + WWW_QUESTION * 2)


@case(
    "dns/2.10/5",
    MUST,
    MALFORMED_RULE + " A server MAY instead answer a query with octets after its last counted "
    "record as if the extra octets were not there.",
    rfc="RFC 1035 §4.1.1",
)
def test_malformed_trailing_octets(server: ServerHandle, timeouts: Timeouts) -> None:
    check_malformed(server, timeouts, header(0x4D45, 1) + WWW_QUESTION + b"junk!", trailing=True)


# -- §2.11 TCP connections -------------------------------------------------------------------------
def expect_tcp_answer(
    conn: TcpConnection, timeouts: Timeouts, query: dns.message.Message
) -> Response:
    __tracebackhide__ = True
    what = f"a response over TCP to {describe_query(query)}"
    wire = tcp_read(conn, timeouts(TCP_WAIT), what)
    response = Response(wire, decode_strict(wire, what))
    expect(
        response.message.id == query.id,
        expected=f"{what} (ID {query.id})",
        actual=f"a response with ID {response.message.id}",
    )
    return response


@case(
    "dns/2.11/1",
    SHOULD,
    "The server SHOULD answer several queries sent one after another on one TCP connection.",
    rfc="RFC 7766 §6.2.1",
)
def test_tcp_reuse(server: ServerHandle, timeouts: Timeouts) -> None:
    with tcp(server, "three queries") as conn:
        for qname, rdtype in (("www", "A"), ("nomx", "A"), ("mail", "MX")):
            query = make_query(qname, rdtype)
            conn.send(with_length(query.to_wire()))
            expect_tcp_answer(conn, timeouts, query)


@case(
    "dns/2.11/2",
    SHOULD,
    "[The server] SHOULD answer queries sent on one connection without waiting for each "
    "response (pipelining), in any order.",
    rfc="RFC 7766 §6.2.1.1",
)
def test_tcp_pipelining(server: ServerHandle, timeouts: Timeouts) -> None:
    first, second = make_query("www", "A"), make_query("nomx", "A")
    while second.id == first.id:
        second = make_query("nomx", "A")
    pending = {first.id: first, second.id: second}
    with tcp(server, "two queries in one write") as conn:
        conn.send(with_length(first.to_wire()) + with_length(second.to_wire()))
        for _ in range(2):
            what = "responses to both queries, matched by ID"
            wire = tcp_read(conn, timeouts(TCP_WAIT), what)
            message = decode_strict(wire, what)
            expect(
                message.id in pending,
                expected=f"responses with IDs {sorted(pending)}",
                actual=f"a response with ID {message.id}",
            )
            del pending[message.id]


@case(
    "dns/2.11/3",
    MUST,
    "It MUST treat the connection as a stream: a query MAY arrive split across any number of "
    "segments, and the server MUST wait for all the octets its length prefix announces.",
    rfc="RFC 7766 §8",
)
def test_tcp_one_octet_segments(server: ServerHandle, timeouts: Timeouts) -> None:
    query = make_query("www", "A")
    with tcp(server, "one octet per segment") as conn:
        conn.send_pieces(with_length(query.to_wire()), size=1, pause=timeouts(OCTET_PAUSE))
        response = expect_tcp_answer(conn, timeouts, query)
    expect_answer(response, rrs(("www", "A", "192.0.2.10")), "www A 192.0.2.10")
