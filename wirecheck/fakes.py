"""Reference servers for client-role cases, in the style of urllib3's dummyserver.

A fake runs in threads inside the harness and records everything into the case's transcript. The
handler speaks the protocol (often wrongly on purpose: name fakes for their misbehaviour); what it
raises is kept and re-raised in the test by ``check()``, so a client's breach seen by the server
fails the case with the server's words.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable

from wirecheck.transcript import Transcript
from wirecheck.views import Viewer
from wirecheck.wire import TcpConnection, UdpEndpoint

# SO_TIMESTAMPNS (Linux); the standard library does not always name it.
TIMESTAMPNS: int = getattr(socket, "SO_TIMESTAMPNS", 35)
TcpHandler = Callable[[TcpConnection], None]


class FakeTcpServer:
    """Accepts on an ephemeral port; runs ``handler(conn)`` in a thread per connection."""

    def __init__(
        self,
        handler: TcpHandler,
        transcript: Transcript,
        *,
        host: str = "127.0.0.1",
        timeout: float = 5.0,
        rcvbuf: int | None = None,
        sndbuf: int | None = None,
        nodelay: bool = True,
        view: Callable[[], Viewer] | None = None,
    ) -> None:
        self.handler, self.transcript, self.timeout = handler, transcript, timeout
        self.view = view  # a readable view of each connection (wirecheck.views.HttpView)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.nodelay = nodelay
        self.connections: list[TcpConnection] = []
        self.errors: list[BaseException] = []
        self.done = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def __enter__(self) -> FakeTcpServer:
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.sock.accept()
            except OSError:  # closed: shutdown() woke the blocked accept
                return
            if self.nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = TcpConnection(sock, self.transcript, self.timeout, label="client's")
            if self.view is not None:
                conn.channel.viewer = self.view()
            self.connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)  # only started threads: close() joins them

    def _serve(self, conn: TcpConnection) -> None:
        try:
            self.handler(conn)
        except BaseException as exc:  # kept for check(): the test thread re-raises it
            self.errors.append(exc)
        finally:
            self.done.set()

    def wait_done(self, timeout: float) -> bool:
        """Wait until a handler has returned (or raised)."""
        return self.done.wait(timeout)

    def check(self) -> None:
        """Re-raise, in the test, the first error a handler raised."""
        __tracebackhide__ = True
        if self.errors:
            raise self.errors[0]

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() at once
        if self._accepter.ident is not None:  # closed without ever being started is fine
            self._accepter.join(1.0)
        self.sock.close()
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.sock.close()
        for thread in self._threads:
            thread.join(1.0)


class FakeUdpServer:
    """A UDP socket on an ephemeral port whose requests are timestamped by the kernel.

    ``handler(server, data, addr)`` decides what to answer (``server.reply``) — or not to.
    ``requests`` keeps ``(arrival, data, addr)`` for every datagram, ``arrival`` being the kernel's
    receive time (SO_TIMESTAMPNS, wall clock, seconds) where available, else the harness's own.
    """

    def __init__(
        self,
        handler: Callable[[FakeUdpServer, bytes, tuple[str, int]], None],
        transcript: Transcript,
        *,
        host: str = "127.0.0.1",
    ) -> None:
        self.endpoint = UdpEndpoint(transcript, host, label="fake server")
        self.handler = handler
        self.transcript = transcript
        self.requests: list[tuple[float, bytes, tuple[str, int]]] = []
        self.errors: list[BaseException] = []
        self.kernel_timestamps = sys.platform.startswith("linux")
        if self.kernel_timestamps:
            self.endpoint.sock.setsockopt(socket.SOL_SOCKET, TIMESTAMPNS, 1)
        self.endpoint.sock.settimeout(None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self.endpoint.address

    @property
    def port(self) -> int:
        return self.endpoint.address[1]

    def __enter__(self) -> FakeUdpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reply(self, data: bytes, addr: tuple[str, int]) -> None:
        self.endpoint.sendto(data, addr)

    def _loop(self) -> None:
        sock = self.endpoint.sock
        while not self._stop.is_set():
            try:
                data, ancdata, _flags, addr = sock.recvmsg(65536, 64)
            except OSError:
                if self._stop.is_set():
                    return
                continue
            if self._stop.is_set():  # shutdown() woke the blocked recvmsg
                return
            arrival = time.time()
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    arrival = sec + nsec / 1e9
            peer = (addr[0], addr[1])
            self.requests.append((arrival, data, peer))
            self.transcript.record(
                self.endpoint.channel, "<", data, note=f"from {peer[0]}:{peer[1]}"
            )
            try:
                self.handler(self, data, peer)
            except BaseException as exc:
                self.errors.append(exc)

    def check(self) -> None:
        __tracebackhide__ = True
        if self.errors:
            raise self.errors[0]

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # Linux wakes the recvmsg, then says ENOTCONN
            self.endpoint.sock.shutdown(socket.SHUT_RD)
        if self._thread.ident is not None:  # closed without ever being started is fine
            self._thread.join(1.0)
        self.endpoint.close()
