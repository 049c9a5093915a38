"""The datagram length service without sockets: reply text and retransmission schedule.

Everything here takes and returns plain values, so the protocol logic can be tested without a
network. server.py and client.py do the socket work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

REPLY_TEMPLATE: Final = "Your data was {} bytes long"
REPLY_ENCODING: Final = "ascii"

# Profile 1.3: "A request is any sequence of 0 to 65,507 octets: 65,535 (the largest IPv4
# packet) less 20 octets of IPv4 header and 8 octets of UDP header."
MAX_PAYLOAD: Final = 65_535 - 20 - 8
# A receive buffer of this size never truncates a datagram, over IPv4 or IPv6.
RECV_BUFFER: Final = 65_535

# The reference client's schedule: waits of 0.05, 0.1, 0.2, 0.4 and 0.8 s.
FIRST_WAIT: Final = 0.05
BACKOFF_FACTOR: Final = 2.0
RETRANSMISSIONS: Final = 4

# Limits every schedule must keep (profile 3.3 and 3.4).
MIN_FIRST_WAIT: Final = 0.05
MAX_FIRST_WAIT: Final = 1.0
MIN_BACKOFF_FACTOR: Final = 1.5
MIN_RETRANSMISSIONS: Final = 3
GIVE_UP_WITHIN: Final = 30.0


def reply_for(request: bytes) -> bytes:
    """The reply to one request datagram."""
    # Profile 2.1: "the server MUST send a reply whose octets are exactly the ASCII text
    # `Your data was N bytes long`, N being the number of octets in the request, in decimal."
    # "the server MUST NOT take N from a decoded form of the request": len() of the bytes.
    return REPLY_TEMPLATE.format(len(request)).encode(REPLY_ENCODING)


@dataclass(frozen=True)
class RetransmitSchedule:
    """How long a client waits for a reply after each send, and when it gives up.

    Send number 1 is the request, sends 2 to `attempts` are its retransmissions. After send
    number k the client waits `wait_after(k)` seconds for a reply; when the wait after the last
    send runs out, it gives up.
    """

    first_wait: float = FIRST_WAIT
    factor: float = BACKOFF_FACTOR
    retransmissions: int = RETRANSMISSIONS

    def __post_init__(self) -> None:
        # Profile 3.3: "The first wait (from the first request to the first retransmission)
        # MUST be at least 0.05 s and at most 1 s, and every later wait MUST be at least 1.5
        # times the wait before it."
        if not MIN_FIRST_WAIT <= self.first_wait <= MAX_FIRST_WAIT:
            raise ValueError(f"first wait {self.first_wait} s is outside 0.05 s to 1 s")
        if self.factor < MIN_BACKOFF_FACTOR:
            raise ValueError(f"backoff factor {self.factor} is below 1.5")
        # Profile 3.4: "It MUST NOT give up before it has retransmitted the request at least
        # 3 times (4 requests in all)".
        if self.retransmissions < MIN_RETRANSMISSIONS:
            raise ValueError(f"{self.retransmissions} retransmissions, fewer than 3")
        # Profile 3.4: "it MUST exit with a non-zero status within 30 s of being started".
        if self.total_wait() >= GIVE_UP_WITHIN:
            raise ValueError(f"waits add up to {self.total_wait()} s, not under 30 s")

    @property
    def attempts(self) -> int:
        """How many times the request is sent at most: once, plus the retransmissions."""
        return 1 + self.retransmissions

    def wait_after(self, sends: int) -> float:
        """Seconds to wait for a reply after send number `sends` (1 to `attempts`)."""
        if not 1 <= sends <= self.attempts:
            raise ValueError(f"send number {sends} is outside 1 to {self.attempts}")
        return float(self.first_wait * self.factor ** (sends - 1))

    def waits(self) -> list[float]:
        """Every wait in order, one per send."""
        return [self.wait_after(sends) for sends in range(1, self.attempts + 1)]

    def total_wait(self) -> float:
        """Seconds from the first send until the client gives up, if no reply ever comes."""
        return sum(self.waits())
