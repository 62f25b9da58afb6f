"""Flask: the application factory (api/web/app.py), views, query-argument parsing, content
negotiation, caching and conditional requests, links, pages, rate limits, security headers and the
one problem+json error shape, including the mapping of domain errors to HTTP statuses. Views are
thin: they parse, call api.store or api.exports, and render.
"""
