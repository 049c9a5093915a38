"""The upper-casing echo without I/O: the octet mapping, the echo session and the client's check.

The server and the client in this folder only move octets between sockets and these objects.
"""

from __future__ import annotations

from typing import Final

LOWER_A: Final = 0x61  # "a"
LOWER_Z: Final = 0x7A  # "z"
CASE_OFFSET: Final = 0x20  # "a" - "A"

# Profile 2.1: "The server MUST replace each octet in the range 0x61-0x7A (`a`-`z`) by the octet
# 0x20 less (`A`-`Z`), and MUST send every other octet, of all 256 values, unchanged."
UPPER_TABLE: Final = bytes(b - CASE_OFFSET if LOWER_A <= b <= LOWER_Z else b for b in range(256))

# The text the reference client sends: every lower-case letter, upper-case letters, digits,
# punctuation and a newline, all 7-bit (profile 3.1).
PANGRAM: Final = b"The quick brown fox jumps over the lazy dog; PACK MY BOX WITH 5 DOZEN JUGS!\n"


def upper_ascii(data: bytes) -> bytes:
    """``data`` with a-z replaced by A-Z and every other octet unchanged."""
    return data.translate(UPPER_TABLE)


def make_text(size: int) -> bytes:
    """``size`` octets of 7-bit text: the pangram repeated, the last copy cut short."""
    if size < 0:
        raise ValueError(f"size must not be negative, not {size}")
    copies = size // len(PANGRAM) + 1
    return (PANGRAM * copies)[:size]


class SessionClosed(RuntimeError):
    """Octets or end-of-stream were fed after end-of-stream."""


class EchoSession:
    """One server connection: feed what was received, send what ``data_to_send()`` returns.

    Once ``should_close`` is true, every octet of the echo has been handed out and the
    connection is to be closed.
    """

    def __init__(self) -> None:
        self._outgoing = bytearray()
        self._eof = False
        self.received = 0

    def receive_data(self, data: bytes) -> None:
        """Take the next octets of the stream."""
        if self._eof:
            raise SessionClosed("data after end-of-stream")
        self.received += len(data)
        # Profile 2.2: "The server MUST send the echo of the octets it has received without
        # waiting for end-of-stream or for any further octet."
        self._outgoing += upper_ascii(data)

    def receive_eof(self) -> None:
        """The client has shut down its sending side."""
        if self._eof:
            raise SessionClosed("end-of-stream twice")
        self._eof = True

    def data_to_send(self) -> bytes:
        """The octets to send now (possibly none); each is handed out once."""
        out = bytes(self._outgoing)
        self._outgoing.clear()
        return out

    @property
    def eof_received(self) -> bool:
        return self._eof

    @property
    def should_close(self) -> bool:
        # Profile 2.3: "it MUST first send the echo of every octet it has received, and then
        # close the connection."
        return self._eof and not self._outgoing


class ReplyChecker:
    """The client's verdict, taken piece by piece: is the reply exactly ``upper_ascii(sent)``?"""

    def __init__(self, sent: bytes) -> None:
        self._expected = upper_ascii(sent)
        self.received = 0
        self.first_difference: int | None = None
        self._actual_octet: int | None = None

    def feed(self, data: bytes) -> None:
        """Compare the next piece of the reply with the octets expected at its offset."""
        start = self.received
        self.received += len(data)
        if self.first_difference is not None or not data:
            return
        expected = self._expected[start : start + len(data)]
        if data == expected:
            return
        for i, octet in enumerate(data):
            if i >= len(expected) or octet != expected[i]:
                self.first_difference = start + i
                self._actual_octet = octet
                return

    def problem(self) -> str | None:
        """None if the reply so far is exactly the expected one; else why it is not."""
        # Profile 3.3: "The client MUST exit with status 0 when the reply is exactly the
        # upper-cased text it sent ... and with a non-zero status in every other case".
        offset = self.first_difference
        if offset is not None and offset < len(self._expected):
            return (
                f"reply differs at offset {offset}: expected octet "
                f"{self._expected[offset]:#04x}, got {self._actual_octet:#04x}"
            )
        if offset is not None:
            return (
                f"reply is too long: {self.received} octets, expected {len(self._expected)} "
                f"(octet {self._actual_octet:#04x} at offset {len(self._expected)})"
            )
        if self.received < len(self._expected):
            return (
                f"reply is too short: {self.received} octets, expected {len(self._expected)} "
                f"(missing from offset {self.received}, expected octet "
                f"{self._expected[self.received]:#04x})"
            )
        return None
