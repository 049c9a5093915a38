"""Unit tests of reference_impl/zen/core.py: the answer table and the framing, without sockets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

CORE_PATH = Path(__file__).resolve().parents[2] / "reference_impl" / "zen" / "core.py"


def _load_core() -> ModuleType:
    # Loaded under its own name: every suite's folder has a module called core.py.
    spec = importlib.util.spec_from_file_location("zen_reference_core", CORE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


core = _load_core()

QUESTIONS_AND_ANSWERS = [
    (b"Beautiful is better than?", b"Ugly."),
    (b"Explicit is better than?", b"Implicit."),
    (b"Simple is better than?", b"Complex."),
]
UNKNOWN = b"Error: unknown aphorism."


def test_known_questions_get_their_answers() -> None:
    for question, expected in QUESTIONS_AND_ANSWERS:
        assert core.answer(question) == expected


def test_unknown_questions_get_the_error_answer() -> None:
    for question in (
        b"Flat is better than?",
        b"beautiful is better than?",
        b" Beautiful is better than?",
        b"Beautiful is better than ?",
        b"?",
    ):
        assert core.answer(question) == UNKNOWN


def test_client_questions_are_the_three_known_ones() -> None:
    assert sorted(core.QUESTIONS) == sorted(q for q, _ in QUESTIONS_AND_ANSWERS)


def test_answers_end_in_their_only_full_stop() -> None:
    for answer in [a for _, a in QUESTIONS_AND_ANSWERS] + [UNKNOWN]:
        assert answer.count(b".") == 1 and answer.endswith(b".")
        assert b"\n" not in answer


def test_whole_question_in_one_feed() -> None:
    splitter = core.QuestionSplitter()
    assert splitter.feed(b"Beautiful is better than?") == [b"Beautiful is better than?"]
    assert splitter.pending == b""


def test_empty_feed_completes_nothing() -> None:
    splitter = core.QuestionSplitter()
    assert splitter.feed(b"") == []
    assert splitter.pending == b""


def test_question_one_byte_at_a_time() -> None:
    splitter = core.QuestionSplitter()
    question = b"Explicit is better than?"
    for i in range(len(question) - 1):
        assert splitter.feed(question[i : i + 1]) == []
        assert splitter.pending == question[: i + 1]
    assert splitter.feed(question[-1:]) == [question]
    assert splitter.pending == b""


def test_question_in_two_halves() -> None:
    splitter = core.QuestionSplitter()
    assert splitter.feed(b"Simple is b") == []
    assert splitter.feed(b"etter than?") == [b"Simple is better than?"]


def test_pipelined_questions_come_out_in_order() -> None:
    splitter = core.QuestionSplitter()
    data = b"Simple is better than?Flat is better than?Beautiful is better than?"
    assert splitter.feed(data) == [
        b"Simple is better than?",
        b"Flat is better than?",
        b"Beautiful is better than?",
    ]
    assert splitter.pending == b""


def test_pipelined_tail_is_kept_for_the_next_question() -> None:
    splitter = core.QuestionSplitter()
    assert splitter.feed(b"Beautiful is better than?Expl") == [b"Beautiful is better than?"]
    assert splitter.pending == b"Expl"
    assert splitter.feed(b"icit is better than?") == [b"Explicit is better than?"]


def test_answers_to_joins_answers_in_order() -> None:
    splitter = core.QuestionSplitter()
    assert core.answers_to(splitter, b"Beautiful is ") == b""
    data = b"better than?Flat is better than?Simple is better than?Expl"
    assert core.answers_to(splitter, data) == b"Ugly." + UNKNOWN + b"Complex."
    assert core.answers_to(splitter, b"icit is better than?") == b"Implicit."


def test_overlong_unfinished_question_is_refused() -> None:
    splitter = core.QuestionSplitter(max_message=10)
    assert splitter.feed(b"0123456789") == []
    try:
        splitter.feed(b"x")
    except core.MessageTooLong:
        pass
    else:
        raise AssertionError("an unfinished question beyond the limit was accepted")


def test_long_stream_of_whole_questions_is_not_refused() -> None:
    splitter = core.QuestionSplitter(max_message=30)
    data = b"Beautiful is better than?" * 100
    assert len(splitter.feed(data)) == 100


def test_answers_split_on_full_stop() -> None:
    splitter = core.AnswerSplitter()
    stream = b"Ugly." + UNKNOWN + b"Complex."
    received: list[bytes] = []
    for i in range(len(stream)):
        received += splitter.feed(stream[i : i + 1])
    assert received == [b"Ugly.", UNKNOWN, b"Complex."]
    assert splitter.pending == b""
