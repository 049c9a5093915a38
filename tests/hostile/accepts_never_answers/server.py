"""Hostile zen server: accepts and reads every connection, but never answers."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import RECV_SIZE, parse_args, serve

SILENCE = 300.0  # seconds a connection is held at most


def discard(conn: socket.socket) -> None:
    deadline = time.monotonic() + SILENCE
    conn.settimeout(SILENCE)
    while time.monotonic() < deadline and conn.recv(RECV_SIZE):
        pass


def main() -> None:
    args = parse_args(__doc__ or "")
    serve(args.host, args.port, on_connection=discard)


if __name__ == "__main__":
    main()
