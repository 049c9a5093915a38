"""Block-echo server (framing.server).

Deliberate flaw: it serves one client at a time, so a client that stalls in the
middle of a block keeps every other client waiting.
"""

import socket
import struct
import sys


def recv_exact(conn: socket.socket, n: int) -> bytes | None:
    """Read exactly n bytes, or return None if the client closes first."""
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def handle(conn: socket.socket) -> None:
    with conn:
        conn.settimeout(60)
        try:
            while True:
                header = recv_exact(conn, 4)
                if header is None:
                    return
                (length,) = struct.unpack("!I", header)
                payload = recv_exact(conn, length)
                if payload is None:
                    return
                conn.sendall(struct.pack("!I", length) + payload)
                if length == 0:
                    return
        except OSError:
            return


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family) as server:
        while True:
            conn, _ = server.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            handle(conn)  # FLAW: no thread: the next client waits until this one is done


if __name__ == "__main__":
    main()
