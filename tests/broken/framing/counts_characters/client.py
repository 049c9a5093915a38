"""Block-echo client (framing.client).

Deliberate flaw: the length header counts the message's characters, len(str),
while the payload is its UTF-8 bytes, so any non-ASCII message is mis-framed.
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
            # FLAW: len(message) counts characters; the header must count bytes
            sock.sendall(struct.pack("!I", len(message)) + message.encode("utf-8"))
        sock.sendall(struct.pack("!I", 0))
        while True:
            (length,) = struct.unpack("!I", recv_exact(sock, 4))
            if length == 0:
                break
            sys.stdout.buffer.write(recv_exact(sock, length) + b"\n")


if __name__ == "__main__":
    main()
