"""framing.server: echo each length-prefixed block; answer the terminator, then close.

Usage: python3 framing/server.py HOST PORT

One thread per connection; the protocol logic lives in core.py.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import sys
import threading
import time
from types import FrameType

from core import BlockDecoder, FramingError, encode_block

RECV_SIZE = 65536
BACKLOG = 64
IDLE_TIMEOUT = 60.0  # seconds a connection may stay silent before it is dropped
LINGER_TIMEOUT = 2.0  # seconds spent draining a client's octets after the terminator
LINGER_MAX_OCTETS = 1024 * 1024
ACCEPT_RETRY_DELAY = 0.1


class _Stop(Exception):
    """Raised from the signal handler to leave the accept loop."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _linger_close(conn: socket.socket) -> None:
    """Send end-of-stream, then drain briefly so that octets the client sent after
    the terminator do not turn our close into a reset that could destroy answers
    still in flight."""
    # Profile 2.3: "Octets a client sends after the terminator are not part of the
    # conversation; the server MAY discard them."
    conn.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + LINGER_TIMEOUT
    drained = 0
    while drained < LINGER_MAX_OCTETS:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn.settimeout(remaining)
        chunk = conn.recv(RECV_SIZE)
        if not chunk:
            break
        drained += len(chunk)


def serve_connection(conn: socket.socket) -> None:
    """Run one conversation; any error ends this connection only."""
    decoder = BlockDecoder()
    # Profile 2.6: "A connection that ends before a block is complete [...] MUST NOT
    # disturb the server: the server MUST keep serving its other connections and
    # MUST accept and serve new ones."
    with conn, contextlib.suppress(OSError, FramingError):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(IDLE_TIMEOUT)
        while not decoder.finished:
            data = conn.recv(RECV_SIZE)
            if not data:
                # Profile 2.6: "The server MUST NOT answer an incomplete block. When a
                # client's stream ends, the server MUST close its side of the connection
                # once it has sent the answers it owes."
                return
            for payload in decoder.feed(data):
                # Profile 2.1: "The server MUST answer each block with exactly one block
                # whose payload is the same octets, in the order the blocks were received,
                # and MUST send each answer as soon as it has received the whole block."
                # The terminator's answer is the zero-length block (Profile 2.3).
                conn.sendall(encode_block(payload))
        # Profile 2.3: "When the server receives a zero-length block it MUST answer with
        # a zero-length block (`00 00 00 00`) and then close the connection."
        _linger_close(conn)


def open_listener(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket to host (IPv4 or IPv6) and port."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


def main() -> None:
    parser = argparse.ArgumentParser(
        description="framing.server: echo length-prefixed blocks (4-octet big-endian length)."
    )
    parser.add_argument("host", help="address to listen on, e.g. 127.0.0.1 or ::1")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    args = parser.parse_args()

    try:
        listener = open_listener(args.host, args.port)
    except OSError as exc:
        print(f"server: cannot listen on {args.host} port {args.port}: {exc}", file=sys.stderr)
        sys.exit(1)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with listener, contextlib.suppress(_Stop):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError as exc:  # e.g. out of file descriptors: wait, then go on
                print(f"server: accept failed: {exc}", file=sys.stderr)
                time.sleep(ACCEPT_RETRY_DELAY)
                continue
            # Profile 2.7: "The server SHOULD serve connections concurrently: a client
            # that stalls in the middle of a block SHOULD NOT delay the answers to
            # other clients."
            threading.Thread(target=serve_connection, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
