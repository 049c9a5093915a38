"""Upper-casing echo server, one thread per connection, sending the echo in 4096-octet blocks.

Flaw: a block is sent when it is full, or when the input pauses; but when the client shuts down
the server closes at once, throwing away the last, incomplete block it still holds.
"""

import argparse
import select
import signal
import socket
import sys
import threading

UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))
BLOCK = 4096
PAUSE = 0.05  # seconds without input after which a partial block is sent


def handle(conn: socket.socket) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = bytearray()
        try:
            while True:
                readable, _, _ = select.select([conn], [], [], PAUSE)
                if not readable:
                    conn.sendall(pending)
                    pending.clear()
                    continue
                data = conn.recv(65536)
                if not data:
                    return  # the flaw: `pending` is never sent
                pending += data.translate(UPPER)
                full = len(pending) - len(pending) % BLOCK
                conn.sendall(pending[:full])
                del pending[:full]
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
