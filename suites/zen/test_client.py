"""zen.client: the aphorism client of the server-architectures chapter (zen PROFILE §4).

The suite's server is a FakeTcpServer whose handler answers as 2.2 says, in the way its name says
(``answer_each_question``, ``delayed_answers``, ``answer_one_octet_at_a_time``). It keeps what it
saw on each connection in a ``Served`` record; the cases judge those records and the client's
output once the client has exited.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable

import pytest

from suites.zen.protocol import ANSWERS, answer
from wirecheck import (
    MUST,
    CaseRecord,
    ClientRun,
    ClientRunner,
    ConformanceFailure,
    FakeTcpServer,
    TcpConnection,
    Timeouts,
    case,
    describe,
    expect,
)

pytestmark = pytest.mark.role("zen.client")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

CLIENT_SECONDS = 15.0  # profile §4: "The client is given 15 s to run."
IDLE_CLOSE = 3.0  # profile §4: seconds without a question before the suite's server closes
ANSWER_DELAY = 0.3  # profile §4.2: seconds the suite's server waits before each answer
OCTET_PAUSE = 0.005  # profile §1.3: "one octet at a time", seconds between writes
MAX_QUESTION = 4096  # profile §2.3: a question may be cut off beyond this many octets
KNOWN = sorted(ANSWERS)


@dataclasses.dataclass
class Served:
    """What the suite's server saw and did on one connection."""

    questions: list[bytes] = dataclasses.field(default_factory=list)
    answers: list[bytes] = dataclasses.field(default_factory=list)  # begun to be sent, in order
    early: list[str] = dataclasses.field(default_factory=list)  # §4.2: octets that came too soon
    rest: bytes = b""  # octets after the last `?` when the connection ended
    # How it ended: "eof" (the client closed), "idle" (the suite's server closed it after
    # IDLE_CLOSE s without a question), "gone" (an answer could not be sent), "flood".
    end: str = ""
    done: threading.Event = dataclasses.field(default_factory=threading.Event)


class ZenServer:
    """The suite's zen server: one handler per behaviour, and a Served record per connection."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self.served: list[Served] = []
        self._lock = threading.Lock()

    # -- behaviours (FakeTcpServer handlers) --------------------------------------------------
    def answer_each_question(self, conn: TcpConnection) -> None:
        """Answer each question at once, in one write."""
        self._converse(conn, self._send_whole)

    def delayed_answers(self, conn: TcpConnection) -> None:
        """Wait ANSWER_DELAY s after each question, watching for octets that come too soon."""
        self._converse(conn, self._send_whole, delay=ANSWER_DELAY)

    def answer_one_octet_at_a_time(self, conn: TcpConnection) -> None:
        """Send each answer one octet at a time (profile §1.3)."""
        self._converse(conn, self._send_octets)

    # -- the conversation ------------------------------------------------------------------------
    def _send_whole(self, conn: TcpConnection, data: bytes) -> None:
        conn.send(data)

    def _send_octets(self, conn: TcpConnection, data: bytes) -> None:
        for i in range(len(data)):
            if i:
                time.sleep(self.timeouts(OCTET_PAUSE))
            conn.send(data[i : i + 1])

    def _converse(
        self,
        conn: TcpConnection,
        send: Callable[[TcpConnection, bytes], None],
        delay: float = 0.0,
    ) -> None:
        served = Served()
        with self._lock:
            self.served.append(served)
        try:
            while True:
                # Profile §4: "if no complete question arrives on a connection within 3 s of its
                # opening or of the previous answer, the suite's server closes that connection."
                try:
                    question = conn.recv_until(
                        b"?", limit=MAX_QUESTION, timeout=self.timeouts(IDLE_CLOSE)
                    )
                except ConformanceFailure:
                    served.rest = bytes(conn.buffer)
                    if conn.eof:
                        served.end = "eof"
                    elif len(conn.buffer) > MAX_QUESTION:
                        served.end = "flood"
                    else:
                        served.end = "idle"
                        conn.transcript.note(
                            conn.channel,
                            f"no question for {self.timeouts(IDLE_CLOSE):.1f} s: "
                            "the suite's server closes the connection",
                        )
                    return
                served.questions.append(question)
                if delay:
                    early = conn.expect_silence(self.timeouts(delay))  # and what was already there
                    if early:
                        served.early.append(
                            f"{describe(early)} after the question {question!r}, before its "
                            "answer was sent"
                        )
                        conn.buffer[:0] = early  # the start of the next question
                reply = answer(question)
                served.answers.append(reply)
                try:
                    send(conn, reply)
                except ConformanceFailure:  # the client has gone away in the middle of it
                    served.end = "gone"
                    return
        finally:
            conn.close()
            served.done.set()

    def wait_done(self, connections: int, timeout: float) -> None:
        """Wait until the handlers of ``connections`` connections have finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                served = list(self.served)
            if len(served) >= connections and all(s.done.is_set() for s in served):
                return
            time.sleep(0.005)


