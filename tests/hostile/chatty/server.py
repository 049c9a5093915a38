"""Hostile zen server: correct, but floods stdout and stderr (20 MB at start, 100 KB per answer)."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zen_ok import handle, parse_args, serve

START_BYTES = 20 * 1000 * 1000
ANSWER_BYTES = 100 * 1000
LINE = b"chatter chatter chatter chatter chatter chatter chatter chatter chatter chatter\n"


def chatter(total: int) -> None:
    """Write about `total` bytes to stdout and to stderr, in 64 KiB writes."""
    block = LINE * (65536 // len(LINE))
    for stream in (sys.stdout.buffer, sys.stderr.buffer):
        written = 0
        while written < total:
            piece = block[: total - written]
            stream.write(piece)
            written += len(piece)
        stream.flush()


def chatty_reply(conn: socket.socket, reply: bytes) -> None:
    chatter(ANSWER_BYTES)
    conn.sendall(reply)


def chatty_handle(conn: socket.socket) -> None:
    handle(conn, reply=chatty_reply)


def main() -> None:
    args = parse_args(__doc__ or "")
    chatter(START_BYTES)
    serve(args.host, args.port, on_connection=chatty_handle)


if __name__ == "__main__":
    main()
