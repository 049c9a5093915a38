"""Authoritative name server (dns.server): serves one zone over UDP and TCP on one port.

The answers come from core.respond; this program only moves octets. TCP connections stay
open for as many queries as the client sends, until it closes or stays idle for IDLE_TIMEOUT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
from typing import Final, cast

import dns.zone
from core import TCP_LIMIT, load_zone, respond

STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
LENGTH_PREFIX: Final = 2
# RFC 7766 §6.2.3: servers close idle connections after some seconds, to free resources.
IDLE_TIMEOUT: Final = 10.0
BACKLOG: Final = 64


def bind(host: str, port: int, kind: socket.SocketKind) -> socket.socket:
    """A socket of `kind` bound to host:port (IPv4 or IPv6)."""
    family, _, proto, _, address = socket.getaddrinfo(
        host, port, type=kind, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


class UdpServer(asyncio.DatagramProtocol):
    """One response datagram per query datagram, sent back to its source."""

    def __init__(self, zone: dns.zone.Zone) -> None:
        self.zone = zone
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = respond(self.zone, data, over_tcp=False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        """An ICMP error about an earlier response: nothing to do."""


async def serve_tcp(
    zone: dns.zone.Zone, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answer length-prefixed queries on one connection until it closes or idles."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            # RFC 1035 §4.2.2: "The message is prefixed with a two byte length field".
            # Profile 2.11: "a query MAY arrive split across any number of segments, and the
            # server MUST wait for all the octets its length prefix announces": readexactly.
            prefix = await asyncio.wait_for(reader.readexactly(LENGTH_PREFIX), IDLE_TIMEOUT)
            length = int.from_bytes(prefix, "big")
            query = await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT)
            reply = respond(zone, query, over_tcp=True)
            if reply is None:
                break  # no header to answer: the stream cannot be trusted any more
            assert len(reply) <= TCP_LIMIT
            # Profile 2.11: "The server SHOULD answer several queries sent one after another
            # on one TCP connection": the connection stays open for the next query.
            writer.write(len(reply).to_bytes(LENGTH_PREFIX, "big") + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
        pass  # the client closed, went silent, or reset the connection
    except asyncio.CancelledError:
        pass  # the server is stopping: close quietly instead of reporting the cancellation
    finally:
        writer.close()


async def serve(host: str, port: int, zone: dns.zone.Zone) -> None:
    """Serve until SIGTERM or SIGINT."""
    # TCP first: the UDP port is how readiness is seen, and TCP must be up by then.
    tcp_sock = bind(host, port, socket.SOCK_STREAM)
    tcp_sock.listen(BACKLOG)
    udp_sock = bind(host, tcp_sock.getsockname()[1], socket.SOCK_DGRAM)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    transport, _ = await loop.create_datagram_endpoint(lambda: UdpServer(zone), sock=udp_sock)
    server = await asyncio.start_server(
        lambda r, w: serve_tcp(zone, r, w), sock=tcp_sock, backlog=BACKLOG
    )
    try:
        await stop.wait()
    finally:
        transport.close()
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Authoritative name server (dns.server).")
    parser.add_argument("host", help="address to bind (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="UDP and TCP port to bind")
    parser.add_argument("zonefile", help="the zone, in master-file format")
    parser.add_argument("--origin", help="the zone's origin, if the file has no $ORIGIN")
    args = parser.parse_args()
    zone = load_zone(args.zonefile, args.origin)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, zone))


if __name__ == "__main__":
    main()
