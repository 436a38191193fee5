"""gunicorn settings for the web tier; gunicorn reads ./gunicorn.conf.py by itself (run it from the repo root).

    gunicorn -k gthread -w 4 --threads 4 -b 0.0.0.0:8000 wsgi:app

``preload_app``: the master imports the app and loads the routing model, tables and the KB index (jieba) once,
before forking, so the workers share those pages copy-on-write instead of each loading its own copy (measured in
tests/bench/README.md, "Memory per worker"). No database or Redis connection crosses the fork: the master closes
what the warm-up opened and each worker drops any inherited pool state (hotline/web/prefork.py). The embedded
Redis (no REDIS_URL) is started by the master and stopped when it exits; a worker's exit never stops it.

With preload, ``kill -HUP`` restarts the workers but does not reload new code: restart the master for that.
"""

wsgi_app = "wsgi:app"
preload_app = True


def _preloaded_app(server):
    """The app object the master loaded (None without preload: each worker then loads its own)."""
    if not server.cfg.preload_app:
        return None
    return getattr(server.app, "callable", None)


def when_ready(server):
    """Master, after loading the app and before forking the first worker: warm up, then let go of connections."""
    app = _preloaded_app(server)
    if app is None:
        return
    from hotline.web import prefork

    prefork.warm(app)
    prefork.release(app)
    if stray := prefork.threads():
        server.log.warning("threads running in the gunicorn master before the fork: %s", stray)


def pre_fork(server, worker):
    """Master, before each fork (also the replacements of restarted workers): no pooled connection to inherit."""
    app = _preloaded_app(server)
    if app is not None:
        from hotline.extensions import db

        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def post_fork(server, worker):
    """Worker, right after the fork: forget the master's pools (without closing its sockets)."""
    app = _preloaded_app(server)
    if app is not None:
        from hotline.web import prefork

        prefork.after_fork(app)
