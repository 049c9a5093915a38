"""http.server: an HTTP/1.1 origin server for the files under a folder (profile section 2).

    python3 http/server.py HOST PORT DOCROOT

One thread per connection, so a client that stalls or sends one octet at a time delays no one
else. Requests on one connection, pipelined or not, are answered one after the other, in order.
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
from typing import Final

from server_core import ParseError, RequestParser, error_response, respond

READ_SIZE: Final = 65536
BACKLOG: Final = 128
# A connection idle this long (no octet received) is closed.
IDLE_TIMEOUT: Final = 30.0
# More connections than this at once are accepted and closed at once.
MAX_CONNECTIONS: Final = 512
ACCEPT_POLL: Final = 0.5
LINGER_TIME: Final = 2.0

active = threading.BoundedSemaphore(MAX_CONNECTIONS)
stopping = threading.Event()


def listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(BACKLOG)
    sock.settimeout(ACCEPT_POLL)
    return sock


def serve_connection(conn: socket.socket, docroot: str) -> None:
    parser = RequestParser()
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(IDLE_TIMEOUT)
        while not stopping.is_set():
            try:
                request = parser.next_request()
            except ParseError as error:
                # Profile 2.2/2.3: an unparseable request gets its 4xx/5xx, then the connection
                # closes, so nothing smuggled behind it is ever answered.
                conn.sendall(error_response(error, time.time()).to_bytes())
                linger(conn)
                return
            if request is None:
                data = conn.recv(READ_SIZE)
                if not data:
                    return
                parser.feed(data)
                continue
            response = respond(request, docroot, time.time())
            conn.sendall(response.to_bytes())
            # RFC 9112 §9.6: a server that sends "close" "MUST initiate a close of the
            # connection ... after it sends the response containing the close option".
            if response.close:
                return
    except OSError:
        pass  # a client that resets or times out ends its own connection only
    finally:
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
        conn.close()
        active.release()


def linger(conn: socket.socket) -> None:
    """Half-close, then read and drop what the client still sends, for a bounded time.

    Closing with unread octets makes the kernel send a reset, which can destroy the error
    response before the client reads it (RFC 9112 §9.6, "lingering close")."""
    conn.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + LINGER_TIME
    conn.settimeout(LINGER_TIME)
    while time.monotonic() < deadline and conn.recv(READ_SIZE):
        pass


def stop(signum: int, frame: FrameType | None) -> None:
    stopping.set()


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP/1.1 file server (http.server).")
    parser.add_argument("host", help="address to listen on, IPv4 or IPv6")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    parser.add_argument("docroot", help="folder whose files are served")
    args = parser.parse_args()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    sock = listening_socket(args.host, args.port)
    with sock:
        while not stopping.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                continue  # interrupted by a signal, or the client gave up first
            if not active.acquire(blocking=False):
                conn.close()
                continue
            thread = threading.Thread(
                target=serve_connection, args=(conn, args.docroot), daemon=True
            )
            thread.start()
    sys.exit(0)


if __name__ == "__main__":
    main()
