"""tcp.server: the upper-casing echo server (tcp PROFILE §2).

Every check that judges an echo runs through ``exchange``: one loop over non-blocking sockets
that writes on each connection of the check while it reads all of them, so the suite never stops
reading because it is writing (profile §1.3, "a writer thread sends"), and that shuts each
connection down exactly when §1.3 says.
"""

from __future__ import annotations

import contextlib
import itertools
import selectors
import socket
import time
from collections.abc import Sequence
from typing import Any

import pytest

from suites.tcp.protocol import excerpt, first_difference, piece_sizes, text, upper
from wirecheck import (
    MUST,
    ConformanceFailure,
    ServerHandle,
    TcpConnection,
    Timeouts,
    case,
    expect,
)
from wirecheck.transcript import RECEIVED, SENT

pytestmark = pytest.mark.role("tcp.server")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

# profile §1.3: when the suite shuts down its sending side.
NEVER = "never"  # §2.2
AFTER_WRITES = "after the last write"  # §2.3
AFTER_ECHO = "after the echo"  # every other check
REPLY_WAIT = 2.0  # §1.3: "the suite waits up to 2 s for what it expects"
IDLE_SHUTDOWN = 1.0  # §1.3: "or once 1 s has passed since its last write and since the last echo
# octet it read"
OCTET_PAUSE = 0.002  # §1.3: "one octet at a time": 2 ms between writes
SECOND_WRITE_AFTER = 0.2  # §2.3/3: seconds between `hello` and `world`
BULK = 6_000_000  # §2.3/5, §2.5: more than the server's send buffer holds (~4 MB on loopback)
BULK_LIMIT = 10.0  # §2.3/5, §2.5: seconds from the connection
HOLD = 0.2  # §2.3/5, §2.5/1: seconds the suite reads nothing at first
LARGE_WRITE = 4_000_000  # §2.4/3
SMALL_RCVBUF = 8192  # §2.5/2
SLOW_READ = (16384, 0.002, 0.2)  # §2.5/2: read size, pause between reads, for how long
CHUNK = 65536
TICK = 0.1  # the longest the loop sleeps without looking at its clocks


