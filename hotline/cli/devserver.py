"""`make run`: migrate, seed the demo city if empty, then run web + worker + scheduler until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from flask_migrate import upgrade

from hotline import create_app
from hotline.config import ROOT
from hotline.db.refcache import bump_version
from hotline.extensions import db, stop_embedded_redis
from hotline.seed import city
from hotline.seed.history_run import generate
from hotline.seed.loader import demo_city_without_places, is_empty, seed_demo, seed_places


def check_vendor(vendor=ROOT / "static" / "vendor"):
    """Stop with what to do when the front-end libraries are missing or older than package-lock.json: they are
    installed by `make install` (tools/vendor.py), never loaded from a CDN, so the pages would have no Socket.IO."""
    check = [sys.executable, str(ROOT / "tools" / "vendor.py"), "--check", "--vendor-dir", str(vendor)]
    if subprocess.run(check, cwd=ROOT, check=False).returncode:
        raise SystemExit("static/vendor/ 缺失或已过期，热线未启动：请先运行 make install")


def _history_progress(done: int, days: int) -> None:
    if done % 10 == 0 or done == days:
        print(f"  历史工单：已生成 {done}/{days} 天", flush=True)


def prepare():

    app = create_app()
    with app.app_context():
        upgrade()
        if is_empty():
            print("数据库为空，正在载入示范城市数据（含历史工单，需一两分钟）…", flush=True)
            seed_demo()
            generate(app.config["HOTLINE"].demo_history_days, progress=_history_progress)  # 90 days of figures
        elif demo_city_without_places():
            print("示范城市的地名表为空（旧版本的数据库），正在载入示范地名…", flush=True)
            seed_places()
            bump_version()
            db.session.commit()
    print(f"\n演示账号（密码均为 {city.DEMO_PASSWORD}）：")
    for user in city.USERS:
        print(f"  {user['username']:<16} {user['role']:<20} {user['department'] or ''}")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole hotline locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)

    check_vendor()
    app = prepare()  # keeps the embedded Redis server alive while the children run
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = {
        # one worker on every queue, by urgency (routing, sla, notify, default): enough on one machine; production
        # runs a worker per queue so a slow SMS gateway never delays the SLA sweep (docs/operations.md)
        "worker": subprocess.Popen([*flask, "worker"], cwd=ROOT, env=env),
        "scheduler": subprocess.Popen([*flask, "scheduler"], cwd=ROOT, env=env),
        "web": subprocess.Popen([*flask, "run", "--host", args.host, "--port", str(args.port)], cwd=ROOT, env=env),
    }
    url = f"http://{args.host}:{args.port}/"
    print(f"\n12345 热线已启动：{url}  （登录后进入话务台；Ctrl-C 停止）\n", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} 进程已退出（{proc.returncode}），正在停止其余进程", flush=True)
                    code = proc.returncode or 1
                    stopping = True
            time.sleep(0.5)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

        stop_embedded_redis(app.config["HOTLINE"])
    return code


if __name__ == "__main__":
    sys.exit(main())
