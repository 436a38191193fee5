"""Test helpers: a JSON client with a bearer token, running queued jobs with a real RQ worker, a free port, and
PostgreSQL databases of a test stack's own."""

from __future__ import annotations

import contextlib
import socket
import threading

import sqlalchemy as sa
from rq import Queue, SimpleWorker

from hotline.config import normalise_database_url
from hotline.extensions import connect_redis
from hotline.jobs import QUEUES


class ApiClient:
    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _headers(self, extra=None):
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path, json=None, **kw):
        return self.client.put("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)


def run_jobs(app) -> int:
    """Run every queued job with a real RQ worker (burst mode) inside the app; returns jobs run."""
    conn = connect_redis(app.config["HOTLINE"])
    with app.app_context():
        queues = [Queue(name, connection=conn) for name in QUEUES]
        pending = sum(q.count for q in queues)
        SimpleWorker(queues, connection=conn).work(burst=True)
    return pending


def at_once(app, job, n: int = 2, timeout: float = 60) -> list:
    """Run ``job()`` in ``n`` threads, each in its own app context, released together (a barrier); returns the
    results. Raises the first exception a thread met — two schedulers or workers at the same moment."""
    import threading

    barrier, results, errors = threading.Barrier(n), [], []

    def run():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(job())
        except Exception as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    if errors:
        raise errors[0]
    assert len(results) == n, "a thread did not finish in time"
    return results


def routed(app, api_client, created: dict) -> dict:
    """The case after the routing job its registration woke has run (as a worker runs it a moment later):
    suggestions, duplicates, place and auto-dispatch are in place."""
    run_jobs(app)
    return api_client.get(f"/cases/{created['number']}").get_json()


def new_case(api_client, phone: str, **overrides) -> dict:
    body = {
        "channel": "phone",
        "kind": "complaint",
        "content": "小区楼下餐馆油烟扰民，晚上十点还在营业，希望处理。",
        "citizen_phone": phone,
        "citizen_name": "王小明",
        "address": "东城区人民路12号",
        "district_code": "D01",
        "category": "环境保护",
    }
    body.update(overrides)
    resp = api_client.post("/cases", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_database(url: str, suffix: str) -> str:
    """A PostgreSQL database of the caller's own on the server of ``url``: ``<name>_<suffix>``, recreated (a live
    stack must not share the in-process suite's database)."""
    engine_url = sa.engine.make_url(normalise_database_url(url))
    name = f"{engine_url.database}_{suffix}"
    admin = sa.create_engine(engine_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return engine_url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    engine_url = sa.engine.make_url(url)
    admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{engine_url.database}" WITH (FORCE)'))
    admin.dispose()


@contextlib.contextmanager
def http_server(app):
    """Serve ``app`` over real HTTP on a free 127.0.0.1 port (werkzeug's threaded server, a thread per request)
    for as long as the block runs; yields the base URL. Same app, same database as the test's fixtures."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
