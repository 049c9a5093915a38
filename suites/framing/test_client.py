"""framing.client: the block-echo client of chapter 5 (framing PROFILE §3).

The suite plays the server with fake servers named for how they answer. Each records what the
client sent as a ``Conversation``; the cases judge that record, the client's standard output and
its exit status.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import pytest

from suites.framing.protocol import (
    HEADER_SIZE,
    TERMINATOR,
    block,
    header_text,
    hexs,
    length_of,
    payload_text,
)
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
    expect,
)
from wirecheck.wire import describe

pytestmark = pytest.mark.role("framing.client")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

CLIENT_TIMEOUT = 10.0  # seconds (unscaled) a client may run before it is ended
PACE = 0.05  # framing profile §3: "at least 50 ms after its previous answer"
OCTET_PAUSE = 0.002  # framing profile §3.4: "one octet per write, about 2 ms apart"
SPLIT_PAUSE = 0.1  # framing profile §3.4: "with a pause of 100 ms"
TERMINATOR_WAIT = 1.0  # framing profile §3.4: "waits up to 1 s for the terminator"
UNPARSED_WAIT = 2.0  # framing profile §3.5: "received 10 octets ... or for 2 s"
# framing profile §3: "a header announcing more than 65,536 octets" ends the conversation.
MAX_CLIENT_PAYLOAD = 65536


# -- the suite's server ----------------------------------------------------------------------------
@dataclasses.dataclass
class Conversation:
    """What one client connection sent, as blocks."""

    blocks: list[bytes] = dataclasses.field(default_factory=list)  # data blocks, in order
    headers: list[bytes] = dataclasses.field(default_factory=list)  # their headers as sent
    terminator: bool = False  # the zero-length block came
    after: bytes = b""  # octets after the terminator, before the client closed
    problem: str = ""  # why the octets stopped forming blocks ("" if they did not)
    ending: str = ""  # how the stream ended after the last complete block
    raw: bytes = b""  # for handlers that do not parse

    def blocks_text(self) -> str:
        if not self.blocks:
            text = "no data block"
        else:
            listed = ", ".join(payload_text(p) for p in self.blocks)
            text = f"{len(self.blocks)} data block{'s' if len(self.blocks) > 1 else ''}: {listed}"
        if self.problem:
            text += f"; then {self.problem}"
        return text


class Recorder:
    """The conversations of every connection a fake server accepted, in order."""

    def __init__(self) -> None:
        self.conversations: list[Conversation] = []
        self._lock = threading.Lock()

    def new(self) -> Conversation:
        conv = Conversation()
        with self._lock:
            self.conversations.append(conv)
        return conv

    def first(self, record: CaseRecord) -> Conversation:
        if not self.conversations:
            return Conversation(problem="no connection: the client never connected")
        if len(self.conversations) > 1:
            record.note(
                f"the client opened {len(self.conversations)} connections; judged: the first"
            )
        return self.conversations[0]


Handler = Callable[[TcpConnection], None]


def read_block(
    conn: TcpConnection, conv: Conversation, timeout: float, *, stall_ok: bool = False
) -> bytes | None:
    """The next block's payload (b"" for the terminator), or None when there is none: the
    stream ended or stalled at a block boundary (``conv.ending``) or stopped forming blocks
    (``conv.problem``). With ``stall_ok`` a stall at a boundary is not recorded."""
    if not conn.wait_readable(lambda got: len(got) >= HEADER_SIZE, timeout=timeout):
        if not conn.buffer:
            if conn.eof:
                conv.ending = "end-of-stream"
            elif not stall_ok:
                conv.ending = f"nothing more for {timeout:.1f} s"
        else:
            how = "end-of-stream" if conn.eof else f"nothing more for {timeout:.1f} s"
            conv.problem = f"{header_text(bytes(conn.buffer))}, then {how}"
        return None
    header = bytes(conn.buffer[:HEADER_SIZE])
    length = length_of(header)
    if length > MAX_CLIENT_PAYLOAD:
        conv.problem = f"{header_text(header)}: not a message the suite gave"
        return None
    if not conn.wait_readable(lambda got: len(got) >= HEADER_SIZE + length, timeout=timeout):
        how = "end-of-stream" if conn.eof else f"nothing more for {timeout:.1f} s"
        conv.problem = (
            f"{header_text(header)}, then only {len(conn.buffer) - HEADER_SIZE:,} octets "
            f"{describe(bytes(conn.buffer[HEADER_SIZE:]), 32)}, then {how}"
        )
        return None
    conn.recv_exactly(HEADER_SIZE)
    payload = conn.recv_exactly(length)
    conv.headers.append(header)
    if length:
        conv.blocks.append(payload)
    else:
        conv.terminator = True
    return payload


class Pacer:
    """framing profile §3: each answer "at least 50 ms after its previous answer"."""

    def __init__(self, gap: float = PACE) -> None:
        self.gap, self.last = gap, 0.0

    def wait(self) -> None:
        delay = self.last + self.gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.last = time.monotonic()


def send_answer(conn: TcpConnection, data: bytes) -> bool:
    """Send an answer; the client may have gone (not judged here): False then."""
    try:
        conn.send(data)
    except ConformanceFailure:
        return False
    return True


def close_after_terminator(conn: TcpConnection, conv: Conversation, timeout: float) -> None:
    """Close as a correct server does, after reading what the client sends until it closes."""
    conn.shutdown_write()
    conn.wait_readable(lambda _got: False, timeout=timeout, limit=MAX_CLIENT_PAYLOAD)
    conv.after = bytes(conn.buffer)
    conv.ending = "end-of-stream" if conn.eof else f"the client kept it open for {timeout:.1f} s"


def serve_steadily(
    conn: TcpConnection,
    conv: Conversation,
    timeout: float,
    transform: Callable[[bytes], bytes] = bytes,
    pacer: Pacer | None = None,
) -> None:
    """framing profile §3: answer each block as soon as it is whole, one write per answer and
    at least 50 ms after the previous one; answer the terminator, then close."""
    pacer = pacer or Pacer()
    while (payload := read_block(conn, conv, timeout)) is not None:
        pacer.wait()
        if not send_answer(conn, block(transform(payload))):
            return
        if not payload:
            close_after_terminator(conn, conv, timeout)
            return


def echo_at_once(recorder: Recorder, timeout: float) -> Handler:
    def handler(conn: TcpConnection) -> None:
        with conn:
            serve_steadily(conn, recorder.new(), timeout)

    return handler


def echo_uppercased(recorder: Recorder, timeout: float) -> Handler:
    """Answers each block with its payload in capitals (same length), so that the output shows
    the answers rather than the client's own arguments."""

    def handler(conn: TcpConnection) -> None:
        with conn:
            serve_steadily(conn, recorder.new(), timeout, transform=bytes.upper)

    return handler


