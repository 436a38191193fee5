"""Many Socket.IO clients in one asyncio process, for the ``socket_fanout`` benchmark.

    python -m tests.bench.fanout_client --url http://127.0.0.1:PORT --token T [--token T2] --clients 500

A minimal Engine.IO 4 / Socket.IO 5 client over a raw WebSocket (``wsproto``, already installed with
simple-websocket): one TCP connection and a few KB per client, so a thousand fit in one process (the
threaded python-socketio client needs threads per connection; its asyncio client needs aiohttp, which the
project does not install). What it does, the same as python-socketio with ``transports=["websocket"]``:
open ``/socket.io/?EIO=4&transport=websocket``, connect namespace ``/console`` with ``auth={"token": T}``,
answer the server's pings, and record the arrival time (``time.time()``) of every ``case.updated``.

Protocol with the parent (stdin/stdout, JSON lines): prints ``{"phase": "connected", ...}`` once every
client is connected (or failed); answers a line ``count`` with ``{"phase": "count", "received": N}``
(events recorded so far, all clients); on a line ``stop`` prints
``{"phase": "done", "received": [[[key, t], ...] per client], ...}`` and closes the connections.
``key`` is the payload's ``bench_id`` when present, else its ``number``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, RejectConnection, Request, TextMessage

NAMESPACE = "/console"


class Client:
    def __init__(self, host: str, port: int, token: str, events: tuple[str, ...]):
        self.host, self.port, self.token, self.events = host, port, token, events
        self.received: list[tuple[str, float]] = []
        self.connected = asyncio.Event()
        self.error = ""
        self.closed = False
        self.writer: asyncio.StreamWriter | None = None
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.task: asyncio.Task | None = None

    def _send_text(self, text: str) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(self.ws.send(Message(data=text)))

    async def run(self) -> None:
        try:
            reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(
                self.ws.send(Request(host=f"{self.host}:{self.port}", target="/socket.io/?EIO=4&transport=websocket"))
            )
            parts: list[str] = []
            while True:
                data = await reader.read(65536)
                now = time.time()
                if not data:
                    break
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, TextMessage):
                        parts.append(event.data)
                        if event.message_finished:
                            self._on_message("".join(parts), now)
                            parts.clear()
                    elif isinstance(event, Ping):
                        self.writer.write(self.ws.send(event.response()))
                    elif isinstance(event, RejectConnection):
                        self.error = f"websocket rejected ({event.status_code})"
                        return
                    elif isinstance(event, CloseConnection):
                        return
                    elif isinstance(event, AcceptConnection):
                        pass
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.error = self.error or f"{type(exc).__name__}: {exc}"[:120]
        except Exception as exc:  # a protocol surprise: record it, keep the other clients going
            self.error = self.error or f"{type(exc).__name__}: {exc}"[:120]
        finally:
            self.closed = True
            if not self.connected.is_set():
                self.error = self.error or "closed before the namespace connected"
                self.connected.set()

    def _on_message(self, msg: str, now: float) -> None:
        kind = msg[:1]
        if kind == "0":  # Engine.IO open → connect the namespace with the token
            self._send_text(f"40{NAMESPACE}," + json.dumps({"token": self.token}))
        elif kind == "2":  # Engine.IO ping → pong
            self._send_text("3" + msg[1:])
        elif kind == "4":  # Socket.IO packet
            if msg.startswith(f"42{NAMESPACE},"):
                packet = json.loads(msg[len(NAMESPACE) + 3 :])
                if packet[0] in self.events and len(packet) > 1 and isinstance(packet[1], dict):
                    data = packet[1]
                    self.received.append((str(data.get("bench_id") or data.get("number")), now))
            elif msg.startswith(f"40{NAMESPACE}"):
                self.connected.set()
            elif msg.startswith(f"44{NAMESPACE}"):
                self.error = "refused: " + msg[len(NAMESPACE) + 3 :][:100]
                self.connected.set()
        elif kind == "1":
            self.closed = True

    async def close(self) -> None:
        if self.writer is None or self.writer.is_closing():
            return
        try:
            self.writer.write(self.ws.send(CloseConnection(code=1000)))
            await asyncio.wait_for(self.writer.drain(), 2)
        except Exception:  # noqa: S110 — closing anyway
            pass
        self.writer.close()


async def main_async(args) -> None:
    parts = urlsplit(args.url)
    events = tuple(args.event or ["case.updated"])
    clients = [Client(parts.hostname, parts.port, args.token[i % len(args.token)], events) for i in range(args.clients)]
    slots = asyncio.Semaphore(args.concurrency)
    started = time.perf_counter()
    connect_ms: list[float] = []

    async def connect(client: Client) -> None:
        async with slots:
            t0 = time.perf_counter()
            client.task = asyncio.create_task(client.run())
            try:
                await asyncio.wait_for(client.connected.wait(), args.timeout)
            except TimeoutError:
                client.error = client.error or f"not connected after {args.timeout:g}s"
            if not client.error:
                connect_ms.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(connect(c) for c in clients))
    errors: dict[str, int] = {}
    for c in clients:
        if c.error:
            errors[c.error] = errors.get(c.error, 0) + 1
    connect_ms.sort()
    print(
        json.dumps(
            {
                "phase": "connected",
                "ok": sum(1 for c in clients if not c.error),
                "failed": sum(1 for c in clients if c.error),
                "errors": errors,
                "seconds": round(time.perf_counter() - started, 2),
                "connect_ms_p50": round(connect_ms[len(connect_ms) // 2], 1) if connect_ms else None,
                "connect_ms_max": round(connect_ms[-1], 1) if connect_ms else None,
            }
        ),
        flush=True,
    )
    loop = asyncio.get_running_loop()
    while True:  # "count" → how many events arrived so far; "stop" (or EOF) → report and close
        command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if command == "count":
            print(json.dumps({"phase": "count", "received": sum(len(c.received) for c in clients)}), flush=True)
            continue
        break
    dropped = sum(1 for c in clients if not c.error and c.closed)
    received = [[[k, round(t, 6)] for k, t in c.received] for c in clients]
    print(
        json.dumps(
            {
                "phase": "done",
                "clients": len(clients),
                "connected": sum(1 for c in clients if not c.error),
                "dropped_during_run": dropped,
                "received": received,
                "connected_mask": [0 if c.error else 1 for c in clients],
            }
        ),
        flush=True,
    )
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    for c in clients:
        if c.task:
            c.task.cancel()
    await asyncio.gather(*(c.task for c in clients if c.task), return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.fanout_client",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--url", required=True)
    p.add_argument("--token", action="append", required=True, help="API token(s), used round-robin")
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=50, help="connections being opened at once (50)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds for one client to connect (30)")
    p.add_argument("--event", action="append", help="event names to record (case.updated)")
    args = p.parse_args(argv)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
