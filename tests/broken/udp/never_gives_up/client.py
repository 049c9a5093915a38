"""UDP client that asks the server how long its message is."""

import argparse
import signal
import socket

MAX_BYTES = 65535
MESSAGE = b"The quick brown fox jumps over the lazy dog"


def main() -> None:
    parser = argparse.ArgumentParser(description="Ask a UDP server how long a message is.")
    parser.add_argument("host", help="server address")
    parser.add_argument("port", type=int, help="server UDP port")
    args = parser.parse_args()
    signal.alarm(120)  # safety net: nothing else ever stops the loop below

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.connect((args.host, args.port))
    delay = 0.1  # seconds
    while True:
        sock.send(MESSAGE)
        sock.settimeout(delay)
        try:
            data = sock.recv(MAX_BYTES)
        except TimeoutError:
            delay = min(delay * 2, 1.0)  # keep trying, at least once a second
        else:
            break
    print(data.decode("ascii", errors="replace"))


if __name__ == "__main__":
    main()
