"""Benchmark ``evidence`` (issue 18): photo uploads with thumbnails, and memory while streaming a large video.

1. **Photos**: gunicorn (gthread 2x4, the bench app) + one RQ worker on the ``media`` queue, open-loop uploads of
   distinct ~3 MB JPEGs (random pixels: they do not compress away) at ``--rate`` per second for ``--duration`` s
   through ``POST /api/v1/cases/N/attachments``. Per upload: the request's latency, and the time from the start of
   the upload until its thumbnail is ``done`` (the bench reads ``attachments.thumb_status`` from the database every
   100 ms). Targets: the rate sustained (every upload 201, the achieved rate ≥ 95 % of the offered one) and
   thumbnail p95 ≤ 5 s.
2. **Video**: a 100 MB MP4 uploaded and downloaded once, streamed both ways by ``requests``; the web workers' RSS is
   sampled every 50 ms (psutil). Target: the largest worker RSS ≤ 200 MB (the file is never held whole).

    .venv/bin/python -m tests.bench.evidence [--rate 20] [--duration 10] [--keep]
    python -m tests.bench.run --only evidence
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
import sqlalchemy as sa

from tests.bench.server import ROOT, DbTarget, Gunicorn, Instance, ServerConfig, log

NAME = "evidence"
TITLE = "photo uploads with thumbnails; RSS while streaming a 100 MB video"
RATE, DURATION, PHOTO_BYTES = 20.0, 10.0, 3 * 1024 * 1024
TARGET_P95_S, TARGET_RSS_MB, VIDEO_MB = 5.0, 200.0, 100


def _photo(path: Path, seed: int) -> Path:
    from PIL import Image

    side = 1650  # random pixels at quality 95: ~3 MB
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    image.putpixel((0, 0), (seed % 256, (seed >> 8) % 256, 7))
    image.save(path, "JPEG", quality=95)
    return path


def _cpu_per_photo(files: list[Path], folder: Path) -> dict:
    """CPU seconds the app spends per photo (re-encode at upload, thumbnail in the job), outside the server: how
    many cores the offered rate needs whatever else the machine runs."""
    from hotline.evidence import media

    sniffed = media.Sniffed("image/jpeg", "jpg", "image")
    start = time.process_time()
    for path in files:
        media.clean_image(path, sniffed, folder).path.unlink()
    clean = (time.process_time() - start) / len(files)
    start = time.process_time()
    for path in files:
        with path.open("rb") as fh:
            media.thumbnail(fh).close()
    thumb = (time.process_time() - start) / len(files)
    return {"cpu_clean_s": round(clean, 3), "cpu_thumb_s": round(thumb, 3)}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _case(url: str, token: str) -> str:
    body = {"channel": "phone", "kind": "report", "content": "压测：现场照片上传", "citizen_phone": "13800138000"}
    resp = requests.post(f"{url}/api/v1/cases", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    resp.raise_for_status()
    return resp.json()["number"]


def photos(instance: Instance, server: Gunicorn, rate: float, duration: float) -> dict:
    count = int(rate * duration)
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-photos-", dir=instance.folder))
    files = [_photo(folder / f"p{i}.jpg", i) for i in range(count)]
    sizes = [f.stat().st_size for f in files]
    log(f"evidence: {count} photos generated, {statistics.mean(sizes) / 2**20:.2f} MB average")
    cpu = _cpu_per_photo(files[:5], folder)
    headers = {"Authorization": f"Bearer {instance.token}"}
    number = _case(server.url, instance.token)
    started: dict[int, float] = {}
    results: list[dict] = []
    lock = threading.Lock()

    def one(i: int, at: float) -> None:
        time.sleep(max(0.0, at - time.monotonic()))
        begin = time.monotonic()
        with files[i].open("rb") as fh:
            resp = requests.post(
                f"{server.url}/api/v1/cases/{number}/attachments",
                files={"file": (f"p{i}.jpg", fh, "image/jpeg")},
                headers=headers,
                timeout=120,
            )
        end = time.monotonic()
        row = {"status": resp.status_code, "latency": end - begin, "begin": begin}
        if resp.status_code in (200, 201):
            row["id"] = resp.json()["id"]
            with lock:
                started[row["id"]] = begin
        with lock:
            results.append(row)

    engine = sa.create_engine(instance.database_url or f"sqlite:///{instance.folder / 'hotline.db'}")
    done_at: dict[int, float] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT id FROM attachments WHERE thumb_status = 'done'")).all()
            now = time.monotonic()
            for (attachment_id,) in rows:
                done_at.setdefault(attachment_id, now)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t0 = time.monotonic() + 0.5
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(count):
            pool.submit(one, i, t0 + i / rate)
    sent_for = time.monotonic() - t0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(done_at) < len(started):
        time.sleep(0.2)
    stop.set()
    watcher.join(5)
    ok = [r for r in results if r["status"] == 201]
    thumbs = [done_at[i] - started[i] for i in started if i in done_at]
    last_end = max(r["begin"] + r["latency"] for r in results)
    achieved = len(ok) / max(1e-9, last_end - t0)
    out = {
        "offered_rate": rate,
        "uploads": count,
        "ok": len(ok),
        "errors": sorted({r["status"] for r in results if r["status"] != 201}),
        "photo_mb_avg": round(statistics.mean(sizes) / 2**20, 2),
        "achieved_rate": round(achieved, 1),
        "send_window_s": round(sent_for, 1),
        "upload_p50_s": round(_pct([r["latency"] for r in ok], 0.5), 2),
        "upload_p95_s": round(_pct([r["latency"] for r in ok], 0.95), 2),
        "thumbnails": len(thumbs),
        "thumb_p50_s": round(_pct(thumbs, 0.5), 2),
        "thumb_p95_s": round(_pct(thumbs, 0.95), 2),
        "thumb_max_s": round(max(thumbs), 2) if thumbs else None,
        **cpu,
        "load_average_1m": round(os.getloadavg()[0], 1),  # other processes on the machine during the run
    }
    out["met"] = bool(
        len(ok) == count and achieved >= 0.95 * rate and len(thumbs) == count and out["thumb_p95_s"] <= TARGET_P95_S
    )
    log(f"evidence photos: {out}")
    return out


class _Video(io.RawIOBase):
    """A 100 MB MP4 (ftyp isom header + pseudo-random bytes) generated while it is read: never whole in memory."""

    def __init__(self, size: int):
        self.size, self.pos = size, 0
        self.head = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
        self.block = os.urandom(1024 * 1024)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n < 0 else min(n, self.size - self.pos)
        if n <= 0:
            return b""
        out = bytearray()
        while len(out) < n:
            if self.pos < len(self.head):
                piece = self.head[self.pos : self.pos + n - len(out)]
            else:
                offset = (self.pos - len(self.head)) % len(self.block)
                piece = self.block[offset : offset + n - len(out)]
            out += piece
            self.pos += len(piece)
        return bytes(out)

    def __len__(self) -> int:
        return self.size


def video(instance: Instance, server: Gunicorn) -> dict:
    headers = {"Authorization": f"Bearer {instance.token}"}
    number = _case(server.url, instance.token)
    peak = {"rss": 0.0, "baseline": max(m["rss_mb"] for m in server.worker_memory())}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for pid in server.worker_pids():
                with contextlib.suppress(psutil.Error):
                    peak["rss"] = max(peak["rss"], psutil.Process(pid).memory_info().rss / 2**20)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    size = VIDEO_MB * 1024 * 1024
    boundary = "hotlinebenchboundary"
    pre = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    post = f"\r\n--{boundary}--\r\n".encode()
    body = _Multipart(pre, _Video(size), post)
    begin = time.monotonic()
    resp = requests.post(
        f"{server.url}/api/v1/cases/{number}/attachments",
        data=body,
        headers={
            **headers,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        },
        timeout=600,
    )
    upload_s = time.monotonic() - begin
    resp.raise_for_status()
    attachment = resp.json()
    got, begin = 0, time.monotonic()
    with requests.get(f"{server.url}{attachment['url']}", headers=headers, stream=True, timeout=600) as download:
        download.raise_for_status()
        for chunk in download.iter_content(256 * 1024):
            got += len(chunk)
    download_s = time.monotonic() - begin
    stop.set()
    sampler.join(2)
    out = {
        "video_mb": VIDEO_MB,
        "stored_bytes": attachment["size"],
        "downloaded_bytes": got,
        "upload_s": round(upload_s, 1),
        "download_s": round(download_s, 1),
        "worker_rss_before_mb": round(peak["baseline"], 1),
        "worker_rss_peak_mb": round(peak["rss"], 1),
        "worker_rss_growth_mb": round(peak["rss"] - peak["baseline"], 1),  # what the 100 MB file added
    }
    out["met"] = got == size and peak["rss"] <= TARGET_RSS_MB
    log(f"evidence video: {out}")
    return out


class _Multipart(io.RawIOBase):
    def __init__(self, pre: bytes, middle: _Video, post: bytes):
        self.parts, self.length = [io.BytesIO(pre), middle, io.BytesIO(post)], len(pre) + len(middle) + len(post)
        self.sent = 0

    def tell(self) -> int:  # requests sizes the body as len() - tell(): a plain Content-Length upload, not chunked
        return self.sent

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = 1024 * 1024 if n is None or n < 0 else n
        while self.parts:
            data = self.parts[0].read(n)
            if data:
                self.sent += len(data)
                return data
            self.parts.pop(0)
        return b""

    def __len__(self) -> int:
        return self.length


LIMITS = {
    "HOTLINE_ATTACHMENT_CASE_MAX_FILES": "100000",  # one case takes every photo of the run
    "HOTLINE_ATTACHMENT_CASE_MAX_MB": "100000",
    "HOTLINE_ATTACHMENT_VIDEO_MAX_MB": str(VIDEO_MB + 1),
}


class _Instance(Instance):
    """The bench instance with the limits above in the environment of gunicorn and the worker."""

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, **LIMITS}


def measure(rate: float = RATE, duration: float = DURATION, keep: bool = False, db: DbTarget | None = None) -> dict:
    instance = _Instance(db or DbTarget("sqlite"), keep=keep)
    instance.prepare()
    worker_log = open(instance.folder / "worker.log", "w")  # noqa: SIM115 — closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues", "media"],
        cwd=ROOT,
        env=instance.env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        with Gunicorn(instance, ServerConfig("gthread", 2, 4)) as server:
            out = {"photos": photos(instance, server, rate, duration), "video": video(instance, server)}
    finally:
        worker.terminate()
        worker.wait(20)
        worker_log.close()
        instance.cleanup()
    return out


def run(ctx) -> tuple[dict, str]:
    out = {}
    for target in ctx.databases:
        out[target.name] = measure(keep=ctx.keep, db=target)
    return out, markdown(out)


def markdown(results: dict) -> str:
    lines = [f"## {NAME} — {TITLE}", ""]
    lines += ["| database | offered/s | achieved/s | ok | upload p50 / p95 s | thumbnail p50 / p95 / max s | target |"]
    lines += ["| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        p = r["photos"]
        lines.append(
            f"| {name} | {p['offered_rate']:g} × {p['photo_mb_avg']} MB | {p['achieved_rate']} "
            f"| {p['ok']}/{p['uploads']} | {p['upload_p50_s']} / {p['upload_p95_s']} "
            f"| {p['thumb_p50_s']} / {p['thumb_p95_s']} / {p['thumb_max_s']} "
            f"| p95 ≤ {TARGET_P95_S} s: {'met' if p['met'] else 'NOT met'} |"
        )
    for name, r in results.items():
        p = r["photos"]
        cores = p["offered_rate"] * (p["cpu_clean_s"] + p["cpu_thumb_s"])
        lines.append(
            f"\n{name}: CPU per photo {p['cpu_clean_s']} s re-encode + {p['cpu_thumb_s']} s thumbnail → "
            f"{cores:.1f} cores at {p['offered_rate']:g}/s; machine load average {p['load_average_1m']} on "
            f"{os.cpu_count()} cores during the run."
        )
    lines += ["", "| database | video | upload s | download s | web worker RSS before → peak MB (growth) | target |"]
    lines += ["| --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        v = r["video"]
        lines.append(
            f"| {name} | {v['video_mb']} MB | {v['upload_s']} | {v['download_s']} | {v['worker_rss_before_mb']} → "
            f"{v['worker_rss_peak_mb']} (+{v['worker_rss_growth_mb']}) | ≤ {TARGET_RSS_MB:g} MB: "
            f"{'met' if v['met'] else 'NOT met'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--duration", type=float, default=DURATION)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print(markdown({"sqlite": measure(args.rate, args.duration, args.keep)}))


if __name__ == "__main__":
    main()
