"""Aphorism server: one process, one selectors loop, many clients.

Flaw: when a client goes away in the middle of a question, it raises and the whole server dies.
"""

import argparse
import selectors
import signal
import socket
import sys

ANSWERS = {
    b"Beautiful is better than?": b"Ugly.",
    b"Explicit is better than?": b"Implicit.",
    b"Simple is better than?": b"Complex.",
}
UNKNOWN = b"Error: unknown aphorism."

selector = selectors.DefaultSelector()
buffers: dict[socket.socket, bytes] = {}


def accept(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    conn.setblocking(False)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffers[conn] = b""
    selector.register(conn, selectors.EVENT_READ, read)


def close(conn: socket.socket) -> None:
    selector.unregister(conn)
    del buffers[conn]
    conn.close()


def read(conn: socket.socket) -> None:
    try:
        data = conn.recv(4096)
    except ConnectionResetError:
        data = b""
    if not data:
        if buffers[conn]:
            # the flaw: nothing catches this, so one vanished client ends the server
            raise EOFError(f"client closed mid-question: {buffers[conn]!r}")
        close(conn)
        return
    buffers[conn] += data
    while b"?" in buffers[conn]:
        question, _, buffers[conn] = buffers[conn].partition(b"?")
        try:
            conn.sendall(ANSWERS.get(question + b"?", UNKNOWN))
        except OSError:
            close(conn)
            return


def stop(signum: int, frame: object) -> None:
    sys.exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="Aphorism server (selectors event loop).")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    family, kind, proto, _, address = socket.getaddrinfo(
        args.host, args.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(64)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, accept)
        while True:
            for key, _ in selector.select():
                key.data(key.fileobj)


if __name__ == "__main__":
    main()
