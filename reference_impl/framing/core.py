"""Sans-IO core of the framing protocol: length-prefixed blocks.

A block is a 4-octet unsigned big-endian length followed by that many payload
octets; a zero-length block is the terminator. Nothing here touches a socket:
`encode_block` turns a payload into octets to send, and `BlockDecoder` turns
octets received, in pieces of any size, back into payloads.
"""

from __future__ import annotations

import struct

# Profile 1.1: "The length is an unsigned 32-bit integer in network byte order
# (big-endian: most significant octet first), Python `struct` format "!I"."
HEADER = struct.Struct("!I")
HEADER_SIZE = HEADER.size
MAX_WIRE_LENGTH = 0xFFFF_FFFF

# Profile 1.1: "it MAY close a connection whose header announces a longer payload
# than it is willing to hold (the reference implementation's limit is 16 MiB)."
DEFAULT_MAX_LENGTH = 16 * 1024 * 1024

# Profile 1.1: "A block whose length is 0 (`00 00 00 00`) is the terminator."
TERMINATOR = HEADER.pack(0)


class FramingError(Exception):
    """The peer's octets do not form valid blocks."""


class BlockTooLarge(FramingError):
    """A header announces a payload longer than the decoder will hold."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"block of {length} octets exceeds the limit of {limit} octets")
        self.length = length
        self.limit = limit


class TruncatedBlock(FramingError):
    """The stream ended in the middle of a block."""

    def __init__(self, pending: int) -> None:
        super().__init__(f"stream ended {pending} octet(s) into an incomplete block")
        self.pending = pending


def encode_block(payload: bytes) -> bytes:
    """Return the block carrying `payload`: its length header, then the payload."""
    # Profile 1.1: "It counts the payload octets only, not the 4 octets of the header."
    if len(payload) > MAX_WIRE_LENGTH:
        raise BlockTooLarge(len(payload), MAX_WIRE_LENGTH)
    return HEADER.pack(len(payload)) + payload


class BlockDecoder:
    """Incremental decoder: `feed` octets as they arrive, get complete payloads back.

    The decoder stops at the terminator: it yields the terminator as `b""`,
    sets `finished`, and keeps any octets that follow in `unused_data`.
    """

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.max_length = max_length
        self.finished = False
        self.unused_data = b""
        self._buffer = bytearray()
        self._length: int | None = None  # payload length once the header is read

    @property
    def pending(self) -> int:
        """Octets of an incomplete block held so far (header included); 0 at a boundary."""
        if self.finished:
            return 0
        header = HEADER_SIZE if self._length is not None else 0
        return header + len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received octets; return the payloads of the blocks they complete, in order."""
        if self.finished:
            self.unused_data += data
            return []
        # Profile 1.1: "no requirement in this profile depends on where one read ends."
        self._buffer += data
        payloads: list[bytes] = []
        while not self.finished:
            if self._length is None:
                if len(self._buffer) < HEADER_SIZE:
                    break
                (length,) = HEADER.unpack_from(self._buffer)
                if length > self.max_length:
                    raise BlockTooLarge(length, self.max_length)
                del self._buffer[:HEADER_SIZE]
                self._length = length
            if len(self._buffer) < self._length:
                break
            payloads.append(bytes(self._buffer[: self._length]))
            del self._buffer[: self._length]
            if self._length == 0:
                self.finished = True
                self.unused_data = bytes(self._buffer)
                self._buffer.clear()
            self._length = None
        return payloads

    def end_of_stream(self) -> None:
        """Declare that no more octets will come; raise if a block is incomplete."""
        if self.pending:
            raise TruncatedBlock(self.pending)
