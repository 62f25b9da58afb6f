"""Security headers on every response: a strict Content-Security-Policy, no sniffing, no framing."""

from flask import Flask

# The HTML pages load their scripts, styles and images from this server only, and nothing inline.
PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# JSON, YAML and files are never rendered as documents with active content.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


def security_headers(policy: str) -> list[tuple[str, str]]:
    """The security headers of a response under this Content-Security-Policy."""
    return [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    ]


def missing_security_headers(names, policy: str) -> list[tuple[str, str]]:
    """The security headers under this policy that an answer with these header names lacks."""
    present = {name.lower() for name in names}
    return [(name, value) for name, value in security_headers(policy) if name.lower() not in present]


def add_page_security_headers(response):
    """An HTML page's security headers, under its policy, each one the view did not set itself.

    Set here, while the answer still has its media type (werkzeug drops it from a 304, which a cache
    takes as the page's new headers); every other answer gets the data policy's from
    api/web/envelope.py, which adds whatever is missing after this.
    """
    if response.mimetype != "text/html":
        return response
    response.headers.extend(missing_security_headers(response.headers.keys(), PAGE_POLICY))
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_page_security_headers)
