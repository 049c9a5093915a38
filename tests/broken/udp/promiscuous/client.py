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
    delay = 0.1  # seconds
    while True:
        sock.sendto(MESSAGE, (args.host, args.port))
        sock.settimeout(delay)
        try:
            data, _sender = sock.recvfrom(MAX_BYTES)  # the reply, whoever sent it
        except TimeoutError:
            delay *= 2  # wait even longer for the next reply
            if delay > 2.0:
                print(
                    f"udp client: no reply from {args.host}:{args.port}, giving up", file=sys.stderr
                )
                sys.exit(1)
        else:
            break
    print(data.decode("ascii", errors="replace"))


if __name__ == "__main__":
    main()
