"""icc-events: an open data API about the International Criminal Court."""

from pathlib import Path

from flask import Flask

from api import config as settings

__version__ = "0.1.0"


def create_app(config: dict | None = None) -> Flask:
    """The application: defaults, then ICC_EVENTS_* variables, then config; database built if missing."""
    from api.json_provider import ORJSONProvider
    from api.links import Request

    app = Flask(__name__)
    app.request_class = Request
    app.json = ORJSONProvider(app)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.update(settings.settings_from_environment())
    app.config.update(config or {})
    app.json.sort_keys = False
    app.json.compact = True

    if not Path(app.config["DATABASE"]).exists():
        from seed.loader import build_database

        build_database(app.config["DATABASE"])

    from api import (
        annotations,
        compression,
        cors,
        db,
        docs,
        downloads,
        errors,
        feed,
        feeds,
        headers,
        html_pages,
        index,
        meta,
        pages,
        proxies,
        ratelimit,
        reconcile,
        records,
        request_log,
        search_views,
        security,
        storage_faults,
        timeline,
        verify_views,
        webhook_views,
        writes,
    )
    from api.indexes import ensure_read_indexes
    from api.revalidation import Revalidation

    storage_faults.ensure_usable(app.config["DATABASE"])
    db.init_app(app)
    db.ensure_curation_tables(app.config["DATABASE"])
    db.ensure_provenance_columns(app.config["DATABASE"])
    ensure_read_indexes(app.config["DATABASE"])
    errors.init_app(app)
    request_log.init_app(app)
    headers.init_app(app)
    cors.init_app(app)
    compression.Compression(app)
    storage_faults.init_app(app)
    security.init_app(app)
    ratelimit.init_app(app)
    app.register_blueprint(meta.bp)
    index.init_app(app)
    app.register_blueprint(records.bp)
    app.register_blueprint(annotations.bp)
    app.register_blueprint(writes.bp)
    app.register_blueprint(feed.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(html_pages.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(search_views.bp)
    app.register_blueprint(timeline.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(reconcile.bp)
    app.register_blueprint(webhook_views.bp)
    app.register_blueprint(verify_views.bp)
    app.wsgi_app = Revalidation(app, app.wsgi_app)
    proxies.init_app(app)
    return app
