"""Reports: a JSON file of results, a self-contained HTML report (the whole run, and one per
implementation to hand to a student), next to the JUnit XML that pytest writes."""

from __future__ import annotations

import collections
import datetime
import json
import re
from pathlib import Path
from typing import Any

import jinja2
import pytest

from wirecheck.verdicts import Verdict

VERDICT_ORDER = [
    v.value
    for v in (
        Verdict.FAIL,
        Verdict.ERROR,
        Verdict.NON_STRICT,
        Verdict.INFORMATIONAL,
        Verdict.UNIMPLEMENTED,
        Verdict.PASS,
        Verdict.SKIPPED,
    )
]
LEVELS = ["MUST", "SHOULD", "MAY"]


def _case_sort_key(row: str) -> tuple[Any, ...]:
    case_id, _, variant = row.partition(" ")
    suite, section, n = [*case_id.split("/"), "", "", ""][:3]
    nums = tuple(int(x) for x in re.findall(r"\d+", section))
    return (suite, nums, int(n) if n.isdigit() else 0, variant)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


class Reporter:
    def __init__(self, config: pytest.Config, out: Path) -> None:
        self.config = config
        self.out = out
        self.results: list[dict[str, Any]] = []
        self.started = datetime.datetime.now(datetime.UTC)
        self.written: list[Path] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "wirecheck", None)
        if isinstance(result, dict):
            self.results.append(result)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.results:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        data = self.document()
        path = self.out / "results.json"
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        self.written = [path, self.out / "report.html"]
        (self.out / "report.html").write_text(render_html(data), encoding="utf-8")
        impls = data["implementations"]
        if len(impls) > 1:
            for impl in impls:
                one = filter_document(data, impl)
                (self.out / f"report-{_slug(impl)}.html").write_text(render_html(one), "utf-8")

    def document(self) -> dict[str, Any]:
        strict = bool(self.config.option.strict_conformance)
        results = sorted(
            self.results,
            key=lambda r: (r["impl"], r["suite"], _case_sort_key(f"{r['case']} {r['variant']}")),
        )
        impls = sorted({r["impl"] for r in results})
        return {
            "tool": "wirecheck",
            "started": self.started.isoformat(timespec="seconds"),
            "strict_conformance": strict,
            "implementations": impls,
            "results": results,
        }

    def terminal_summary(self, tr: Any) -> None:
        if not self.results:
            return
        tr.section("wirecheck verdicts")
        counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for r in self.results:
            counts[r["impl"]]["not provided" if not_provided(r) else r["verdict"]] += 1
        for impl in sorted(counts):
            c = counts[impl]
            kinds = [*VERDICT_ORDER, "not provided"]
            tr.write_line(f"{impl}: " + ", ".join(f"{c[v]} {v}" for v in kinds if c[v]))
        soft = [r for r in self.results if r["verdict"] == Verdict.NON_STRICT]
        for r in soft[:20]:
            tr.write_line(
                f"  non-strict: {r['impl']} {r['case']} {r['variant']} — {r['actual'][:120]}"
            )
        for path in self.written:
            tr.write_line(f"report: {path}")


def filter_document(data: dict[str, Any], impl: str) -> dict[str, Any]:
    return {
        **data,
        "implementations": [impl],
        "results": [r for r in data["results"] if r["impl"] == impl],
    }


def not_provided(result: dict[str, Any]) -> bool:
    """A case of a role the implementation does not offer: absent, not a result."""
    return bool(result["verdict"] == Verdict.SKIPPED and result["actual"].endswith("not provided"))


def _summaries(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in results:
        if not_provided(r):
            continue
        row = rows.setdefault(
            (r["impl"], r["suite"]),
            {
                "impl": r["impl"],
                "suite": r["suite"],
                "verdicts": collections.Counter(),
                "levels": {lvl: collections.Counter() for lvl in LEVELS},
                "total": 0,
            },
        )
        row["verdicts"][r["verdict"]] += 1
        row["levels"][r["level"]][r["verdict"]] += 1
        row["total"] += 1
    return [rows[k] for k in sorted(rows)]


def render_html(data: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wirecheck", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    results = data["results"]
    rows = sorted({f"{r['case']} {r['variant']}".strip() for r in results}, key=_case_sort_key)
    cells = {(f"{r['case']} {r['variant']}".strip(), r["impl"]): r for r in results}
    requirement = {f"{r['case']} {r['variant']}".strip(): r for r in results}
    for r in results:
        r["anchor"] = _slug(f"{r['impl']}--{r['case']}--{r['variant']}")
        r["absent"] = not_provided(r)
    return env.get_template("report.html").render(
        data=data,
        summaries=_summaries(results),
        rows=rows,
        cells=cells,
        requirement=requirement,
        verdicts=VERDICT_ORDER,
        levels=LEVELS,
        failing=[r for r in results if r["verdict"] not in ("pass", "skipped")],
        passing=[r for r in results if r["verdict"] in ("pass", "skipped") and not r["absent"]],
    )
