"""Reference WSGI server (wsgi.server): a thread per connection, HTTP/1.1 keep-alive, chunked
request and response bodies, on the standard library only.

    python3 wsgi/server.py HOST PORT module:callable
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from types import FrameType, TracebackType
from typing import Final
from wsgiref.types import WSGIApplication

from core import (
    LAST_CHUNK,
    NO_BODY_STATUSES,
    SERVER_ERROR,
    ChunkedDecoder,
    HttpError,
    RequestHead,
    body_framing,
    build_environ,
    check_start_response,
    chunk,
    error_response,
    head_length,
    parse_head,
    response_head,
    wants_close,
)

RECV_SIZE: Final = 65536
BACKLOG: Final = 128
IDLE_TIMEOUT: Final = 60.0  # seconds a connection may wait for its next request
DRAIN_LIMIT: Final = 1 << 20  # unread body octets discarded to keep a connection open
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class _Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


class Connection:
    """The socket of one client and the octets received but not yet consumed."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def receive(self) -> bytes:
        """Buffered octets first, then the next recv(); b"" when the client has closed."""
        data, self.buffer = self.buffer, b""
        return data or self.sock.recv(RECV_SIZE)


class BodyInput:
    """wsgi.input: the request body and nothing more."""

    def __init__(self, conn: Connection, length: int | None, expect_continue: bool) -> None:
        self._conn = conn
        self._left = length  # body octets not yet received; None while chunked
        self._decoder = ChunkedDecoder() if length is None else None
        self._data = b""
        self._continue = expect_continue
        self.eof = length == 0

    def _fill(self) -> None:
        if self._continue:
            self._conn.sock.sendall(CONTINUE)
            self._continue = False
        received = self._conn.receive()
        if not received:
            raise ConnectionError("client closed inside the request body")
        if self._decoder is not None:
            self._data += self._decoder.feed(received)
            if self._decoder.done:
                self._conn.buffer, self.eof = self._decoder.unused, True
            return
        assert self._left is not None
        # Profile 3.4: "Reading past the end of the body MUST return the octets that are left
        # and then b"" (end-of-file) at once, never wait for octets that are not body."
        self._data += received[: self._left]
        self._conn.buffer = received[self._left :]
        self._left -= min(self._left, len(received))
        self.eof = self._left == 0

    def read(self, size: int | None = -1) -> bytes:
        while not self.eof and (size is None or size < 0 or len(self._data) < size):
            self._fill()
        cut = len(self._data) if size is None or size < 0 else size
        data, self._data = self._data[:cut], self._data[cut:]
        return data

    def readline(self, size: int | None = -1) -> bytes:
        while not self.eof and b"\n" not in self._data:
            if size is not None and 0 <= size <= len(self._data):
                break
            self._fill()
        end = self._data.find(b"\n") + 1 or len(self._data)
        if size is not None and size >= 0:
            end = min(end, size)
        data, self._data = self._data[:end], self._data[end:]
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def drain(self) -> bool:
        """Discard the unread body, up to DRAIN_LIMIT; True if the connection can go on."""
        self._continue = False  # the client waits for our answer: it never sent the body
        discarded = 0
        while not self.eof and discarded < DRAIN_LIMIT:
            discarded += len(self.read(RECV_SIZE))
        return self.eof


class Exchange:
    """One request/response: start_response, write() and the framing of the response body."""

    def __init__(self, conn: Connection, request: RequestHead) -> None:
        self.conn = conn
        self.head_only = request.method == "HEAD"
        self.close = wants_close(request)
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.head_sent = False
        self.chunked = False
        self.no_body = self.head_only

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> object:
        if exc_info is not None:
            # PEP 3333: "if exc_info is provided, and the HTTP headers have already been sent,
            # start_response must raise an error, and should re-raise using the exc_info tuple."
            if self.head_sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status:
            # PEP 3333: "it is a fatal error to call start_response without the exc_info
            # argument if start_response has already been called within the current invocation".
            raise AssertionError("start_response called a second time without exc_info")
        check_start_response(status, headers)
        self.status, self.headers = status, list(headers)
        return self.write

    def _send_head(self) -> None:
        code = int(self.status[:3])
        has_length = any(name.lower() == "content-length" for name, _ in self.headers)
        self.no_body = self.no_body or code in NO_BODY_STATUSES or code < 200
        self.chunked = not (self.no_body or has_length or self.close)
        head = response_head(self.status, self.headers, self.chunked, self.close, time.time())
        self.conn.sock.sendall(head)
        self.head_sent = True

    def write(self, data: bytes) -> None:
        if not self.status:
            raise AssertionError("write() before start_response()")
        if not isinstance(data, bytes):
            raise TypeError(f"response body must be bytes, not {type(data).__name__}")
        if not self.head_sent:
            self._send_head()
        if data and not self.no_body:
            self.conn.sock.sendall(chunk(data) if self.chunked else data)

    def finish(self) -> None:
        if not self.head_sent:
            self.write(b"")
        if self.chunked:
            self.conn.sock.sendall(LAST_CHUNK)


