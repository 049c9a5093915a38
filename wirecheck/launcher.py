"""Running untrusted implementations: limits, drained output, readiness, and a clean teardown.

Each process runs in its own session (so its own process group) under resource limits, with a
clean environment that carries a launch token. Its stdout and stderr are drained by threads into
bounded buffers (head and tail kept), so a chatty implementation is never blocked on a full pipe
and never killed for talking. At teardown the group gets SIGTERM, then everything that belongs to
the launch gets SIGKILL: the group, the session, every descendant, and every process that carries
the token (one that called ``setsid`` and double-forked still inherits it). The harness is a
child subreaper, so orphans are re-parented to it and reaped.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from wirecheck.verdicts import ImplementationError

TOKEN_VAR = "WIRECHECK_LAUNCH"
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits for untrusted code. RLIMIT_NPROC is deliberately not set: it counts every
    thread of the whole user, so capping it breaks correct threaded servers and the harness."""

    cpu_seconds: int = 300
    memory_bytes: int = 4 << 30  # RLIMIT_DATA: heap and private mappings
    file_bytes: int = 1 << 30  # RLIMIT_FSIZE: what it may write to one file

    def apply(self, pid: int) -> None:
        for which, value in (
            (resource.RLIMIT_CPU, self.cpu_seconds),
            (resource.RLIMIT_DATA, self.memory_bytes),
            (resource.RLIMIT_FSIZE, self.file_bytes),
            (resource.RLIMIT_CORE, 0),
        ):
            with contextlib.suppress(OSError, ValueError):
                resource.prlimit(pid, which, (value, value))


class BoundedBuffer:
    """Keeps the first ``head`` and the last ``tail`` octets of a stream, and counts the rest."""

    def __init__(self, head: int = 64 * 1024, tail: int = 64 * 1024) -> None:
        self.head_limit, self.tail_limit = head, tail
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.total += len(data)
            room = self.head_limit - len(self.head)
            if room > 0:
                self.head += data[:room]
                data = data[room:]
            if data:
                self.tail += data
                if len(self.tail) > self.tail_limit:
                    del self.tail[: len(self.tail) - self.tail_limit]

    def getvalue(self) -> bytes:
        """All of it, when it fitted; else the head, a marker, and the tail."""
        with self.lock:
            skipped = self.total - len(self.head) - len(self.tail)
            if skipped <= 0:
                return bytes(self.head + self.tail)
            return (
                bytes(self.head) + f"\n[… {skipped} bytes not kept …]\n".encode() + bytes(self.tail)
            )

    def tail_text(self, n: int = 4000) -> str:
        with self.lock:
            data = bytes(
                (self.head + self.tail)
                if self.total <= self.head_limit + self.tail_limit
                else self.tail
            )
        text = data[-n:].decode("utf-8", "replace")
        return ("…" + text) if len(data) > n else text


def _drain(fd: int, sink: BoundedBuffer) -> None:
    try:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            sink.write(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _proc_stat(pid: str) -> tuple[int, int, int] | None:
    """(ppid, pgrp, session) of a process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    return int(fields[1]), int(fields[2]), int(fields[3])


def _has_token(pid: str, token: bytes) -> bool:
    try:
        return token in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


def find_launch_processes(root: int, token: str, *, root_reaped: bool = False) -> set[int]:
    """Every live process of one launch: its session, group, descendants and token holders.

    Once the root has been reaped its pid may be reused, even as a new session or group leader
    of someone else's; from then on only the token (and descendants of its holders) counts.
    """
    if not Path("/proc").is_dir():
        return set()
    needle = f"{TOKEN_VAR}={token}\0".encode()
    table: dict[int, tuple[int, int, int]] = {}
    found: set[int] = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        stat = _proc_stat(entry)
        if stat is None:
            continue
        pid = int(entry)
        table[pid] = stat
        by_group = not root_reaped and (stat[1] == root or stat[2] == root)
        if by_group or _has_token(entry, needle):
            found.add(pid)
    if not root_reaped:
        found.add(root)
    grew = True
    while grew:  # add descendants of what was found
        grew = False
        for pid, (ppid, _, _) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return {pid for pid in found if pid in table}


@dataclasses.dataclass
class Command:
    argv: list[str]
    cwd: Path
    env_extra: dict[str, str] = dataclasses.field(default_factory=dict)

    def shell(self) -> str:
        import shlex

        return f"cd {shlex.quote(str(self.cwd))} && {shlex.join(self.argv)}"


class Launched:
    """One running implementation process (and whatever it spawned)."""

    def __init__(self, command: Command, limits: Limits, workdir: Path) -> None:
        self.command = command
        self.token = secrets.token_hex(8)
        self.stdout = BoundedBuffer()
        self.stderr = BoundedBuffer()
        self.started = time.monotonic()
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            TOKEN_VAR: self.token,
            **command.env_extra,
        }
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                command.argv,
                cwd=command.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            for fd in (out_r, out_w, err_r, err_w):
                os.close(fd)
            raise ImplementationError(f"could not start {command.argv[0]!r}: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                os.close(out_w)
                os.close(err_w)
        limits.apply(self.proc.pid)
        self._threads = [
            threading.Thread(target=_drain, args=(out_r, self.stdout), daemon=True),
            threading.Thread(target=_drain, args=(err_r, self.stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.stopped = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = 0.3) -> int | None:
        """End the process and everything it started; return its exit status."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            self.wait(grace)
        for _ in range(50):
            reaped = self.proc.returncode is not None
            victims = find_launch_processes(self.proc.pid, self.token, root_reaped=reaped)
            victims.discard(os.getpid())
            if not victims or (victims == {self.proc.pid} and self.proc.poll() is not None):
                break
            for pid in victims:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            _reap(victims)
            time.sleep(0.002)
        self.wait(2.0)
        for thread in self._threads:  # EOF comes once every writer is gone; never wait long
            thread.join(0.2)
        return self.proc.returncode

    def describe_exit(self) -> str:
        code = self.proc.returncode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"


def _reap(pids: set[int]) -> None:
    """Collect adopted orphans (we are their subreaper) so no zombie is left."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


# -- ports and readiness -------------------------------------------------------------------------
def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port free for both TCP and UDP on ``host``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
            return port
    raise OSError("no free port found")


def udp_port_bound(port: int) -> bool:
    """Whether some socket is bound to UDP ``port`` (from /proc/net/udp{,6})."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 1 and fields[1].endswith(suffix):
                return True
    return False


def tcp_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_ready(
    host: str, port: int, transport: str, deadline: float, process: Launched | None = None
) -> float:
    """Poll until the port accepts (TCP) or is bound (UDP); return the seconds it took."""
    start = time.monotonic()
    pause = 0.001
    while True:
        ready = udp_port_bound(port) if transport == "udp" else tcp_accepts(host, port)
        if ready:
            return time.monotonic() - start
        if process is not None and process.poll() is not None:
            process.stop()
            raise ImplementationError(
                f"the implementation exited before it was ready ({process.describe_exit()})"
            )
        if time.monotonic() > deadline:
            what = "bound a UDP socket to" if transport == "udp" else "accepted connections on"
            raise ImplementationError(
                f"the implementation never {what} {host}:{port} within "
                f"{deadline - start:.1f} s (raise it with --timeout-scale)"
            )
        time.sleep(pause)
        pause = min(pause * 1.5, 0.05)
