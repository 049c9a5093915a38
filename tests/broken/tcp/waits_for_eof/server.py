"""Upper-casing echo server, one thread per connection.

Flaw: it reads everything until end-of-stream and only then sends the echo, so a client that
sends a few bytes and waits for their echo gets nothing.
"""

import argparse
import signal
import socket
import sys
import threading

UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))


def handle(conn: socket.socket) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            # the flaw: collect the whole message first, answer at end-of-stream
            chunks = []
            while data := conn.recv(65536):
                chunks.append(data)
            conn.sendall(b"".join(chunks).translate(UPPER))
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
