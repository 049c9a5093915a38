"""zen.server: the aphorism server of the server-architectures chapter (zen PROFILE §3)."""

from __future__ import annotations

import threading
import time

import pytest

from suites.zen.protocol import ANSWERS, answer
from wirecheck import MAY, MUST, SHOULD, CaseRecord, ServerHandle, TcpConnection, case, expect
from wirecheck.wire import describe

pytestmark = pytest.mark.role("zen.server")

BEAUTIFUL, EXPLICIT, SIMPLE = ANSWERS
UNKNOWN = b"Flat is better than?"
QUIET = 0.2  # seconds of silence that count as "nothing more"


def ask(conn: TcpConnection, question: bytes) -> None:
    """Send one question and accept exactly its answer, and nothing more."""
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


# -- §3.1 Answers ----------------------------------------------------------------------------------
@case(
    "zen/3.1/1",
    MUST,
    "The server MUST answer each known question with the answer the table "
    "of 2.2 gives, and any other question with `Error: unknown aphorism.`, as exactly those "
    "octets and nothing else.",
)
@pytest.mark.parametrize(
    "question",
    [
        pytest.param(BEAUTIFUL, id="beautiful"),
        pytest.param(EXPLICIT, id="explicit"),
        pytest.param(SIMPLE, id="simple"),
        pytest.param(UNKNOWN, id="unknown"),
        pytest.param(b"beautiful is better than?", id="case-differs"),
    ],
)
def test_answers(server: ServerHandle, question: bytes) -> None:
    with server.connect() as conn:
        conn.send(question)
        expect_answer(conn, answer(question), quiet=0.1)


# -- §3.2 Segmentation -----------------------------------------------------------------------------
@case(
    "zen/3.2/1",
    MUST,
    "The server MUST answer a question that arrives split across several "
    "segments exactly once, as the whole question, once its `?` has arrived.",
)
def test_one_octet_at_a_time(server: ServerHandle) -> None:
    with server.connect() as conn:
        for i, octet in enumerate(BEAUTIFUL[:-1]):
            conn.send(bytes([octet]))
            if i % 8 == 7:  # look for a premature answer now and then, cheaply
                expect_nothing_yet(conn, 0.01, "before the `?` has been sent")
        expect_nothing_yet(conn, 0.05, "before the `?` has been sent")
        conn.send(b"?")
        expect_answer(conn, b"Ugly.", quiet=0.1)


@case(
    "zen/3.2/2",
    MUST,
    "The server MUST answer a question that arrives split across several "
    "segments exactly once, as the whole question, once its `?` has arrived.",
)
@pytest.mark.parametrize(
    "question", [pytest.param(EXPLICIT, id="known"), pytest.param(UNKNOWN, id="unknown")]
)
def test_two_halves(server: ServerHandle, question: bytes) -> None:
    with server.connect() as conn:
        conn.send(question[:9])
        expect_nothing_yet(conn, 0.2, "before the second half has been sent")
        conn.send(question[9:])
        expect_answer(conn, answer(question), quiet=0.1)


# -- §3.3 Many pairs per connection ----------------------------------------------------------------
@case(
    "zen/3.3/1",
    MUST,
    "The server MUST answer every question that arrives on a connection, and "
    "MUST keep the connection open between answers, for as long as the client keeps it open.",
)
def test_three_questions_one_connection(server: ServerHandle) -> None:
    with server.connect() as conn:
        for question in (BEAUTIFUL, EXPLICIT, SIMPLE):
            ask(conn, question)
        extra = conn.expect_silence(0.1)
        expect(
            not extra and not conn.eof,
            expected="the connection stays open, silent",
            actual="end of stream" if conn.eof else describe(extra),
        )


@case(
    "zen/3.3/2",
    MUST,
    "The server MUST answer every question that arrives on a connection, and "
    "MUST keep the connection open between answers, for as long as the client keeps it open.",
)
def test_ten_questions_one_connection(server: ServerHandle) -> None:
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
        extra = conn.expect_silence(QUIET)
        expect(
            not extra and not conn.eof,
            expected="the connection stays open, silent",
            actual="end of stream" if conn.eof else describe(extra),
        )


# -- §3.4 Stalled client ---------------------------------------------------------------------------
@case(
    "zen/3.4/1",
    MUST,
    "A client that has sent part of a question and then sends nothing more "
    "MUST NOT delay the service of any other client.",
)
def test_stalled_client_does_not_delay_another(server: ServerHandle) -> None:
    with server.connect("stalled A") as a, server.connect("B") as b:
        a.send(b"Beautiful is ")
        time.sleep(0.05)
        b.send(EXPLICIT)
        expect_answer(b, b"Implicit.", timeout=1.0)


