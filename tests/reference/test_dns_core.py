"""Unit tests of reference_impl/dns/core.py against the zone fixture: the server's answers and
the mail lookup's address order."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path
from types import ModuleType

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_PATH = ROOT / "reference_impl" / "dns" / "core.py"
ZONE_PATH = ROOT / "fixtures" / "dns" / "example.test.zone"


def _load_core() -> ModuleType:
    # Loaded under its own name: every suite's folder has a module called core.py.
    spec = importlib.util.spec_from_file_location("dns_reference_core", CORE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load_core()


@pytest.fixture(scope="module")
def zone() -> dns.zone.Zone:
    loaded: dns.zone.Zone = core.load_zone(str(ZONE_PATH))
    return loaded


def ask(
    zone: dns.zone.Zone,
    name: str,
    rdtype: str = "A",
    *,
    over_tcp: bool = False,
    payload: int | None = None,
) -> dns.message.Message:
    """The response to one query, through the octets-in, octets-out interface."""
    if payload is None:
        query = dns.message.make_query(name, rdtype, id=4242)
    else:
        query = dns.message.make_query(name, rdtype, use_edns=0, payload=payload, id=4242)
    wire = core.respond(zone, query.to_wire(), over_tcp=over_tcp)
    assert wire is not None
    response = dns.message.from_wire(wire)
    assert query.is_response(response)
    return response


def rdata_texts(response: dns.message.Message, section: str = "answer") -> set[str]:
    return {
        f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rd}"
        for rrset in getattr(response, section)
        for rd in rrset
    }


def header(query_id: int = 0x1234, flags: int = 0x0100, qdcount: int = 1) -> bytes:
    return struct.pack("!6H", query_id, flags, qdcount, 0, 0, 0)


QUESTION_WWW = b"\x03www\x07example\x04test\x00\x00\x01\x00\x01"

# --------------------------------------------------------------------------- the fixture


def test_fixture_has_what_the_profile_names(zone: dns.zone.Zone) -> None:
    names = {n.to_text().lower() for n in zone.nodes}
    for needed in [
        "example.test.",
        "www.example.test.",
        "mixedcase.example.test.",
        "leaf.ent.example.test.",
        "chain1.example.test.",
        "dangling.example.test.",
        "mail.example.test.",
        "nomx.example.test.",
        "nullmx.example.test.",
        "sub.example.test.",
        "ns.sub.example.test.",
        "medium.example.test.",
        "large.example.test.",
        "bigmx.example.test.",
    ]:
        assert needed in names, needed
    assert "MixedCase" in {n.labels[0].decode() for n in zone.nodes if n.labels}


def test_fixture_sizes(zone: dns.zone.Zone) -> None:
    sizes = {}
    for name, rdtype in [("medium", "TXT"), ("large", "TXT"), ("bigmx", "MX")]:
        response = ask(zone, f"{name}.example.test.", rdtype, over_tcp=True)
        sizes[name] = len(response.to_wire())
    assert 512 < sizes["medium"] <= 1232 - 100  # room for an OPT record and more
    assert sizes["large"] > 1232
    assert 512 < sizes["bigmx"] <= 1232


# --------------------------------------------------------------------------- server: answers


def test_answer_echoes_id_and_question_and_sets_flags(zone: dns.zone.Zone) -> None:
    response = ask(zone, "www.example.test.")
    assert response.id == 4242
    assert response.flags & dns.flags.QR
    assert response.flags & dns.flags.AA
    assert response.flags & dns.flags.RD  # copied from the query
    assert response.rcode() == dns.rcode.NOERROR
    assert response.question[0].name == dns.name.from_text("www.example.test.")
    assert rdata_texts(response) == {"www.example.test. A 192.0.2.10"}


def test_aaaa_answer(zone: dns.zone.Zone) -> None:
    assert rdata_texts(ask(zone, "www.example.test.", "AAAA")) == {
        "www.example.test. AAAA 2001:db8::10"
    }


def test_nxdomain_carries_the_soa(zone: dns.zone.Zone) -> None:
    response = ask(zone, "nonexistent.example.test.")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert not response.answer
    [soa] = response.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa.name == dns.name.from_text("example.test.")
    assert soa.ttl == 300  # RFC 2308: min(SOA TTL, MINIMUM)


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [("nodata.example.test.", "A"), ("www.example.test.", "MX"), ("ent.example.test.", "A")],
    ids=["txt-only", "www-mx", "empty-non-terminal"],
)
def test_nodata_is_noerror_with_the_soa(zone: dns.zone.Zone, name: str, rdtype: str) -> None:
    response = ask(zone, name, rdtype)
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.answer
    assert [r.rdtype for r in response.authority] == [dns.rdatatype.SOA]


def test_cname_chain_is_followed(zone: dns.zone.Zone) -> None:
    response = ask(zone, "chain1.example.test.")
    assert rdata_texts(response) == {
        "chain1.example.test. CNAME chain2.example.test.",
        "chain2.example.test. CNAME chain3.example.test.",
        "chain3.example.test. CNAME www.example.test.",
        "www.example.test. A 192.0.2.10",
    }
    assert response.rcode() == dns.rcode.NOERROR


def test_dangling_cname_is_nxdomain(zone: dns.zone.Zone) -> None:
    response = ask(zone, "dangling.example.test.")
    assert rdata_texts(response) == {"dangling.example.test. CNAME nowhere.example.test."}
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert [r.rdtype for r in response.authority] == [dns.rdatatype.SOA]


def test_cname_out_of_zone_stops(zone: dns.zone.Zone) -> None:
    response = ask(zone, "outside.example.test.")
    assert rdata_texts(response) == {"outside.example.test. CNAME www.example.org."}
    assert response.rcode() == dns.rcode.NOERROR


def test_cname_query_gets_the_cname_only(zone: dns.zone.Zone) -> None:
    assert rdata_texts(ask(zone, "alias.example.test.", "CNAME")) == {
        "alias.example.test. CNAME www.example.test."
    }


def test_names_match_case_insensitively_and_the_question_keeps_its_case(
    zone: dns.zone.Zone,
) -> None:
    for asked in ["mixedcase.example.test.", "MIXEDCASE.EXAMPLE.TEST.", "mIxEdCaSe.ExAmPlE.tEsT."]:
        query = dns.message.make_query(asked, "A")
        wire = core.respond(zone, query.to_wire(), over_tcp=False)
        assert wire is not None
        response = dns.message.from_wire(wire)
        assert response.rcode() == dns.rcode.NOERROR
        assert [rd.to_text() for rr in response.answer for rd in rr] == ["192.0.2.13"]
        # dns.name.Name compares case-insensitively: compare the labels' octets.
        assert response.question[0].name.labels == dns.name.from_text(asked).labels
        assert asked.split(".")[0].encode() in wire


def test_referral_has_aa_clear_ns_in_authority_and_glue(zone: dns.zone.Zone) -> None:
    for name in ["sub.example.test.", "www.sub.example.test.", "ns.sub.example.test."]:
        response = ask(zone, name)
        assert not response.flags & dns.flags.AA, name
        assert response.rcode() == dns.rcode.NOERROR
        assert not response.answer
        assert rdata_texts(response, "authority") == {"sub.example.test. NS ns.sub.example.test."}
        assert rdata_texts(response, "additional") == {
            "ns.sub.example.test. A 192.0.2.60",
            "ns.sub.example.test. AAAA 2001:db8::60",
        }


def test_mx_answer_parses_with_compression(zone: dns.zone.Zone) -> None:
    query = dns.message.make_query("mail.example.test.", "MX")
    wire = core.respond(zone, query.to_wire(), over_tcp=False)
    assert wire is not None
    assert b"\xc0\x0c" in wire  # owner names point at the question
    response = dns.message.from_wire(wire)
    assert {(rd.preference, rd.exchange.to_text()) for rr in response.answer for rd in rr} == {
        (20, "mike.example.test."),
        (30, "alpha.example.test."),
        (10, "zulu.example.test."),
        (40, "mx-alias.example.test."),
        (20, "echo.example.test."),
    }


# --------------------------------------------------------------------------- server: sizes


def test_udp_without_edns_truncates_at_512(zone: dns.zone.Zone) -> None:
    query = dns.message.make_query("medium.example.test.", "TXT")
    wire = core.respond(zone, query.to_wire(), over_tcp=False)
    assert wire is not None and len(wire) <= 512
    response = dns.message.from_wire(wire)
    assert response.flags & dns.flags.TC
    assert response.question[0].name == dns.name.from_text("medium.example.test.")


def test_tcp_returns_the_whole_answer(zone: dns.zone.Zone) -> None:
    for name in ["medium.example.test.", "large.example.test."]:
        response = ask(zone, name, "TXT", over_tcp=True)
        assert not response.flags & dns.flags.TC
        assert len(response.answer[0]) in (4, 8)


def test_edns_gets_opt_and_whole_answer_up_to_1232(zone: dns.zone.Zone) -> None:
    response = ask(zone, "medium.example.test.", "TXT", payload=1232)
    assert response.edns == 0
    assert response.payload >= 512
    assert not response.flags & dns.flags.TC
    assert len(response.answer[0]) == 4


def test_edns_large_truncates_at_1232(zone: dns.zone.Zone) -> None:
    query = dns.message.make_query("large.example.test.", "TXT", use_edns=0, payload=4096)
    wire = core.respond(zone, query.to_wire(), over_tcp=False)
    assert wire is not None and len(wire) <= 1232
    response = dns.message.from_wire(wire)
    assert response.flags & dns.flags.TC
    assert response.edns == 0


def test_edns_small_payload_counts_as_512(zone: dns.zone.Zone) -> None:
    query = dns.message.make_query("medium.example.test.", "TXT", use_edns=0, payload=100)
    assert core.udp_limit(query) == 512


def test_edns_unknown_version_is_badvers(zone: dns.zone.Zone) -> None:
    query = dns.message.make_query("www.example.test.", "A", use_edns=1)
    wire = core.respond(zone, query.to_wire(), over_tcp=False)
    assert wire is not None
    assert dns.message.from_wire(wire).rcode() == dns.rcode.BADVERS


# --------------------------------------------------------------------------- server: refusals


def test_outside_the_zone_is_refused(zone: dns.zone.Zone) -> None:
    response = ask(zone, "www.example.org.")
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA


def test_unknown_opcode_is_notimp(zone: dns.zone.Zone) -> None:
    query = dns.message.make_query("www.example.test.", "A")
    query.set_opcode(dns.opcode.Opcode(3))
    wire = core.respond(zone, query.to_wire(), over_tcp=False)
    assert wire is not None
    response = dns.message.from_wire(wire)
    assert response.rcode() == dns.rcode.NOTIMP
    assert response.id == query.id


@pytest.mark.parametrize(
    "packet",
    [
        header(qdcount=0),
        header(qdcount=2) + QUESTION_WWW + QUESTION_WWW,
        header() + QUESTION_WWW + b"garbage",
        header() + b"\xc0\x0c\x00\x01\x00\x01",  # a pointer to itself
        header() + b"\x03www\xc0\x0c\x00\x01\x00\x01",  # a pointer back to its own start
        header() + b"\x03www\x07exa",  # the question stops in the middle
    ],
    ids=["qdcount-0", "qdcount-2", "trailing-garbage", "self-pointer", "loop", "cut-short"],
)
def test_malformed_gets_formerr(zone: dns.zone.Zone, packet: bytes) -> None:
    wire = core.respond(zone, packet, over_tcp=False)
    assert wire is not None
    assert wire[:2] == b"\x12\x34"
    assert wire[2] & 0x80  # QR
    assert wire[3] & 0x0F == dns.rcode.FORMERR


@pytest.mark.parametrize("packet", [b"", b"\x12", b"\x12\x34\x01\x00\x00\x01\x00"])
def test_short_header_is_dropped(zone: dns.zone.Zone, packet: bytes) -> None:
    assert core.respond(zone, packet, over_tcp=False) is None


def test_responses_are_not_answered(zone: dns.zone.Zone) -> None:
    assert core.respond(zone, header(flags=0x8100) + QUESTION_WWW, over_tcp=False) is None


# --------------------------------------------------------------------------- client half


def mx(preference: int, exchange: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", "MX", f"{preference} {exchange}")


def n(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


def test_exchanges_sorted_by_preference_not_name() -> None:
    records = [mx(20, "mike."), mx(30, "alpha."), mx(10, "zulu."), mx(40, "x."), mx(20, "echo.")]
    assert core.exchanges(records, n("mail.")) == [
        n("zulu."),
        n("mike."),
        n("echo."),
        n("alpha."),
        n("x."),
    ]


def test_null_mx_means_no_mail() -> None:
    with pytest.raises(core.MailError, match="null MX"):
        core.exchanges([mx(0, ".")], n("nullmx.example.test."))


def test_addresses_grouped_by_exchange_without_repeats() -> None:
    order = [n("b."), n("a."), n("c.")]
    addresses = {
        n("a."): ["192.0.2.1", "2001:db8::1"],
        n("b."): ["192.0.2.2"],
        n("c."): ["192.0.2.1"],
    }
    assert core.addresses_in_order(order, addresses) == ["192.0.2.2", "192.0.2.1", "2001:db8::1"]


def test_follow_chain_in_an_answer(zone: dns.zone.Zone) -> None:
    response = ask(zone, "mail-alias.example.test.", "MX")
    last, rrset = core.follow_chain(response, n("mail-alias.example.test."), dns.rdatatype.MX)
    assert last == n("mail.example.test.")
    assert rrset is not None and len(rrset) == 5
    response = ask(zone, "mx-alias.example.test.", "A")
    last, rrset = core.follow_chain(response, n("mx-alias.example.test."), dns.rdatatype.A)
    assert last == n("yankee.example.test.")
    assert rrset is not None and [rd.to_text() for rd in rrset] == ["192.0.2.25"]


def test_follow_chain_without_records(zone: dns.zone.Zone) -> None:
    response = ask(zone, "nomx.example.test.", "MX")
    assert core.follow_chain(response, n("nomx.example.test."), dns.rdatatype.MX) == (
        n("nomx.example.test."),
        None,
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [("nonexistent.example.test.", "NXDOMAIN"), ("www.example.org.", "REFUSED")],
)
def test_check_rcode(zone: dns.zone.Zone, name: str, message: str) -> None:
    with pytest.raises(core.MailError, match=message):
        core.check_rcode(ask(zone, name, "MX"), n(name))
    core.check_rcode(ask(zone, "www.example.test.", "MX"), n("www.example.test."))