def echo_one_byte_at_a_time(recorder: Recorder, timeout: float) -> Handler:
    def handler(conn: TcpConnection) -> None:
        with conn:
            conv = recorder.new()
            while (payload := read_block(conn, conv, timeout)) is not None:
                answer = block(payload)
                for i in range(len(answer)):
                    if not send_answer(conn, answer[i : i + 1]):
                        return
                    time.sleep(OCTET_PAUSE)
                if not payload:
                    close_after_terminator(conn, conv, timeout)
                    return

    return handler


def echo_split_headers(recorder: Recorder, timeout: float) -> Handler:
    """Each data answer's header in two writes, after its second octet, 100 ms apart."""

    def handler(conn: TcpConnection) -> None:
        with conn:
            conv = recorder.new()
            pacer = Pacer()
            while (payload := read_block(conn, conv, timeout)) is not None:
                pacer.wait()
                answer = block(payload)
                if not payload:
                    if send_answer(conn, answer):
                        close_after_terminator(conn, conv, timeout)
                    return
                if not send_answer(conn, answer[:2]):
                    return
                time.sleep(SPLIT_PAUSE)
                if not send_answer(conn, answer[2:]):
                    return
                pacer.last = time.monotonic()  # the answer ends here

    return handler


def echo_coalesced(recorder: Recorder, timeout: float, count: int) -> Handler:
    """Reads ``count`` blocks and waits up to 1 s for the terminator, then answers them all
    (and the terminator, if it came) in one write; then serves the rest steadily."""

    def handler(conn: TcpConnection) -> None:
        with conn:
            conv = recorder.new()
            payloads: list[bytes] = []
            while len(payloads) < count:
                payload = read_block(conn, conv, timeout)
                if not payload:  # the stream ended, stopped forming blocks, or terminated early
                    break
                payloads.append(payload)
            if len(payloads) == count:
                last = read_block(conn, conv, TERMINATOR_WAIT, stall_ok=True)
                if last is not None:
                    payloads.append(last)
            elif conv.terminator:
                payloads.append(b"")
            elif not payloads:
                return
            if not send_answer(conn, b"".join(block(p) for p in payloads)):
                return
            if conv.terminator:
                close_after_terminator(conn, conv, timeout)
            elif not conv.problem and not conv.ending:
                pacer = Pacer()
                pacer.wait()
                serve_steadily(conn, conv, timeout, pacer=pacer)

    return handler


