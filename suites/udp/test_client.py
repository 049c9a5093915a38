"""udp.client: the datagram length client (udp PROFILE §3), against fake servers of the suite's."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable

import pytest

from suites.udp.protocol import (
    BACKOFF_FACTOR,
    BACKOFF_JITTER,
    DROPPED_REQUESTS,
    FIRST_WAIT_MAX,
    FIRST_WAIT_MIN,
    FORGED_LENGTH,
    FORGED_REPLY,
    GIVE_UP_WITHIN,
    KILL_AFTER,
    MIN_REQUESTS,
    REPLY_PREFIX,
    REPLY_WITHIN,
    reply_for,
)
from wirecheck import (
    MUST,
    CaseRecord,
    ClientRun,
    ClientRunner,
    FakeUdpServer,
    UdpEndpoint,
    case,
    expect,
)
from wirecheck.wire import describe

pytestmark = pytest.mark.role("udp.client", transport="udp")

Request = tuple[float, bytes, tuple[str, int]]
HOST = "127.0.0.1"  # the fake servers' address, and so the client's {host}
Handler = Callable[[FakeUdpServer, bytes, tuple[str, int]], None]


# -- the four servers of profile §1.5 --------------------------------------------------------------
def answer_at_once(server: FakeUdpServer, data: bytes, addr: tuple[str, int]) -> None:
    """prompt: answers every request at once with the reply text for its length."""
    server.reply(reply_for(len(data)), addr)


def drop_first_three(server: FakeUdpServer, data: bytes, addr: tuple[str, int]) -> None:
    """drop-3: ignores the first three requests and answers every later one."""
    if len(server.requests) > DROPPED_REQUESTS:  # this request is already counted
        answer_at_once(server, data, addr)


def never_answer(server: FakeUdpServer, data: bytes, addr: tuple[str, int]) -> None:
    """silent: receives and never answers; its port stays bound, so the client sees pure loss."""


def forge_then_answer(forger: UdpEndpoint) -> Handler:
    """forger: a forged reply from `forger` (same address, another port), then the true one."""

    def handler(server: FakeUdpServer, data: bytes, addr: tuple[str, int]) -> None:
        forger.sendto(FORGED_REPLY, addr)
        answer_at_once(server, data, addr)

    return handler


# -- running a client against one of them ----------------------------------------------------------
def settle(fake: FakeUdpServer, quiet: float = 0.05, limit: float = 1.0) -> None:
    """Let the fake take in what the (exited) client sent: until no request came for `quiet` s."""
    deadline = time.monotonic() + limit
    seen = -1
    while len(fake.requests) != seen and time.monotonic() < deadline:
        seen = len(fake.requests)
        time.sleep(quiet)


def run_against(
    client: ClientRunner, record: CaseRecord, handler: Handler, timeout: float
) -> tuple[ClientRun, list[Request]]:
    """Run the client once against a fake server; its result and the requests the fake saw."""
    with FakeUdpServer(handler, record.transcript, host=HOST) as fake:
        run = client.run(port=fake.port, host=HOST, timeout=timeout)
        settle(fake)
        fake.check()
        requests = list(fake.requests)
    record.note(f"the server received {len(requests)} request(s)")
    return run, requests


def how_it_ended(run: ClientRun) -> str:
    if run.timed_out:
        return f"still running after {run.duration:.1f} s; it was killed"
    return f"exit status {run.status} after {run.duration:.2f} s"


def expect_reply_printed(run: ClientRun, requests: list[Request], within: float) -> None:
    """Exit status 0 in time, and the reply text for a request's length on standard output."""
    __tracebackhide__ = True
    expect(requests, expected="a request datagram", actual="the server received no datagram")
    texts = sorted({reply_for(len(data)) for _, data, _ in requests})
    expect(
        not run.timed_out and run.status == 0 and run.duration <= within,
        expected=f"exit status 0 within {within:g} s",
        actual=how_it_ended(run),
    )
    expect(
        any(text in run.stdout for text in texts),
        expected=f"standard output contains {' or '.join(repr(t.decode()) for t in texts)}",
        actual=f"standard output: {describe(run.stdout)}",
    )


