"""The client's address and scheme behind a reverse proxy, believed only from the proxies trusted.

A request whose peer (REMOTE_ADDR) is in TRUSTED_PROXIES goes through werkzeug's ProxyFix, which takes
the last X-Forwarded-For entry (the one that proxy appended or set) and X-Forwarded-Proto; from any
other peer those headers are ignored, so a client cannot choose the address its rate limit and log
line see. With no proxy trusted (the default) nothing is wrapped.
"""

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


def networks_of(proxies) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(proxy, strict=False) for proxy in proxies]


def is_in(address: str | None, networks) -> bool:
    """Whether a peer address is in one of the networks; an IPv4 peer may come as ::ffff:a.b.c.d."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


class TrustedProxies:
    """WSGI middleware: ProxyFix (one hop) for requests from a trusted proxy, nothing for the rest."""

    def __init__(self, wsgi_app, proxies):
        self.networks = networks_of(proxies)
        self.direct = wsgi_app
        self.proxied = ProxyFix(wsgi_app, x_for=1, x_proto=1)

    def __call__(self, environ, start_response):
        if is_in(environ.get("REMOTE_ADDR"), self.networks):
            return self.proxied(environ, start_response)
        return self.direct(environ, start_response)


def init_app(app) -> None:
    """Call last: outside every other middleware, so each sees the client's address."""
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"])
