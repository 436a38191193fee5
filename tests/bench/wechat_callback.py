"""Benchmark ``wechat_callback``: POST /wechat (plain mode, signed like WeChat) with a new text message per
request — each one a dedupe row + citizen identity + case in one transaction — against gunicorn.

WeChat waits 5 s for an answer and then retries, so the target is the tail latency (max < 5 s) at saturation
and at a fixed rate, and that every 2xx answer made exactly one case (no warm-up: the database count must
equal the dedupe rows, and exceed the 2xx answers counted by at most the requests wrk cut off in flight at the
end of its run — one per connection).
"""

from __future__ import annotations

import hashlib
import os
import time

import sqlalchemy as sa

from tests.bench.load import LoadSpec
from tests.bench.report import table
from tests.bench.server import Gunicorn, Instance, ServerConfig, log

NAME = "wechat_callback"
TITLE = "WeChat callback: text message → case"
TOKEN, APPID = "bench-wechat-token", "wxbench000000000"
LIMIT_MS = 5000.0
PACED_RATE = 50.0
BODY = (
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[obench{phone}]]></FromUserName>"
    "<CreateTime>1795300000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[投诉：幸福路{n}号门口夜间施工噪音很大，影响休息。]]></Content><MsgId>{phone}</MsgId></xml>"
)


class WeChatInstance(Instance):
    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env.update(
            HOTLINE_WECHAT_TOKEN=TOKEN, HOTLINE_WECHAT_APPID=APPID, HOTLINE_WECHAT_RATE_LIMIT="1000000 per minute"
        )
        return env


def signed_path(nonce: str = "bench") -> str:
    timestamp = str(int(time.time()))
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    return f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}"


def signed_paths(n: int) -> list[str]:
    """``n`` signed URLs, each with a nonce of its own: the callback takes a (timestamp, nonce) pair once."""
    tag = os.urandom(4).hex()
    return [signed_path(f"{tag}{i}") for i in range(n)]


def _counts(instance: Instance) -> tuple[int, int]:
    url = instance.database_url or f"sqlite:///{instance.folder / 'hotline.db'}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        cases = conn.scalar(sa.text("SELECT count(*) FROM cases WHERE channel = 'wechat'"))
        rows = conn.scalar(sa.text("SELECT count(*) FROM wechat_messages WHERE action = 'create'"))
    engine.dispose()
    return cases, rows


def run(ctx) -> tuple[dict, str]:
    config = ctx.servers[0] if ctx.servers else ServerConfig()
    results: dict = {
        "settings": {
            "duration_s": ctx.duration,
            "connections": ctx.connections,
            "server": config.label,
            "paced_rate": PACED_RATE,
            "load_tool": ctx.load.tool,
        },
        "databases": {},
    }
    for db in ctx.databases:
        instance = WeChatInstance(db, redis_url=ctx.redis_url, keep=ctx.keep, prestart_redis=ctx.prestart_redis)
        try:
            instance.prepare()
            out: dict = {"loadavg_before": [round(x, 2) for x in os.getloadavg()]}
            with Gunicorn(instance, config) as server:
                # no Content-Type of our own: the Python generator always sends application/json and gunicorn
                # refuses a duplicated header; /wechat reads the raw body whatever the type says
                def spec() -> LoadSpec:  # fresh signed URLs for each run (a nonce is good once)
                    return LoadSpec(
                        "wechat_text",
                        "POST",
                        "/wechat",
                        BODY,
                        {},
                        paths=signed_paths(int(ctx.duration * 1500) + 2000),
                        connections=ctx.connections,
                        threads=ctx.threads,
                        duration=ctx.duration,
                        warmup=0,
                    )

                out["saturated"] = ctx.load.saturate(server.url, spec(), watch=server.worker_pids())
                out["paced"] = ctx.load.paced(server.url, spec(), PACED_RATE)
            out["cases"], out["dedupe_rows"] = _counts(instance)
            out["answers_2xx"] = sum(out[k]["ok"] for k in ("saturated", "paced"))
            out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
            for key in ("saturated", "paced"):
                lat = out[key]["latency_ms"]
                log(
                    f"{db.name} wechat {key}: {out[key]['rps']}/s p50 {lat.get('p50')} p95 {lat.get('p95')} "
                    f"max {lat.get('max')} ms, errors {out[key]['errors']}"
                )
            log(f"{db.name} wechat: {out['answers_2xx']} answers, {out['cases']} cases, {out['dedupe_rows']} rows")
            results["databases"][db.name] = out
        finally:
            instance.cleanup()
    return results, markdown(results)


def markdown(results: dict) -> str:
    s = results["settings"]
    lines = [
        f"## {NAME} — {TITLE}",
        "",
        f"`POST /wechat` (plain mode, WeChat signature), a new openid, MsgId and signed nonce per request; gunicorn "
        f"`{s['server']}`; {s['load_tool']} closed loop with {s['connections']} connections for "
        f"{s['duration_s']:g} s, then an open loop at {s['paced_rate']:g} messages/s. WeChat retries after 5 s.",
        "",
    ]
    rows = []
    for db, out in results["databases"].items():
        for key in ("saturated", "paced"):
            r = out[key]
            lat = r["latency_ms"]
            rows.append(
                [
                    db,
                    key,
                    f"{r['rps']:g}",
                    lat.get("p50", ""),
                    lat.get("p95", ""),
                    lat.get("p99", ""),
                    lat.get("max", ""),
                    r["errors"],
                    "yes" if (lat.get("max") or 1e9) < LIMIT_MS else "NO",
                ]
            )
        in_flight = out["cases"] - out["answers_2xx"]
        rows.append(
            [
                db,
                "cases / dedupe rows / 2xx answers",
                f"{out['cases']} / {out['dedupe_rows']} / {out['answers_2xx']}",
                "",
                "",
                "",
                "",
                "",
                "ok" if out["cases"] == out["dedupe_rows"] and 0 <= in_flight <= s["connections"] else "NO",
            ]
        )
        rows.append(
            [
                db,
                "load average before / after",
                f"{out['loadavg_before']} / {out['loadavg_after']}",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    lines.append(table(["DB", "run", "msg/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "max < 5 s"], rows))
    return "\n".join(lines)
