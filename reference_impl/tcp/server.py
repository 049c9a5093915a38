"""tcp.server: echo each connection's octets back upper-cased, as they arrive (profile section 2).

    python3 tcp/server.py HOST PORT [--buffer-size OCTETS]

One asyncio task per connection; ``drain()`` after every write stops the reading while the client
does not read, so nothing is lost and nothing piles up.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import socket
from typing import Final

from core import EchoSession

READ_SIZE: Final = 65536
BACKLOG: Final = 128


def listening_socket(host: str, port: int, buffer_size: int | None) -> socket.socket:
    """A non-blocking socket listening on ``host`` (IPv4 or IPv6) and ``port``."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if buffer_size:
        # Set before listen(): accepted sockets inherit the sizes, and the window scale they
        # announce in the handshake is chosen from them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer_size)
    sock.bind(address)
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, small_buffers: bool
) -> None:
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if small_buffers:
        # A write "blocks" (drain() waits) until the kernel has taken every octet of it.
        writer.transport.set_write_buffer_limits(high=0)
    session = EchoSession()
    try:
        while not session.should_close:
            data = await reader.read(READ_SIZE)
            if data:
                session.receive_data(data)
            else:
                session.receive_eof()
            out = session.data_to_send()
            if out:
                writer.write(out)
                # Profile 2.5: "The server MUST NOT lose an octet when the client reads slowly
                # or not at all for a while": wait until the kernel has room again.
                await writer.drain()
    except OSError:
        # Profile 2.7: "A client that resets its connection or vanishes in the middle of a
        # transfer MUST NOT stop the server": this connection ends, the others go on.
        pass
    except asyncio.CancelledError:
        # The server is stopping: drop the connection at once rather than wait for a client
        # that does not read. Returning (not re-raising) ends the task quietly.
        writer.transport.abort()
    finally:
        # The transport sends what it still holds, then closes; nothing here waits for it.
        writer.close()


async def serve(sock: socket.socket, small_buffers: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    handler = functools.partial(serve_connection, small_buffers=small_buffers)
    # Profile 2.6: "The server MUST serve several connections at the same time".
    server = await asyncio.start_server(handler, sock=sock)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Upper-casing TCP echo server (tcp.server).")
    parser.add_argument("host", help="address to listen on, IPv4 or IPv6")
    parser.add_argument("port", type=int, help="TCP port to listen on")
    parser.add_argument(
        "--buffer-size",
        type=int,
        metavar="OCTETS",
        help="set SO_RCVBUF and SO_SNDBUF of every connection, and write without buffering "
        "in the program (the small-buffer server of profile 3.4)",
    )
    args = parser.parse_args()
    sock = listening_socket(args.host, args.port, args.buffer_size)
    asyncio.run(serve(sock, small_buffers=bool(args.buffer_size)))


if __name__ == "__main__":
    main()
