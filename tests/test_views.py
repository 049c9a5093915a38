"""The HTTP view of transcripts: heads as text, bodies summarised, across any chunking."""

from __future__ import annotations

import pytest

from wirecheck.transcript import RECEIVED, SENT, Transcript
from wirecheck.views import HttpView

REQUEST = b"GET /caf%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"
HEAD_REQUEST = b"HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, world"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
)


def view_all(pieces: list[tuple[str, bytes]]) -> str:
    view = HttpView()
    return "\n".join(v for d, data in pieces if (v := view(d, data)))  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_heads_shown_and_bodies_summarised_whatever_the_chunking(size: int) -> None:
    pieces = [(SENT, REQUEST)] + [
        (RECEIVED, RESPONSE[i : i + size]) for i in range(0, len(RESPONSE), size)
    ]
    text = view_all(pieces)
    assert "GET /caf%C3%A9 HTTP/1.1\nHost: 127.0.0.1:8000" in text
    assert "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12" in text
    assert "[body: 12 octets (Content-Length, text/plain): hello, world]" in text


@pytest.mark.parametrize("size", [1, 4, 1000])
def test_chunked_body_decoded_in_the_summary(size: int) -> None:
    pieces = [(RECEIVED, CHUNKED[i : i + size]) for i in range(0, len(CHUNKED), size)]
    text = view_all([(SENT, REQUEST), *pieces])
    assert "[body: 12 octets (chunked): hello, world]" in text


def test_head_response_has_no_body_and_the_next_response_is_read() -> None:
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
    text = view_all([(SENT, HEAD_REQUEST + REQUEST), (RECEIVED, head_answer + RESPONSE)])
    assert text.count("HTTP/1.1 200 OK") == 2
    assert "[body: 12 octets" in text and "5000 octets" not in text


def test_binary_body_is_not_previewed_and_close_delimited_body_ends_at_eof() -> None:
    view = HttpView()
    view(SENT, REQUEST)
    shown = view(RECEIVED, b"HTTP/1.0 200 OK\r\n\r\n\x00\x01\x02\xff")
    assert "HTTP/1.0 200 OK" in shown and "[body" not in shown
    assert view.end(RECEIVED) == "[body: 4 octets (delimited by the close)]"


def test_transcript_shows_the_view_under_the_octets() -> None:
    transcript = Transcript()
    channel = transcript.open_channel("tcp", "a", "b")
    channel.viewer = HttpView()
    transcript.record(channel, SENT, REQUEST)
    transcript.record(channel, RECEIVED, RESPONSE)
    rendered = transcript.render()
    assert "| GET /caf%C3%A9 HTTP/1.1" in rendered
    assert "| [body: 12 octets" in rendered


def test_garbage_is_survived() -> None:
    view = HttpView()
    assert view(RECEIVED, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert view(RECEIVED, b"more garbage") == ""
    huge = HttpView()
    assert "without an end" in huge(RECEIVED, b"x" * 70_000)


def test_a_body_cut_short_is_called_incomplete() -> None:
    view = HttpView()
    view(SENT, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert view.end(SENT) == "[incomplete body: 3 octets, 7 fewer than its Content-Length]"
    assert view.end(SENT) == ""  # said once
    chunked = HttpView()
    chunked(SENT, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    assert "the last chunk never came" in chunked.end(SENT)
