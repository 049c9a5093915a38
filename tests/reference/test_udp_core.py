"""Unit tests of reference_impl/udp/core.py: the reply text and the retransmission schedule."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

CORE_PATH = Path(__file__).resolve().parents[2] / "reference_impl" / "udp" / "core.py"


def _load_core() -> ModuleType:
    # Loaded under its own name: every suite's folder has a module called core.py.
    spec = importlib.util.spec_from_file_location("udp_reference_core", CORE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load_core()

# The requests of profile 2.1, with the length each reply must name.
UTF8_TEXT = "Grüße ☃ 日本 🙂"
ALL_OCTETS = bytes(range(256))
LARGEST = bytes(i % 256 for i in range(65_507))


@pytest.mark.parametrize(
    ("request_octets", "expected"),
    [
        (b"", b"Your data was 0 bytes long"),
        (b"x", b"Your data was 1 bytes long"),
        (b"The quick brown fox jumps over the lazy dog", b"Your data was 43 bytes long"),
        (UTF8_TEXT.encode("utf-8"), b"Your data was 23 bytes long"),
        (ALL_OCTETS, b"Your data was 256 bytes long"),
        (LARGEST, b"Your data was 65507 bytes long"),
    ],
    ids=["empty", "one-octet", "ascii", "utf-8", "all-octets", "largest"],
)
def test_reply_names_the_number_of_octets(request_octets: bytes, expected: bytes) -> None:
    assert core.reply_for(request_octets) == expected


def test_utf8_request_counts_octets_not_characters() -> None:
    encoded = UTF8_TEXT.encode("utf-8")
    assert len(UTF8_TEXT) == 12
    assert core.reply_for(encoded) == b"Your data was 23 bytes long"


def test_reply_is_plain_ascii_without_terminator() -> None:
    reply = core.reply_for(b"abc")
    assert reply.decode("ascii") == "Your data was 3 bytes long"
    assert not reply.endswith((b"\n", b"\r", b"\0", b" "))


def test_invalid_utf8_is_counted_not_decoded() -> None:
    assert core.reply_for(b"\xff\xfe\x80") == b"Your data was 3 bytes long"


def test_max_payload_is_the_largest_ipv4_udp_payload() -> None:
    assert core.MAX_PAYLOAD == 65_507
    assert core.RECV_BUFFER >= core.MAX_PAYLOAD


def test_default_schedule_waits() -> None:
    schedule = core.RetransmitSchedule()
    assert schedule.attempts == 5
    assert schedule.waits() == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8])
    assert schedule.total_wait() == pytest.approx(1.55)


def test_wait_after_counts_sends_from_one() -> None:
    schedule = core.RetransmitSchedule()
    assert schedule.wait_after(1) == pytest.approx(0.05)
    assert schedule.wait_after(5) == pytest.approx(0.8)
    for sends in (0, -1, 6):
        with pytest.raises(ValueError):
            schedule.wait_after(sends)


def _backoff_violations(waits: list[float]) -> list[str]:
    """Profile 3.3's rule, with its tolerance, applied to measured waits."""
    problems = []
    if not 0.05 - 0.020 <= waits[0] <= 1.0 + 0.050:
        problems.append(f"first wait {waits[0]}")
    for before, after in itertools.pairwise(waits):
        if after < 1.5 * before - 0.020:
            problems.append(f"wait {after} after {before}")
    return problems


@pytest.mark.parametrize(
    ("first_wait", "factor", "retransmissions"),
    [(0.05, 2.0, 4), (0.05, 1.5, 3), (1.0, 1.5, 3), (0.5, 3.0, 3), (0.1, 1.5, 8)],
)
def test_valid_schedules_keep_the_profile(
    first_wait: float, factor: float, retransmissions: int
) -> None:
    schedule = core.RetransmitSchedule(first_wait, factor, retransmissions)
    waits = schedule.waits()
    # The waits the server sees are the ones between consecutive sends.
    assert _backoff_violations(waits[:-1]) == []
    assert schedule.attempts - 1 >= 3
    assert schedule.total_wait() < 30.0


def test_schedule_that_grows_by_exactly_one_and_a_half_passes_the_rule() -> None:
    schedule = core.RetransmitSchedule(first_wait=0.05, factor=1.5, retransmissions=6)
    assert _backoff_violations(schedule.waits()) == []


def test_rule_rejects_a_constant_interval() -> None:
    assert _backoff_violations([0.2] * 9) != []


@pytest.mark.parametrize(
    ("first_wait", "factor", "retransmissions"),
    [
        (0.01, 2.0, 4),  # first wait too short
        (2.0, 2.0, 4),  # first wait too long
        (0.05, 1.0, 4),  # no backoff
        (0.05, 1.4, 4),  # backoff too gentle
        (0.05, 2.0, 2),  # gives up too early
        (1.0, 2.0, 4),  # 1 + 2 + 4 + 8 + 16 = 31 s: gives up too late
    ],
)
def test_schedules_outside_the_profile_are_refused(
    first_wait: float, factor: float, retransmissions: int
) -> None:
    with pytest.raises(ValueError):
        core.RetransmitSchedule(first_wait, factor, retransmissions)


def test_total_wait_is_the_sum_of_a_geometric_series() -> None:
    schedule = core.RetransmitSchedule(first_wait=0.1, factor=3.0, retransmissions=4)
    expected = 0.1 * (3.0**5 - 1) / (3.0 - 1)
    assert math.isclose(schedule.total_wait(), expected)