@case(
    "zen/3.4/2",
    MUST,
    "Once [a stalled client] sends the rest of its question, it MUST get its answer.",
)
def test_stalled_client_gets_its_answer(server: ServerHandle) -> None:
    with server.connect("stalled A") as a:
        a.send(b"Beautiful is ")
        with server.connect("B") as b:
            b.send(EXPLICIT)
            b.wait_readable(lambda got: b"." in got, timeout=1.0)  # not judged here: see 3.4/1
        expect_nothing_yet(a, 0.05, "before the rest of the question")
        a.send(b"better than?")
        expect_answer(a, b"Ugly.", quiet=0.1)


# -- §3.5 Disconnect mid-question ------------------------------------------------------------------
@case(
    "zen/3.5/1",
    MUST,
    "A client that closes or resets its connection before its question is "
    "complete, or before it has read its answer, MUST NOT break the service for other clients.",
)
@pytest.mark.parametrize("how", ["close-mid-question", "reset-mid-question", "reset-unread"])
def test_disconnect_does_not_break_service(server: ServerHandle, how: str) -> None:
    a = server.connect("A, who leaves")
    if how == "reset-unread":
        a.send(BEAUTIFUL)
        a.reset()
        time.sleep(0.2)
    else:
        a.send(b"Beautiful is ")
        a.close() if how == "close-mid-question" else a.reset()
        time.sleep(0.05)
    with server.connect("B") as b:
        b.send(SIMPLE)
        expect_answer(b, b"Complex.")


# -- §3.6 Many stalled clients ---------------------------------------------------------------------
@case(
    "zen/3.6/1",
    SHOULD,
    "With 16 clients stalled mid-question, the server SHOULD still serve another client promptly.",
)
def test_sixteen_stalled_clients(server: ServerHandle) -> None:
    stalled: list[tuple[TcpConnection, bytes]] = []
    try:
        for i in range(16):
            question = (BEAUTIFUL, EXPLICIT, SIMPLE)[i % 3]
            conn = server.connect(f"stalled {i + 1}")
            conn.send(question[: question.index(b" is ") + 4])
            stalled.append((conn, question))
        with server.connect("17th") as last:
            last.send(EXPLICIT)
            expect_answer(last, b"Implicit.")
        for conn, _question in stalled:
            conn.send(b"better than?")
        for conn, question in stalled:
            expect_answer(conn, answer(question))
    finally:
        for conn, _ in stalled:
            conn.close()


# -- §3.7 Pipelining -------------------------------------------------------------------------------
@case(
    "zen/3.7/1",
    SHOULD,
    "When several questions arrive together, the server SHOULD answer each "
    "of them, in the order they were sent.",
)
@pytest.mark.parametrize(
    "questions",
    [
        pytest.param([BEAUTIFUL, EXPLICIT], id="two"),
        pytest.param([SIMPLE, UNKNOWN, BEAUTIFUL], id="three-with-unknown"),
    ],
)
def test_pipelined(server: ServerHandle, questions: list[bytes]) -> None:
    wanted = b"".join(answer(q) for q in questions)
    with server.connect() as conn:
        conn.send(b"".join(questions))
        got = conn.recv_exactly(len(wanted), what=f"the answers {wanted!r}")
        expect(got == wanted, expected=repr(wanted), actual=repr(got))
        extra = conn.expect_silence(0.1)
        expect(not extra, expected="nothing more", actual=describe(extra))


@case(
    "zen/3.7/2",
    SHOULD,
    "When several questions arrive together, the server SHOULD answer each "
    "of them, in the order they were sent.",
)
def test_pipelined_with_partial_tail(server: ServerHandle) -> None:
    with server.connect() as conn:
        conn.send(BEAUTIFUL + b"Expl")
        expect_answer(conn, b"Ugly.")
        expect_nothing_yet(conn, 0.2, "before the rest of the second question")
        conn.send(b"icit is better than?")
        expect_answer(conn, b"Implicit.", quiet=0.1)


# -- §3.8 Close ------------------------------------------------------------------------------------
@case(
    "zen/3.8/1",
    MUST,
    "When the client closes its side of the connection, the server MUST close "
    "the connection too. It MUST NOT answer an unfinished question that the close cut short.",
)
@pytest.mark.parametrize(
    "before",
    [
        pytest.param(BEAUTIFUL, id="after-an-answer"),
        pytest.param(b"Explicit is ", id="mid-question"),
    ],
)
def test_close(server: ServerHandle, before: bytes) -> None:
    with server.connect() as conn:
        if before.endswith(b"?"):
            ask(conn, before)
        else:
            conn.send(before)
        conn.shutdown_write()
        rest = conn.recv_until_eof(limit=4096, what="end of stream, with no octet before it")
        expect(not rest, expected="end of stream, with no octet before it", actual=describe(rest))


# -- §3.9 Throughput -------------------------------------------------------------------------------
LOAD_CLIENTS = 8
LOAD_SECONDS = 0.5


@case(
    "zen/3.9/1",
    MAY,
    "The server MAY be fast. Its throughput under a bounded load is reported, not judged.",
)
def test_throughput(server: ServerHandle, record: CaseRecord) -> None:
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
                        got = conn.recv_until(b".", limit=256, timeout=1.0)
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
