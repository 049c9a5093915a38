"""The pytest plugin: options, markers, implementations as parameters, role fixtures, verdicts.

Loaded by the project's conftest.py (``pytest_plugins = ["wirecheck.plugin"]``), or with
``-p wirecheck.plugin``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from wirecheck.launcher import Limits, become_subreaper
from wirecheck.manifest import Implementation, Value, load_implementations, parse_target
from wirecheck.record import CaseRecord
from wirecheck.roles import ClientRunner, ServerHandle, ServerSupervisor
from wirecheck.spec import MARKER, MARKER_HELP, MarkerError, Spec, selected, spec_of
from wirecheck.timeouts import Timeouts
from wirecheck.verdicts import (
    VERDICT_FOR_BROKEN,
    ConformanceFailure,
    HarnessError,
    ImplementationError,
    Unimplemented,
    Verdict,
)
from wirecheck.views import VIEWS

DEFAULT_MANIFESTS = "reference_impl/impl*.toml"


@dataclasses.dataclass
class State:
    impls: list[Implementation]
    timeouts: Timeouts
    limits: Limits
    strict: bool
    targets: list[str]  # the --target options, for reproduce commands


STATE = pytest.StashKey[State]()
SPEC = pytest.StashKey[Spec]()
RECORD = pytest.StashKey[CaseRecord]()
SERVER = pytest.StashKey[ServerHandle]()
PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wirecheck", "wirecheck conformance harness")
    group.addoption(
        "--impl",
        action="append",
        default=[],
        metavar="PATH",
        help="implementation manifest (TOML), or a folder: every */impl.toml below it "
        "(repeatable; default: the reference implementations)",
    )
    group.addoption(
        "--target",
        action="append",
        default=[],
        metavar="ROLE=HOST:PORT",
        help="check a server role that is already running, e.g. zen.server=127.0.0.1:1060",
    )
    group.addoption(
        "--spec",
        action="append",
        default=[],
        metavar="PREFIX",
        help="run only the cases whose id starts with PREFIX, e.g. zen/3 or udp/2.1/1",
    )
    group.addoption(
        "--timeout-scale",
        type=float,
        default=None,
        metavar="FACTOR",
        help="multiply every timeout by FACTOR (slow machines, debugging)",
    )
    group.addoption(
        "--strict-conformance",
        action="store_true",
        default=False,
        help="a broken SHOULD fails the run (default: reported as non-strict)",
    )
    group.addoption(
        "--reports-dir",
        default=None,
        metavar="DIR",
        help="where the HTML, JSON and JUnit reports go (default: <rootdir>/reports)",
    )
    group.addoption(
        "--no-reports", action="store_true", default=False, help="write no report files"
    )


def _state(config: pytest.Config) -> State:
    opt = config.option
    targets = [parse_target(t) for t in opt.target]
    paths = [Path(p) for p in opt.impl]
    if not paths and not targets:
        paths = sorted(config.rootpath.glob(DEFAULT_MANIFESTS))
    impls = load_implementations(paths)
    if targets:
        impls.append(
            Implementation(
                "target",
                {},
                None,
                "already running",
                {role: (host, port) for role, host, port in targets},
            )
        )
    scale = opt.timeout_scale or float(os.environ.get("WIRECHECK_TIMEOUT_SCALE", "1") or 1)
    return State(impls, Timeouts(scale=scale), Limits(), opt.strict_conformance, list(opt.target))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line(
        "markers",
        "role(name, *, transport='tcp', view=''): the role a module's cases exercise, "
        "e.g. role('zen.server'); transport is tcp, udp or tcp+udp; view 'http' shows HTTP "
        "messages readably in transcripts",
    )
    config.addinivalue_line("markers", "fresh_server: start a new server for this case")
    config.addinivalue_line(
        "markers", "peer: a test against real, widely trusted software (run them with -m peer)"
    )
    try:
        config.stash[STATE] = _state(config)
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    become_subreaper()
    if _wants_reports(config) and not hasattr(config, "workerinput"):
        from wirecheck.report import Reporter

        out = Path(config.option.reports_dir or config.rootpath / "reports")
        if getattr(config.option, "xmlpath", None) is None:
            config.option.xmlpath = str(out / "junit.xml")
        config.pluginmanager.register(Reporter(config, out), "wirecheck-reporter")


def _wants_reports(config: pytest.Config) -> bool:
    """Reports are for conformance runs: not with --no-reports, nor for the harness's own tests."""
    if config.option.no_reports:
        return False
    own_tests = config.rootpath / "tests"
    args = [Path(a.split("::")[0]).resolve() for a in config.args]
    return not args or not all(a == own_tests or own_tests in a.parents for a in args)


