"""Aphorism client (zen.client): ask the three questions on one connection, print the answers."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Final

from core import QUESTIONS, AnswerSplitter, MessageTooLong

RECV_SIZE: Final = 4096
TIMEOUT: Final = 10.0  # seconds to wait for a connection or for the next octets of an answer


def converse(sock: socket.socket) -> None:
    """Ask each question, wait for its answer and print it."""
    splitter = AnswerSplitter()
    answers: list[bytes] = []
    # Profile 4.1: "The client MUST ask the three known questions, each exactly once and with the
    # exact octets of 2.2, in any order, on one connection."
    for number, question in enumerate(QUESTIONS):
        # Profile 4.2: "The client MUST send each question only after the whole answer to the
        # previous one has arrived."
        sock.sendall(question)
        # Profile 4.4: "The client MUST read an answer up to and including its `.`, however many
        # segments it arrives in."
        while len(answers) <= number:
            data = sock.recv(RECV_SIZE)
            if not data:
                raise ConnectionError("the server closed the connection before answering")
            answers += splitter.feed(data)
        # Profile 4.3: "The client MUST print each answer to its standard output".
        print(answers[number].decode("ascii", "replace"), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Aphorism client (zen.client).")
    parser.add_argument("host", help="address of the server (IPv4 or IPv6)")
    parser.add_argument("port", type=int, help="TCP port of the server")
    args = parser.parse_args()
    try:
        # Profile 4.5: "When it has its three answers, the client MUST close the connection."
        with socket.create_connection((args.host, args.port), timeout=TIMEOUT) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            converse(sock)
    except (OSError, MessageTooLong) as exc:
        print(f"zen client: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
