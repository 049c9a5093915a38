"""Unit tests of reference_impl/tcp/core.py: upper-casing, the echo session and the reply check."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

CORE_PATH = Path(__file__).resolve().parents[2] / "reference_impl" / "tcp" / "core.py"


def _load_core() -> ModuleType:
    # Loaded under its own name: every suite's folder has a module called core.py.
    spec = importlib.util.spec_from_file_location("tcp_reference_core", CORE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load_core()

ALL_OCTETS = bytes(range(256))
SAMPLE = "Hello, wörld! déjà vu, straße, ﬁne, ÿ @[`{~ 0123456789".encode() + b"\xff\xfe\x80\xc3"


def one_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# -- upper_ascii ----------------------------------------------------------------------------------
def test_only_a_to_z_change_among_all_256_octets() -> None:
    out = core.upper_ascii(ALL_OCTETS)
    assert len(out) == 256
    for octet in range(256):
        expected = octet - 0x20 if 0x61 <= octet <= 0x7A else octet
        assert out[octet] == expected, hex(octet)


def test_letters_become_capitals() -> None:
    assert core.upper_ascii(b"abcxyz ABCXYZ") == b"ABCXYZ ABCXYZ"


def test_neighbours_of_the_letter_ranges_stay() -> None:
    assert core.upper_ascii(b"@[`{~") == b"@[`{~"


def test_utf8_and_invalid_octets_stay_unchanged() -> None:
    text = "déjà vu, straße, ﬁne, ÿ".encode()
    assert core.upper_ascii(text) == "DéJà VU, STRAßE, ﬁNE, ÿ".encode()
    assert core.upper_ascii(b"abc\xff\xfe\x80\xc3xyz") == b"ABC\xff\xfe\x80\xc3XYZ"


def test_empty_input() -> None:
    assert core.upper_ascii(b"") == b""


def test_upper_casing_is_the_same_piece_by_piece() -> None:
    pieces = one_at_a_time(SAMPLE)
    assert b"".join(core.upper_ascii(p) for p in pieces) == core.upper_ascii(SAMPLE)


# -- make_text ------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 2, len(core.PANGRAM) - 1, len(core.PANGRAM), 1000, 100_003])
def test_text_has_exactly_the_size_asked(size: int) -> None:
    assert len(core.make_text(size)) == size


def test_text_is_7_bit_with_lower_case_letters() -> None:
    text = core.make_text(10_000)
    assert all(octet < 0x80 for octet in text)
    assert set(text) >= set(b"abcdefghijklmnopqrstuvwxyz")
    assert core.upper_ascii(text) != text


def test_text_of_negative_size_is_refused() -> None:
    with pytest.raises(ValueError):
        core.make_text(-1)


# -- EchoSession ----------------------------------------------------------------------------------
def run_session(pieces: list[bytes]) -> tuple[bytes, list[bytes], bool]:
    """Feed the pieces then end-of-stream; return all output, per-step output, final close flag."""
    session = core.EchoSession()
    steps = []
    for piece in pieces:
        session.receive_data(piece)
        assert not session.should_close
        steps.append(session.data_to_send())
    session.receive_eof()
    steps.append(session.data_to_send())
    return b"".join(steps), steps, session.should_close


def test_session_echoes_whole_input() -> None:
    out, steps, closing = run_session([SAMPLE])
    assert out == core.upper_ascii(SAMPLE)
    assert steps[0] == core.upper_ascii(SAMPLE)  # before end-of-stream
    assert steps[1] == b""
    assert closing


def test_session_echoes_one_octet_at_a_time() -> None:
    out, steps, closing = run_session(one_at_a_time(SAMPLE))
    assert out == core.upper_ascii(SAMPLE)
    # Profile 2.2: each octet's echo is ready as soon as the octet is received.
    assert steps[:-1] == one_at_a_time(core.upper_ascii(SAMPLE))
    assert closing


def test_session_counts_what_it_received() -> None:
    session = core.EchoSession()
    for piece in one_at_a_time(SAMPLE):
        session.receive_data(piece)
    assert session.received == len(SAMPLE)


def test_output_is_handed_out_once() -> None:
    session = core.EchoSession()
    session.receive_data(b"ab")
    session.receive_data(b"cd")
    assert session.data_to_send() == b"ABCD"
    assert session.data_to_send() == b""


def test_session_closes_only_after_eof_and_all_output_taken() -> None:
    session = core.EchoSession()
    session.receive_data(b"hello")
    session.receive_eof()
    assert session.eof_received
    assert not session.should_close  # the echo of "hello" is still to be sent
    assert session.data_to_send() == b"HELLO"
    assert session.should_close


def test_empty_connection_closes_at_eof() -> None:
    out, _, closing = run_session([])
    assert out == b""
    assert closing


def test_data_after_eof_is_refused() -> None:
    session = core.EchoSession()
    session.receive_eof()
    with pytest.raises(core.SessionClosed):
        session.receive_data(b"x")
    with pytest.raises(core.SessionClosed):
        session.receive_eof()


# -- ReplyChecker ---------------------------------------------------------------------------------
def check(sent: bytes, reply_pieces: list[bytes]) -> str | None:
    checker = core.ReplyChecker(sent)
    for piece in reply_pieces:
        checker.feed(piece)
    problem: str | None = checker.problem()
    return problem


@pytest.mark.parametrize("whole", [True, False], ids=["whole", "one-octet-at-a-time"])
def test_right_reply_is_accepted(whole: bool) -> None:
    reply = core.upper_ascii(SAMPLE)
    assert check(SAMPLE, [reply] if whole else one_at_a_time(reply)) is None


def test_empty_text_and_empty_reply_are_right() -> None:
    assert check(b"", []) is None
    assert check(b"", [b""]) is None


@pytest.mark.parametrize("whole", [True, False], ids=["whole", "one-octet-at-a-time"])
def test_unchanged_text_is_wrong_at_its_first_letter(whole: bool) -> None:
    sent = b"Hello"
    problem = check(sent, [sent] if whole else one_at_a_time(sent))
    assert problem is not None
    assert "offset 1" in problem
    assert "0x45" in problem and "0x65" in problem  # expected "E", got "e"


@pytest.mark.parametrize("whole", [True, False], ids=["whole", "one-octet-at-a-time"])
def test_one_flipped_octet_is_found(whole: bool) -> None:
    sent = core.make_text(1000)
    reply = bytearray(core.upper_ascii(sent))
    reply[500] ^= 1
    problem = check(sent, [bytes(reply)] if whole else one_at_a_time(bytes(reply)))
    assert problem is not None and "offset 500" in problem


def test_first_difference_is_kept_across_pieces() -> None:
    sent = b"abcdef"
    problem = check(sent, [b"AB", b"xD", b"Ey"])
    assert problem is not None and "offset 2" in problem


def test_short_reply_is_wrong() -> None:
    sent = core.make_text(1000)
    problem = check(sent, [core.upper_ascii(sent)[:-1]])
    assert problem is not None
    assert "too short" in problem and "999" in problem


def test_long_reply_is_wrong() -> None:
    sent = core.make_text(1000)
    reply = core.upper_ascii(sent)
    for pieces in ([reply + b"X"], [reply, b"X"], one_at_a_time(reply + b"X")):
        problem = check(sent, pieces)
        assert problem is not None
        assert "too long" in problem and "1001" in problem


def test_no_reply_is_wrong() -> None:
    problem = check(b"hello", [])
    assert problem is not None and "too short" in problem
