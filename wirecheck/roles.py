"""Server and client roles: starting an implementation, making it ready, running it per case."""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from wirecheck.launcher import Command, Launched, Limits, free_port, wait_ready
from wirecheck.manifest import PLACEHOLDER, Implementation, Value
from wirecheck.record import CaseRecord
from wirecheck.timeouts import Timeouts
from wirecheck.verdicts import HarnessError, ImplementationError
from wirecheck.views import Viewer
from wirecheck.wire import TcpConnection, UdpEndpoint


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="wirecheck-"))


def fill_environment(environment: Mapping[str, str], values: Mapping[str, Value]) -> dict[str, str]:
    """Environment variables a suite gives its roles; ``{workdir}`` and the like are filled in."""
    filled: dict[str, str] = {}
    for name, template in environment.items():
        filled[name] = PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
    return filled


def base_placeholders(host: str, port: int | None, workdir: Path) -> dict[str, Value]:
    values: dict[str, Value] = {"python": sys.executable, "host": host, "workdir": str(workdir)}
    if port is not None:
        values["port"] = str(port)
    return values


class ServerSupervisor:
    """Keeps one implementation's server role running for a module; restarts it when needed."""

    def __init__(
        self,
        impl: Implementation,
        role: str,
        *,
        transport: str,
        host: str,
        placeholders: Mapping[str, Value],
        timeouts: Timeouts,
        limits: Limits,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.impl, self.role, self.transport, self.host = impl, role, transport, host
        self.placeholders = dict(placeholders)
        self.environment = dict(environment or {})
        self.timeouts, self.limits = timeouts, limits
        self.process: Launched | None = None
        self.workdir: Path | None = None
        self.port = 0
        self.command_line = ""
        self.needs_restart = False
        self.starts = 0
        self.used = False  # a case has run against the current process
        self.ready_after = 0.0
        target = impl.targets.get(role)
        self.external = target is not None
        if target:
            self.host, self.port = target

    def start(self) -> None:
        if self.external:
            if not self.transport.startswith("udp"):
                wait_ready(self.host, self.port, "tcp", time.monotonic() + self.timeouts.startup_s)
            return
        self.stop()
        self.workdir = make_workdir()
        self.port = free_port(self.host)
        spec = self.impl.roles[self.role]
        values = {**base_placeholders(self.host, self.port, self.workdir), **self.placeholders}
        command = Command(
            spec.argv(values), spec.manifest_dir, fill_environment(self.environment, values)
        )
        self.command_line = command.shell()
        self.process = Launched(command, self.limits, self.workdir)
        self.starts += 1
        self.used = False
        transport = "udp" if self.transport == "udp" else "tcp"
        try:
            self.ready_after = wait_ready(
                self.host,
                self.port,
                transport,
                time.monotonic() + self.timeouts.startup_s,
                self.process,
            )
        except ImplementationError as exc:
            self.process.stop(self.timeouts.grace)
            tail = self.process.stderr.tail_text(2000).strip()
            raise ImplementationError(
                f"{self.impl.name} {self.role}: {exc}\ncommand: {self.command_line}"
                + (f"\nstderr tail:\n{tail}" if tail else "\nstderr: (empty)")
            ) from None
        self.needs_restart = False

    def ensure(self) -> str | None:
        """Make sure a server is up for the next case; say why it was restarted, if it was."""
        if self.external:
            return None
        why = None
        if self.process is None:
            why = ""
        elif self.process.poll() is not None:
            why = f"the server had exited ({self.process.describe_exit()}); restarted"
        elif self.needs_restart:
            why = "restarted after the previous case failed"
        if why is not None:
            self.start()
        return why or None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(self.timeouts.grace)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


@dataclasses.dataclass
class ServerHandle:
    """What a server-role case gets: where the implementation listens and recorded ways in."""

    host: str
    port: int
    record: CaseRecord
    timeouts: Timeouts
    supervisor: ServerSupervisor
    view: Callable[[], Viewer] | None = None  # the role's readable view of each connection

    @property
    def process(self) -> Launched | None:
        return self.supervisor.process

    @property
    def workdir(self) -> Path | None:
        """The server's private folder (``{workdir}``); None for a server given with --target."""
        return self.supervisor.workdir

    def connect(self, label: str = "", nodelay: bool = True) -> TcpConnection:
        conn = TcpConnection.connect(
            self.host, self.port, self.record.transcript, self.timeouts.reply_s, label, nodelay
        )
        if self.view is not None:
            conn.channel.viewer = self.view()
        return conn

    def udp(self, label: str = "") -> UdpEndpoint:
        return UdpEndpoint(self.record.transcript, self.host, self.timeouts.reply_s, label)

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def alive(self) -> bool:
        return self.process is None or self.process.poll() is None


@dataclasses.dataclass
class ClientRun:
    argv: list[str]
    status: int | None  # None: it was ended because it ran past its time
    stdout: bytes
    stderr: str
    duration: float
    timed_out: bool

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


class ClientRunner:
    """Runs an implementation's client role once per call, bounded in time."""

    def __init__(
        self,
        impl: Implementation,
        role: str,
        record: CaseRecord,
        timeouts: Timeouts,
        limits: Limits,
        placeholders: Mapping[str, Value],
        environment: Mapping[str, str] | None = None,
    ) -> None:
        if role not in impl.roles:
            raise HarnessError(f"{impl.name} has no command for {role}")
        self.impl, self.role, self.record = impl, role, record
        self.timeouts, self.limits = timeouts, limits
        self.placeholders = dict(placeholders)
        self.environment = dict(environment or {})

    @property
    def options(self) -> Mapping[str, str]:
        """The role's table in the manifest (``module`` for a role given as a callable)."""
        return self.impl.roles[self.role].options

    def start(
        self,
        *,
        port: int,
        host: str = "127.0.0.1",
        program: list[str] | None = None,
        **values: Value,
    ) -> Launched:
        """Start the role's command; or, with ``program``, a program of the suite's own that
        hosts the role (a WSGI callable), run the same way: in the manifest's folder, bounded,
        recorded. Placeholders are filled in both."""
        workdir = make_workdir()
        spec = self.impl.roles[self.role]
        filled = {**base_placeholders(host, port, workdir), **self.placeholders, **values}
        if program is None:
            argv = spec.argv(filled)
        else:
            argv = dataclasses.replace(spec, command=shlex.join(program)).argv(filled)
        command = Command(argv, spec.manifest_dir, fill_environment(self.environment, filled))
        self.record.commands.append(command.shell())
        proc = Launched(command, self.limits, workdir)
        self.record.processes.append((f"{self.role} of {self.impl.name}", proc))
        proc.workdir = workdir  # type: ignore[attr-defined]
        return proc

    def finish(self, proc: Launched, timeout: float, *, show_stdout: bool = True) -> ClientRun:
        """Wait for the client to exit (at most ``timeout`` s, already scaled), then clean up.
        ``show_stdout=False`` keeps its output out of the case's notes (a hosting program's
        report, which the suite shows in its own way)."""
        status = proc.wait(timeout)
        timed_out = status is None
        duration = time.monotonic() - proc.started
        if timed_out:
            self.record.note(f"the client was still running after {timeout:.1f} s and was ended")
        proc.stop(self.timeouts.grace)
        with contextlib.suppress(AttributeError):
            shutil.rmtree(proc.workdir, ignore_errors=True)  # type: ignore[attr-defined]
        run = ClientRun(
            proc.command.argv,
            None if timed_out else status,
            proc.stdout.getvalue(),
            proc.stderr.tail_text(),
            duration,
            timed_out,
        )
        shown = f"; stdout: {run.text[:300]!r}" if show_stdout else ""
        self.record.note(
            f"client {'timed out' if timed_out else proc.describe_exit()} after {duration:.2f} s"
            + shown
        )
        return run

    def run(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        timeout: float | None = None,
        program: list[str] | None = None,
        **values: Value,
    ) -> ClientRun:
        """Run the client to completion against ``host``:``port``; ``timeout`` is unscaled."""
        proc = self.start(port=port, host=host, program=program, **values)
        limit = self.timeouts(timeout) if timeout is not None else self.timeouts.client_s
        return self.finish(proc, limit, show_stdout=program is None)
