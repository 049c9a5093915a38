"""One factor scales every timeout (``--timeout-scale``), for slow machines or debugging."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Timeouts:
    scale: float = 1.0
    # The allowance a server gets to start accepting connections.
    startup: float = 10.0
    # How long a reply that is due may take to arrive.
    reply: float = 2.0
    # How long a client role may run before it is ended.
    client: float = 15.0
    # How long a process gets between SIGTERM and SIGKILL at teardown.
    grace: float = 0.3

    def __call__(self, seconds: float) -> float:
        """``seconds`` scaled by the run's factor."""
        return seconds * self.scale

    @property
    def startup_s(self) -> float:
        return self.startup * self.scale

    @property
    def reply_s(self) -> float:
        return self.reply * self.scale

    @property
    def client_s(self) -> float:
        return self.client * self.scale