# -- §3.1 Request and reply ------------------------------------------------------------------------
@case(
    "udp/3.1/1",
    MUST,
    "The client MUST send a request datagram to `{host}:{port}`. When a reply arrives it MUST "
    "write the reply text to standard output and exit with status 0.",
)
def test_request_and_reply(client: ClientRunner, record: CaseRecord) -> None:
    run, requests = run_against(client, record, answer_at_once, REPLY_WITHIN)
    expect_reply_printed(run, requests, client.timeouts(REPLY_WITHIN))


# -- §3.2 Retransmission ---------------------------------------------------------------------------
@case(
    "udp/3.2/1",
    MUST,
    "If no reply arrives, the client MUST retransmit the request: send the same octets to the "
    "same address and port again.",
    rfc="RFC 768",
)
def test_retransmits(client: ClientRunner, record: CaseRecord) -> None:
    run, requests = run_against(client, record, drop_first_three, KILL_AFTER)
    expect(
        len(requests) > DROPPED_REQUESTS,
        expected=f"at least {DROPPED_REQUESTS + 1} requests (the first {DROPPED_REQUESTS} "
        "get no reply)",
        actual=f"{len(requests)} request(s); the client: {how_it_ended(run)}",
    )
    first = requests[0][1]
    for i, (_, data, _) in enumerate(requests[1:], 2):
        expect(
            data == first,
            expected=f"every copy has the same octets as the first, {describe(first, 60)}",
            actual=f"request {i} was {describe(data, 60)}",
        )
    expect_reply_printed(run, requests, GIVE_UP_WITHIN)


# -- the silent server's run, shared by §3.3 and §3.4 ----------------------------------------------
@dataclasses.dataclass
class SilentRun:
    run: ClientRun
    requests: list[Request]
    record: CaseRecord
    case: str


@pytest.fixture(scope="module")
def silent_runs() -> dict[str, SilentRun]:
    """One run of each implementation's client against the silent server, made by the first case
    that needs it; the cases of §3.3 and §3.4 judge the same run."""
    return {}


@pytest.fixture
def silent(
    request: pytest.FixtureRequest,
    client: ClientRunner,
    record: CaseRecord,
    silent_runs: dict[str, SilentRun],
) -> SilentRun:
    name = client.impl.name
    shared = silent_runs.get(name)
    if shared is None:
        run, requests = run_against(client, record, never_answer, KILL_AFTER)
        mark = request.node.get_closest_marker("spec")
        shared = SilentRun(run, requests, record, mark.args[0] if mark else request.node.name)
        silent_runs[name] = shared
    else:
        record.transcript = shared.record.transcript
        record.note(f"the client run of case {shared.case}: one run against the silent server")
        record.notes += shared.record.notes
        record.processes += shared.record.processes
        record.commands += shared.record.commands
    record.measure("requests", len(shared.requests))
    record.measure("waits (s)", shown(waits_of(shared)))
    return shared


def waits_of(shared: SilentRun) -> list[float]:
    times = [t for t, _, _ in shared.requests]
    return [b - a for a, b in itertools.pairwise(times)]


def shown(waits: list[float]) -> str:
    return ", ".join(f"{w:.3f}" for w in waits) or "none"


# -- §3.3 Exponential backoff ----------------------------------------------------------------------
BACKOFF = (
    "Before each retransmission the client MUST wait longer than before the previous one. The "
    "first wait (from the first request to the first retransmission) MUST be at least 0.05 s "
    "and at most 1 s, and every later wait MUST be at least 1.5 times the wait before it."
)


@case("udp/3.3/1", MUST, BACKOFF)
def test_first_wait(silent: SilentRun) -> None:
    waits = waits_of(silent)
    expect(
        waits,
        expected="at least 2 requests (a retransmission) to the silent server",
        actual=f"{len(silent.requests)} request(s); the client: {how_it_ended(silent.run)}",
    )
    expect(
        FIRST_WAIT_MIN <= waits[0] <= FIRST_WAIT_MAX,
        expected=f"a first wait of {FIRST_WAIT_MIN:.2f} s to {FIRST_WAIT_MAX:.2f} s "
        "(0.05 s to 1 s, with allowance for jitter)",
        actual=f"a first wait of {waits[0]:.3f} s (waits: {shown(waits)})",
    )


