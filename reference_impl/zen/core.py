"""The aphorism protocol without I/O: the answer table and message framing.

Feed received octets to a splitter and get back the complete messages; the servers and the
client in this folder only move octets between sockets and these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

QUESTION_END: Final = b"?"
ANSWER_END: Final = b"."

BEAUTIFUL: Final = b"Beautiful is better than?"
EXPLICIT: Final = b"Explicit is better than?"
SIMPLE: Final = b"Simple is better than?"

# The three questions a client asks, in the order the reference client asks them.
QUESTIONS: Final = (BEAUTIFUL, EXPLICIT, SIMPLE)

# Profile 2.2: "A question matches a row only if it is the same octets: same case, same spaces,
# nothing before or after."
APHORISMS: Final[Mapping[bytes, bytes]] = {
    BEAUTIFUL: b"Ugly.",
    EXPLICIT: b"Implicit.",
    SIMPLE: b"Complex.",
}
# Profile 2.2: "Every other question is unknown, and its answer is `Error: unknown aphorism.`."
UNKNOWN_ANSWER: Final = b"Error: unknown aphorism."

# Profile 2.3: "A server MAY close a connection whose unfinished question has grown beyond 4096
# octets."
MAX_MESSAGE: Final = 4096


def answer(question: bytes) -> bytes:
    """The answer to one complete question, its final ``?`` included."""
    return APHORISMS.get(question, UNKNOWN_ANSWER)


class MessageTooLong(ValueError):
    """The unfinished message has grown beyond the splitter's limit."""


class _Splitter:
    """Cut a stream of octets into messages that each end in ``terminator``."""

    terminator: bytes = b""

    def __init__(self, max_message: int = MAX_MESSAGE) -> None:
        self._max_message = max_message
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next octets of the stream; return the messages they complete, in order.

        Raises MessageTooLong if the unfinished tail exceeds the limit.
        """
        self._buffer += data
        messages: list[bytes] = []
        start = 0
        # Profile 2.1: "the question is every octet received on the connection since the
        # previous `?`, or since the connection opened, up to and including the next `?`."
        while (end := self._buffer.find(self.terminator, start)) != -1:
            messages.append(bytes(self._buffer[start : end + 1]))
            start = end + 1
        del self._buffer[:start]
        if len(self._buffer) > self._max_message:
            raise MessageTooLong(f"unfinished message of {len(self._buffer)} octets")
        return messages

    @property
    def pending(self) -> bytes:
        """The octets received since the last complete message: an unfinished one, or b''."""
        return bytes(self._buffer)


class QuestionSplitter(_Splitter):
    """The server's side: questions end in ``?``."""

    terminator = QUESTION_END


class AnswerSplitter(_Splitter):
    """The client's side: answers end in ``.``."""

    terminator = ANSWER_END


def answers_to(splitter: QuestionSplitter, data: bytes) -> bytes:
    """Everything to send back for ``data``: one answer per question it completes, in order.

    Profile 2.1: "A server MUST NOT answer octets that have not yet been ended by a `?`."
    """
    return b"".join(answer(question) for question in splitter.feed(data))