def _role(node: pytest.Item | pytest.Module | Any) -> tuple[str, str] | None:
    mark = node.get_closest_marker("role")
    if mark is None:
        return None
    return str(mark.args[0]), str(mark.kwargs.get("transport", "tcp"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "impl" not in metafunc.fixturenames:
        return
    role = _role(metafunc.definition)
    state = metafunc.config.stash[STATE]
    params = []
    for impl in state.impls:
        marks = []
        if role and not impl.provides(role[0]):
            marks.append(pytest.mark.skip(reason="not provided"))
        params.append(pytest.param(impl, id=impl.name, marks=marks))
    if not params:
        params.append(
            pytest.param(
                None,
                id="none",
                marks=pytest.mark.skip(
                    reason="no implementation: give --impl or add reference_impl/impl.toml"
                ),
            )
        )
    metafunc.parametrize("impl", params, scope="module")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    prefixes: list[str] = config.option.spec
    keep, drop = [], []
    problems = []
    for item in items:
        mark = item.get_closest_marker(MARKER)
        if mark is None:
            if _role(item) is not None:
                problems.append(f"{item.nodeid}: a conformance case needs a spec(...) marker")
            keep.append(item)
            continue
        try:
            spec = spec_of(mark)
        except MarkerError as exc:
            problems.append(f"{item.nodeid}: {exc}")
            continue
        item.stash[SPEC] = spec
        if prefixes and not selected(spec.case_id, prefixes):
            drop.append(item)
        else:
            keep.append(item)
    if problems:
        raise pytest.UsageError("malformed conformance cases:\n  " + "\n  ".join(problems))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    items[:] = _grouped_by_implementation(items)


def _grouped_by_implementation(items: list[pytest.Item]) -> list[pytest.Item]:
    """Within each module, the cases of one implementation together (order kept otherwise), so
    that each implementation's server is started once per module. pytest's own ordering splits
    the group when a case has parameters of its own besides the implementation."""
    modules: dict[str, int] = {}
    impls: dict[tuple[str, str], int] = {}

    def key(item: pytest.Item) -> tuple[int, int]:
        module = item.nodeid.split("::", 1)[0]
        rank = modules.setdefault(module, len(modules))
        callspec = getattr(item, "callspec", None)
        impl = callspec.params.get("impl") if callspec is not None else None
        if impl is None:
            return rank, -1
        name = getattr(impl, "name", str(impl))
        return rank, impls.setdefault((module, name), len(impls))

    keyed = [(key(item), i, item) for i, item in enumerate(items)]
    return [item for _, _, item in sorted(keyed, key=lambda t: (t[0], t[1]))]


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def timeouts(pytestconfig: pytest.Config) -> Timeouts:
    """The run's timeouts, scaled by --timeout-scale: ``timeouts(2.0)`` is 2 s scaled."""
    return pytestconfig.stash[STATE].timeouts


@pytest.fixture(scope="session")
def start_failures() -> dict[tuple[str, str], str]:
    """(implementation, role) pairs that could not be started in this run, with why."""
    return {}


@pytest.fixture(scope="module")
def role_placeholders() -> dict[str, Value]:
    """Placeholder values a suite adds for its roles (override in the suite's conftest)."""
    return {}


@pytest.fixture(scope="module")
def role_environment() -> dict[str, str]:
    """Environment variables a suite gives its roles' processes (override in the suite), such as
    ``{"PYTHONPATH": ...}``; placeholders like ``{workdir}`` in the values are filled per start."""
    return {}


@pytest.fixture
def record(request: pytest.FixtureRequest) -> CaseRecord:
    """The case's record: its transcript, notes, processes (for the report)."""
    node = request.node
    if RECORD not in node.stash:
        node.stash[RECORD] = CaseRecord()
    record: CaseRecord = node.stash[RECORD]
    return record


@pytest.fixture(scope="module")
def server_supervisor(
    request: pytest.FixtureRequest,
    impl: Implementation,
    role_placeholders: dict[str, Value],
    role_environment: dict[str, str],
    start_failures: dict[tuple[str, str], str],
) -> Iterator[ServerSupervisor]:
    role = _role(request.node)
    if role is None:
        raise HarnessError(
            "the server fixture needs pytestmark = pytest.mark.role('<suite>.server')"
        )
    state = request.config.stash[STATE]
    sup = ServerSupervisor(
        impl,
        role[0],
        transport=role[1],
        host="127.0.0.1",
        placeholders=role_placeholders,
        timeouts=state.timeouts,
        limits=state.limits,
        environment=role_environment,
    )
    key = (impl.name, role[0])
    if key in start_failures:  # what could not be started once is not retried in this run
        raise ImplementationError(
            f"{start_failures[key]}\n(not retried: it failed to start earlier)"
        )
    try:
        try:
            sup.start()
        except ImplementationError as exc:
            start_failures[key] = str(exc)
            raise
        yield sup
    finally:
        sup.stop()


@pytest.fixture
def server(
    request: pytest.FixtureRequest,
    server_supervisor: ServerSupervisor,
    record: CaseRecord,
    timeouts: Timeouts,
) -> Iterator[ServerHandle]:
    """The implementation's server role, running and ready, for this case."""
    sup = server_supervisor
    if request.node.get_closest_marker("fresh_server") and sup.used and not sup.external:
        sup.start()  # a new server, with fresh state, for this case
    else:
        why = sup.ensure()
        if why:
            record.note(why)
    handle = _attach(request, sup, record, timeouts)
    yield handle
    phases = request.node.stash.get(PHASES, {})
    call = phases.get("call")
    verdict = getattr(call, "wirecheck", {}).get("verdict") if call else None
    if verdict != Verdict.PASS or not handle.alive():
        sup.needs_restart = True
    sup.used = True


def _attach(
    request: pytest.FixtureRequest, sup: ServerSupervisor, record: CaseRecord, timeouts: Timeouts
) -> ServerHandle:
    """Put a running server into the case's record, and hand it to the case."""
    if sup.process is not None:
        record.processes.append((f"{sup.role} of {sup.impl.name}", sup.process))
        record.commands.append(sup.command_line)
    record.target = (sup.host, sup.port)
    mark = request.node.get_closest_marker("role")
    view = VIEWS.get(str(mark.kwargs.get("view", ""))) if mark else None
    handle = ServerHandle(sup.host, sup.port, record, timeouts, sup, view)
    request.node.stash[SERVER] = handle
    return handle


@pytest.fixture
def launch_server(
    request: pytest.FixtureRequest,
    impl: Implementation,
    role_placeholders: dict[str, Value],
    role_environment: dict[str, str],
    record: CaseRecord,
    timeouts: Timeouts,
) -> Iterator[Callable[..., ServerHandle]]:
    """Start a server of the case's own, with some placeholders changed (a certificate
    scenario, say): ``launch_server(certfile=...)``. It is stopped when the case ends; one that
    cannot be started makes the case an error."""
    role = _role(request.node)
    if role is None:
        raise HarnessError("launch_server needs pytestmark = pytest.mark.role('<suite>.server')")
    state = request.config.stash[STATE]
    started: list[ServerSupervisor] = []

    def launch(**overrides: Value) -> ServerHandle:
        sup = ServerSupervisor(
            impl,
            role[0],
            transport=role[1],
            host="127.0.0.1",
            placeholders={**role_placeholders, **overrides},
            timeouts=state.timeouts,
            limits=state.limits,
            environment=role_environment,
        )
        started.append(sup)
        sup.start()
        return _attach(request, sup, record, timeouts)

    try:
        yield launch
    finally:
        for sup in started:
            sup.stop()


@pytest.fixture
def client(
    request: pytest.FixtureRequest,
    impl: Implementation,
    record: CaseRecord,
    role_placeholders: dict[str, Value],
    role_environment: dict[str, str],
) -> ClientRunner:
    """The implementation's client role: ``client.run(port=...)`` runs it once."""
    role = _role(request.node)
    if role is None:
        raise HarnessError(
            "the client fixture needs pytestmark = pytest.mark.role('<suite>.client')"
        )
    state = request.config.stash[STATE]
    return ClientRunner(
        impl,
        role[0],
        record,
        state.timeouts,
        state.limits,
        role_placeholders,
        role_environment,
    )


# -- verdicts -------------------------------------------------------------------------------------
def _variant(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return ""
    ident: str = callspec.id
    impl = callspec.params.get("impl")
    name = impl.name if isinstance(impl, Implementation) else "none"
    if ident == name:
        return ""
    for cut in (f"-{name}", f"{name}-"):
        if ident.endswith(cut) and cut.startswith("-"):
            return ident[: -len(cut)]
        if ident.startswith(cut) and cut.endswith("-"):
            return ident[len(cut) :]
    return ident


def _impl_args(item: pytest.Item, state: State) -> list[str]:
    """The options that select this case's implementation alone."""
    callspec = getattr(item, "callspec", None)
    impl = callspec.params.get("impl") if callspec else None
    if not isinstance(impl, Implementation) or impl.source is None:
        return [a for t in state.targets for a in ("--target", t)]
    try:
        path = impl.source.relative_to(Path.cwd())
    except ValueError:
        path = impl.source
    return ["--impl", str(path)]


def _impl_name(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    impl = callspec.params.get("impl") if callspec else None
    return impl.name if isinstance(impl, Implementation) else "-"


def _failure_text(call: pytest.CallInfo[None], rep: pytest.TestReport) -> dict[str, str]:
    exc = call.excinfo.value if call.excinfo else None
    if isinstance(exc, ConformanceFailure):
        return {"expected": exc.expected, "actual": exc.actual, "note": exc.note}
    if isinstance(exc, ImplementationError | HarnessError):
        return {"expected": "", "actual": str(exc), "note": ""}
    if exc is not None and call.excinfo is not None:
        text = f"{type(exc).__name__}: {exc}"
        return {"expected": "", "actual": text, "note": rep.longreprtext[-3000:]}
    return {"expected": "", "actual": rep.longreprtext[-3000:], "note": ""}


def _crashed(item: pytest.Item, failed: bool) -> str | None:
    handle = item.stash.get(SERVER, None)
    if handle is None or handle.process is None:
        return None
    # A case that failed on an end of stream may have seen a process that is still exiting.
    if (handle.process.wait(0.05) if failed else handle.process.poll()) is None:
        return None
    return f"the server exited during the case ({handle.process.describe_exit()})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    rep = yield
    item.stash.setdefault(PHASES, {})[rep.when] = rep
    spec = item.stash.get(SPEC, None)
    if spec is None:
        return rep
    state = item.config.stash[STATE]
    detail = {"expected": "", "actual": "", "note": ""}
    if rep.when == "setup":
        if rep.passed:
            return rep
        if rep.skipped:
            verdict = Verdict.SKIPPED
            detail["actual"] = str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else ""
        else:
            verdict = Verdict.ERROR
            detail = _failure_text(call, rep)
            exc = call.excinfo.value if call.excinfo else None
            if isinstance(exc, ImplementationError | HarnessError):
                rep.longrepr = f"error: {exc}"
    elif rep.when == "call":
        crash = _crashed(item, rep.failed)
        exc = call.excinfo.value if call.excinfo else None
        if crash and not isinstance(exc, Unimplemented):
            verdict = Verdict.FAIL
            detail = {
                "expected": "the implementation keeps running",
                "actual": crash,
                "note": _failure_text(call, rep)["actual"] if rep.failed else "",
            }
            rep.outcome = "failed"
            rep.longrepr = f"{crash}\n{rep.longreprtext}" if rep.longrepr else crash
        elif rep.passed:
            verdict = Verdict.PASS
        elif isinstance(exc, Unimplemented):
            verdict = Verdict.UNIMPLEMENTED
            detail["actual"] = str(exc)
            rep.outcome = "skipped"
            rep.longrepr = (str(item.path), item.location[1] or 0, f"unimplemented: {exc}")
        elif rep.skipped:
            verdict = Verdict.SKIPPED
        elif isinstance(exc, ImplementationError | HarnessError):
            verdict = Verdict.ERROR
            detail = _failure_text(call, rep)
            rep.longrepr = f"error: {exc}"
        else:
            verdict = VERDICT_FOR_BROKEN[spec.level]
            detail = _failure_text(call, rep)
            if verdict is Verdict.INFORMATIONAL or (
                verdict is Verdict.NON_STRICT and not state.strict
            ):
                rep.outcome = "passed"
                rep.longrepr = None
    else:  # teardown: only a broken teardown changes anything
        if not rep.failed:
            return rep
        verdict = Verdict.ERROR
        detail = _failure_text(call, rep)
    record = item.stash.get(RECORD, None) or CaseRecord()
    if rep.when == "call" and verdict in (Verdict.FAIL, Verdict.NON_STRICT) and rep.longrepr:
        rep.longrepr = _long_text(spec, detail, record, item, state)
    result = {
        "nodeid": item.nodeid,
        "case": spec.case_id,
        "variant": _variant(item),
        "function": getattr(item, "originalname", item.name),
        "suite": spec.suite,
        "role": (_role(item) or ("", ""))[0],
        "impl": _impl_name(item),
        "level": str(spec.level),
        "clause": spec.clause,
        "requirement": spec.requirement,
        "verdict": str(verdict),
        "duration": round(sum(r.duration for r in item.stash.get(PHASES, {}).values()), 4),
        **detail,
        "notes": list(record.notes),
        "measurements": {k: str(v) for k, v in record.measurements.items()},
        "transcript": record.transcript.render(),
        "stderr": record.stderr_tail(),
        "reproduce": record.reproduce(item.nodeid, _impl_args(item, state))
        if verdict not in (Verdict.SKIPPED, Verdict.PASS)
        else "",
    }
    rep.wirecheck = result  # type: ignore[attr-defined]
    for key in ("verdict", "case", "level", "implementation"):
        item.user_properties.append(
            (key, result["impl"] if key == "implementation" else result[key])
        )
    return rep


def _long_text(
    spec: Spec, detail: dict[str, str], record: CaseRecord, item: pytest.Item, state: State
) -> str:
    parts = [
        f"{spec.case_id} [{spec.level}] {spec.clause}",
        f"requirement: {spec.requirement}",
    ]
    if detail["expected"]:
        parts.append(f"expected:    {detail['expected']}")
    parts.append(f"actual:      {detail['actual']}")
    if detail["note"]:
        parts.append(f"note:        {detail['note']}")
    parts += [f"note:        {n}" for n in record.notes]
    transcript = record.transcript.render()
    if transcript:
        parts += [
            "",
            "transcript (> sent by the suite, < received from the implementation):",
            transcript,
        ]
    stderr = record.stderr_tail(1500)
    if stderr:
        parts += ["", "stderr tail:", stderr]
    parts += ["", "reproduce:", record.reproduce(item.nodeid, _impl_args(item, state))]
    return "\n".join(parts)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash[STATE]
    names = ", ".join(i.name for i in state.impls) or "none"
    return [
        f"wirecheck: implementations: {names}; timeout scale {state.timeouts.scale:g}"
        + ("; strict conformance" if state.strict else "")
    ]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    reporter = config.pluginmanager.get_plugin("wirecheck-reporter")
    if reporter is not None:
        reporter.terminal_summary(terminalreporter)
