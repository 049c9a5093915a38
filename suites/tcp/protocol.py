"""The tcp suite's wire constants and helpers (the judge's own, tcp PROFILE §1.3)."""

from __future__ import annotations

import random

# tcp profile §1.3: "`upper(x)` is `x` with every octet 0x61-0x7A replaced by the octet 0x20
# less, and every other octet unchanged."
LOWER_A = 0x61
LOWER_Z = 0x7A
CASE_OFFSET = 0x20
UPPER_TABLE = bytes(b - CASE_OFFSET if LOWER_A <= b <= LOWER_Z else b for b in range(256))
# tcp profile §3.1: the client sends octets "each in the range 0x00-0x7F (ASCII)".
ASCII_LIMIT = 0x80

# tcp profile §1.3: "Text" is "printable ASCII with letters of both cases: a sentence repeated
# as often as needed".
SENTENCE = b"The quick brown fox jumps over the lazy dog; PACK MY BOX WITH 5 DOZEN JUGS! "


def upper(data: bytes) -> bytes:
    """The echo of ``data``: a-z as A-Z, every other octet unchanged."""
    return bytes(data).translate(UPPER_TABLE)


def text(size: int, tag: str = "") -> bytes:
    """``size`` octets of text: the sentence repeated, each copy led by ``tag`` if given."""
    line = tag.encode("ascii") + SENTENCE
    return (line * (size // len(line) + 1))[:size]


def piece_sizes(total_writes: int, low: int, high: int, seed: str) -> list[int]:
    """Write sizes from a fixed pseudo-random sequence (the same in every run)."""
    rng = random.Random(seed)
    return [rng.randint(low, high) for _ in range(total_writes)]


def hexs(data: bytes, limit: int = 12) -> str:
    """Octets as the profile writes them: ``ff fe 80 c3``."""
    shown = " ".join(f"{b:02x}" for b in data[:limit])
    return shown + (f" … (+{len(data) - limit} octets)" if len(data) > limit else "")


def excerpt(data: bytes, limit: int = 48) -> str:
    """A short, readable rendering of some octets: ``b'HELLO'`` or ``1,000,000 octets b'THE …'``."""
    shown = repr(bytes(data[:limit]))
    if len(data) <= limit:
        return shown
    return f"{len(data):,} octets {shown[:-1]}…'"


def first_difference(got: bytes, wanted: bytes, offset: int = 0) -> str:
    """Where ``got`` departs from ``wanted`` (both starting at stream offset ``offset``)."""
    for i, (a, b) in enumerate(zip(got, wanted, strict=False)):
        if a != b:
            return (
                f"octet {offset + i:,} is {a:02x} instead of {b:02x} (from there: "
                f"{hexs(got[i : i + 8])} instead of {hexs(wanted[i : i + 8])})"
            )
    if len(got) > len(wanted):
        return (
            f"{len(got) - len(wanted):,} octet(s) more than the echo, from offset "
            f"{offset + len(wanted):,}: {excerpt(got[len(wanted) :])}"
        )
    return f"{offset + len(got):,} octets instead of {offset + len(wanted):,}"