class Stream:
    """One connection of a check: what the suite writes on it, how it reads, when it shuts down.

    ``writes`` are sent in order, each as one write (a partial send goes on with the rest of the
    same write), ``pause`` seconds apart. ``hold``: read nothing for that long after the start.
    ``slow``: (read size, pause between reads, for how long) at the start. ``limit``: a limit
    the check names, counted from the start; without it §1.3's 2 s apply. ``already_sent``: what
    the check sent on the connection before, whose echo is still to come.
    """

    def __init__(
        self,
        conn: TcpConnection,
        writes: Sequence[bytes],
        *,
        shutdown: str = AFTER_ECHO,
        pause: float = 0.0,
        hold: float = 0.0,
        slow: tuple[int, float, float] | None = None,
        limit: float | None = None,
        already_sent: bytes = b"",
        name: str = "",
    ) -> None:
        self.conn, self.writes, self.policy = conn, list(writes), shutdown
        self.pause, self.hold, self.slow, self.limit = pause, hold, slow, limit
        self.name = name or conn.channel.label
        self.to_send = sum(len(w) for w in self.writes)
        self.expected = upper(already_sent + b"".join(self.writes))
        self.got = 0  # octets of the echo read (and found right)
        self.sent = 0
        self.index = self.offset = 0  # the write under way, and how much of it is sent
        self.start = self.last_write = self.last_echo = self.next_write = self.next_read = 0.0
        self.shut: float | None = None
        self.eof = self.done = False
        self.reply_wait, self.idle = REPLY_WAIT, IDLE_SHUTDOWN

    # -- clocks ----------------------------------------------------------------------------------
    def scale(self, timeouts: Timeouts) -> None:
        """Every time of the profile, multiplied by the run's timeout scale."""
        self.pause, self.hold = timeouts(self.pause), timeouts(self.hold)
        if self.slow:
            self.slow = (self.slow[0], self.slow[1], timeouts(self.slow[2]))
        if self.limit is not None:
            self.limit = timeouts(self.limit)
        self.reply_wait, self.idle = timeouts(REPLY_WAIT), timeouts(IDLE_SHUTDOWN)

    def begin(self, now: float) -> None:
        self.start = self.last_write = self.last_echo = self.next_write = self.next_read = now
        if not self.writes:
            self.writes_finished(now)

    @property
    def writing(self) -> bool:
        return self.index < len(self.writes)

    def reading_at(self) -> float:
        """From when the suite reads (§2.3/5, §2.5: it holds back or reads slowly at first)."""
        at = self.start + self.hold
        if self.slow and self.next_read < self.start + self.slow[2]:
            at = max(at, self.next_read)
        return at

    def awaiting_eof(self) -> bool:
        """§2.3: the whole echo has come; end-of-stream is due."""
        return self.policy == AFTER_WRITES and self.got == len(self.expected)

    def deadline(self) -> float:
        if self.limit is None:
            return max(self.last_write, self.shut or 0.0) + self.reply_wait
        if self.awaiting_eof():
            # §1.3: "once the whole echo has come, end-of-stream is due within 2 s of its last
            # octet" (or by the check's own limit, if that comes first).
            return min(self.start + self.limit, self.last_echo + self.reply_wait)
        return self.start + self.limit

    def idle_shutdown_at(self) -> float | None:
        if self.policy != AFTER_ECHO or self.writing or self.shut is not None:
            return None
        return max(self.last_write, self.last_echo) + self.idle

    def wakeups(self) -> list[float]:
        times = [self.deadline(), self.reading_at()]
        if self.writing:
            times.append(self.next_write)
        idle = self.idle_shutdown_at()
        if idle is not None:
            times.append(idle)
        return times

    def events(self, now: float) -> int:
        mask = 0
        if self.writing and now >= self.next_write:
            mask |= selectors.EVENT_WRITE
        if not self.eof and now >= self.reading_at():
            mask |= selectors.EVENT_READ
        return mask

    # -- judging ---------------------------------------------------------------------------------
    def wanted(self) -> str:
        echo = f"the echo {excerpt(self.expected)}" if self.expected else "no octet"
        where = f"on {self.name}: " if self.name else ""
        if self.policy == AFTER_WRITES:
            return f"{where}{echo}, then end-of-stream (FIN), nothing in between"
        return f"{where}{echo}"

    def so_far(self) -> str:
        if not self.expected:
            arrived = "no octet (none was due)"
        elif not self.got:
            arrived = "no octet of the echo"
        elif self.got == len(self.expected):
            arrived = "the whole echo"
        else:
            arrived = f"{self.got:,} of the {len(self.expected):,} octets of the echo"
        if self.writing:
            arrived += f" (the suite had sent {self.sent:,} of its {self.to_send:,} octets)"
        elif self.shut is None and self.policy != NEVER:
            arrived += " (before the suite's shutdown)"
        return arrived

    def fail(self, actual: str) -> ConformanceFailure:
        return ConformanceFailure(self.wanted(), actual)

    def check_time(self, now: float) -> None:
        if now < self.deadline():
            return
        if self.limit is not None:
            waited = f"{now - self.start:.1f} s after connecting"
        else:
            since = "its shutdown" if self.shut is not None else "its last write"
            waited = f"{now - max(self.last_write, self.shut or 0.0):.1f} s after {since}"
        if self.awaiting_eof():
            raise self.fail(
                f"{self.so_far()}, then the connection stayed open: no end-of-stream "
                f"{now - max(self.last_echo, self.shut or 0.0):.1f} s after the suite's shutdown "
                "and the echo"
            )
        if self.writing and now - self.last_write >= self.reply_wait:
            raise self.fail(
                f"{self.so_far()}; the server took no more octets for "
                f"{now - self.last_write:.1f} s: it stopped reading"
            )
        raise self.fail(f"{self.so_far()}, then nothing more {waited}")

    # -- moving octets ---------------------------------------------------------------------------
    def write(self, now: float) -> None:
        data = memoryview(self.writes[self.index])[self.offset :]
        try:
            n = self.conn.sock.send(data)
        except BlockingIOError:
            return
        except OSError as exc:
            self.conn.transcript.note(self.conn.channel, f"send failed: {exc}")
            self.drain()
            ending = ", then end-of-stream" if self.eof else ""
            raise self.fail(
                f"{self.so_far()}{ending}; then sending failed ({exc}): the server closed the "
                "connection before the suite's shutdown"
            ) from None
        self.conn.transcript.record(self.conn.channel, SENT, bytes(data[:n]))
        self.sent += n
        self.offset += n
        self.last_write = now
        if self.offset == len(self.writes[self.index]):
            self.index += 1
            self.offset = 0
            self.next_write = now + self.pause
            if not self.writing:
                self.writes_finished(now)

    def writes_finished(self, now: float) -> None:
        self.last_write = now
        if self.policy == AFTER_WRITES:
            self.shutdown(now)

    def shutdown(self, now: float) -> None:
        self.conn.shutdown_write()
        self.shut = now

    def read(self, now: float) -> None:
        size = CHUNK
        if self.slow and now < self.start + self.slow[2]:
            size = self.slow[0]
            self.next_read = now + self.slow[1]
        try:
            chunk = self.conn.sock.recv(size)
        except BlockingIOError:
            return
        except OSError as exc:
            self.conn.transcript.note(self.conn.channel, f"recv failed: {exc}")
            self.eof = True
            if self.awaiting_eof():
                raise self.fail(
                    f"the whole echo, then a reset ({exc}) instead of end-of-stream"
                ) from None
            raise self.fail(f"{self.so_far()}, then a reset ({exc})") from None
        if not chunk:
            self.conn.transcript.note(self.conn.channel, "end of stream from the implementation")
            self.eof = True
            if self.got < len(self.expected):
                raise self.fail(f"{self.so_far()}, then end-of-stream")
            self.done = True  # §2.3: the echo, then end-of-stream
            return
        self.conn.transcript.record(self.conn.channel, RECEIVED, chunk)
        self.take(chunk, now)

    def take(self, chunk: bytes, now: float) -> None:
        want = self.expected[self.got : self.got + len(chunk)]
        if self.policy != AFTER_WRITES:
            chunk = chunk[: len(want)]  # §1.3: what follows the echo is not judged
        if chunk != want:
            raise self.fail(first_difference(chunk, want, self.got))
        self.got += len(chunk)
        self.last_echo = now
        if self.got == len(self.expected) and self.policy != AFTER_WRITES:
            if self.policy == AFTER_ECHO and self.shut is None:
                self.shutdown(now)  # §1.3: "as soon as the suite has read the whole echo"
            self.done = True

    def drain(self) -> None:
        """Read what already arrived (for the failure message), without waiting."""
        with contextlib.suppress(ConformanceFailure):
            while not self.eof and not self.done:
                before = (self.got, self.eof)
                self.read(time.monotonic())
                if (self.got, self.eof) == before:
                    return

    def tick(self, now: float) -> None:
        idle = self.idle_shutdown_at()
        if idle is not None and now >= idle and not self.writing:
            self.conn.transcript.note(
                self.conn.channel, f"nothing for {self.idle:g} s: the suite shuts down"
            )
            self.shutdown(now)
        self.check_time(now)


