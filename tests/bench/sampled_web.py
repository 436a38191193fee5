"""The web app on Werkzeug's threaded server (as ``flask --app wsgi run``) with a CPU sampler, for profiling.

    python -m tests.bench.sampled_web --port P --out FILE

py-spy cannot read this interpreter (pyenv build: "Failed to find python version"), so the sampler runs
inside the process: every ``--interval`` seconds it reads each thread's CPU time
(``/proc/self/task/TID/schedstat``) and charges the CPU a thread used since the last sample to the stack
the thread is in now (``sys._current_frames``). With thousands of mostly idle threads that is a fair
picture of where the CPU goes (the sampler's own cost is reported). SIGUSR1 starts sampling, SIGUSR2
stops it and writes JSON to ``--out``: CPU seconds by thread role, by function (self and inclusive),
and the hottest collapsed stacks.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections import Counter

ROLES = (  # (substring of a frame "file:function", role) — first match from the innermost frame outwards
    ("socketio/redis_manager.py:_redis_listen_with_retries", "message-queue listener (Redis pub/sub → emit)"),
    ("socketio/pubsub_manager.py:_thread", "message-queue listener (Redis pub/sub → emit)"),
    ("engineio/socket.py:writer", "engineio writer thread (one per client)"),
    ("engineio/socket.py:_send_ping", "engineio ping thread (one per client)"),
    ("simple_websocket/ws.py:_thread", "simple-websocket reader thread (one per client)"),
    ("engineio/socket.py:_websocket_handler", "request thread in the WebSocket loop (one per client)"),
    ("werkzeug/serving.py", "HTTP request threads"),
    ("sampled_web.py", "sampler (this profiler)"),
)


def _frame_name(code) -> str:
    path = code.co_filename
    short = path.split("site-packages/", 1)[1] if "site-packages/" in path else path.rsplit("/", 2)[-1]
    if "/work/" in path and "site-packages" not in path:
        short = path.split("/work/main/", 1)[-1]
    return f"{short}:{code.co_name}"


def _thread_cpu(native_id: int) -> float | None:
    """CPU seconds a thread of this process has run, from /proc (ns precision); None if it is gone.

    (Not ``pthread_getcpuclockid``: called for a thread that has just exited it can crash the process.)
    """
    try:
        with open(f"/proc/self/task/{native_id}/schedstat", "rb") as fh:
            return int(fh.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class Sampler:
    def __init__(self, interval: float):
        self.interval = interval
        self.active = threading.Event()
        self.cpu_by_role: Counter = Counter()
        self.self_cpu: Counter = Counter()
        self.incl_cpu: Counter = Counter()
        self.stacks: Counter = Counter()
        self.last: dict[int, float] = {}
        self.samples = 0
        self.started = 0.0
        self.process_cpu0 = 0.0
        self.own_cpu = 0.0
        self.threads_max = 0
        threading.Thread(target=self._run, name="bench-sampler", daemon=True).start()

    def start(self) -> None:
        self.last.clear()
        self.started = time.monotonic()
        self.process_cpu0 = time.process_time()
        self.active.set()

    def _run(self) -> None:
        me = threading.get_ident()
        while True:
            self.active.wait()
            t0 = time.thread_time()
            native = {t.ident: t.native_id for t in threading.enumerate()}
            frames = sys._current_frames()
            self.threads_max = max(self.threads_max, len(frames))
            for ident, frame in frames.items():
                if ident == me or ident not in native:
                    continue
                cpu = _thread_cpu(native[ident])
                if cpu is None:  # the thread ended meanwhile
                    continue
                used = cpu - self.last.get(ident, cpu)
                self.last[ident] = cpu
                if used <= 0:
                    continue
                names = []
                f = frame
                while f is not None and len(names) < 60:
                    names.append(_frame_name(f.f_code))
                    f = f.f_back
                role = next((r for name in names for key, r in ROLES if key in name), "other threads")
                self.cpu_by_role[role] += used
                self.self_cpu[names[0]] += used
                for name in set(names):
                    self.incl_cpu[name] += used
                self.stacks[";".join(reversed(names[:14]))] += used
            self.samples += 1
            self.own_cpu += time.thread_time() - t0
            time.sleep(self.interval)

    def stop(self) -> dict:
        self.active.clear()
        time.sleep(self.interval * 2)
        wall = time.monotonic() - self.started
        process_cpu = time.process_time() - self.process_cpu0
        attributed = sum(self.cpu_by_role.values())
        return {
            "wall_s": round(wall, 2),
            "process_cpu_s": round(process_cpu, 3),
            "attributed_cpu_s": round(attributed, 3),
            "sampler_cpu_s": round(self.own_cpu, 3),
            "samples": self.samples,
            "threads_max": self.threads_max,
            "by_role": {k: round(v, 3) for k, v in self.cpu_by_role.most_common()},
            "self": [[k, round(v, 3)] for k, v in self.self_cpu.most_common(30)],
            "inclusive": [[k, round(v, 3)] for k, v in self.incl_cpu.most_common(60)],
            "stacks": [[k, round(v, 3)] for k, v in self.stacks.most_common(15)],
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.sampled_web",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--interval", type=float, default=0.05)
    args = p.parse_args(argv)

    from werkzeug.serving import run_simple

    from wsgi import app

    sampler = Sampler(args.interval)

    def on_start(*_):
        sampler.start()

    def on_stop(*_):
        result = sampler.stop()
        with open(args.out, "w") as fh:
            json.dump(result, fh, ensure_ascii=False)

    signal.signal(signal.SIGUSR1, on_start)
    signal.signal(signal.SIGUSR2, on_stop)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)  # what `flask run` does
    return 0


if __name__ == "__main__":
    sys.exit(main())
