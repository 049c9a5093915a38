"""Datagram length client (udp.client): sends one request and prints the reply.

Without a reply it retransmits with exponential backoff (see core.RetransmitSchedule) and
finally gives up with exit status 1.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import Final

from core import RECV_BUFFER, REPLY_ENCODING, RetransmitSchedule

DEFAULT_MESSAGE: Final = "The quick brown fox jumps over the lazy dog"
EXIT_NO_REPLY: Final = 1
EXIT_INTERRUPTED: Final = 130


def receive(sock: socket.socket, wait: float) -> bytes | None:
    """The first datagram to arrive on the connected `sock` within `wait` seconds, or None."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            return sock.recv(RECV_BUFFER)
        except TimeoutError:
            return None
        except ConnectionRefusedError:
            # An ICMP "port unreachable" for an earlier send: nobody listens yet. Treat it as
            # loss and wait out the rest of this interval, so the backoff keeps its timing.
            continue
    return None


def request(host: str, port: int, message: bytes, schedule: RetransmitSchedule) -> bytes | None:
    """Send `message` to host:port until a reply arrives or the schedule runs out."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    with socket.socket(family, kind, proto) as sock:
        # Profile 3.5: "The client MUST accept a reply only from the address and port it sent
        # the request to [...] It SHOULD do so by connecting its socket to `{host}:{port}`".
        sock.connect(address)
        for sends in range(1, schedule.attempts + 1):
            # Profile 3.2: "If no reply arrives, the client MUST retransmit the request: send
            # the same octets to the same address and port again." Same socket every time.
            sock.send(message)
            # Profile 3.3: "Before each retransmission the client MUST wait longer than before
            # the previous one."
            reply = receive(sock, schedule.wait_after(sends))
            if reply is not None:
                return reply
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description="Datagram length client (udp.client).")
    parser.add_argument("host", help="server address (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="server UDP port")
    parser.add_argument(
        "--message",
        default=DEFAULT_MESSAGE,
        metavar="TEXT",
        help=f"request text, sent as UTF-8 (default: {DEFAULT_MESSAGE!r})",
    )
    args = parser.parse_args()
    schedule = RetransmitSchedule()
    try:
        reply = request(args.host, args.port, args.message.encode("utf-8"), schedule)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    if reply is None:
        # Profile 3.4: "it MUST exit with a non-zero status within 30 s of being started,
        # after writing a message that says so to standard error."
        print(
            f"udp client: no reply from {args.host}:{args.port} after {schedule.attempts} attempts",
            file=sys.stderr,
        )
        sys.exit(EXIT_NO_REPLY)
    # Profile 3.1: "When a reply arrives it MUST write the reply text to standard output and
    # exit with status 0."
    print(reply.decode(REPLY_ENCODING, errors="replace"))


if __name__ == "__main__":
    main()
