"""Aphorism server (zen.server) in the three architectures of the chapter.

--mode asyncio   one event loop, an asyncio.Protocol per connection (the default)
--mode threaded  a thread per connection
--mode single    one client at a time: a teaching variant, where a stalled client blocks everyone
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Final

from core import MessageTooLong, QuestionSplitter, answers_to

RECV_SIZE: Final = 4096
BACKLOG: Final = 128
ACCEPT_RETRY: Final = 0.1  # seconds to wait after a failed accept() (e.g. out of descriptors)
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


def converse(conn: socket.socket) -> None:
    """Answer every question of one connection until the client closes it (blocking I/O)."""
    splitter = QuestionSplitter()
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while data := conn.recv(RECV_SIZE):
                if reply := answers_to(splitter, data):
                    conn.sendall(reply)
        # Profile 3.5: "A client that closes or resets its connection before its question is
        # complete, or before it has read its answer, MUST NOT break the service for other
        # clients".
        except (OSError, MessageTooLong):
            return
    # Profile 3.8: "When the client closes its side of the connection, the server MUST close the
    # connection too. It MUST NOT answer an unfinished question that the close cut short."
    # (Leaving the loop drops splitter.pending; leaving the with block closes the socket.)


def _accept_forever(listener: socket.socket, handle: Callable[[socket.socket], None]) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            time.sleep(ACCEPT_RETRY)
            continue
        handle(conn)


def serve_single(listener: socket.socket) -> None:
    """One client at a time: while one conversation lasts, every other client waits."""
    _accept_forever(listener, converse)


def serve_threaded(listener: socket.socket) -> None:
    """A thread per connection: a stalled client stalls only its own thread."""

    def spawn(conn: socket.socket) -> None:
        threading.Thread(target=converse, args=(conn,), daemon=True).start()

    _accept_forever(listener, spawn)


class ZenProtocol(asyncio.Protocol):
    """One connection of the event-loop server: callbacks, no blocking."""

    def __init__(self, connections: set[asyncio.Transport]) -> None:
        self._connections = connections
        self._splitter = QuestionSplitter()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._connections.add(transport)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        try:
            reply = answers_to(self._splitter, data)
        except MessageTooLong:
            self._transport.close()
            return
        if reply:
            self._transport.write(reply)

    def eof_received(self) -> bool:
        # Profile 3.8: "When the client closes its side of the connection, the server MUST close
        # the connection too." Returning False lets asyncio close the transport.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        # Profile 3.5: a reset or broken pipe ends this connection only; asyncio reports it here.
        if self._transport is not None:
            self._connections.discard(self._transport)

    # A client that sends questions but never reads its answers must not grow our buffer forever.
    def pause_writing(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None:
            self._transport.resume_reading()


async def serve_asyncio(listener: socket.socket) -> None:
    """One thread, one event loop: every connection advances when its octets arrive."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    connections: set[asyncio.Transport] = set()
    server = await loop.create_server(lambda: ZenProtocol(connections), sock=listener)
    async with server:
        await stop.wait()
        for transport in list(connections):
            transport.abort()


def main() -> None:
    parser = argparse.ArgumentParser(description="Aphorism server (zen.server).")
    parser.add_argument("host", help="address to listen on (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    parser.add_argument(
        "--mode",
        choices=("asyncio", "threaded", "single"),
        default="asyncio",
        help="server architecture (default: asyncio)",
    )
    args = parser.parse_args()
    listener = listen(args.host, args.port)
    try:
        if args.mode == "asyncio":
            asyncio.run(serve_asyncio(listener))
        else:
            for signum in STOP_SIGNALS:
                signal.signal(signum, _raise_stop)
            (serve_threaded if args.mode == "threaded" else serve_single)(listener)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        listener.close()


if __name__ == "__main__":
    main()