def exchange(timeouts: Timeouts, *streams: Stream) -> None:
    """Run the streams to their end; raise ConformanceFailure for the first that fails."""
    __tracebackhide__ = True
    now = time.monotonic()
    for s in streams:
        s.conn.sock.setblocking(False)
        s.scale(timeouts)
        s.begin(now)
    registered: dict[int, int] = {}
    try:
        with selectors.DefaultSelector() as sel:
            while active := [s for s in streams if not s.done]:
                now = time.monotonic()
                for s in active:
                    s.tick(now)
                later = [t for s in active for t in s.wakeups() if t > now]
                wait = min([TICK, *(t - now for t in later)])
                for i, s in enumerate(streams):
                    mask = 0 if s.done else s.events(now)
                    if registered.get(i, 0) != mask:
                        if registered.get(i, 0):
                            sel.unregister(s.conn.sock)
                        if mask:
                            sel.register(s.conn.sock, mask, s)
                        registered[i] = mask
                now = time.monotonic()
                for key, mask in sel.select(wait):
                    s = key.data
                    if mask & selectors.EVENT_READ and not s.done:
                        s.read(now)
                    if mask & selectors.EVENT_WRITE and s.writing and not s.done:
                        s.write(now)
    finally:
        for s in streams:
            if s.conn.sock.fileno() != -1:
                s.conn.sock.settimeout(s.conn.timeout)


