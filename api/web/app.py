"""The application factory: settings, the database, every extension and blueprint, in order."""

from pathlib import Path

from flask import Flask

from api import config as settings
from api.store.health import ensure_usable
from api.store.migrations import migrate
from api.web import (
    annotations,
    compression,
    database,
    docs,
    downloads,
    envelope,
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
    replica,
    request_log,
    revalidation,
    search_views,
    security,
    storage_faults,
    timeline,
    verify_views,
    webhook_views,
    writes,
)
from api.web.json_provider import ORJSONProvider
from api.web.links import Request
from seed.loader import build_database


def create_app(config: dict | None = None) -> Flask:
    """The application: defaults, then ICC_EVENTS_* variables, then config; database built if missing.

    An existing database is migrated (api.store.migrations.migrate) first, unless this is a replica.
    """
    app = Flask(__name__)
    app.request_class = Request
    app.json = ORJSONProvider(app)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.update(settings.settings_from_environment())
    app.config.update(config or {})
    app.json.sort_keys = False
    app.json.compact = True
    # A read replica's database is the primary's copy: opened read-only, never built or migrated here.
    read_replica = bool(app.config["PRIMARY_URL"])
    if read_replica:
        app.config["READ_ONLY"] = True

    if not read_replica and not Path(app.config["DATABASE"]).exists():
        build_database(app.config["DATABASE"])

    if app.config["CHECK_ON_START"]:
        ensure_usable(app.config["DATABASE"])
    database.init_app(app)
    if not read_replica:
        # `serve` migrated before its workers forked, so here this is one SELECT; a database opened
        # directly (a test's, or one copied in from an older release) is brought up to date.
        migrate(app.config["DATABASE"])
    errors.init_app(app)
    request_log.init_app(app)
    headers.init_app(app)
    compression.Compression(app)
    storage_faults.init_app(app)
    security.init_app(app)
    replica.init_app(app)
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
    revalidation.init_app(app)
    envelope.init_app(app)
    proxies.init_app(app)
    return app
