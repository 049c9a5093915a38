"""The zen suite's wire constants, shared by its server and client cases (the judge's own table)."""

from __future__ import annotations

# zen profile §2.2: the answer table, exact octets.
ANSWERS: dict[bytes, bytes] = {
    b"Beautiful is better than?": b"Ugly.",
    b"Explicit is better than?": b"Implicit.",
    b"Simple is better than?": b"Complex.",
}
UNKNOWN_ANSWER = b"Error: unknown aphorism."


def answer(question: bytes) -> bytes:
    return ANSWERS.get(question, UNKNOWN_ANSWER)
