"""Unit tests of reference_impl/framing/core.py, the sans-IO framing core."""

from __future__ import annotations

import importlib.util
import random
import struct
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CORE_PATH = Path(__file__).resolve().parents[2] / "reference_impl" / "framing" / "core.py"


def _load_core() -> ModuleType:
    # Every suite has its own core.py, so load this one under a name of its own.
    spec = importlib.util.spec_from_file_location("framing_reference_core", CORE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load_core()

PAYLOADS = [b"hello", b"\x00", bytes(range(256)), b"\n" * 3, b"x" * 258, b"caf\xc3\xa9"]
STREAM = b"".join(core.encode_block(p) for p in PAYLOADS) + core.TERMINATOR


def feed_in_pieces(decoder: Any, data: bytes, size: int) -> list[bytes]:
    payloads: list[bytes] = []
    for start in range(0, len(data), size):
        payloads += decoder.feed(data[start : start + size])
    return payloads


# --- encode_block ---------------------------------------------------------------------


def test_encode_hello() -> None:
    assert core.encode_block(b"hello") == bytes.fromhex("00000005") + b"hello"


def test_encode_uses_big_endian() -> None:
    assert core.encode_block(b"x" * 258)[:4] == bytes.fromhex("00000102")
    assert core.encode_block(b"x" * 65795)[:4] == bytes.fromhex("00010103")


def test_terminator_is_empty_block() -> None:
    assert core.TERMINATOR == b"\x00\x00\x00\x00"
    assert core.encode_block(b"") == core.TERMINATOR


def test_header_matches_struct_network_order() -> None:
    for length in (0, 1, 255, 256, 65536, 1 << 20):
        assert core.encode_block(b"a" * length)[:4] == struct.pack("!I", length)


# --- BlockDecoder: whole input ---------------------------------------------------------


def test_decode_whole_stream() -> None:
    decoder = core.BlockDecoder()
    assert decoder.feed(STREAM) == [*PAYLOADS, b""]
    assert decoder.finished
    assert decoder.pending == 0
    assert decoder.unused_data == b""


def test_decode_empty_feed_is_harmless() -> None:
    decoder = core.BlockDecoder()
    assert decoder.feed(b"") == []
    assert decoder.pending == 0
    assert not decoder.finished


def test_decode_without_terminator_is_not_finished() -> None:
    decoder = core.BlockDecoder()
    assert decoder.feed(core.encode_block(b"abc")) == [b"abc"]
    assert not decoder.finished
    decoder.end_of_stream()  # at a block boundary: no error


# --- BlockDecoder: one octet at a time and other splits ---------------------------------


def test_decode_one_octet_at_a_time() -> None:
    decoder = core.BlockDecoder()
    assert feed_in_pieces(decoder, STREAM, 1) == [*PAYLOADS, b""]
    assert decoder.finished


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7, 64, 1000])
def test_decode_fixed_size_pieces(size: int) -> None:
    decoder = core.BlockDecoder()
    assert feed_in_pieces(decoder, STREAM, size) == [*PAYLOADS, b""]


def test_decode_random_splits() -> None:
    rng = random.Random(5)
    for _ in range(50):
        decoder = core.BlockDecoder()
        cuts = sorted(rng.sample(range(1, len(STREAM)), 20))
        pieces = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
        payloads: list[bytes] = []
        for piece in pieces:
            payloads += decoder.feed(piece)
        assert payloads == [*PAYLOADS, b""]


def test_pending_counts_partial_block() -> None:
    decoder = core.BlockDecoder()
    block = core.encode_block(b"abcdef")
    assert decoder.feed(block[:2]) == []
    assert decoder.pending == 2
    assert decoder.feed(block[2:7]) == []
    assert decoder.pending == 7
    assert decoder.feed(block[7:]) == [b"abcdef"]
    assert decoder.pending == 0


def test_large_block() -> None:
    payload = random.Random(1).randbytes(1 << 20)
    decoder = core.BlockDecoder()
    assert feed_in_pieces(decoder, core.encode_block(payload), 65536) == [payload]


# --- BlockDecoder: trailing garbage after the terminator -------------------------------


def test_trailing_garbage_whole() -> None:
    decoder = core.BlockDecoder()
    garbage = b"\xff\xff\xff\xffgarbage"
    assert decoder.feed(STREAM + garbage) == [*PAYLOADS, b""]
    assert decoder.finished
    assert decoder.unused_data == garbage
    assert decoder.pending == 0


def test_trailing_garbage_one_octet_at_a_time() -> None:
    decoder = core.BlockDecoder()
    garbage = core.encode_block(b"after") + b"\x01"
    assert feed_in_pieces(decoder, STREAM + garbage, 1) == [*PAYLOADS, b""]
    assert decoder.unused_data == garbage
    decoder.end_of_stream()  # garbage after the terminator is not a truncated block


def test_feed_after_finished_returns_nothing() -> None:
    decoder = core.BlockDecoder()
    decoder.feed(core.TERMINATOR)
    assert decoder.feed(core.encode_block(b"late")) == []
    assert decoder.unused_data == core.encode_block(b"late")


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [1, 3, 4, 6])
def test_end_of_stream_mid_block_raises(cut: int) -> None:
    decoder = core.BlockDecoder()
    decoder.feed(core.encode_block(b"abcdef")[:cut])
    with pytest.raises(core.TruncatedBlock) as info:
        decoder.end_of_stream()
    assert info.value.pending == cut
    assert isinstance(info.value, core.FramingError)


def test_block_too_large_raises_on_header() -> None:
    decoder = core.BlockDecoder(max_length=100)
    assert decoder.feed(core.encode_block(b"x" * 100)) == [b"x" * 100]
    with pytest.raises(core.BlockTooLarge) as info:
        decoder.feed(struct.pack("!I", 101))  # raised before any payload arrives
    assert info.value.length == 101
    assert info.value.limit == 100
    assert isinstance(info.value, core.FramingError)


def test_default_limit_is_16_mib() -> None:
    decoder = core.BlockDecoder()
    assert decoder.feed(struct.pack("!I", 16 * 1024 * 1024)) == []
    with pytest.raises(core.BlockTooLarge):
        core.BlockDecoder().feed(struct.pack("!I", 16 * 1024 * 1024 + 1))


def test_little_endian_header_is_not_misread_as_small() -> None:
    # 05 00 00 00 is 83,886,080 in network order, beyond the default limit.
    with pytest.raises(core.BlockTooLarge):
        core.BlockDecoder().feed(struct.pack("<I", 5) + b"hello")
