"""Aphorism client.

Flaw: it asks only two of the three questions.
"""

import argparse
import signal
import socket
import sys

QUESTIONS = [b"Beautiful is better than?", b"Explicit is better than?"]  # the flaw: no "Simple"


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
            answer = b""
            while not answer.endswith(b"."):
                chunk = sock.recv(1024)
                if not chunk:
                    sys.exit("server closed the connection before answering")
                answer += chunk
            print(answer.decode(), flush=True)


if __name__ == "__main__":
    main()