def echo_check(
    server: ServerHandle, timeouts: Timeouts, writes: Sequence[bytes], **options: Any
) -> None:
    """One connection: send ``writes`` and accept their echo (``options``: see ``Stream``)."""
    __tracebackhide__ = True
    with server.connect() as conn:
        exchange(timeouts, Stream(conn, writes, **options))


def send_unjudged(conn: TcpConnection, data: bytes) -> None:
    """Send on a connection whose fate the check does not judge (§2.7's client A)."""
    with contextlib.suppress(ConformanceFailure):
        conn.send(data)


# -- §2.1 Upper-casing -----------------------------------------------------------------------------
UPPER_CASING = (
    "For each octet it receives, the server MUST send back one octet, in the same order. The "
    "server MUST replace each octet in the range 0x61-0x7A (`a`-`z`) by the octet 0x20 less "
    "(`A`-`Z`), and MUST send every other octet, of all 256 values, unchanged."
)


@case("tcp/2.1/1", MUST, UPPER_CASING)
def test_all_octets(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [bytes(range(256))])


@case("tcp/2.1/2", MUST, UPPER_CASING)
def test_utf8_text(server: ServerHandle, timeouts: Timeouts) -> None:
    sent = "déjà vu, straße, ﬁne, ÿ".encode()
    assert upper(sent) == "DéJà VU, STRAßE, ﬁNE, ÿ".encode()  # the profile's own example
    echo_check(server, timeouts, [sent])


@case("tcp/2.1/3", MUST, UPPER_CASING)
def test_not_utf8(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [b"abc\xff\xfe\x80\xc3xyz"])


@case("tcp/2.1/4", MUST, UPPER_CASING)
def test_letter_neighbours(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [b"Hello, World! 0123456789 @[`{~"])


# -- §2.2 Echo as it reads -------------------------------------------------------------------------
AS_IT_READS = (
    "The server MUST send the echo of the octets it has received without waiting for "
    "end-of-stream or for any further octet."
)


@case("tcp/2.2/1", MUST, AS_IT_READS)
def test_echo_before_end_of_stream(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [b"hello"], shutdown=NEVER, limit=2.0)


