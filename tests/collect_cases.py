"""A pytest plugin (``-p tests.collect_cases``) that writes every collected case's marker to the
JSON file named by WIRECHECK_COLLECT_OUT, for the conventions test."""

from __future__ import annotations

import json
import os

import pytest

from wirecheck.plugin import SPEC


def pytest_collection_finish(session: pytest.Session) -> None:
    out = os.environ.get("WIRECHECK_COLLECT_OUT")
    if not out:
        return
    cases = []
    for item in session.items:
        spec = item.stash.get(SPEC, None)
        role = item.get_closest_marker("role")
        cases.append(
            {
                "nodeid": item.nodeid,
                "function": getattr(item, "originalname", item.name),
                "case": spec.case_id if spec else None,
                "level": str(spec.level) if spec else None,
                "requirement": spec.requirement if spec else None,
                "role": role.args[0] if role else None,
            }
        )
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cases, f)
