"""Datagram length server (udp.server): answers each datagram with its length.

With --drop-probability P it pretends to lose a share P of the requests, the way the
textbook's lossy server shows what packet loss looks like to a client.
"""

from __future__ import annotations

import argparse
import random
import signal
import socket
from types import FrameType
from typing import Final

from core import RECV_BUFFER, reply_for

STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)


class _Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def probability(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def bind(host: str, port: int) -> socket.socket:
    """A UDP socket bound to host:port (IPv4 or IPv6)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


def serve(sock: socket.socket, drop_probability: float, rng: random.Random) -> None:
    """Answer datagrams forever, one reply per request."""
    while True:
        try:
            # RECV_BUFFER holds the largest datagram: a smaller buffer silently truncates it.
            request, source = sock.recvfrom(RECV_BUFFER)
        except (ConnectionResetError, ConnectionRefusedError):
            # Some systems report an ICMP error about an earlier reply here; not a request.
            continue
        if rng.random() < drop_probability:
            continue
        # Profile 2.2: "The server MUST send each reply to the source address and source port
        # of the request it answers, that is, to the address `recvfrom` returned".
        # Profile 2.3: "The server MUST send each reply from the address and port the request
        # was sent to": the reply leaves through the socket that received the request.
        # Profile 2.4: "The server MUST NOT send more than one reply to a request datagram."
        try:
            sock.sendto(reply_for(request), source)
        except OSError:
            # Profile 2.6: "After receiving any datagram, whatever its size or content, the
            # server MUST go on serving". A failed send loses one reply, as the network may.
            continue


def main() -> None:
    parser = argparse.ArgumentParser(description="Datagram length server (udp.server).")
    parser.add_argument("host", help="address to bind (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="UDP port to bind")
    parser.add_argument(
        "--drop-probability",
        type=probability,
        default=0.0,
        metavar="P",
        help="pretend to lose each request with probability P (default: 0, never)",
    )
    args = parser.parse_args()
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)
    try:
        with bind(args.host, args.port) as sock:
            serve(sock, args.drop_probability, random.Random())
    except _Stop:
        pass


if __name__ == "__main__":
    main()
