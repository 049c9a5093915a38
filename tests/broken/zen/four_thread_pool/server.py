"""Aphorism server on a fixed pool of worker threads.

Flaw: only four workers; four clients that stall mid-question leave nobody to serve the others.
"""

import argparse
import os
import signal
import socket
from concurrent.futures import ThreadPoolExecutor

ANSWERS = {
    b"Beautiful is better than?": b"Ugly.",
    b"Explicit is better than?": b"Implicit.",
    b"Simple is better than?": b"Complex.",
}
UNKNOWN = b"Error: unknown aphorism."
WORKERS = 4  # the flaw: a small fixed pool, each worker tied up for a whole connection


def handle(conn: socket.socket) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
                while b"?" in data:
                    question, _, data = data.partition(b"?")
                    conn.sendall(ANSWERS.get(question + b"?", UNKNOWN))
        except OSError:
            return


def stop(signum: int, frame: object) -> None:
    os._exit(0)  # the pool's threads would otherwise keep the process alive


def main() -> None:
    parser = argparse.ArgumentParser(description="Aphorism server (pool of worker threads).")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    family, kind, proto, _, address = socket.getaddrinfo(
        args.host, args.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    with socket.socket(family, kind, proto) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(64)
        while True:
            conn, _ = listener.accept()
            pool.submit(handle, conn)


if __name__ == "__main__":
    main()