def answer_hi_unparsed(recorder: Recorder, timeout: float) -> Handler:
    """framing profile §3.5: does not parse what the client sends; after 10 octets (or 2 s)
    answers `00 00 00 02 68 69`, 50 ms later `00 00 00 00`, and closes."""

    def handler(conn: TcpConnection) -> None:
        with conn:
            conv = recorder.new()
            conn.wait_readable(lambda got: len(got) >= 10, timeout=UNPARSED_WAIT)
            conv.raw = bytes(conn.buffer)
            if send_answer(conn, block(b"hi")):
                time.sleep(PACE)
                if send_answer(conn, TERMINATOR):
                    close_after_terminator(conn, conv, timeout)

    return handler


def converse(
    client: ClientRunner,
    record: CaseRecord,
    timeouts: Timeouts,
    make_handler: Callable[[Recorder, float], Handler],
    messages: list[str],
) -> tuple[ClientRun, Conversation]:
    """Run the client against the fake server ``make_handler`` builds; what it sent and did."""
    recorder = Recorder()
    handler = make_handler(recorder, timeouts.reply_s)
    with FakeTcpServer(handler, record.transcript, timeout=timeouts.reply_s) as fake:
        run = client.run(port=fake.port, timeout=CLIENT_TIMEOUT, messages=messages)
        if fake.connections:
            fake.wait_done(timeouts(2.0))
        fake.check()
    return run, recorder.first(record)


# -- judging ---------------------------------------------------------------------------------------
def expect_blocks(conv: Conversation, messages: list[str]) -> None:
    __tracebackhide__ = True
    wanted = [m.encode("utf-8") for m in messages]
    listed = ", ".join(f"{hexs(block(w)[:HEADER_SIZE])} {payload_text(w)}" for w in wanted)
    expect(
        conv.blocks == wanted and not conv.problem,
        expected=f"exactly {len(wanted)} data block{'s' if len(wanted) > 1 else ''}: {listed}",
        actual=conv.blocks_text(),
    )


def expect_output(run: ClientRun, lines: list[str]) -> None:
    __tracebackhide__ = True
    wanted = b"".join(line.encode("utf-8") + b"\n" for line in lines)
    got = run.stdout.replace(b"\r\n", b"\n")
    status = (
        f"still running after {run.duration:.1f} s"
        if run.timed_out
        else f"exit status {run.status}"
    )
    expect(
        got == wanted and run.status == 0,
        expected=f"standard output exactly {wanted!r}, and exit status 0",
        actual=f"standard output {describe(run.stdout, 300)}, {status}",
    )


# -- §3.1 Blocks sent ------------------------------------------------------------------------------
BLOCKS = (
    "The client MUST send each message as exactly one block whose payload is the message's "
    "UTF-8 encoding, one block per message, in the order the messages were given. The length "
    "MUST count the payload's octets, not the message's characters."
)


