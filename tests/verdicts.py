"""Running a suite against implementations in a subprocess, and judging the verdicts it gives.

Each broken implementation's folder holds ``expected.toml``:

    # The verdicts the suite must give; every case not named must pass.
    [verdicts]
    "zen/3.4/1" = "fail"                       # every variant of the case
    "zen/3.1/1 case-differs" = "fail"          # one variant (the parametrisation id)
    "zen/3.6/1" = ["pass", "non-strict"]       # timing-dependent: either is right

Cases of roles the implementation does not provide are skipped ("not provided").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "broken"


def run_suite(
    suite_args: list[str],
    impls: list[Path],
    reports: Path,
    *,
    extra: list[str] | None = None,
    timeout: float = 900,
    workers: int = 2,
) -> tuple[subprocess.CompletedProcess[str], dict[str, list[dict[str, Any]]]]:
    """Run ``pytest <suite_args>`` with ``--impl`` for each path; results by implementation."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *suite_args,
        "-p",
        "no:cacheprovider",
        "-q",
        "--reports-dir",
        str(reports),
        "-o",
        "junit_family=xunit2",
    ]
    if workers > 1:
        cmd += ["-n", str(workers)]
    for impl in impls:
        cmd += ["--impl", str(impl)]
    cmd += extra or []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    results = reports / "results.json"
    if results.exists():
        for r in json.loads(results.read_text())["results"]:
            grouped[r["impl"]].append(r)
    return proc, grouped


def expected_verdicts(folder: Path) -> dict[str, list[str]]:
    data = tomllib.loads((folder / "expected.toml").read_text())
    return {k: v if isinstance(v, list) else [v] for k, v in data.get("verdicts", {}).items()}


def judge(results: list[dict[str, Any]], expected: dict[str, list[str]]) -> list[str]:
    """Every way the suite's verdicts differ from what was expected (empty: they agree)."""
    problems = []
    used: set[str] = set()
    for r in results:
        key = f"{r['case']} {r['variant']}".strip()
        if r["verdict"] == "skipped" and r["actual"].endswith("not provided"):
            continue
        allowed = expected.get(key) or expected.get(r["case"]) or ["pass"]
        used.add(key if key in expected else r["case"])
        if r["verdict"] not in allowed:
            problems.append(
                f"{key}: got {r['verdict']}, expected {' or '.join(allowed)}"
                + (f" — actual: {r['actual'][:300]}" if r["actual"] else "")
            )
    for key in expected:
        if key not in used:
            problems.append(f"{key}: named in expected.toml, but no such case ran")
    return problems


def broken_folders(suite: str) -> list[Path]:
    return sorted(p.parent for p in (BROKEN / suite).glob("*/impl.toml"))


def impl_name(folder: Path) -> str:
    name: str = tomllib.loads((folder / "impl.toml").read_text())["name"]
    return name
