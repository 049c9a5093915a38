"""What went over the wire: every chunk sent and received, with direction and time offset.

A case's ``Transcript`` holds the connections the case made (or the fake server saw). It is kept
bounded: each chunk keeps at most ``CHUNK_KEEP`` octets and a transcript at most ``MAX_EVENTS``
events, so a flooding implementation costs time, never memory.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Literal

Direction = Literal[">", "<", "!"]
CHUNK_KEEP = 512
MAX_EVENTS = 2000
SENT: Direction = ">"
RECEIVED: Direction = "<"
EVENT: Direction = "!"


def escape(data: bytes, limit: int = CHUNK_KEEP) -> str:
    """Printable ASCII as is, everything else escaped like a bytes literal."""
    text = repr(bytes(data[:limit]))[2:-1]
    if len(data) > limit:
        text += f"… (+{len(data) - limit} bytes)"
    return text


@dataclasses.dataclass
class Event:
    offset: float
    conn: int
    direction: Direction
    size: int
    data: bytes
    note: str = ""
    decoded: str = ""


@dataclasses.dataclass
class Channel:
    """One connection or datagram socket, as the transcript names it."""

    number: int
    kind: str  # "tcp", "udp", "tls"
    local: str
    remote: str
    label: str = ""
    sent: list[bytes] = dataclasses.field(default_factory=list)
    sent_total: int = 0
    # Datagram destinations, in order, for reproducing a UDP exchange.
    destinations: list[str] = dataclasses.field(default_factory=list)
    # Renders one chunk for people (a DNS message as text, say); shown under its bytes.
    decoder: Callable[[bytes], str] | None = None
    # Follows the connection's messages across chunks (wirecheck.views.HttpView, say):
    # called with each chunk and its direction, it says what completed in that chunk.
    viewer: Callable[[Direction, bytes], str] | None = None


class Transcript:
    """A thread-safe, bounded log of the case's traffic."""

    REPRO_KEEP = 64 * 1024  # octets of sent data kept per channel for the reproduce script

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.events: list[Event] = []
        self.channels: list[Channel] = []
        self.dropped_events = 0
        self.dropped_bytes = 0
        self._lock = threading.Lock()

    def open_channel(self, kind: str, local: str, remote: str, label: str = "") -> Channel:
        with self._lock:
            channel = Channel(len(self.channels) + 1, kind, local, remote, label)
            self.channels.append(channel)
        self.note(channel, f"{kind} {label + ' ' if label else ''}{local} -> {remote}")
        return channel

    def record(self, channel: Channel, direction: Direction, data: bytes, note: str = "") -> None:
        decoded = ""
        if channel.decoder is not None and data and len(self.events) < MAX_EVENTS:
            try:
                decoded = channel.decoder(bytes(data))
            except Exception as exc:  # a decoder must never break the recording
                decoded = f"(not decoded: {exc})"
        if channel.viewer is not None and data and direction in (SENT, RECEIVED):
            try:  # fed every chunk, even past MAX_EVENTS, so that it keeps its place
                viewed = channel.viewer(direction, bytes(data))
            except Exception as exc:
                viewed, channel.viewer = f"(view stopped: {exc})", None
            decoded = "\n".join(part for part in (decoded, viewed) if part)
        with self._lock:
            if direction == SENT and channel.sent_total < self.REPRO_KEEP:
                channel.sent.append(bytes(data[: self.REPRO_KEEP - channel.sent_total]))
                channel.sent_total += len(data)
            elif direction == SENT:
                channel.sent_total += len(data)
            if len(self.events) >= MAX_EVENTS:
                self.dropped_events += 1
                self.dropped_bytes += len(data)
                return
            self.events.append(
                Event(
                    time.monotonic() - self.start,
                    channel.number,
                    direction,
                    len(data),
                    bytes(data[:CHUNK_KEEP]),
                    note,
                    decoded,
                )
            )

    def note(self, channel: Channel | None, text: str) -> None:
        with self._lock:
            if len(self.events) >= MAX_EVENTS:
                self.dropped_events += 1
                return
            number = channel.number if channel else 0
            self.events.append(Event(time.monotonic() - self.start, number, EVENT, 0, b"", text))

    def render(self) -> str:
        """The transcript as text: one line per event, octets escaped."""
        with self._lock:
            events = list(self.events)
            dropped, dropped_bytes = self.dropped_events, self.dropped_bytes
        lines = []
        for ev in events:
            where = f"#{ev.conn}" if ev.conn else "  "
            if ev.direction == EVENT:
                lines.append(f"+{ev.offset:8.3f}s {where} -- {ev.note}")
            else:
                arrow = "sent" if ev.direction == SENT else "recv"
                extra = f" [{ev.note}]" if ev.note else ""
                lines.append(
                    f"+{ev.offset:8.3f}s {where} {ev.direction} {arrow} {ev.size:>6}B "
                    f"{escape(ev.data) if ev.size else ''}{extra}".rstrip()
                )
                if ev.decoded:
                    lines += ["              | " + line for line in ev.decoded.splitlines()[:60]]
        if dropped:
            lines.append(f"… {dropped} more events ({dropped_bytes} bytes) not kept")
        return "\n".join(lines)

    def __bool__(self) -> bool:
        return bool(self.events)
