"""Aphorism client.

Flaw: it takes whatever one recv() returns to be the whole answer.
"""

import argparse
import signal
import socket
import sys

QUESTIONS = [b"Beautiful is better than?", b"Explicit is better than?", b"Simple is better than?"]


def main() -> None:
    parser = argparse.ArgumentParser(description="Aphorism client.")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    signal.alarm(120)  # safety limit: this program ends itself after 120 s
    with socket.create_connection((args.host, args.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for question in QUESTIONS:
            sock.sendall(question)
            answer = sock.recv(1024)  # the flaw: one recv() is not always one whole answer
            if not answer:
                sys.exit("server closed the connection before answering")
            print(answer.decode(), flush=True)


if __name__ == "__main__":
    main()