def _run_app(app: WSGIApplication, environ: dict[str, object], exchange: Exchange) -> None:
    try:
        result: Iterable[bytes] = app(environ, exchange.start_response)  # type: ignore[arg-type]
        try:
            for data in result:
                exchange.write(data)
            exchange.finish()
        finally:
            # Profile 3.8: "The server MUST call the iterable's close(), if it has one, once
            # the body is sent, and also when the body could not be sent (the client went
            # away)."
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except OSError:
        raise  # the client went away: nothing more can be sent
    except Exception:
        traceback.print_exc()
        exchange.close = True
        # Profile 3.9: "An exception raised by the application before it calls
        # start_response SHOULD give a 500 response." After the head, closing is all we can do.
        if not exchange.head_sent:
            exchange.conn.sock.sendall(error_response(SERVER_ERROR, time.time()))


def serve_connection(sock: socket.socket, app: WSGIApplication, port: int) -> None:
    conn = Connection(sock)
    peer = sock.getpeername()[0]
    server_name = socket.gethostname() or "localhost"
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(IDLE_TIMEOUT)
        try:
            while True:
                while (length := head_length(conn.buffer.lstrip(b"\r\n"))) is None:
                    if not (received := sock.recv(RECV_SIZE)):
                        return
                    conn.buffer += received
                conn.buffer = conn.buffer.lstrip(b"\r\n")
                head, conn.buffer = conn.buffer[:length], conn.buffer[length:]
                request = parse_head(head)
                framing = body_framing(request)
                expect = request.get_all("Expect") == ["100-continue"]
                body = BodyInput(conn, framing.length, expect and framing.length != 0)
                environ = build_environ(request, server_name, port, peer, framing.chunked)
                environ.update(
                    {
                        "wsgi.version": (1, 0),
                        "wsgi.url_scheme": "http",
                        "wsgi.input": body,
                        "wsgi.errors": sys.stderr,
                        "wsgi.multithread": True,
                        "wsgi.multiprocess": False,
                        "wsgi.run_once": False,
                        # PEP 3333 (wsgi.input_terminated, from the chunked-body amendment):
                        # the application reads until read() returns b"".
                        "wsgi.input_terminated": True,
                    }
                )
                exchange = Exchange(conn, request)
                _run_app(app, environ, exchange)
                if exchange.close or not body.drain():
                    return
        except HttpError as error:
            with contextlib.suppress(OSError):
                sock.sendall(error_response(error.status, time.time()))
        except OSError:
            return  # the client went away or stalled past IDLE_TIMEOUT


def load_app(spec: str) -> WSGIApplication:
    """`module:callable`, imported from the working directory or PYTHONPATH."""
    module_name, _, attribute = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    app: WSGIApplication = getattr(importlib.import_module(module_name), attribute or "application")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Reference WSGI server (wsgi.server).")
    parser.add_argument("host", help="address to listen on (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    parser.add_argument("app", help="the application, as module:callable")
    args = parser.parse_args()
    app = load_app(args.app)
    family, kind, proto, _, address = socket.getaddrinfo(
        args.host, args.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(address)
    listener.listen(BACKLOG)
    port = listener.getsockname()[1]
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)
    try:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                time.sleep(0.1)
                continue
            threading.Thread(target=serve_connection, args=(sock, app, port), daemon=True).start()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        listener.close()


if __name__ == "__main__":
    main()
