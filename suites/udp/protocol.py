"""The udp suite's wire constants and small helpers (the judge's own table, udp PROFILE)."""

from __future__ import annotations

import re

# udp profile §1.3: "A request is any sequence of 0 to 65,507 octets: 65,535 (the largest IPv4
# packet) less 20 octets of IPv4 header and 8 octets of UDP header."
MAX_REQUEST = 65_535 - 20 - 8
RECV_BUFFER = 65_535

# udp profile §1.3: the reply text, `Your data was N bytes long`, N in decimal without sign,
# separators or leading zeros.
REPLY_TEMPLATE = "Your data was {} bytes long"
REPLY_PREFIX = b"Your data was"
REPLY_PATTERN = re.compile(rb"Your data was (0|[1-9][0-9]*) bytes long")

# udp profile §1.4: the suite's own client sends each request up to 20 times, 0.25 s apart.
COPIES = 20
COPY_INTERVAL = 0.25
# udp profile §2.4: how long the suite listens for stray replies after the last one.
LISTEN_AFTER = 0.5

# udp profile §1.5: the forger's reply, sent from another port before the true one.
FORGED_LENGTH = 31337

# udp profile §3.1, §3.5: a client with a prompt server exits within 10 s (scaled).
REPLY_WITHIN = 10.0
# udp profile §3.2, §3.4: protocol timing, not scaled.
GIVE_UP_WITHIN = 30.0
# udp profile §1.5: a client still running after 35 s (scaled) is killed.
KILL_AFTER = 35.0
# udp profile §1.5: the drop-3 server ignores this many requests.
DROPPED_REQUESTS = 3
# udp profile §3.4: the request and at least 3 retransmissions before giving up.
MIN_REQUESTS = 4

# udp profile §3.3: backoff bounds, with the allowance for scheduling jitter.
FIRST_WAIT_MIN = 0.05 - 0.02
FIRST_WAIT_MAX = 1.0 + 0.05
BACKOFF_FACTOR = 1.5
BACKOFF_JITTER = 0.02


def reply_for(length: int) -> bytes:
    """The exact reply to a request of ``length`` octets."""
    return REPLY_TEMPLATE.format(length).encode("ascii")


FORGED_REPLY = reply_for(FORGED_LENGTH)


def named_length(datagram: bytes) -> int | None:
    """The N a reply names under the loose match of profile §1.3 (ASCII, whitespace stripped)."""
    match = REPLY_PATTERN.fullmatch(datagram.strip())
    return int(match.group(1)) if match else None


def cycling(length: int) -> bytes:
    """``length`` octets cycling through the values 0x00 to 0xff."""
    return bytes(range(256)) * (length // 256) + bytes(range(length % 256))
