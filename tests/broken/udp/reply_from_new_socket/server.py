"""UDP server that tells each client how long its datagram was."""

import argparse
import signal
import socket
import sys

MAX_BYTES = 65535


def main() -> None:
    parser = argparse.ArgumentParser(description="Report the length of every UDP datagram.")
    parser.add_argument("host", help="address to listen on")
    parser.add_argument("port", type=int, help="UDP port to listen on")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    signal.alarm(120)  # a test run never needs a server for longer

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    try:
        while True:
            data, address = sock.recvfrom(MAX_BYTES)
            text = f"Your data was {len(data)} bytes long"
            with socket.socket(family, socket.SOCK_DGRAM) as reply_sock:
                reply_sock.sendto(text.encode("ascii"), address)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


if __name__ == "__main__":
    main()
