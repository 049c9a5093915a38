"""UDP client that asks the server how long its message is."""

import argparse
import socket
import sys

MAX_BYTES = 65535
MESSAGE = b"The quick brown fox jumps over the lazy dog"


def main() -> None:
    parser = argparse.ArgumentParser(description="Ask a UDP server how long a message is.")
    parser.add_argument("host", help="server address")
    parser.add_argument("port", type=int, help="server UDP port")
    args = parser.parse_args()

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.connect((args.host, args.port))
    sock.send(MESSAGE)
    sock.settimeout(2.0)  # seconds
    try:
        data = sock.recv(MAX_BYTES)
    except TimeoutError:
        print(f"udp client: no reply from {args.host}:{args.port}, giving up", file=sys.stderr)
        sys.exit(1)
    print(data.decode("ascii", errors="replace"))


if __name__ == "__main__":
    main()