def converse(
    client: ClientRunner,
    record: CaseRecord,
    timeouts: Timeouts,
    behaviour: Callable[[ZenServer, TcpConnection], None],
) -> tuple[ClientRun, list[Served]]:
    """Run the client against the suite's server, its handler being ``behaviour``."""
    zen = ZenServer(timeouts)
    handler = functools.partial(behaviour, zen)
    with FakeTcpServer(handler, record.transcript, timeout=timeouts.reply_s) as fake:
        run = client.run(port=fake.port, timeout=CLIENT_SECONDS)
        zen.wait_done(len(fake.connections), timeouts(IDLE_CLOSE + 1.0))
        fake.check()
    return run, zen.served


# -- §4.1 Questions --------------------------------------------------------------------------------
QUESTIONS_RULE = (
    "The client MUST ask the three known questions, each exactly once and with the exact octets "
    "of 2.2, in any order, on one connection."
)


@case("zen/4.1/1", MUST, QUESTIONS_RULE)
def test_asks_the_three_questions(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    _run, served = converse(client, record, timeouts, ZenServer.answer_each_question)
    asked = [q for s in served for q in s.questions]
    rests = [s.rest for s in served if s.rest]
    actual = f"questions {asked!r}" if asked else "no question"
    actual += "".join(f", then {describe(r)} with no `?`" for r in rests)
    expect(
        sorted(asked) == KNOWN and not rests,
        expected=f"the questions {KNOWN!r}, each once, in any order, and nothing else",
        actual=actual,
    )


@case("zen/4.1/2", MUST, QUESTIONS_RULE)
def test_one_connection(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    _run, served = converse(client, record, timeouts, ZenServer.answer_each_question)
    expect(
        len(served) == 1,
        expected="every question on one connection",
        actual=f"{len(served)} connections, with the questions {[s.questions for s in served]!r}",
    )


# -- §4.2 Waits ------------------------------------------------------------------------------------
@case(
    "zen/4.2/1",
    MUST,
    "The client MUST send each question only after the whole answer to the previous one has "
    "arrived.",
)
def test_waits_for_each_answer(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    _run, served = converse(client, record, timeouts, ZenServer.delayed_answers)
    early = [e for s in served for e in s.early]
    expect(
        not early,
        expected=f"no octet of the next question while the answer is held back "
        f"({timeouts(ANSWER_DELAY):.1f} s)",
        actual="; ".join(early),
    )


# -- §4.3 Output -----------------------------------------------------------------------------------
OUTPUT_RULE = (
    "The client MUST print each answer to its standard output and then exit with status 0."
)


@case("zen/4.3/1", MUST, OUTPUT_RULE)
def test_prints_the_answers(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, _served = converse(client, record, timeouts, ZenServer.answer_each_question)
    missing = [a for a in (answer(q) for q in ANSWERS) if a not in run.stdout]
    expect(
        not missing,
        expected="standard output that contains `Ugly.`, `Implicit.` and `Complex.`",
        actual=f"standard output {describe(run.stdout)}, without {missing!r}",
    )


@case("zen/4.3/2", MUST, OUTPUT_RULE)
def test_exits_with_status_0(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, _served = converse(client, record, timeouts, ZenServer.answer_each_question)
    how = (
        f"still running after {timeouts(CLIENT_SECONDS):.0f} s"
        if run.timed_out
        else f"exit status {run.status}"
    )
    expect(
        run.status == 0,
        expected=f"exit status 0 within {timeouts(CLIENT_SECONDS):.0f} s",
        actual=how + (f"; stderr: {run.stderr[-300:]!r}" if run.stderr.strip() else ""),
    )


# -- §4.4 Segmentation -----------------------------------------------------------------------------
@case(
    "zen/4.4/1",
    MUST,
    "The client MUST read an answer up to and including its `.`, however many segments it "
    "arrives in.",
)
def test_answers_in_pieces(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, served = converse(client, record, timeouts, ZenServer.answer_one_octet_at_a_time)
    sent = [a for s in served for a in s.answers]
    missing = [a for a in sent if a not in run.stdout]
    expect(
        not missing,
        expected=f"standard output that contains, whole, every answer begun: {sent!r}",
        actual=f"standard output {describe(run.stdout)}, without {missing!r}",
    )


# -- §4.5 Close ------------------------------------------------------------------------------------
@case(
    "zen/4.5/1",
    MUST,
    "When it has its three answers, the client MUST close the connection.",
)
def test_closes_the_connection(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    _run, served = converse(client, record, timeouts, ZenServer.answer_each_question)
    wanted = (
        f"end of stream within {timeouts(IDLE_CLOSE):.1f} s of the last answer, "
        "with no octet before it"
    )
    for number, s in enumerate(served, 1):
        if not s.answers:
            continue
        where = f"connection {number}, after {len(s.answers)} answers: "
        expect(
            s.end != "idle",
            expected=wanted,
            actual=where + f"the connection stayed open for {timeouts(IDLE_CLOSE):.1f} s "
            "and the suite's server closed it",
        )
        expect(not s.rest, expected=wanted, actual=where + f"{describe(s.rest)}, no `?`")
