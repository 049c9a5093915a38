"""Block-echo client (framing.client).

Deliberate flaw: it never sends the zero-length terminator block; it reads
exactly one echo per message and exits.
"""

import signal
import socket
import struct
import sys


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection in the middle of a block")
        data += chunk
    return data


def main() -> None:
    signal.alarm(120)
    host, port, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for message in messages:
            data = message.encode("utf-8")
            sock.sendall(struct.pack("!I", len(data)) + data)
        # FLAW: the zero-length terminator block is never sent
        for _ in messages:
            (length,) = struct.unpack("!I", recv_exact(sock, 4))
            sys.stdout.buffer.write(recv_exact(sock, length) + b"\n")


if __name__ == "__main__":
    main()
