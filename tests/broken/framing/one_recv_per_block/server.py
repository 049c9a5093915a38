"""Block-echo server (framing.server).

Deliberate flaw: it assumes that one recv(4) returns the whole header and one
recv(n) the whole payload, so a block split across several TCP segments is
misread.
"""

import socket
import struct
import sys
import threading


def handle(conn: socket.socket) -> None:
    with conn:
        conn.settimeout(60)
        try:
            while True:
                header = conn.recv(4)  # FLAW: may return fewer than 4 bytes
                if not header:
                    return
                (length,) = struct.unpack("!I", header)
                payload = conn.recv(length) if length else b""  # FLAW: may be short
                conn.sendall(struct.pack("!I", len(payload)) + payload)
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
            threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
