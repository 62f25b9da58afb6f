"""Where a webhook may be sent: a URL's host resolved and refused if private (SSRF), then pinned."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    """A webhook URL that must not be called: bad scheme, unresolvable, or a non-public address."""


@dataclass(frozen=True)
class Target:
    """A checked URL: the name to send as Host and SNI, and the addresses it resolved to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def refused_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not a public unicast one (loopback, private, link-local, ...), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    # Shared address space (100.64.0.0/10) and the like: neither private nor global.
    return None if address.is_global else "not-global"


def check_url(url: str, allow_private: bool) -> Target:
    """The URL's target if it may be called: https to public addresses only, unless allow_private."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeTarget(f"The URL must use {' or '.join(schemes)}.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeTarget("The URL must not carry credentials; the signature authenticates the sender.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("The URL's port is not a number from 0 to 65535.") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"The host {parts.hostname!r} does not resolve.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for address in addresses:
            reason = refused_reason(ipaddress.ip_address(address.split("%")[0]))
            if reason:
                raise UnsafeTarget(
                    f"The host {parts.hostname!r} resolves to {address}, a {reason} address; "
                    "webhooks go to public addresses only."
                )
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, tuple(addresses))
