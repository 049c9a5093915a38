"""Upper-casing echo server.

Flaw: it serves one connection at a time (accept, serve to the end, accept the next), so a
client that connects and sends nothing keeps every other client waiting.
"""

import argparse
import signal
import socket
import sys

UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))


def handle(conn: socket.socket) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while data := conn.recv(65536):
                conn.sendall(data.translate(UPPER))
        except OSError:
            return


def stop(signum: int, frame: object) -> None:
    sys.exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="Upper-casing echo server.")
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
        while True:
            conn, _ = listener.accept()
            handle(conn)  # the flaw: the next client waits until this one is done


if __name__ == "__main__":
    main()