@case("framing/3.1/1", MUST, BLOCKS)
def test_hello_block(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    _run, conv = converse(client, record, timeouts, echo_at_once, ["hello"])
    expect_blocks(conv, ["hello"])


@case("framing/3.1/2", MUST, BLOCKS)
def test_several_blocks(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    messages = ["alpha", "beta gamma", "delta"]
    _run, conv = converse(client, record, timeouts, echo_at_once, messages)
    expect_blocks(conv, messages)


@case("framing/3.1/3", MUST, BLOCKS)
def test_octets_not_characters(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    messages = ["café", "€100", "𝄞 clef"]
    _run, conv = converse(client, record, timeouts, echo_at_once, messages)
    expect_blocks(conv, messages)


# -- §3.2 Terminator -------------------------------------------------------------------------------
TERMINATOR_RULE = (
    "After the block of its last message the client MUST send a zero-length block, and MUST NOT "
    "send anything after it."
)


def expect_terminator(conv: Conversation) -> None:
    __tracebackhide__ = True
    expected = (
        "the zero-length block 00 00 00 00 right after the last data block, then nothing more "
        "before the client closes the connection"
    )
    if conv.problem:
        actual = f"{conv.blocks_text()}: the octets stopped forming blocks"
    elif not conv.terminator:
        actual = (
            f"{conv.blocks_text()}, then {conv.ending or 'end-of-stream'}, no zero-length block"
        )
    else:
        actual = f"00 00 00 00, then {describe(conv.after, 64)} before {conv.ending}"
    expect(
        conv.terminator and not conv.after and not conv.problem, expected=expected, actual=actual
    )


@case("framing/3.2/1", MUST, TERMINATOR_RULE)
def test_terminator_after_two(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    _run, conv = converse(client, record, timeouts, echo_at_once, ["one", "two"])
    expect_terminator(conv)


@case("framing/3.2/2", MUST, TERMINATOR_RULE)
def test_terminator_after_one(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    _run, conv = converse(client, record, timeouts, echo_at_once, ["x"])
    expect_terminator(conv)


# -- §3.3 Output -----------------------------------------------------------------------------------
OUTPUT = (
    "The client MUST print the payload of each answer, decoded as UTF-8, on its own line, in the "
    "order the answers arrive; it MUST NOT print anything else on standard output, and it MUST "
    "exit with status 0 once the server has answered the terminator."
)


@case("framing/3.3/1", MUST, OUTPUT)
def test_output_lines(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    messages = ["alpha", "beta gamma", "delta"]
    run, _conv = converse(client, record, timeouts, echo_at_once, messages)
    expect_output(run, messages)


@case("framing/3.3/2", MUST, OUTPUT)
def test_output_utf8(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    messages = ["café", "€100", "𝄞 clef"]
    run, _conv = converse(client, record, timeouts, echo_at_once, messages)
    expect_output(run, messages)


@case("framing/3.3/3", MUST, OUTPUT)
def test_output_is_the_answers(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    run, _conv = converse(client, record, timeouts, echo_uppercased, ["alpha", "beta"])
    expect_output(run, ["ALPHA", "BETA"])


# -- §3.4 Segmentation -----------------------------------------------------------------------------
SEGMENTATION = (
    "The client MUST read the answers correctly however they are divided into reads: an answer "
    "may arrive one octet at a time, and several answers may arrive in one read. The client MUST "
    "send all its blocks and the terminator without waiting for any answer."
)


@case("framing/3.4/1", MUST, SEGMENTATION)
def test_answers_one_octet_at_a_time(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    messages = ["alpha", "beta gamma", "𝄞 clef"]
    run, _conv = converse(client, record, timeouts, echo_one_byte_at_a_time, messages)
    expect_output(run, messages)


@case("framing/3.4/2", MUST, SEGMENTATION)
def test_answers_split_headers(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    messages = ["alpha", "beta"]
    run, _conv = converse(client, record, timeouts, echo_split_headers, messages)
    expect_output(run, messages)


@case("framing/3.4/3", MUST, SEGMENTATION)
def test_answers_coalesced(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    messages = ["one", "two", "three"]

    def make(recorder: Recorder, timeout: float) -> Handler:
        return echo_coalesced(recorder, timeout, len(messages))

    run, conv = converse(client, record, timeouts, make, messages)
    if len(conv.blocks) < len(messages) and not conv.problem:
        record.note(
            f"only {len(conv.blocks)} of {len(messages)} blocks came before "
            f"{conv.ending or 'the answers'}: the client waits for answers before it sends"
        )
    expect_output(run, messages)


# -- §3.5 Byte order -------------------------------------------------------------------------------
BYTE_ORDER = (
    "The client MUST write each length as an unsigned 32-bit big-endian integer, and MUST read "
    "the lengths of the answers the same way."
)


@case("framing/3.5/1", MUST, BYTE_ORDER)
def test_reads_big_endian(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, conv = converse(client, record, timeouts, answer_hi_unparsed, ["hi"])
    record.note(f"the client sent, unparsed: {hexs(conv.raw, 32)}")
    expect_output(run, ["hi"])


@case("framing/3.5/2", MUST, BYTE_ORDER)
def test_writes_big_endian(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    message = "x" * 258
    run, conv = converse(client, record, timeouts, echo_at_once, [message])
    expect_blocks(conv, [message])
    expect_output(run, [message])
