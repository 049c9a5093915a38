"""Hostile datagram server: answers every datagram with a burst of random octets.

Each query gets 20 datagrams of 1,200 random octets (bounded: at most 100,000 datagrams in
all, and 300 s of life). Ready as soon as the UDP port is bound; every case must fail, the
harness must keep its memory and time bounded.
"""

import argparse
import os
import socket
import time

BURST = 20
SIZE = 1200
MAX_DATAGRAMS = 100_000
LIFETIME = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("rest", nargs="*", help="other arguments, ignored")
    args = parser.parse_args()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((args.host, args.port))
    udp.settimeout(1.0)
    deadline = time.monotonic() + LIFETIME
    sent = 0
    while time.monotonic() < deadline and sent < MAX_DATAGRAMS:
        try:
            _, peer = udp.recvfrom(65535)
        except TimeoutError:
            continue
        for _ in range(BURST):
            udp.sendto(os.urandom(SIZE), peer)
            sent += 1


if __name__ == "__main__":
    main()
