"""dns.client: the mail exchanger lookup (dns PROFILE §3), against the suite's own name servers
(§1.6, suites/dns/fakes.py).

Several checks judge the same client run (the same server and domain): the run is made once per
implementation by the first case that needs it, and the others judge its result and show its
transcript.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import time
from collections.abc import Callable

import dns.message
import dns.rdataclass
import dns.rdatatype
import pytest

from suites.dns.fakes import DnsFake, parse
from wirecheck import MUST, CaseRecord, ClientRun, ClientRunner, case, expect
from wirecheck.wire import describe

pytestmark = pytest.mark.role("dns.client", transport="udp")

HOST = "127.0.0.1"  # the fake servers' address, and so the client's {host}
KILL_AFTER = 35.0  # profile §1.4: a client still running 35 s after its start is killed (unscaled)
GIVE_UP_WITHIN = 30.0  # profile §3.7 (unscaled: part of the protocol)
MIN_COPIES = 3  # profile §3.7: the query and two retransmissions

# The addresses of the zone's mail exchangers (fixtures/dns/README.md).
ZULU = ("192.0.2.21", "2001:db8::21")  # mail, preference 10
MIKE = ("192.0.2.22",)  # 20
ECHO = ("2001:db8::23",)  # 20
ALPHA = ("192.0.2.24", "2001:db8::24")  # 30
YANKEE = ("192.0.2.25",)  # 40, behind the exchange mx-alias (a CNAME)
MAIL_SIX = (*ZULU, *MIKE, *ECHO, *ALPHA)
MAIL_SEVEN = (*MAIL_SIX, *YANKEE)
# The order of profile 3.1/2: rank of each address; equal ranks in any order.
MAIL_RANK = {a: 0 for a in ZULU} | {a: 1 for a in MIKE + ECHO} | {a: 2 for a in ALPHA}
MAIL_RANK |= {a: 3 for a in YANKEE}
RANK_NAMES = ("zulu (10)", "mike or echo (20)", "alpha (30)", "mx-alias → yankee (40)")
NOMX = ("192.0.2.30", "2001:db8::30")
BIGMX = tuple(f"192.0.2.{n}" for n in range(101, 111))

MAIL = "mail.example.test"


# -- running the client once per (server, domain) --------------------------------------------------
@dataclasses.dataclass
class Lookup:
    server: str
    domain: str
    run: ClientRun
    udp: list[tuple[float, bytes, tuple[str, int]]]  # the UDP queries the fake received
    tcp: list[bytes]  # the TCP queries
    record: CaseRecord
    case: str

    @property
    def addresses(self) -> list[str]:
        """The lines of standard output that are addresses, in canonical form (profile §1.4)."""
        found = []
        for line in self.run.text.splitlines():
            try:
                found.append(str(ipaddress.ip_address(line.strip())))
            except ValueError:
                continue
        return found

    def ended(self) -> str:
        run = self.run
        if run.timed_out:
            return f"still running after {run.duration:.1f} s; it was killed"
        return f"exit status {run.status} after {run.duration:.2f} s"

    def printed(self) -> str:
        shown = ", ".join(self.addresses) or "no address"
        return f"{self.ended()}; printed {shown}"


LookupFn = Callable[[str, str], Lookup]


@pytest.fixture(scope="module")
def lookups() -> dict[tuple[str, str, str], Lookup]:
    """The client runs made so far, by (implementation, server, domain)."""
    return {}


def settle(fake: DnsFake, quiet: float = 0.03, limit: float = 0.5) -> None:
    """Let the fake take in what the exited client sent: until no query came for `quiet` s."""
    deadline = time.monotonic() + limit
    seen = -1
    while len(fake.requests) + len(fake.tcp_queries) != seen and time.monotonic() < deadline:
        seen = len(fake.requests) + len(fake.tcp_queries)
        time.sleep(quiet)


@pytest.fixture
def lookup(
    request: pytest.FixtureRequest,
    client: ClientRunner,
    record: CaseRecord,
    lookups: dict[tuple[str, str, str], Lookup],
) -> LookupFn:
    """`lookup(server, domain)`: the client's run against that server of §1.6 for that domain."""

    def get(server: str, domain: str) -> Lookup:
        key = (client.impl.name, server, domain)
        shared = lookups.get(key)
        if shared is None:
            with DnsFake(server, record.transcript, HOST, client.timeouts.reply_s) as fake:
                proc = client.start(port=fake.port, host=HOST, domain=domain)
                run = client.finish(proc, KILL_AFTER)
                settle(fake)
                fake.check()
                udp, tcp = list(fake.requests), list(fake.tcp_queries)
            mark = request.node.get_closest_marker("spec")
            shared = Lookup(
                server, domain, run, udp, tcp, record, mark.args[0] if mark else request.node.name
            )
            lookups[key] = shared
            record.note(f"server {server}: {len(udp)} UDP and {len(tcp)} TCP queries received")
        else:
            record.transcript = shared.record.transcript
            record.note(f"the client run of case {shared.case} ({server} server, {domain})")
            record.notes += shared.record.notes
            record.processes += shared.record.processes
            record.commands += shared.record.commands
        return shared

    return get


