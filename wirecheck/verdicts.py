"""Levels, verdicts and the exceptions a check raises.

The verdict vocabulary follows Autobahn|Testsuite and h2spec: a broken MUST is a failure, a broken
SHOULD is "non-strict" (a failure only under ``--strict-conformance``), a MAY is informational, an
optional feature that is absent is "unimplemented", and "error" is reserved for what could not be
started or made ready (or a harness bug): it is never confused with a failure.
"""

from __future__ import annotations

import enum


class Level(enum.StrEnum):
    """RFC 2119 requirement levels, as a case cites them."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


MUST = Level.MUST
SHOULD = Level.SHOULD
MAY = Level.MAY


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NON_STRICT = "non-strict"
    INFORMATIONAL = "informational"
    UNIMPLEMENTED = "unimplemented"
    ERROR = "error"
    SKIPPED = "skipped"


# What a broken requirement of each level becomes.
VERDICT_FOR_BROKEN: dict[Level, Verdict] = {
    Level.MUST: Verdict.FAIL,
    Level.SHOULD: Verdict.NON_STRICT,
    Level.MAY: Verdict.INFORMATIONAL,
}


class ConformanceFailure(AssertionError):
    """The implementation did not do what the clause requires.

    ``expected`` lists every outcome the clause allows; ``actual`` says what came instead.
    """

    def __init__(self, expected: str, actual: str, *, note: str = "") -> None:
        self.expected = expected
        self.actual = actual
        self.note = note
        super().__init__(self.summary())

    def summary(self) -> str:
        text = f"expected: {self.expected}\nactual:   {self.actual}"
        if self.note:
            text += f"\nnote:     {self.note}"
        return text


class Unimplemented(Exception):
    """The implementation does not offer the optional feature a case checks."""


class ImplementationError(Exception):
    """The implementation could not be started or made ready: the cases that need it are errors."""


class HarnessError(Exception):
    """The harness itself could not do its work (a bad manifest, a missing fixture file, ...)."""


def expect(condition: object, *, expected: str, actual: str | object, note: str = "") -> None:
    """Fail the case unless ``condition`` holds, saying what was expected and what came."""
    __tracebackhide__ = True
    if not condition:
        raise ConformanceFailure(
            expected, actual if isinstance(actual, str) else repr(actual), note=note
        )


def unimplemented(reason: str) -> None:
    """End the case as "unimplemented" (an optional feature the implementation does not offer)."""
    __tracebackhide__ = True
    raise Unimplemented(reason)
