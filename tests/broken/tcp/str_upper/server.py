"""Upper-casing echo server, one thread per connection.

Flaw: it decodes the octets as UTF-8 and calls str.upper(), which also changes letters outside
a-z ("é" becomes "É", "ß" becomes "SS") instead of leaving every other octet unchanged.
"""

import argparse
import signal
import socket
import sys
import threading


def upper(data: bytes) -> bytes:
    # the flaw: text upper-casing, not octet upper-casing
    return data.decode("utf-8", "surrogateescape").upper().encode("utf-8", "surrogateescape")


def handle(conn: socket.socket) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while data := conn.recv(65536):
                conn.sendall(upper(data))
        except OSError:
            return


def stop(signum: int, frame: object) -> None:
    sys.exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="Upper-casing echo server (threads).")
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
            threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
