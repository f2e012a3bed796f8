"""A small HTTP/1.1 proxy in front of a real server that can lose answers on purpose.

Each request is forwarded upstream (one upstream connection per request); when
``drop`` says so for a ``(method, path)``, the upstream answer is read in full (so the
server did the work) and the client's connection is closed instead of relaying it:
exactly what a client sees when a network drops a response.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable


class DroppingProxy:
    """``url`` forwards to ``upstream_port``; ``requests`` counts what passed through."""

    def __init__(self, upstream_port: int,
                 drop: Callable[[str, str, int], bool] = lambda m, p, n: False) -> None:
        self.upstream_port = upstream_port
        self.drop = drop
        self.requests: Counter[tuple[str, str]] = Counter()
        self.dropped: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while True:
                head = _read_head(reader)
                if head is None:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                length = 0
                headers = []
                for line in lines[1:]:
                    if not line:
                        continue
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                    if name.strip().lower() != "connection":
                        headers.append(line)
                body = reader.read(length) if length else b""
                path = target.split("?")[0]
                with self._lock:
                    self.requests[(method, path)] += 1
                    seen = self.requests[(method, path)]
                request = "\r\n".join([lines[0], *headers, "Connection: close", "", ""])
                answer = _forward(self.upstream_port, request.encode("latin-1") + body)
                if self.drop(method, path, seen):
                    with self._lock:
                        self.dropped[(method, path)] += 1
                    return  # the server answered; the client never hears it
                status_line, _, rest = answer.partition(b"\r\n")
                conn.sendall(status_line + b"\r\nConnection: close\r\n" + rest)
                return  # upstream closed: one request per client connection
        except OSError:
            return
        finally:
            reader.close()
            conn.close()

    def close(self) -> None:
        self._closed = True
        self._listener.close()


def _read_head(reader) -> bytes | None:
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        data += line
    return data


def _forward(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=120) as upstream:
        upstream.sendall(raw)
        chunks = []
        while chunk := upstream.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
