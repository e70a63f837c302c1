"""Real servers the service and step tests talk to: a small HTTP server in a thread, and a private sshd.

The HTTP server answers through routes a test registers (path -> function of the recorded request); the sshd
runs as `sshd -f <config> -D -e` on 127.0.0.1:2222 (another free port when 2222 is taken) with its own host
key and an authorized client key in a temporary folder. Without Debian's openssh-server the ssh tests skip, or
fail with OPS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SSHD = Path("/usr/sbin/sshd")
SSH_PORT = 2222


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before the status line
    trickle_s: float = 0.0  # between body bytes


Route = Callable[[Request], Reply]


class RecordingHttpServer:
    """Routes by path; every request is recorded in `received`. Slow replies end early at teardown."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.received: list[Request] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                path, _, query = self.path.partition("?")
                request = Request(self.command, path, query, dict(self.headers), self.rfile.read(length))
                server.received.append(request)
                route = server.routes.get(path)
                reply = route(request) if route else Reply(404, b"no such route")
                server.send(self, reply)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay_s and self.stopping.wait(reply.delay_s):
            return
        body = reply.body
        content_type = reply.headers.get("Content-Type", "text/plain; charset=utf-8")
        if isinstance(body, dict | list):
            body, content_type = json.dumps(body).encode(), "application/json"
        elif isinstance(body, str):
            body = body.encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                if name != "Content-Type":
                    handler.send_header(name, value)
            handler.end_headers()
            if handler.command == "HEAD":
                return
            if not reply.trickle_s:
                handler.wfile.write(body)
                return
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                handler.wfile.flush()
                if self.stopping.wait(reply.trickle_s):
                    return
        except (BrokenPipeError, ConnectionResetError):
            return

    def route(self, path: str, reply: Reply | Route) -> None:
        self.routes[path] = reply if callable(reply) else (lambda request: reply)

    def start(self) -> RecordingHttpServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[RecordingHttpServer]:
    server = RecordingHttpServer().start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    key_file: Path
    known_hosts: Path
    folder: Path

    def target_fields(self) -> dict[str, Any]:
        return {
            "hostname": "127.0.0.1",
            "connection": "ssh",
            "port": self.port,
            "user": self.user,
            "credentials": f"file:{self.key_file}",
        }


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _some_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _missing(reason: str) -> None:
    if os.environ.get("OPS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} and OPS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)


def _wait_for_banner(port: int, process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> bool:
    stop = time.monotonic() + timeout_s
    while time.monotonic() < stop and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
                if conn.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """A private sshd on 127.0.0.1 that lets the test's client key in as the current user."""
    if not SSHD.is_file() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        _missing("openssh-server (/usr/sbin/sshd) and the ssh client are not installed")
    folder = tmp_path_factory.mktemp("sshd")
    try:
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # sshd's privilege separation folder
    except OSError as error:
        _missing(f"cannot create /run/sshd for sshd ({error.strerror})")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    shutil.copy(folder / "client_key.pub", folder / "authorized_keys")
    port = SSH_PORT if _free(SSH_PORT) else _some_free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
        "UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nMaxStartups 50:30:100\n"
    )
    log_file = (folder / "sshd.log").open("wb")
    process = subprocess.Popen([str(SSHD), "-f", str(config), "-D", "-e"], stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        if not _wait_for_banner(port, process):
            log = (folder / "sshd.log").read_text(errors="replace")[-500:]
            _missing(f"sshd did not start on 127.0.0.1:{port}: {log}")
        yield Sshd(port, getpass.getuser(), folder / "client_key", folder / "known_hosts", folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (dead, not yet reaped by its parent) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_gone(pids: list[int], timeout_s: float = 3.0) -> list[int]:
    """The pids still alive after up to `timeout_s`."""
    stop = time.monotonic() + timeout_s
    alive = [pid for pid in pids if process_alive(pid)]
    while alive and time.monotonic() < stop:
        time.sleep(0.05)
        alive = [pid for pid in alive if process_alive(pid)]
    return alive


def read_pids(path: Path, count: int, timeout_s: float = 10.0) -> list[int]:
    """The first `count` pids a command wrote to `path`, one a line, waiting for it to write them."""
    stop = time.monotonic() + timeout_s
    while time.monotonic() < stop:
        if path.exists():
            lines = [line for line in path.read_text().split() if line.isdigit()]
            if len(lines) >= count:
                return [int(line) for line in lines[:count]]
        time.sleep(0.02)
    raise AssertionError(f"the command did not write {count} pids to {path}")
