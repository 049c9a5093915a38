"""Hostile zen server: answers every question with 64 KiB of random octets, never a dot."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import handle, parse_args, serve

GARBAGE_SIZE = 64 * 1024
ANSWER_END = b"."
NO_DOT = bytes.maketrans(ANSWER_END, b",")


def garbage_reply(conn: socket.socket, reply: bytes) -> None:
    conn.sendall(os.urandom(GARBAGE_SIZE).translate(NO_DOT))


def garbage_handle(conn: socket.socket) -> None:
    handle(conn, reply=garbage_reply)


def main() -> None:
    args = parse_args(__doc__ or "")
    serve(args.host, args.port, on_connection=garbage_handle)


if __name__ == "__main__":
    main()