# -- judging -------------------------------------------------------------------------------------
def expect_addresses(found: Lookup, wanted: tuple[str, ...]) -> None:
    """Exit status 0, and exactly the addresses `wanted` printed, each once (any order)."""
    __tracebackhide__ = True
    expect(
        not found.run.timed_out and found.run.status == 0,
        expected=f"exit status 0 and the addresses {', '.join(wanted)}",
        actual=found.printed(),
    )
    addresses = found.addresses
    expect(
        sorted(addresses) == sorted(wanted),
        expected=f"exactly the addresses {', '.join(wanted)}, each once (any order)",
        actual=found.printed(),
    )


def expect_no_mail(found: Lookup) -> None:
    """Profile §3.5: a non-zero exit status, a message on standard error, no address."""
    __tracebackhide__ = True
    run = found.run
    expect(
        not run.timed_out and run.status not in (None, 0),
        expected="the client exits by itself with a non-zero status",
        actual=found.ended(),
    )
    expect(
        run.stderr.strip(),
        expected="a message on standard error",
        actual="standard error is empty",
    )
    expect(
        not found.addresses,
        expected="no address on standard output",
        actual=f"standard output: {describe(run.stdout)}",
    )


def question_of(data: bytes) -> str | None:
    """The question of a query as `name class type` (name lower-cased), if it decodes."""
    message: dns.message.Message | None = parse(data)
    if message is None or len(message.question) != 1:
        return None
    q = message.question[0]
    kind = dns.rdatatype.to_text(q.rdtype)
    return f"{q.name.to_text().lower()} {dns.rdataclass.to_text(q.rdclass)} {kind}"


def gaps(found: Lookup) -> str:
    times = [t for t, _, _ in found.udp]
    return ", ".join(f"{b - a:.3f}" for a, b in itertools.pairwise(times)) or "none"


# -- §3.1 Order ----------------------------------------------------------------------------------
ORDER = (
    "The client MUST print the addresses of the exchanges in the order of their MX preferences, "
    "lowest first; exchanges of equal preference MAY come in any order. It MUST print the "
    "addresses of one exchange together (A and AAAA in any order among them), and each address "
    "once."
)


@case("dns/3.1/1", MUST, ORDER, rfc="RFC 5321 §5.1")
def test_mail_addresses(lookup: LookupFn) -> None:
    found = lookup("prompt", MAIL)
    expect(
        not found.run.timed_out and found.run.status == 0,
        expected="exit status 0",
        actual=found.printed(),
    )
    addresses = found.addresses
    missing = [a for a in MAIL_SIX if a not in addresses]
    twice = sorted({a for a in addresses if addresses.count(a) > 1})
    expect(
        not missing and not twice,
        expected=f"the addresses {', '.join(MAIL_SIX)}, each once",
        actual=found.printed()
        + (f"; missing {', '.join(missing)}" if missing else "")
        + (f"; more than once: {', '.join(twice)}" if twice else ""),
    )


@case("dns/3.1/2", MUST, ORDER, rfc="RFC 5321 §5.1")
def test_preference_order(lookup: LookupFn) -> None:
    found = lookup("prompt", MAIL)
    ranked = [(a, MAIL_RANK[a]) for a in found.addresses if a in MAIL_RANK]
    expect(
        len({rank for _, rank in ranked}) >= 2,
        expected="addresses of at least two preferences, in the order of preferences",
        actual=found.printed(),
    )
    for (before, low), (after, high) in itertools.pairwise(ranked):
        expect(
            low <= high,
            expected="zulu (10), then mike and echo (20, either order), then alpha (30), "
            "then yankee (40, through mx-alias)",
            actual=f"{before} of {RANK_NAMES[low]} came before {after} of {RANK_NAMES[high]}; "
            f"printed {', '.join(found.addresses)}",
        )


