"""A real TCP proxy on 127.0.0.1 between a client and a server, which a test can freeze (it stops forwarding
but keeps every socket open, as a hung peer or a dead link does) or kill (it closes every socket)."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, freeze_after_bytes: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.freeze_after_bytes = freeze_after_bytes  # server -> client bytes forwarded before freezing by itself
        self.forwarded = 0
        self.frozen = threading.Event()
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self.frozen.set()

    def kill(self) -> None:
        self.stopped.set()
        with self.lock:
            for sock in self.sockets:
                sock.close()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        while not self.stopped.is_set():
            if self.frozen.is_set():
                self.stopped.wait(0.2)
                continue
            try:
                ready, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        client.close()
                        server.close()
                        return
                    if self.frozen.is_set():
                        break
                    peers[sock].sendall(data)
                    if sock is server:
                        self.forwarded += len(data)
                        if self.freeze_after_bytes is not None and self.forwarded >= self.freeze_after_bytes:
                            self.frozen.set()
            except OSError:
                return


@contextmanager
def tcp_proxy(target_host: str, target_port: int, **options: int | None) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port, **options)  # type: ignore[arg-type]
    try:
        yield proxy
    finally:
        proxy.kill()
