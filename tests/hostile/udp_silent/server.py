"""Hostile datagram server: binds the UDP (and TCP) port, reads every query, answers none.

Ready as soon as the UDP port is bound; every case that waits for an answer must fail, in
bounded time. Lives at most 300 s.
"""

import argparse
import socket
import time

LIFETIME = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("rest", nargs="*", help="other arguments, ignored")
    args = parser.parse_args()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.host, args.port))
    tcp.listen(16)
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((args.host, args.port))
    udp.settimeout(1.0)
    deadline = time.monotonic() + LIFETIME
    while time.monotonic() < deadline:
        try:
            udp.recvfrom(65535)
        except TimeoutError:
            continue


if __name__ == "__main__":
    main()
