"""Everything a case leaves behind for its report: transcript, processes, notes, reproduction."""

from __future__ import annotations

import dataclasses
import shlex
from typing import TYPE_CHECKING

from wirecheck.transcript import Transcript

if TYPE_CHECKING:
    from wirecheck.launcher import Launched


@dataclasses.dataclass
class CaseRecord:
    transcript: Transcript = dataclasses.field(default_factory=Transcript)
    notes: list[str] = dataclasses.field(default_factory=list)
    # (label, process) whose stderr tail the report shows.
    processes: list[tuple[str, Launched]] = dataclasses.field(default_factory=list)
    commands: list[str] = dataclasses.field(default_factory=list)
    target: tuple[str, int] | None = None  # the server under test, for the replay script
    measurements: dict[str, object] = dataclasses.field(default_factory=dict)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def measure(self, name: str, value: object) -> None:
        """An informational figure (throughput, timings) shown with the case."""
        self.measurements[name] = value

    def stderr_tail(self, n: int = 3000) -> str:
        parts = []
        for label, proc in self.processes:
            text = proc.stderr.tail_text(n)
            if text.strip():
                parts.append(f"[{label}, pid {proc.pid}, {proc.describe_exit()}]\n{text}")
        return "\n".join(parts)

    def replay_script(self) -> str:
        """A short Python program that sends what the suite sent, and prints what comes back."""
        if self.target is None:
            return ""
        host, port = self.target
        lines = ["import socket", f"HOST, PORT = {host!r}, {port}"]
        for ch in self.transcript.channels:
            if not ch.sent and ch.kind != "tcp":
                continue
            v = f"s{ch.number}"
            if ch.kind == "tcp":
                lines.append(f"{v} = socket.create_connection((HOST, PORT), timeout=2)")
                lines += [f"{v}.sendall({chunk!r})" for chunk in ch.sent]
                if ch.sent_total > sum(len(c) for c in ch.sent):
                    lines.append(
                        f"# … {ch.sent_total} bytes were sent in all; the rest is left out"
                    )
                lines.append(f"print({v}.recv(65536))")
            elif ch.kind == "udp":
                fam = "socket.AF_INET6" if ":" in host else "socket.AF_INET"
                lines.append(f"{v} = socket.socket({fam}, socket.SOCK_DGRAM); {v}.settimeout(2)")
                for chunk in ch.sent:
                    lines.append(f"{v}.sendto({chunk!r}, (HOST, PORT)); print({v}.recvfrom(65536))")
        if len(lines) == 2:
            return ""
        script = "\n".join(lines)
        if len(script) > 6000:
            script = script[:6000] + "\n# … (cut)"
        return f"python3 - <<'EOF'\n{script}\nEOF"

    def reproduce(self, nodeid: str, impl_args: list[str]) -> str:
        out = []
        if self.commands:
            out.append("# the implementation was started as:")
            out += self.commands
        replay = self.replay_script()
        if replay:
            out.append("# then, by hand, what the suite sent:")
            out.append(replay)
        out.append("# or re-run just this case:")
        out.append(shlex.join(["python3", "-m", "pytest", nodeid, *impl_args]))
        return "\n".join(out)
