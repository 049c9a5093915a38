"""Upper-casing echo server: non-blocking sockets in one select loop.

Flaw: it echoes with send() and ignores how many octets send() took (and gives up when it takes
none), so whatever does not fit in the send buffer while the client is not reading is lost.
"""

import argparse
import contextlib
import selectors
import signal
import socket
import sys

UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))

sel = selectors.DefaultSelector()


def accept(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    conn.setblocking(False)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sel.register(conn, selectors.EVENT_READ)


def drop(conn: socket.socket) -> None:
    sel.unregister(conn)
    conn.close()


def serve(conn: socket.socket) -> None:
    data = conn.recv(65536)
    if not data:
        drop(conn)
        return
    # the flaw: send() may take only part of the echo, or none of it (BlockingIOError) when the
    # send buffer is full; the return value is ignored and the rest is lost
    with contextlib.suppress(BlockingIOError):
        conn.send(data.translate(UPPER))


def stop(signum: int, frame: object) -> None:
    sys.exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="Upper-casing echo server (select loop).")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    family, kind, proto, _, address = socket.getaddrinfo(
        args.host, args.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(64)
        listener.setblocking(False)
        sel.register(listener, selectors.EVENT_READ)
        while True:
            for key, _ in sel.select():
                if key.fileobj is listener:
                    accept(listener)
                    continue
                conn = key.fileobj
                assert isinstance(conn, socket.socket)
                try:
                    serve(conn)
                except OSError:
                    drop(conn)


if __name__ == "__main__":
    main()
