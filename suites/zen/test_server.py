"""zen.server: the aphorism server of the server-architectures chapter (zen PROFILE §3)."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from suites.zen.protocol import ANSWERS, answer
from wirecheck import (
    MAY,
    MUST,
    SHOULD,
    CaseRecord,
    ConformanceFailure,
    ServerHandle,
    TcpConnection,
    Timeouts,
    case,
    expect,
)
from wirecheck.wire import describe

pytestmark = pytest.mark.role("zen.server")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

BEAUTIFUL, EXPLICIT, SIMPLE = ANSWERS
UNKNOWN = b"Flat is better than?"
REST = b"better than?"  # what a client stalled after "<word> is " still has to send
QUIET = 0.1  # profile §1.3: seconds of silence that count as "nothing more"
OCTET_PAUSE = 0.005  # profile §1.3: "one octet at a time", seconds between writes
HALF_PAUSE = 0.1  # profile §3.2, §3.7: seconds between the two writes of a split question
PEEK = 0.01  # seconds spent looking for octets that should not have come (already there or not)


def ask(conn: TcpConnection, question: bytes) -> None:
    """Send one question and accept exactly its answer (what follows is judged by the caller)."""
    __tracebackhide__ = True
    conn.send(question)
    expect_answer(conn, answer(question))


def expect_answer(
    conn: TcpConnection, wanted: bytes, quiet: float = 0.0, timeout: float | None = None
) -> None:
    __tracebackhide__ = True
    got = conn.recv_until(
        b".", limit=4 * len(wanted) + 64, timeout=timeout, what=f"the answer {wanted!r}"
    )
    expect(got == wanted, expected=f"{wanted!r}", actual=f"{got!r}")
    if quiet:
        extra = conn.expect_silence(quiet)
        expect(not extra, expected=f"nothing after {wanted!r}", actual=describe(extra))


def expect_nothing_yet(conn: TcpConnection, seconds: float, why: str) -> None:
    __tracebackhide__ = True
    early = conn.expect_silence(seconds)
    expect(not early, expected=f"no octet {why}", actual=describe(early))


def expect_open_and_silent(conn: TcpConnection, timeouts: Timeouts) -> None:
    __tracebackhide__ = True
    extra = conn.expect_silence(timeouts(QUIET))
    expect(
        not extra and not conn.eof,
        expected="the connection stays open, silent",
        actual="end of stream" if conn.eof else describe(extra),
    )


def first_half(question: bytes) -> bytes:
    """`Beautiful is ` for `Beautiful is better than?`: a question cut short."""
    return question[: question.index(b" is ") + 4]


def finish(stalled: list[TcpConnection], timeout: float) -> None:
    """Complete the questions of stalled clients and read their answers (not judged).

    Profile §1.3: only the checks of 3.5 and 3.8 leave a connection mid-question.
    """
    deadline = time.monotonic() + timeout
    with contextlib.suppress(ConformanceFailure):  # a server that hung up already: not judged
        for conn in stalled:
            conn.send(REST)
        for conn in stalled:
            left = max(0.001, deadline - time.monotonic())
            conn.wait_readable(lambda got: b"." in got, timeout=left)


# -- §3.1 Answers ----------------------------------------------------------------------------------
ANSWERS_RULE = (
    "The server MUST answer each known question with the answer the table of 2.2 gives, and any "
    "other question with `Error: unknown aphorism.`, as exactly those octets and nothing else."
)


def check_answer(server: ServerHandle, timeouts: Timeouts, question: bytes) -> None:
    __tracebackhide__ = True
    with server.connect() as conn:
        conn.send(question)
        expect_answer(conn, answer(question), quiet=timeouts(QUIET))


@case("zen/3.1/1", MUST, ANSWERS_RULE)
def test_answer_beautiful(server: ServerHandle, timeouts: Timeouts) -> None:
    check_answer(server, timeouts, BEAUTIFUL)


@case("zen/3.1/2", MUST, ANSWERS_RULE)
def test_answer_explicit(server: ServerHandle, timeouts: Timeouts) -> None:
    check_answer(server, timeouts, EXPLICIT)


@case("zen/3.1/3", MUST, ANSWERS_RULE)
def test_answer_simple(server: ServerHandle, timeouts: Timeouts) -> None:
    check_answer(server, timeouts, SIMPLE)


@case("zen/3.1/4", MUST, ANSWERS_RULE)
def test_answer_unknown(server: ServerHandle, timeouts: Timeouts) -> None:
    check_answer(server, timeouts, UNKNOWN)


@case("zen/3.1/5", MUST, ANSWERS_RULE)
def test_answer_case_differs(server: ServerHandle, timeouts: Timeouts) -> None:
    check_answer(server, timeouts, b"beautiful is better than?")


# -- §3.2 Segmentation -----------------------------------------------------------------------------
SEGMENTS_RULE = (
    "The server MUST answer a question that arrives split across several segments exactly once, "
    "as the whole question, once its `?` has arrived."
)


@case("zen/3.2/1", MUST, SEGMENTS_RULE)
def test_one_octet_at_a_time(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        for octet in BEAUTIFUL[:-1]:
            conn.send(bytes([octet]))
            # The pause between writes is spent looking for a premature answer.
            expect_nothing_yet(conn, timeouts(OCTET_PAUSE), "before the `?` has been sent")
        conn.send(b"?")
        expect_answer(conn, b"Ugly.", quiet=timeouts(QUIET))


def check_two_halves(server: ServerHandle, timeouts: Timeouts, question: bytes) -> None:
    __tracebackhide__ = True
    cut = question.index(b" is b") + 5  # `Explicit is b` + `etter than?`
    with server.connect() as conn:
        conn.send(question[:cut])
        expect_nothing_yet(conn, timeouts(HALF_PAUSE), "before the second write")
        conn.send(question[cut:])
        expect_answer(conn, answer(question), quiet=timeouts(QUIET))


@case("zen/3.2/2", MUST, SEGMENTS_RULE)
def test_two_halves_known(server: ServerHandle, timeouts: Timeouts) -> None:
    check_two_halves(server, timeouts, EXPLICIT)


@case("zen/3.2/3", MUST, SEGMENTS_RULE)
def test_two_halves_unknown(server: ServerHandle, timeouts: Timeouts) -> None:
    check_two_halves(server, timeouts, UNKNOWN)


# -- §3.3 Many pairs per connection ----------------------------------------------------------------
PAIRS_RULE = (
    "The server MUST answer every question that arrives on a connection, and MUST keep the "
    "connection open between answers, for as long as the client keeps it open."
)


@case("zen/3.3/1", MUST, PAIRS_RULE)
def test_three_questions_one_connection(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        for question in (BEAUTIFUL, EXPLICIT, SIMPLE):
            ask(conn, question)
        expect_open_and_silent(conn, timeouts)


@case("zen/3.3/2", MUST, PAIRS_RULE)
def test_ten_questions_one_connection(server: ServerHandle, timeouts: Timeouts) -> None:
    questions = [
        BEAUTIFUL,
        UNKNOWN,
        EXPLICIT,
        SIMPLE,
        b"Sparse is better than?",
        SIMPLE,
        BEAUTIFUL,
        b"?",
        EXPLICIT,
        b"Now is better than never?",
    ]
    with server.connect() as conn:
        for question in questions:
            ask(conn, question)
        expect_open_and_silent(conn, timeouts)


# -- §3.4 Stalled client ---------------------------------------------------------------------------
@case(
    "zen/3.4/1",
    MUST,
    "A client that has sent part of a question and then sends nothing more "
    "MUST NOT delay the service of any other client.",
)
def test_stalled_client_does_not_delay_another(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("stalled A") as a:
        a.send(first_half(BEAUTIFUL))
        with server.connect("B") as b:
            b.send(EXPLICIT)
            expect_answer(b, b"Implicit.", timeout=timeouts(1.0))
        finish([a], timeouts(1.0))


@case(
    "zen/3.4/2",
    MUST,
    "Once [a stalled client] sends the rest of its question, it MUST get its answer.",
)
def test_stalled_client_gets_its_answer(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("stalled A") as a:
        a.send(first_half(BEAUTIFUL))
        with server.connect("B") as b:
            b.send(EXPLICIT)
            b.wait_readable(lambda got: b"." in got, timeout=timeouts(1.0))  # judged by 3.4/1
        expect_nothing_yet(a, timeouts(PEEK), "on A before the rest of its question")
        a.send(REST)
        expect_answer(a, b"Ugly.", quiet=timeouts(QUIET))


# -- §3.5 Disconnect mid-question ------------------------------------------------------------------
DISCONNECT_RULE = (
    "A client that closes or resets its connection before its question is complete, or before it "
    "has read its answer, MUST NOT break the service for other clients."
)


def expect_service(server: ServerHandle, timeouts: Timeouts) -> None:
    """Client B connects, asks `Simple is better than?` and gets `Complex.` within 1 s."""
    __tracebackhide__ = True
    with server.connect("B") as b:
        b.send(SIMPLE)
        expect_answer(b, b"Complex.", timeout=timeouts(1.0))


@case("zen/3.5/1", MUST, DISCONNECT_RULE)
def test_disconnect_close_mid_question(server: ServerHandle, timeouts: Timeouts) -> None:
    a = server.connect("A, who leaves")
    a.send(first_half(BEAUTIFUL))
    a.close()
    time.sleep(timeouts(0.05))
    expect_service(server, timeouts)


@case("zen/3.5/2", MUST, DISCONNECT_RULE)
def test_disconnect_reset_mid_question(server: ServerHandle, timeouts: Timeouts) -> None:
    a = server.connect("A, who leaves")
    a.send(first_half(EXPLICIT))
    a.reset()
    time.sleep(timeouts(0.05))
    expect_service(server, timeouts)


@case("zen/3.5/3", MUST, DISCONNECT_RULE)
def test_disconnect_reset_before_reading(server: ServerHandle, timeouts: Timeouts) -> None:
    a = server.connect("A, who leaves")
    a.send(BEAUTIFUL)
    a.reset()
    time.sleep(timeouts(0.1))
    expect_service(server, timeouts)


# -- §3.6 Many stalled clients ---------------------------------------------------------------------
STALLED = 16
MANY_RULE = (
    "With 16 clients stalled mid-question, the server SHOULD still serve another client promptly."
)


def stall(server: ServerHandle) -> list[tuple[TcpConnection, bytes]]:
    """Sixteen clients, each with the first half of a known question and nothing more."""
    stalled: list[tuple[TcpConnection, bytes]] = []
    try:
        for i in range(STALLED):
            question = (BEAUTIFUL, EXPLICIT, SIMPLE)[i % 3]
            conn = server.connect(f"stalled {i + 1}")
            stalled.append((conn, question))
            conn.send(first_half(question))
    except BaseException:
        for conn, _ in stalled:
            conn.close()
        raise
    return stalled


@case("zen/3.6/1", SHOULD, MANY_RULE)
def test_sixteen_stalled_clients(server: ServerHandle, timeouts: Timeouts) -> None:
    stalled = stall(server)
    try:
        with server.connect("17th") as last:
            last.send(EXPLICIT)
            expect_answer(last, b"Implicit.", timeout=timeouts(2.0))
        finish([conn for conn, _ in stalled], timeouts(1.0))
    finally:
        for conn, _ in stalled:
            conn.close()


@case("zen/3.6/2", SHOULD, MANY_RULE)
def test_sixteen_stalled_clients_get_their_answers(
    server: ServerHandle, timeouts: Timeouts
) -> None:
    stalled = stall(server)
    try:
        with server.connect("17th") as last:
            last.send(EXPLICIT)  # its answer is judged by 3.6/1
            deadline = time.monotonic() + timeouts(5.0)
            for conn, _ in stalled:
                conn.send(REST)
            for conn, question in stalled:
                left = max(0.001, deadline - time.monotonic())
                expect_answer(conn, answer(question), timeout=left)
                conn.close()
    finally:
        for conn, _ in stalled:
            conn.close()


# -- §3.7 Pipelining -------------------------------------------------------------------------------
PIPELINE_RULE = (
    "When several questions arrive together, the server SHOULD answer each of them, in the order "
    "they were sent."
)


def check_pipelined(server: ServerHandle, timeouts: Timeouts, questions: list[bytes]) -> None:
    __tracebackhide__ = True
    wanted = b"".join(answer(q) for q in questions)
    with server.connect() as conn:
        conn.send(b"".join(questions))
        got = conn.recv_exactly(len(wanted), what=f"the answers {wanted!r}")
        expect(got == wanted, expected=repr(wanted), actual=repr(got))
        extra = conn.expect_silence(timeouts(QUIET))
        expect(not extra, expected="nothing more", actual=describe(extra))


@case("zen/3.7/1", SHOULD, PIPELINE_RULE)
def test_pipelined_two(server: ServerHandle, timeouts: Timeouts) -> None:
    check_pipelined(server, timeouts, [BEAUTIFUL, EXPLICIT])


@case("zen/3.7/2", SHOULD, PIPELINE_RULE)
def test_pipelined_three_with_unknown(server: ServerHandle, timeouts: Timeouts) -> None:
    check_pipelined(server, timeouts, [SIMPLE, UNKNOWN, BEAUTIFUL])


@case("zen/3.7/3", SHOULD, PIPELINE_RULE)
def test_pipelined_with_partial_tail(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        conn.send(BEAUTIFUL + b"Expl")
        expect_answer(conn, b"Ugly.")
        expect_nothing_yet(conn, timeouts(HALF_PAUSE), "before the rest of the second question")
        conn.send(b"icit is better than?")
        expect_answer(conn, b"Implicit.", quiet=timeouts(QUIET))


# -- §3.8 Close ------------------------------------------------------------------------------------
CLOSE_RULE = (
    "When the client closes its side of the connection, the server MUST close the connection "
    "too. It MUST NOT answer an unfinished question that the close cut short."
)


def expect_close(conn: TcpConnection, timeouts: Timeouts) -> None:
    __tracebackhide__ = True
    conn.shutdown_write()
    wanted = "end of stream within 2 s, with no octet before it"
    rest = conn.recv_until_eof(limit=4096, timeout=timeouts(2.0), what=wanted)
    expect(not rest, expected=wanted, actual=describe(rest))


@case("zen/3.8/1", MUST, CLOSE_RULE)
def test_half_close_after_an_answer(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        ask(conn, BEAUTIFUL)
        expect_close(conn, timeouts)


@case("zen/3.8/2", MUST, CLOSE_RULE)
def test_half_close_mid_question(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        conn.send(first_half(EXPLICIT))
        expect_close(conn, timeouts)
    expect_service(server, timeouts)


# -- §3.9 Throughput -------------------------------------------------------------------------------
LOAD_CLIENTS = 8
LOAD_SECONDS = 0.5


@case(
    "zen/3.9/1",
    MAY,
    "The server MAY be fast. Its throughput under a bounded load is reported, not judged.",
)
def test_throughput(server: ServerHandle, record: CaseRecord, timeouts: Timeouts) -> None:
    counts = {"right": 0, "wrong": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + LOAD_SECONDS

    def load() -> None:
        right = wrong = 0
        try:
            with server.connect("load") as conn:
                conn.transcript = CaseRecord().transcript  # keep the load out of the transcript
                while time.monotonic() < stop_at and right + wrong < 20000:
                    for question in (BEAUTIFUL, EXPLICIT, SIMPLE):
                        conn.send(question)
                        got = conn.recv_until(b".", limit=256, timeout=timeouts(1.0))
                        right, wrong = (
                            (right + 1, wrong) if got == answer(question) else (right, wrong + 1)
                        )
        except AssertionError:
            wrong += 1
        with lock:
            counts["right"] += right
            counts["wrong"] += wrong

    threads = [threading.Thread(target=load) for _ in range(LOAD_CLIENTS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(LOAD_SECONDS + 5)
    elapsed = time.monotonic() - start
    rate = counts["right"] / elapsed
    record.measure("answers per second", f"{rate:.0f} ({LOAD_CLIENTS} clients, {elapsed:.1f} s)")
    record.measure("wrong or missing answers", counts["wrong"])
    expect(
        counts["wrong"] == 0 and counts["right"] > 0,
        expected="every answer right under load",
        actual=f"{counts['right']} right, {counts['wrong']} wrong or missing",
    )
