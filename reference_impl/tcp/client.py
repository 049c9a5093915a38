"""tcp.client: send text, half-close, read the upper-cased echo and judge it (profile section 3).

    python3 tcp/client.py HOST PORT BYTES [--timeout SECONDS]

A thread writes while the main thread reads, so that neither side's buffers can fill up with
both programs blocked in a write. Exit status 0: the reply was exactly the upper-cased text.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from typing import Final

from core import ReplyChecker, make_text

RECV_SIZE: Final = 65536
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1


def send_text(sock: socket.socket, text: bytes, errors: list[OSError]) -> None:
    """Send every octet of ``text``, then shut down the sending side."""
    try:
        sock.sendall(text)
        # Profile 3.2: "After its last octet the client MUST shut down its sending side".
        sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        errors.append(exc)


def run(host: str, port: int, size: int, timeout: float) -> str | None:
    """Do the exchange; None if the reply was right, else what went wrong."""
    text = make_text(size)
    checker = ReplyChecker(text)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return f"cannot connect to {host} port {port}: {exc}"
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        write_errors: list[OSError] = []
        # Profile 3.4: "The client MUST read the reply while it is still sending".
        writer = threading.Thread(target=send_text, args=(sock, text, write_errors), daemon=True)
        writer.start()
        try:
            # Profile 3.5: "The client MUST keep reading until end-of-stream".
            while chunk := sock.recv(RECV_SIZE):
                checker.feed(chunk)
        except OSError as exc:
            return f"reading the reply failed after {checker.received} octets: {exc}"
        writer.join(timeout)
    problem = checker.problem()
    if problem is None and write_errors:
        return f"sending failed: {write_errors[0]}"
    return problem


def non_negative(value: str) -> int:
    size = int(value)
    if size < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description="Client of the upper-casing echo (tcp.client).")
    parser.add_argument("host", help="address of the server, IPv4 or IPv6")
    parser.add_argument("port", type=int, help="TCP port of the server")
    parser.add_argument("bytes", type=non_negative, help="number of octets of text to send")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up when the server sends nothing for this long (default: 60)",
    )
    args = parser.parse_args()
    problem = run(args.host, args.port, args.bytes, args.timeout)
    if problem is not None:
        print(f"client: {problem}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