@case("tcp/2.2/2", MUST, AS_IT_READS)
def test_lock_step_lines(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        for i in range(1, 21):
            line = f"ping {i}\n".encode()
            exchange(timeouts, Stream(conn, [line], shutdown=NEVER, name=f"line {i} of 20"))


# -- §2.3 Half-close -------------------------------------------------------------------------------
HALF_CLOSE = (
    "When the server reads end-of-stream, it MUST first send the echo of every octet it has "
    "received, and then close the connection. It MUST close in the orderly way (FIN), not with a "
    "reset, and it MUST NOT close the connection before it has read end-of-stream."
)


@case("tcp/2.3/1", MUST, HALF_CLOSE, rfc="RFC 9293 §3.6")
def test_hello_then_shutdown(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [b"hello"], shutdown=AFTER_WRITES)


@case("tcp/2.3/2", MUST, HALF_CLOSE, rfc="RFC 9293 §3.6")
def test_shutdown_at_once(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [], shutdown=AFTER_WRITES)


@case("tcp/2.3/3", MUST, HALF_CLOSE, rfc="RFC 9293 §3.6")
def test_two_writes_then_shutdown(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(
        server, timeouts, [b"hello", b"world"], pause=SECOND_WRITE_AFTER, shutdown=AFTER_WRITES
    )


@case("tcp/2.3/4", MUST, HALF_CLOSE, rfc="RFC 9293 §3.6")
def test_megabyte_then_shutdown(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [text(1_000_000)], shutdown=AFTER_WRITES, limit=10.0)


@case("tcp/2.3/5", MUST, HALF_CLOSE, rfc="RFC 9293 §3.6")
def test_shutdown_with_echo_pending(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [text(BULK)], shutdown=AFTER_WRITES, hold=HOLD, limit=BULK_LIMIT)


# -- §2.4 Any segmentation -------------------------------------------------------------------------
SEGMENTATION = (
    "The server MUST echo the stream the same way however the client's writes are split into "
    "segments or joined together: it MUST NOT assume that one read returns one write of the "
    "client, or that what the client sends fits in one read."
)


@case("tcp/2.4/1", MUST, SEGMENTATION, rfc="RFC 9293 §3.7")
def test_one_octet_at_a_time(server: ServerHandle, timeouts: Timeouts) -> None:
    sent = text(100)
    echo_check(server, timeouts, [sent[i : i + 1] for i in range(len(sent))], pause=OCTET_PAUSE)


@case("tcp/2.4/2", MUST, SEGMENTATION, rfc="RFC 9293 §3.7")
def test_many_small_writes(server: ServerHandle, timeouts: Timeouts) -> None:
    sizes = piece_sizes(2000, 1, 100, "tcp/2.4/2")
    sent = text(sum(sizes))
    cuts = [0, *itertools.accumulate(sizes)]
    writes = [sent[a:b] for a, b in itertools.pairwise(cuts)]
    echo_check(server, timeouts, writes, limit=10.0)


@case("tcp/2.4/3", MUST, SEGMENTATION, rfc="RFC 9293 §3.7")
def test_one_large_write(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [text(LARGE_WRITE)], limit=10.0)


# -- §2.5 Backpressure -----------------------------------------------------------------------------
BACKPRESSURE = (
    "The server MUST NOT lose an octet when the client reads slowly or not at all for a while: "
    "every octet it has received MUST be echoed, in order, once the client reads again."
)


@case("tcp/2.5/1", MUST, BACKPRESSURE, rfc="RFC 9293 §3.8.6")
def test_reader_pauses(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_check(server, timeouts, [text(BULK)], hold=HOLD, limit=BULK_LIMIT)


@case("tcp/2.5/2", MUST, BACKPRESSURE, rfc="RFC 9293 §3.8.6")
def test_slow_reader(server: ServerHandle, timeouts: Timeouts) -> None:
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # Set before connecting: the window announced in the handshake is chosen from it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RCVBUF)
    sock.settimeout(timeouts.reply_s)
    try:
        sock.connect(server.address)
    except OSError as exc:
        sock.close()
        raise ConformanceFailure(
            f"a TCP connection to {server.host}:{server.port} is accepted", f"connect failed: {exc}"
        ) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transcript = server.record.transcript
    with TcpConnection(sock, transcript, timeouts.reply_s, "SO_RCVBUF 8192") as conn:
        exchange(timeouts, Stream(conn, [text(BULK)], slow=SLOW_READ, limit=BULK_LIMIT))


# -- §2.6 Concurrency ------------------------------------------------------------------------------
CONCURRENCY = (
    "The server MUST serve several connections at the same time: a connection that is open but "
    "idle, or slow, MUST NOT delay the service of another."
)


@case("tcp/2.6/1", MUST, CONCURRENCY)
def test_idle_client_does_not_block(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("A, idle") as a, server.connect("B") as b:
        exchange(timeouts, Stream(b, [b"bravo"], limit=2.0))
        a.transcript.note(a.channel, "A has stayed open and idle")


@case("tcp/2.6/2", MUST, CONCURRENCY)
def test_both_served(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("A") as a:
        a.send(b"alpha")
        with server.connect("B") as b:
            exchange(timeouts, Stream(b, [b"bravo"], limit=2.0))
        exchange(timeouts, Stream(a, [], already_sent=b"alpha"))


@case("tcp/2.6/3", MUST, CONCURRENCY)
def test_ten_clients(server: ServerHandle, timeouts: Timeouts) -> None:
    with contextlib.ExitStack() as stack:
        streams = []
        for i in range(1, 11):
            conn = stack.enter_context(server.connect(f"client {i}"))
            sent = text(100_000, f"[client {i}] ")
            writes = [sent[j : j + 1000] for j in range(0, len(sent), 1000)]
            streams.append(Stream(conn, writes, limit=10.0))
        exchange(timeouts, *streams)


# -- §2.7 Robustness -------------------------------------------------------------------------------
ROBUSTNESS = (
    "A client that resets its connection or vanishes in the middle of a transfer MUST NOT stop "
    "the server or disturb its other connections: the server MUST go on accepting and serving "
    "clients."
)
RUDE_PAUSE = 0.1  # profile §2.7: seconds between client A's misdeed and what follows
RESET_AFTER = 0.05  # profile §2.7/4: seconds between A's last write and its reset


def serve_bravo(server: ServerHandle, timeouts: Timeouts) -> None:
    """Client B sends `bravo` and accepts `BRAVO` within 2 s."""
    __tracebackhide__ = True
    with server.connect("B") as b:
        exchange(timeouts, Stream(b, [b"bravo"], limit=2.0))


@case("tcp/2.7/1", MUST, ROBUSTNESS)
def test_reset_after_hello(server: ServerHandle, timeouts: Timeouts) -> None:
    a = server.connect("A, resets")
    send_unjudged(a, b"hello")
    a.reset()
    time.sleep(timeouts(RUDE_PAUSE))
    serve_bravo(server, timeouts)


@case("tcp/2.7/2", MUST, ROBUSTNESS)
def test_close_with_echo_unread(server: ServerHandle, timeouts: Timeouts) -> None:
    a = server.connect("A, leaves its echo unread")
    send_unjudged(a, text(1_000_000))
    a.close()
    time.sleep(timeouts(RUDE_PAUSE))
    serve_bravo(server, timeouts)


@case("tcp/2.7/3", MUST, ROBUSTNESS)
def test_reset_beside_transfer(server: ServerHandle, timeouts: Timeouts) -> None:
    first, second = text(10_000, "[first] "), text(10_000, "[second] ")
    with server.connect("C") as c:
        c.send(first)
        time.sleep(timeouts(RUDE_PAUSE))
        a = server.connect("A, resets")
        send_unjudged(a, b"hello")
        a.reset()
        time.sleep(timeouts(RUDE_PAUSE))
        exchange(timeouts, Stream(c, [second], already_sent=first))


@case("tcp/2.7/4", MUST, ROBUSTNESS)
def test_five_resets_mid_transfer(server: ServerHandle, timeouts: Timeouts) -> None:
    for i in range(1, 6):
        a = server.connect(f"A{i}, resets mid-transfer")
        send_unjudged(a, text(100_000))
        time.sleep(timeouts(RESET_AFTER))
        a.reset()
    serve_bravo(server, timeouts)
    expect(
        server.alive(),
        expected="the server still running",
        actual="the server exited" if server.process is None else server.process.describe_exit(),
    )
