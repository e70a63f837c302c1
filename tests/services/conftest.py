from tests.servers import http_server, sshd

__all__ = ["http_server", "sshd"]
