"""The suites' own conventions, checked like aiosmtpd's qa tests: every case carries a
well-formed marker whose id names its own suite and a section its profile has; one id per
function; a role per module; and no suite borrows the reference implementation's code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from typing import Any

import pytest

from tests.verdicts import ROOT

SUITES = ROOT / "suites"


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("collect") / "cases.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "--collect-only",
            "-q",
            "-p",
            "tests.collect_cases",
            "-p",
            "no:cacheprovider",
            "--no-reports",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WIRECHECK_COLLECT_OUT": str(out)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data: list[dict[str, Any]] = json.loads(out.read_text())
    assert data, "no cases collected"
    return data


def test_every_case_has_a_marker_and_a_role(cases: list[dict[str, Any]]) -> None:
    missing = [c["nodeid"] for c in cases if not c["case"] or not c["role"]]
    assert not missing, missing


def test_case_ids_name_their_own_suite_and_role(cases: list[dict[str, Any]]) -> None:
    wrong = []
    for c in cases:
        folder = c["nodeid"].split("/")[1]
        if c["case"].split("/")[0] != folder or c["role"].split(".")[0] != folder:
            wrong.append((c["nodeid"], c["case"], c["role"]))
    assert not wrong, wrong


def test_cited_sections_exist_in_the_profile(cases: list[dict[str, Any]]) -> None:
    headings: dict[str, set[str]] = {}
    for profile in SUITES.glob("*/PROFILE.md"):
        found = re.findall(r"^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s", profile.read_text(), re.MULTILINE)
        headings[profile.parent.name] = set(found)
    unknown = sorted(
        {
            c["case"]
            for c in cases
            if c["case"].split("/")[1] not in headings.get(c["case"].split("/")[0], ())
        }
    )
    assert not unknown, f"cases citing a section their PROFILE.md does not have: {unknown}"


def test_one_case_id_per_function_and_one_function_per_case_id(cases: list[dict[str, Any]]) -> None:
    by_id: dict[str, set[str]] = defaultdict(set)
    for c in cases:
        by_id[c["case"]].add(c["nodeid"].split("[")[0])
    shared = {k: v for k, v in by_id.items() if len(v) > 1}
    assert not shared, shared


def test_requirements_quote_a_level_word(cases: list[dict[str, Any]]) -> None:
    weak = sorted(
        {
            c["case"]
            for c in cases
            if not re.search(r"\b(MUST|SHOULD|MAY|REQUIRED|SHALL)\b", c["requirement"])
        }
    )
    assert not weak, f"requirements that quote no RFC 2119 word: {weak}"


def test_suites_never_import_the_reference() -> None:
    offenders = []
    for path in SUITES.rglob("*.py"):
        text = path.read_text()
        if re.search(r"^\s*(from|import)\s+(reference_impl|core)\b", text, re.MULTILINE):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