@case("udp/3.3/2", MUST, BACKOFF)
def test_backoff(silent: SilentRun) -> None:
    waits = waits_of(silent)
    expect(
        len(waits) >= 2,
        expected="at least 3 requests to the silent server",
        actual=f"{len(silent.requests)} request(s); the client: {how_it_ended(silent.run)}",
    )
    for i, (before, after) in enumerate(itertools.pairwise(waits), 2):
        least = BACKOFF_FACTOR * before - BACKOFF_JITTER
        expect(
            after >= least,
            expected=f"wait {i} ≥ {BACKOFF_FACTOR:g} × wait {i - 1} − {BACKOFF_JITTER:g} s "
            f"= {least:.3f} s",
            actual=f"wait {i} was {after:.3f} s (waits: {shown(waits)})",
        )


# -- §3.4 Giving up --------------------------------------------------------------------------------
GIVE_UP = (
    "A client that gets no reply MUST give up: it MUST exit with a non-zero status within 30 s "
    "of being started, after writing a message that says so to standard error. It MUST NOT give "
    "up before it has retransmitted the request at least 3 times (4 requests in all), and it "
    "MUST NOT write a reply text to standard output."
)


@case("udp/3.4/1", MUST, GIVE_UP)
def test_gives_up_in_time(silent: SilentRun) -> None:
    run = silent.run
    expect(
        not run.timed_out and run.duration <= GIVE_UP_WITHIN,
        expected=f"the client exits by itself within {GIVE_UP_WITHIN:g} s",
        actual=how_it_ended(run),
    )


@case("udp/3.4/2", MUST, GIVE_UP)
def test_gives_up_with_failure_status(silent: SilentRun) -> None:
    run = silent.run
    expect(
        run.status is not None and run.status != 0,
        expected="a non-zero exit status",
        actual=how_it_ended(run),
    )


@case("udp/3.4/3", MUST, GIVE_UP)
def test_gives_up_with_message(silent: SilentRun) -> None:
    run = silent.run
    expect(
        not run.timed_out and run.stderr.strip(),
        expected="a message on standard error",
        actual=how_it_ended(run) if run.timed_out else "standard error is empty",
    )


@case("udp/3.4/4", MUST, GIVE_UP)
def test_gives_up_after_retransmitting(silent: SilentRun) -> None:
    expect(
        len(silent.requests) >= MIN_REQUESTS,
        expected=f"at least {MIN_REQUESTS} requests before the client exits",
        actual=f"{len(silent.requests)} request(s); the client: {how_it_ended(silent.run)}",
    )


@case("udp/3.4/5", MUST, GIVE_UP)
def test_gives_up_without_reply_text(silent: SilentRun) -> None:
    run = silent.run
    expect(
        REPLY_PREFIX not in run.stdout,
        expected=f"no {REPLY_PREFIX.decode()!r} on standard output (no reply came)",
        actual=f"standard output: {describe(run.stdout)}",
    )


# -- §3.5 Forged replies ---------------------------------------------------------------------------
def forged_run(client: ClientRunner, record: CaseRecord) -> tuple[ClientRun, list[Request]]:
    with UdpEndpoint(record.transcript, HOST, label="forger") as forger:
        return run_against(client, record, forge_then_answer(forger), REPLY_WITHIN)


FORGED = (
    "The client MUST accept a reply only from the address and port it sent the request to, and "
    "MUST ignore any datagram from another address or port."
)


@case("udp/3.5/1", MUST, FORGED)
def test_true_reply_despite_forgery(client: ClientRunner, record: CaseRecord) -> None:
    run, requests = forged_run(client, record)
    expect_reply_printed(run, requests, client.timeouts(REPLY_WITHIN))


@case("udp/3.5/2", MUST, FORGED)
def test_forged_reply_ignored(client: ClientRunner, record: CaseRecord) -> None:
    run, requests = forged_run(client, record)
    if any(len(data) == FORGED_LENGTH for _, data, _ in requests):
        record.note(f"a request of {FORGED_LENGTH} octets: the true reply names it too")
        return
    expect(
        str(FORGED_LENGTH).encode() not in run.stdout,
        expected=f"standard output without {FORGED_LENGTH} (the forged reply is ignored)",
        actual=f"standard output: {describe(run.stdout)}",
    )
