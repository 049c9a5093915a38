"""Upper-casing echo server, one thread per connection.

Flaw: at end-of-stream it has sent the whole echo but does not close the connection; it keeps
it open (here for 120 s), so the client never reads end-of-stream.
"""

import argparse
import signal
import socket
import sys
import threading
import time

UPPER = bytes(b - 32 if 97 <= b <= 122 else b for b in range(256))
HOLD_SECONDS = 120


def handle(conn: socket.socket) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while data := conn.recv(65536):
            conn.sendall(data.translate(UPPER))
    except OSError:
        conn.close()
        return
    # the flaw: the client said it is done, but the server waits instead of closing
    time.sleep(HOLD_SECONDS)
    conn.close()


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
