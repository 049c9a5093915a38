"""Block-echo server (framing.server), single-threaded with selectors.

Deliberate flaw: when a client disconnects in the middle of a block it raises
an exception that nothing catches, so the whole server process exits and later
clients are refused.
"""

import selectors
import socket
import struct
import sys

sel = selectors.DefaultSelector()
buffers: dict[socket.socket, bytes] = {}


def close(conn: socket.socket) -> None:
    sel.unregister(conn)
    del buffers[conn]
    conn.close()


def on_accept(server: socket.socket) -> None:
    conn, _ = server.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffers[conn] = b""
    sel.register(conn, selectors.EVENT_READ, on_read)


def on_read(conn: socket.socket) -> None:
    data = conn.recv(65536)  # FLAW: a reset raises ConnectionResetError, uncaught
    if not data:
        if buffers[conn]:
            # FLAW: this exception escapes the event loop and kills the server
            raise ConnectionError("client closed the connection in the middle of a block")
        close(conn)
        return
    buf = buffers[conn] + data
    while len(buf) >= 4:
        (length,) = struct.unpack("!I", buf[:4])
        if len(buf) < 4 + length:
            break
        payload, buf = buf[4 : 4 + length], buf[4 + length :]
        conn.sendall(struct.pack("!I", length) + payload)
        if length == 0:
            close(conn)
            return
    buffers[conn] = buf


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = socket.create_server((host, port), family=family)
    sel.register(server, selectors.EVENT_READ, on_accept)
    while True:
        for key, _ in sel.select():
            key.data(key.fileobj)


if __name__ == "__main__":
    main()
