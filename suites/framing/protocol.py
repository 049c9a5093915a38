"""The framing suite's wire constants and helpers (the judge's own, framing PROFILE §1.1)."""

from __future__ import annotations

import random
import struct

# framing profile §1.1: "The length is an unsigned 32-bit integer in network byte order
# (big-endian: most significant octet first), Python `struct` format "!I"."
HEADER = struct.Struct("!I")
HEADER_SIZE = HEADER.size
# framing profile §1.1: "A block whose length is 0 (`00 00 00 00`) is the terminator."
TERMINATOR = HEADER.pack(0)
# framing profile §1.1: "The suite never sends a payload longer than 1 MiB".
MAX_SUITE_PAYLOAD = 1 << 20


def block(payload: bytes) -> bytes:
    """The block carrying ``payload``: its big-endian length, then the payload."""
    return HEADER.pack(len(payload)) + payload


def blocks(payloads: list[bytes]) -> bytes:
    return b"".join(block(p) for p in payloads)


def length_of(header: bytes) -> int:
    """The payload length a 4-octet header announces."""
    (length,) = HEADER.unpack(header)
    return int(length)


def hexs(data: bytes, limit: int = 16) -> str:
    """Octets as the profile writes them: ``00 00 01 02``."""
    text = " ".join(f"{b:02x}" for b in data[:limit])
    return text + (f" … (+{len(data) - limit} octets)" if len(data) > limit else "")


def header_text(header: bytes) -> str:
    """``a header 00 01 01 03 (65,795 octets)``, or the incomplete header that came."""
    if len(header) < HEADER_SIZE:
        return f"an incomplete header {hexs(header)}" if header else "no header"
    return f"a header {hexs(header)} (announcing {length_of(header):,} octets)"


def payload_text(payload: bytes) -> str:
    """A short name for a payload: ``b'hello'`` or ``65,536 octets``."""
    if len(payload) <= 32:
        return repr(payload)
    return f"{len(payload):,} octets"


def first_difference(got: bytes, wanted: bytes) -> str:
    """Where two payloads of the same length differ, for a failure message."""
    for i, (a, b) in enumerate(zip(got, wanted, strict=False)):
        if a != b:
            return (
                f"octet {i} is {a:02x} instead of {b:02x} "
                f"(from there: {hexs(got[i : i + 8])} instead of {hexs(wanted[i : i + 8])})"
            )
    return f"{len(got):,} octets instead of {len(wanted):,}"


def pseudo_random(n: int, seed: str) -> bytes:
    """``n`` reproducible pseudo-random octets (the same for every run with the same seed)."""
    return random.Random(seed).randbytes(n)
