"""Hostile zen server: on each connection, sends "Ugly." endlessly without reading."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import parse_args, serve

CHUNK = b"Ugly." * 13_107  # about 64 KiB
MAX_BYTES = 2 * 1024**3  # per connection
MAX_SECONDS = 120.0  # per connection


def flood(conn: socket.socket) -> None:
    deadline = time.monotonic() + MAX_SECONDS
    sent = 0
    while sent < MAX_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        conn.settimeout(remaining)
        conn.sendall(CHUNK)
        sent += len(CHUNK)


def main() -> None:
    args = parse_args(__doc__ or "")
    serve(args.host, args.port, on_connection=flood)


if __name__ == "__main__":
    main()