@case("dns/3.1/3", MUST, ORDER, rfc="RFC 5321 §5.1")
def test_exchange_addresses_together(lookup: LookupFn) -> None:
    found = lookup("prompt", MAIL)
    addresses = found.addresses
    judged = 0
    for name, pair in (("zulu", ZULU), ("alpha", ALPHA)):
        if not all(a in addresses for a in pair):
            continue
        judged += 1
        first, second = (addresses.index(a) for a in pair)
        expect(
            abs(first - second) == 1,
            expected=f"the two addresses of {name}, {' and '.join(pair)}, one after the other",
            actual=f"printed {', '.join(addresses)}",
        )
    expect(
        judged,
        expected="both addresses of zulu or of alpha printed, one after the other",
        actual=found.printed(),
    )


# -- §3.2 Implicit MX ----------------------------------------------------------------------------
@case(
    "dns/3.2/1",
    MUST,
    "When the domain has no MX records but has addresses, the client MUST use the domain's own "
    "addresses, as if it had one MX record of preference 0 pointing at itself.",
    rfc="RFC 5321 §5.1",
)
def test_implicit_mx(lookup: LookupFn) -> None:
    expect_addresses(lookup("prompt", "nomx.example.test"), NOMX)


# -- §3.3 CNAME ----------------------------------------------------------------------------------
CNAME = (
    "The client MUST follow a CNAME: for the mail domain (its MX records are those of the "
    "canonical name) and for an exchange (its addresses are those of the canonical name)."
)


@case("dns/3.3/1", MUST, CNAME, rfc="RFC 1034 §3.6.2")
def test_domain_alias(lookup: LookupFn) -> None:
    expect_addresses(lookup("prompt", "mail-alias.example.test"), MAIL_SEVEN)


@case("dns/3.3/2", MUST, CNAME, rfc="RFC 1034 §3.6.2")
def test_exchange_alias(lookup: LookupFn) -> None:
    found = lookup("prompt", MAIL)
    expect(
        YANKEE[0] in found.addresses,
        expected=f"{YANKEE[0]} (yankee, the canonical name of the exchange mx-alias)",
        actual=found.printed(),
    )


# -- §3.4 Null MX --------------------------------------------------------------------------------
NULL_MX = (
    "A domain whose MX record has the exchange `.` (a null MX) does not accept mail: the client "
    "MUST NOT print any address for it, not even the domain's own, and MUST exit with a non-zero "
    "status after writing a message to standard error."
)
NULLMX = "nullmx.example.test"


@case("dns/3.4/1", MUST, NULL_MX, rfc="RFC 7505 §3")
def test_null_mx_status(lookup: LookupFn) -> None:
    found = lookup("prompt", NULLMX)
    expect(
        not found.run.timed_out and found.run.status not in (None, 0),
        expected="a non-zero exit status",
        actual=found.printed(),
    )


@case("dns/3.4/2", MUST, NULL_MX, rfc="RFC 7505 §3")
def test_null_mx_message(lookup: LookupFn) -> None:
    found = lookup("prompt", NULLMX)
    expect(
        found.run.stderr.strip(),
        expected="a message on standard error",
        actual=f"standard error is empty; {found.ended()}",
    )


@case("dns/3.4/3", MUST, NULL_MX, rfc="RFC 7505 §3")
def test_null_mx_no_address(lookup: LookupFn) -> None:
    found = lookup("prompt", NULLMX)
    expect(
        not found.addresses,
        expected="no address (in particular not the domain's own, 192.0.2.31)",
        actual=found.printed(),
    )


# -- §3.5 Errors ---------------------------------------------------------------------------------
ERRORS = (
    "When the domain does not exist (NXDOMAIN), when the server answers SERVFAIL or REFUSED, "
    "when no exchange has an address, or when no answer comes at all, the client MUST exit with a "
    "non-zero status after writing a message to standard error, and MUST NOT print an address."
)


@case("dns/3.5/1", MUST, ERRORS)
def test_nxdomain(lookup: LookupFn) -> None:
    expect_no_mail(lookup("prompt", "nonexistent.example.test"))


