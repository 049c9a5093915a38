"""Greeting server (tls.server): on each TLS connection, send the greeting and close.

A thread per connection does the handshake, with a time limit, so a client that stalls in the
handshake holds only its own thread.
"""

from __future__ import annotations

import argparse
import signal
import socket
import ssl
import sys
import threading
import time
from types import FrameType
from typing import Final

from core import GREETING, describe_failure, server_context

BACKLOG: Final = 128
ACCEPT_RETRY: Final = 0.1  # seconds to wait after a failed accept() (e.g. out of descriptors)
# Profile 2.6: "A server MAY close a connection whose handshake has not completed within 10 s."
CONNECTION_TIMEOUT: Final = 10.0
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)


class _Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    listener.listen(BACKLOG)
    return listener


def greet(conn: socket.socket, context: ssl.SSLContext) -> None:
    """Handshake, send the greeting, send close_notify, close (runs in its own thread)."""
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Profile 2.6: a client that stalls mid-handshake "MUST NOT delay the service of any
        # other client": the time limit frees this thread, the thread frees everyone else.
        conn.settimeout(CONNECTION_TIMEOUT)
        try:
            # Profile 2.6: "The server MUST survive a client that sends octets that are not
            # TLS, aborts the handshake or stalls in it": each ends here in an OSError.
            tls = context.wrap_socket(conn, server_side=True)
        except OSError as exc:
            print(f"tls server: handshake failed: {describe_failure(exc)}", file=sys.stderr)
            return
        with tls:
            try:
                tls.sendall(GREETING)
                # Profile 2.7: "The server SHOULD send a close_notify alert after the greeting,
                # before it closes the connection". unwrap() sends it, then waits for the
                # client's own.
                tls.unwrap()
            # RFC 8446 6.1: the initiator of the close need not wait for the responding
            # close_notify; a client that just closes its socket ends up here.
            except OSError:
                pass


def serve(listener: socket.socket, context: ssl.SSLContext) -> None:
    """Accept forever; a thread per connection."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            time.sleep(ACCEPT_RETRY)
            continue
        threading.Thread(target=greet, args=(conn, context), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description="Greeting server over TLS (tls.server).")
    parser.add_argument("host", help="address to listen on (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    parser.add_argument("certfile", help="PEM file: the server's certificate, then its chain")
    parser.add_argument("keyfile", help="PEM file: the server's private key")
    parser.add_argument(
        "cafile",
        nargs="?",
        default="",
        help="PEM file of authorities for client certificates; empty: none requested",
    )
    args = parser.parse_args()
    context = server_context(args.certfile, args.keyfile, args.cafile)
    listener = listen(args.host, args.port)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)
    try:
        serve(listener, context)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        listener.close()


if __name__ == "__main__":
    main()
