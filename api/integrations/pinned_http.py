"""HTTP connections to a webhook target that api.model.webhook_targets has checked: to the very
addresses checked, naming the host (TLS with SNI and a certificate check for it), so DNS cannot
change the address between the check and the connection."""

import http.client
import socket
import ssl

from api.model.webhook_targets import Target


def open_socket(target: Target, timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers (localhost may be ::1 first)."""
    error = None
    for address in target.addresses:
        try:
            return socket.create_connection((address, target.port), timeout)
        except OSError as failure:
            error = failure
    raise error


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while naming the host, so DNS cannot change it in between."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self):
        self.sock = open_socket(self.target, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with SNI and certificate check for the host name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target
        self.tls = ssl.create_default_context()

    def connect(self):
        self.sock = self.tls.wrap_socket(open_socket(self.target, self.timeout), server_hostname=self.host)


def connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    kind = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    return kind(target, timeout)
