"""Block-echo client (framing.client).

Deliberate flaw: it assumes that one recv(65536) returns exactly one whole echo
block, so echoes split across segments, or several echoes in one segment, are
misread.
"""

import signal
import socket
import struct
import sys


def main() -> None:
    signal.alarm(120)
    host, port, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for message in messages:
            data = message.encode("utf-8")
            sock.sendall(struct.pack("!I", len(data)) + data)
        sock.sendall(struct.pack("!I", 0))
        while True:
            block = sock.recv(65536)  # FLAW: one recv() is not one block
            (length,) = struct.unpack("!I", block[:4])
            if length == 0:
                break
            sys.stdout.buffer.write(block[4 : 4 + length] + b"\n")


if __name__ == "__main__":
    main()
