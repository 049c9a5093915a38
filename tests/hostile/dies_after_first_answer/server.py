"""Hostile zen server: correct, but the whole process crashes right after its first answer."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import handle, parse_args, serve

CRASH_STATUS = 1


def reply_then_die(conn: socket.socket, reply: bytes) -> None:
    conn.sendall(reply)
    print("crash: segmentation fault after first answer (simulated)", file=sys.stderr, flush=True)
    os._exit(CRASH_STATUS)


def dying_handle(conn: socket.socket) -> None:
    handle(conn, reply=reply_then_die)


def main() -> None:
    args = parse_args(__doc__ or "")
    serve(args.host, args.port, on_connection=dying_handle)


if __name__ == "__main__":
    main()
