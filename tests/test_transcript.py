"""The transcript: octets escaped, decoded views under their bytes, and bounded in size."""

from __future__ import annotations

from wirecheck.transcript import CHUNK_KEEP, MAX_EVENTS, RECEIVED, SENT, Transcript, escape


def test_escape_keeps_printable_ascii_and_escapes_the_rest() -> None:
    assert escape(b"Ugly.\r\n\x00\xff") == "Ugly.\\r\\n\\x00\\xff"
    assert escape(b"x" * 10, limit=4) == "xxxx… (+6 bytes)"


def test_decoded_view_stands_under_its_bytes() -> None:
    t = Transcript()
    ch = t.open_channel("udp", "127.0.0.1:1", "127.0.0.1:2")
    ch.decoder = lambda data: f"length {len(data)}\nfirst {data[:1]!r}"
    t.record(ch, SENT, b"abc")
    text = t.render()
    assert "> sent      3B abc" in text
    assert "| length 3" in text and "| first b'a'" in text


def test_a_failing_decoder_does_not_break_the_recording() -> None:
    t = Transcript()
    ch = t.open_channel("udp", "a", "b")

    def broken(data: bytes) -> str:
        raise ValueError("truncated message")

    ch.decoder = broken
    t.record(ch, RECEIVED, b"\x00")
    assert "(not decoded: truncated message)" in t.render()


def test_a_flood_is_kept_bounded() -> None:
    t = Transcript()
    ch = t.open_channel("tcp", "a", "b")
    for _ in range(MAX_EVENTS + 500):
        t.record(ch, RECEIVED, b"y" * (CHUNK_KEEP * 4))
    assert len(t.events) == MAX_EVENTS
    assert all(len(ev.data) <= CHUNK_KEEP for ev in t.events)
    assert t.render().endswith(f"… 501 more events ({501 * CHUNK_KEEP * 4} bytes) not kept")