@case("dns/3.5/2", MUST, ERRORS)
def test_servfail(lookup: LookupFn) -> None:
    expect_no_mail(lookup("servfail", MAIL))


@case("dns/3.5/3", MUST, ERRORS)
def test_refused(lookup: LookupFn) -> None:
    expect_no_mail(lookup("prompt", "www.example.org"))


@case("dns/3.5/4", MUST, ERRORS)
def test_no_exchange_address(lookup: LookupFn) -> None:
    expect_no_mail(lookup("prompt", "noaddr.example.test"))


@case("dns/3.5/5", MUST, ERRORS)
def test_dead_exchange(lookup: LookupFn) -> None:
    expect_no_mail(lookup("prompt", "deadmx.example.test"))


@case("dns/3.5/6", MUST, ERRORS)
def test_no_answer(lookup: LookupFn) -> None:
    expect_no_mail(lookup("silent", MAIL))


# -- §3.6 Truncation -----------------------------------------------------------------------------
TRUNCATION = (
    "When a UDP response has TC set, the client MUST NOT use its records: it MUST send the same "
    "question again over TCP to the same server and use that response."
)


@case("dns/3.6/1", MUST, TRUNCATION, rfc="RFC 1035 §4.2.1")
def test_truncated_without_records(lookup: LookupFn) -> None:
    found = lookup("truncate-clean", MAIL)
    expect_addresses(found, MAIL_SEVEN)


@case("dns/3.6/2", MUST, TRUNCATION, rfc="RFC 2181 §9")
def test_truncated_mid_record(lookup: LookupFn) -> None:
    expect_addresses(lookup("truncate-cut", "bigmx.example.test"), BIGMX)


# -- §3.7 Retransmission -------------------------------------------------------------------------
RETRANSMISSION = (
    "When no response to a UDP query arrives, the client MUST send it again (same question), at "
    "least twice before giving up, and MUST give up, with a non-zero status, within 30 s of being "
    "started."
)


@case("dns/3.7/1", MUST, RETRANSMISSION, rfc="RFC 1123 §6.1.3.3")
def test_retransmits_lost_query(lookup: LookupFn) -> None:
    expect_addresses(lookup("drop-first", MAIL), MAIL_SEVEN)


@case("dns/3.7/2", MUST, RETRANSMISSION, rfc="RFC 1123 §6.1.3.3")
def test_retransmits_twice(lookup: LookupFn, record: CaseRecord) -> None:
    found = lookup("silent", MAIL)
    expect(found.udp, expected="UDP queries to the silent server", actual="no UDP query came")
    first = question_of(found.udp[0][1])
    copies = sum(1 for _, data, _ in found.udp if question_of(data) == first)
    record.measure("copies of the first question", copies)
    record.measure("gaps (s)", gaps(found))
    expect(
        first is not None and copies >= MIN_COPIES,
        expected=f"the first question ({first}) at least {MIN_COPIES} times: the query and two "
        "retransmissions",
        actual=f"{copies} time(s) in {len(found.udp)} UDP queries; the client: {found.ended()}",
    )


@case("dns/3.7/3", MUST, RETRANSMISSION, rfc="RFC 1123 §6.1.3.3")
def test_gives_up_in_time(lookup: LookupFn) -> None:
    found = lookup("silent", MAIL)
    expect(
        not found.run.timed_out and found.run.duration <= GIVE_UP_WITHIN,
        expected=f"the client exits by itself within {GIVE_UP_WITHIN:g} s",
        actual=found.ended(),
    )


# -- §3.8 Forged answers -------------------------------------------------------------------------
FORGED = (
    "The client MUST accept a UDP response only when it comes from `{host}:{port}`, carries the "
    "query's ID and repeats its question; it MUST ignore any other datagram and go on waiting."
)


@case("dns/3.8/1", MUST, FORGED, rfc="RFC 5452 §9.1")
def test_forged_port_ignored(lookup: LookupFn) -> None:
    expect_addresses(lookup("forge-port", MAIL), MAIL_SEVEN)


@case("dns/3.8/2", MUST, FORGED, rfc="RFC 5452 §9.1")
def test_forged_id_ignored(lookup: LookupFn) -> None:
    expect_addresses(lookup("forge-id", MAIL), MAIL_SEVEN)
