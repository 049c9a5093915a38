"""Recorded connections with bounded, deadline-driven reads.

Every read says how many octets it will take at most and how long it will wait, so a flooding or
hanging implementation slows one case down to its timeout and never exhausts memory. A read that
does not get what it waits for raises ``ConformanceFailure`` with what did arrive.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from wirecheck.transcript import RECEIVED, SENT, Channel, Direction, Transcript, escape
from wirecheck.verdicts import ConformanceFailure

RECV_CHUNK = 65536


def _addr(sockaddr: tuple[object, ...]) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def describe(data: bytes, limit: int = 200) -> str:
    if not data:
        return "nothing"
    return f"{len(data)} bytes b'{escape(data, limit)}'"


class TcpConnection:
    """A client connection to an implementation, every chunk recorded."""

    def __init__(
        self, sock: socket.socket, transcript: Transcript, timeout: float, label: str = ""
    ) -> None:
        self.sock = sock
        self.transcript = transcript
        self.timeout = timeout
        self.buffer = bytearray()
        self.eof = False
        self.channel: Channel = transcript.open_channel(
            "tcp", _addr(sock.getsockname()), _addr(sock.getpeername()), label
        )

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        transcript: Transcript,
        timeout: float,
        label: str = "",
        nodelay: bool = True,
    ) -> TcpConnection:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise ConformanceFailure(
                f"a TCP connection to {host}:{port} is accepted", f"connect failed: {exc}"
            ) from None
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, transcript, timeout, label)

    # -- sending -----------------------------------------------------------------------------
    def send(self, data: bytes, timeout: float | None = None) -> None:
        """Send all of ``data`` (bounded in time: a peer that never reads fails the case)."""
        self.sock.settimeout(timeout or self.timeout)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise ConformanceFailure(
                f"the implementation reads the {len(data)} bytes sent",
                "it stopped reading: sending blocked past the timeout",
            ) from None
        except OSError as exc:
            self.transcript.note(self.channel, f"send failed: {exc}")
            raise ConformanceFailure(
                "the connection stays open while data is sent", f"send failed: {exc}"
            ) from None
        self.transcript.record(self.channel, SENT, data)

    def send_pieces(self, data: bytes, size: int = 1, pause: float = 0.0) -> None:
        """Send ``data`` in pieces of ``size`` octets, each its own segment."""
        for i in range(0, len(data), size):
            self.send(data[i : i + size])
            if pause:
                time.sleep(pause)

    def shutdown_write(self) -> None:
        self.transcript.note(self.channel, "shutdown(SHUT_WR): no more data from the suite")
        self._view_end(SENT)
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self.transcript.note(self.channel, f"shutdown failed: {exc}")

    def close(self) -> None:
        if self.sock.fileno() != -1:
            self.transcript.note(self.channel, "close")
            self._view_end(SENT)
            self.sock.close()

    def reset(self) -> None:
        """Abort the connection with a RST (SO_LINGER 0)."""
        self.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        self.transcript.note(self.channel, "abort (RST)")
        self.sock.close()

    def __enter__(self) -> TcpConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- TLS ---------------------------------------------------------------------------------
    def start_tls(
        self,
        context: ssl.SSLContext,
        *,
        server_hostname: str | None = None,
        server_side: bool = False,
        timeout: float | None = None,
        suppress_ragged_eofs: bool = True,
    ) -> ssl.SSLSocket:
        """Run a TLS handshake on this connection; what follows is recorded as plaintext.

        A failed handshake is noted in the transcript and its ``ssl.SSLError`` (or OSError)
        raised for the case to judge. With ``suppress_ragged_eofs=False`` a close without
        close_notify raises ``ssl.SSLEOFError`` instead of reading as end of stream.
        """
        self.sock.settimeout(timeout or self.timeout)
        side = "server" if server_side else "client"
        try:
            tls = context.wrap_socket(
                self.sock,
                server_side=server_side,
                server_hostname=server_hostname,
                do_handshake_on_connect=False,
                suppress_ragged_eofs=suppress_ragged_eofs,
            )
            self.sock = tls
            tls.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            self.transcript.note(self.channel, f"TLS handshake ({side} side) failed: {exc}")
            raise
        cipher = tls.cipher()
        peer: dict[str, Any] = dict(tls.getpeercert() or {})
        subject = ""
        if peer:
            names = [str(v) for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"]
            alt = [str(v) for _, v in peer.get("subjectAltName", ())]
            subject = f"; peer certificate: {', '.join(names + alt)}"
        self.transcript.note(
            self.channel,
            f"TLS handshake ({side} side): {tls.version()}, "
            f"{cipher[0] if cipher else '?'}"
            + (f", SNI {server_hostname}" if server_hostname else "")
            + subject,
        )
        return tls

    # -- receiving ---------------------------------------------------------------------------
    def _fill(self, deadline: float, limit: int) -> bool:
        """Read one chunk into the buffer; False on timeout or end of stream."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.eof:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(min(RECV_CHUNK, max(1, limit - len(self.buffer) + 1)))
        except TimeoutError:
            return False
        except OSError as exc:
            self.transcript.note(self.channel, f"recv failed: {exc}")
            self.eof = True
            return False
        if not chunk:
            self.transcript.note(self.channel, "end of stream from the implementation")
            self._view_end()
            self.eof = True
            return False
        self.transcript.record(self.channel, RECEIVED, chunk)
        self.buffer += chunk
        return True

    def _view_end(self, *directions: Direction) -> None:
        """Tell the channel's viewer that a side ended (a body delimited by the close is
        complete then, one framed otherwise is cut short)."""
        end = getattr(self.channel.viewer, "end", None)
        for direction in directions or (RECEIVED,):
            if end is not None:
                with contextlib.suppress(Exception):
                    summary = end(direction)
                    if summary:
                        self.transcript.note(self.channel, summary)

    def _take(self, n: int) -> bytes:
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def recv_until(
        self, terminator: bytes, *, limit: int = 65536, timeout: float | None = None, what: str = ""
    ) -> bytes:
        """Read up to and including ``terminator``; fail on timeout, end of stream or flood."""
        deadline = time.monotonic() + (timeout or self.timeout)
        wanted = what or f"data ending in b'{escape(terminator)}'"
        while True:
            idx = self.buffer.find(terminator)
            if idx >= 0:
                return self._take(idx + len(terminator))
            if len(self.buffer) > limit:
                raise ConformanceFailure(
                    wanted, f"more than {limit} bytes without it: {describe(bytes(self.buffer))}"
                )
            if not self._fill(deadline, limit):
                how = (
                    "then end of stream"
                    if self.eof
                    else f"then nothing for {timeout or self.timeout:.1f} s"
                )
                raise ConformanceFailure(wanted, f"{describe(bytes(self.buffer))}, {how}")

    def recv_exactly(self, n: int, *, timeout: float | None = None, what: str = "") -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buffer) < n:
            if not self._fill(deadline, n):
                how = (
                    "then end of stream"
                    if self.eof
                    else f"then nothing for {timeout or self.timeout:.1f} s"
                )
                raise ConformanceFailure(
                    what or f"{n} bytes", f"{describe(bytes(self.buffer))}, {how}"
                )
        return self._take(n)

    def recv_some(self, *, limit: int = RECV_CHUNK, timeout: float | None = None) -> bytes:
        """Whatever arrives next (b"" on end of stream or timeout)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        if not self.buffer:
            self._fill(deadline, limit)
        return self._take(min(limit, len(self.buffer)))

    def recv_until_eof(
        self, *, limit: int, timeout: float | None = None, what: str = "end of stream"
    ) -> bytes:
        """Everything up to end of stream; fail if it does not come in time or exceeds limit."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            if len(self.buffer) > limit:
                raise ConformanceFailure(what, f"more than {limit} bytes and no end of stream")
            if not self._fill(deadline, limit) and not self.eof:
                raise ConformanceFailure(
                    what,
                    f"{describe(bytes(self.buffer))}, then the connection stayed open "
                    f"for {timeout or self.timeout:.1f} s",
                )
        return self._take(len(self.buffer))

    def expect_silence(self, seconds: float) -> bytes:
        """Whatever arrives within ``seconds`` (normally nothing)."""
        deadline = time.monotonic() + seconds
        while self._fill(deadline, RECV_CHUNK):
            pass
        return self._take(len(self.buffer))

    def wait_readable(
        self,
        predicate: Callable[[bytes], bool],
        *,
        timeout: float | None = None,
        limit: int = 1 << 20,
    ) -> bool:
        """Read until ``predicate(buffer)`` holds (True) or time, stream or limit runs out."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not predicate(bytes(self.buffer)):
            if len(self.buffer) > limit or not self._fill(deadline, limit):
                return False
        return True


class UdpEndpoint:
    """A UDP socket of the suite's, every datagram recorded with its peer."""

    def __init__(
        self,
        transcript: Transcript,
        host: str = "127.0.0.1",
        timeout: float = 2.0,
        label: str = "",
        connect_to: tuple[str, int] | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.timeout = timeout
        self.transcript = transcript
        self.connected = connect_to
        if connect_to:
            self.sock.connect(connect_to)
        remote = _addr(connect_to) if connect_to else "*"
        self.channel = transcript.open_channel("udp", _addr(self.sock.getsockname()), remote, label)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return host, port

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sock.sendto(data, addr)
        self.channel.destinations.append(_addr(addr))
        self.transcript.record(self.channel, SENT, data, note=f"to {_addr(addr)}")

    def recvfrom(self, timeout: float | None = None) -> tuple[bytes, tuple[str, int]] | None:
        """The next datagram and its source, or None when none comes in time."""
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        try:
            data, addr = self.sock.recvfrom(65536)
        except (TimeoutError, BlockingIOError):
            return None
        except OSError as exc:  # e.g. ECONNREFUSED from an ICMP port unreachable
            self.transcript.note(self.channel, f"recvfrom failed: {exc}")
            return None
        self.transcript.record(self.channel, RECEIVED, data, note=f"from {_addr(addr)}")
        return data, (addr[0], addr[1])

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> UdpEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
