"""Gateway load benchmark: direct-to-upstream vs through the gateway, on loopback, in one run.

    python bench/gateway_load.py [--requests 20000] [--quick] [--concurrency 16] [--stream-share 0.1]

Starts a fake OpenAI-compatible upstream (the scripted demo assistant) and the gateway (SQLite in a temp
dir, default engine) as separate uvicorn processes on 127.0.0.1, then sends the same chat requests to both
in alternating blocks, so machine noise hits both sides alike. Prints latency p50/p99 for each side, the
added latency, requests/s through the gateway, errors, and the gateway's memory (RSS) across the run.
Targets (issue 5): added p50 <= 10 ms, >= 300 requests/s on 2 cores, 0 errors, memory flat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

KEY = "bench-key"
TOPICS = ["space", "animals", "hello", "homework", "dinosaurs", "the sea", "football", "music"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_upstream(port: int) -> None:
    import uvicorn

    from childsafe.gateway.demo import create_demo_upstream

    uvicorn.run(create_demo_upstream(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_gateway(port: int, upstream_url: str, data_dir: str) -> None:
    import uvicorn

    from childsafe.config import Config
    from childsafe.gateway import create_app

    config = Config.model_validate(
        {
            "store": {"data_dir": data_dir},
            "server": {
                "apps": [{"name": "bench", "key": KEY, "rate_limit_per_minute": 10_000_000}],
                "auto_create_children": True,
                "upstream": {"url": upstream_url, "timeout_s": 30},
            },
        }
    )
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process: unlike wall time, not inflated by other load on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def body(i: int, stream: bool) -> dict[str, Any]:
    return {
        "model": "bench",
        "user": f"child-{i % 200}",
        "stream": stream,
        "messages": [{"role": "user", "content": f"tell me about {TOPICS[i % len(TOPICS)]} please ({i})"}],
    }


async def run_block(
    client: httpx.AsyncClient, url: str, start: int, count: int, concurrency: int, stream_every: int
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    next_i = start
    end = start + count

    async def worker() -> None:
        nonlocal next_i, errors
        while next_i < end:
            i = next_i
            next_i += 1
            stream = stream_every > 0 and i % stream_every == 0
            t0 = time.perf_counter()
            try:
                if stream:
                    async with client.stream("POST", url, json=body(i, True)) as resp:
                        data = b"".join([chunk async for chunk in resp.aiter_bytes()])
                        ok = (
                            resp.status_code == 200
                            and data.rstrip().endswith(b"data: [DONE]")
                            and b'"error"' not in data
                        )
                else:
                    resp = await client.post(url, json=body(i, False))
                    ok = resp.status_code == 200 and "choices" in resp.json()
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - t0)
            if not ok:
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def serve_bare_proxy(port: int, upstream_url: str) -> None:
    """The same stack (uvicorn, FastAPI, httpx) relaying requests with no checks and no store: the floor."""
    import uvicorn

    app = FastAPI()
    client = httpx.AsyncClient(base_url=upstream_url, timeout=30, limits=httpx.Limits(max_connections=256))

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> Response:
        body = await request.json()
        if body.get("stream"):
            resp = await client.send(client.build_request("POST", "/chat/completions", json=body), stream=True)

            async def relay() -> Any:
                async for chunk in resp.aiter_bytes():
                    yield chunk
                await resp.aclose()

            return StreamingResponse(relay(), media_type="text/event-stream")
        resp = await client.post("/chat/completions", json=body)
        return Response(resp.content, media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def bench(args: argparse.Namespace, sides: list[tuple[str, str, int]], gw_pid: int) -> int:
    limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
    headers = {"Authorization": f"Bearer {KEY}"}
    stream_every = round(1 / args.stream_share) if args.stream_share > 0 else 0
    lat: dict[str, list[float]] = {name: [] for name, _u, _p in sides}
    errors = dict.fromkeys(lat, 0)
    busy = dict.fromkeys(lat, 0.0)
    cpu = dict.fromkeys(lat, 0.0)
    memory: list[tuple[int, float]] = []
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30, trust_env=False) as client:
        for _name, url, _pid in sides:  # warm-up: connections, detector loading, SQLite pages
            await run_block(client, url, -500, 500, args.concurrency, stream_every)
        memory.append((0, rss_mb(gw_pid)))
        block = max(500, min(2000, args.requests // 10))
        done = 0
        while done < args.requests:
            n = min(block, args.requests - done)
            for name, url, pid in sides:  # alternating blocks: machine noise hits every side alike
                c0 = cpu_s(pid)
                got, err, took = await run_block(client, url, done, n, args.concurrency, stream_every)
                cpu[name] += cpu_s(pid) - c0
                lat[name] += got
                errors[name] += err
                busy[name] += took
            done += n
            memory.append((done, rss_mb(gw_pid)))
    direct, gateway = sides[0][0], sides[-1][0]
    p50 = {k: pct(v, 0.5) for k, v in lat.items()}
    p99 = {k: pct(v, 0.99) for k, v in lat.items()}
    rps = {k: len(v) / busy[k] for k, v in lat.items()}
    cpu_ms = {k: cpu[k] * 1000 / len(v) for k, v in lat.items()}
    mem_start = memory[1][1] if len(memory) > 1 else memory[0][1]
    mem_end = memory[-1][1]
    mem_peak = max(m for _n, m in memory[1:])
    # Bounded caches (conversation states, child profiles) fill during the first half of a run in which
    # every request starts a new conversation; a leak keeps growing in the second half too.
    mem_half = memory[len(memory) // 2][1]

    print(
        f"\ngateway load benchmark: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), loopback, concurrency {args.concurrency}, "
        f"{args.requests} requests per side ({args.stream_share:.0%} streaming)"
    )
    print(f"{'':<26}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>8}{'errors':>8}{'server CPU ms/req':>19}")
    for name, _u, _p in sides:
        print(f"{name:<26}{p50[name]:>9.2f}{p99[name]:>9.2f}{rps[name]:>8.0f}{errors[name]:>8}{cpu_ms[name]:>19.2f}")
    print(f"{'added by gateway':<26}{p50[gateway] - p50[direct]:>9.2f}{p99[gateway] - p99[direct]:>9.2f}")
    print(
        f"gateway CPU per request {cpu_ms[gateway]:.2f} ms: one core could serve about "
        f"{1000 / cpu_ms[gateway]:.0f} requests/s if nothing else ran on it"
    )
    print(
        f"gateway RSS: {mem_start:.1f} MB after the first block, {mem_end:.1f} MB at end, peak {mem_peak:.1f} MB "
        f"(growth {mem_end - mem_start:+.1f} MB, second half {mem_end - mem_half:+.1f} MB); samples: "
        + ", ".join(f"{n}:{m:.0f}" for n, m in memory)
    )
    checks = [
        ("added p50 <= 10 ms", p50[gateway] - p50[direct] <= 10.0),
        (">= 300 req/s through the gateway", rps[gateway] >= 300),
        ("0 errors", not any(errors.values())),
        ("memory bounded (total growth <= 30 MB)", mem_end - mem_start <= 30.0),
        ("memory flat in the second half (<= 2 MB)", mem_end - mem_half <= 2.0),
    ]
    for name, ok in checks:
        print(f"  [{'PASS' if ok else 'MISS'}] {name}")
    return 0 if not any(errors.values()) else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20_000, help="requests per side (bounded)")
    ap.add_argument("--quick", action="store_true", help="2,000 requests per side")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--stream-share", type=float, default=0.1, help="share of streaming requests (0..1)")
    ap.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--bare-proxy", action="store_true", help="also measure a bare FastAPI+httpx relay (no checks)")
    ap.add_argument("--serve-gateway", nargs=3, metavar=("PORT", "UPSTREAM", "DIR"), help=argparse.SUPPRESS)
    ap.add_argument("--serve-bare", nargs=2, metavar=("PORT", "UPSTREAM"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return 0
    if args.serve_gateway:
        serve_gateway(int(args.serve_gateway[0]), args.serve_gateway[1], args.serve_gateway[2])
        return 0
    if args.serve_bare:
        serve_bare_proxy(int(args.serve_bare[0]), args.serve_bare[1])
        return 0
    if args.quick:
        args.requests = 2_000
    if not 0 < args.requests <= 200_000:
        ap.error("--requests must be between 1 and 200000")
    if not 0 <= args.stream_share <= 1:
        ap.error("--stream-share must be between 0 and 1")
    up_port, gw_port, bare_port = free_port(), free_port(), free_port()
    upstream_base = f"http://127.0.0.1:{up_port}"
    with tempfile.TemporaryDirectory(prefix="childsafe-bench-") as data_dir:
        upstream = subprocess.Popen([sys.executable, __file__, "--serve-upstream", str(up_port)])
        gateway = subprocess.Popen(
            [sys.executable, __file__, "--serve-gateway", str(gw_port), upstream_base + "/v1", data_dir]
        )
        procs = [upstream, gateway]
        sides = [("direct to upstream", upstream_base + "/v1/chat/completions", upstream.pid)]
        if args.bare_proxy:
            bare = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(bare_port), upstream_base + "/v1"])
            procs.append(bare)
            sides.append(("bare relay (no checks)", f"http://127.0.0.1:{bare_port}/v1/chat/completions", bare.pid))
        sides.append(("through gateway", f"http://127.0.0.1:{gw_port}/v1/chat/completions", gateway.pid))
        try:
            wait_ready(upstream_base + "/docs")
            wait_ready(f"http://127.0.0.1:{gw_port}/healthz")
            if args.bare_proxy:
                wait_ready(f"http://127.0.0.1:{bare_port}/docs")
            return asyncio.run(bench(args, sides, gateway.pid))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    sys.exit(main())
