"""A small, correct, threaded zen server shared by the hostile battery.

The zen protocol: over TCP a question is a sequence of octets ending in ``?``,
an answer ends in ``.``; many pairs per connection; the client closes when done.

Each program of the battery imports this module and bends one part of it:
``serve`` takes an ``on_connection`` handler (default: ``handle``, the correct
one), and ``handle`` takes a ``reply`` function (default: send the answer).
Every server here gives up by itself after ``LIFETIME`` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

QUESTION_END = b"?"
ANSWERS = {
    b"Beautiful is better than?": b"Ugly.",
    b"Explicit is better than?": b"Implicit.",
    b"Simple is better than?": b"Complex.",
}
UNKNOWN = b"Error: unknown aphorism."

LIFETIME = 300.0  # seconds a server lives at most
IDLE_TIMEOUT = 120.0  # seconds a connection may stay silent
ACCEPT_POLL = 0.5  # seconds between checks of the lifetime
RECV_SIZE = 4096
BACKLOG = 64

Reply = Callable[[socket.socket, bytes], None]
Handler = Callable[[socket.socket], None]


def parse_args(description: str) -> argparse.Namespace:
    """The command line every program of the battery takes: host and port."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("host", help="address to listen on (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    return parser.parse_args()


def answer(question: bytes) -> bytes:
    """The answer to one complete question (ending in ``?``)."""
    return ANSWERS.get(question, UNKNOWN)


def send_answer(conn: socket.socket, reply: bytes) -> None:
    conn.sendall(reply)


def handle(conn: socket.socket, reply: Reply = send_answer) -> None:
    """Answer, in order, every question of one connection until the client closes.

    Questions may be split across segments or several may share one segment.
    """
    buffer = b""
    while True:
        data = conn.recv(RECV_SIZE)
        if not data:
            return
        buffer += data
        while QUESTION_END in buffer:
            question, _, buffer = buffer.partition(QUESTION_END)
            reply(conn, answer(question + QUESTION_END))


def _run(conn: socket.socket, on_connection: Handler) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(IDLE_TIMEOUT)
        # A reset, a timeout or a broken pipe just ends the connection.
        with contextlib.suppress(OSError):
            on_connection(conn)


def _exit_quietly(signum: int, frame: object) -> None:
    os._exit(0)


def listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    server = socket.socket(family, kind, proto)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(address)
    server.listen(BACKLOG)
    return server


def serve(
    host: str,
    port: int,
    on_connection: Handler | None = None,
    lifetime: float = LIFETIME,
) -> None:
    """Listen on host:port and run ``on_connection`` in a thread per connection.

    Exits quietly on SIGTERM/SIGINT unless the caller changed their handlers
    (e.g. to SIG_IGN) beforehand; returns after ``lifetime`` seconds.
    """
    handler = on_connection if on_connection is not None else handle
    for signum in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(signum, _exit_quietly)
    deadline = time.monotonic() + lifetime
    with listen(host, port) as server:
        server.settimeout(ACCEPT_POLL)
        while time.monotonic() < deadline:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                time.sleep(ACCEPT_POLL)  # e.g. out of file descriptors
                continue
            threading.Thread(target=_run, args=(conn, handler), daemon=True).start()
