"""Case markers: every case names its clause, its level and the requirement it checks.

A case id reads ``<suite>/<section>/<n>`` (``zen/3.2/1``), the section being a numbered section of
the suite's PROFILE.md; a case that checks an RFC clause names it as well (``rfc="RFC 9293 §3.6"``).
``--spec zen/3`` selects every case whose id starts with that prefix at a section boundary.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from wirecheck.verdicts import Level

MARKER = "spec"
MARKER_HELP = (
    "spec(case_id, level, requirement, *, rfc=None): the clause a conformance case checks; "
    "case_id is <suite>/<section>/<n>, level MUST, SHOULD or MAY"
)
CASE_ID = re.compile(r"^(?P<suite>[a-z][a-z0-9_-]*)/(?P<section>\d+(?:\.\d+)*)/(?P<n>\d+)$")


@dataclasses.dataclass(frozen=True)
class Spec:
    case_id: str
    level: Level
    requirement: str
    rfc: str | None = None

    @property
    def suite(self) -> str:
        return self.case_id.split("/", 1)[0]

    @property
    def section(self) -> str:
        return self.case_id.split("/")[1]

    @property
    def clause(self) -> str:
        """The documents the case cites, for people: ``RFC 9293 §3.6; tcp profile §2.3``."""
        own = f"{self.suite} profile §{self.section}"
        return f"{self.rfc}; {own}" if self.rfc else own


def case(
    case_id: str, level: Level, requirement: str, *, rfc: str | None = None
) -> pytest.MarkDecorator:
    """Mark a test function as the conformance case ``case_id``."""
    return pytest.mark.spec(case_id, level, requirement, rfc=rfc)


class MarkerError(ValueError):
    pass


def spec_of(mark: pytest.Mark) -> Spec:
    """Validate a ``spec`` mark and return what it says; raise MarkerError if it is malformed."""
    try:
        case_id, level, requirement = mark.args
    except ValueError:
        raise MarkerError(f"spec takes (case_id, level, requirement), got {mark.args!r}") from None
    rfc = mark.kwargs.get("rfc")
    unknown = set(mark.kwargs) - {"rfc"}
    if unknown:
        raise MarkerError(f"spec got unknown keyword(s) {sorted(unknown)}")
    if not isinstance(case_id, str) or not CASE_ID.match(case_id):
        raise MarkerError(f"case id {case_id!r} is not <suite>/<section>/<n>, like zen/3.2/1")
    try:
        lvl = Level(level)
    except ValueError:
        raise MarkerError(f"level {level!r} is not one of MUST, SHOULD, MAY") from None
    if not isinstance(requirement, str) or len(requirement.strip()) < 10:
        raise MarkerError(f"case {case_id}: the requirement must be quoted in words")
    if rfc is not None and not isinstance(rfc, str):
        raise MarkerError(f"case {case_id}: rfc must be a string like 'RFC 768'")
    return Spec(case_id, lvl, requirement.strip(), rfc)


def selected(case_id: str, prefixes: list[str]) -> bool:
    """Whether ``case_id`` falls under one of the ``--spec`` prefixes (at a / or . boundary)."""
    for prefix in prefixes:
        prefix = prefix.rstrip("/")
        if case_id == prefix or (case_id.startswith(prefix) and case_id[len(prefix)] in "/."):
            return True
    return False
