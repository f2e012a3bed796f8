"""HTTP load for the serving scenarios (stdlib only: both sides import it).

- :func:`sequential` — single-row latency: one keep-alive connection
  (``http.client`` sets ``TCP_NODELAY``), one request at a time, request sent →
  full body read, after a warm-up.
- :func:`wrk` — throughput: ``wrk -t1 -cN -dS`` with a Lua script that POSTs a fixed
  body; counts non-2xx answers and socket errors. :func:`threaded` is the fallback
  when ``wrk`` is not installed (a Python client: lower ceiling, numbers not comparable).
- ``python loadgen.py steady CONFIG_JSON`` — steady load for the rolling-update and
  crash scenarios, in its own process, until a stop file appears; every request that
  does not end in a 200 (a status, a reset, a refused connection, a time-out) is a
  failure and is counted, never retried.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from typing import Any


def _split(url: str) -> tuple[str, int, str]:
    u = urllib.parse.urlsplit(url)
    return u.hostname or "127.0.0.1", u.port or 80, u.path or "/"


def headers(token: str | None) -> dict[str, str]:
    out = {"Content-Type": "application/json"}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


def wait_http(url: str, timeout: float = 120.0, interval: float = 0.02,
              proc: subprocess.Popen | None = None) -> float:
    """Poll GET ``url`` until it answers 200; seconds waited. Raises on time-out or if
    ``proc`` exits first."""
    host, port, path = _split(url)
    t0 = time.perf_counter()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"{url} did not answer 200 within {timeout} s")
        time.sleep(interval)


def post_once(url: str, body: bytes, token: str | None, timeout: float = 30) -> tuple[int, bytes]:
    host, port, path = _split(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers(token))
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def sequential(url: str, body: bytes, token: str | None, warmup: int, requests: int,
               content_type: str = "application/json") -> tuple[list[float], bytes]:
    """Seconds per request (send → full body read) over one keep-alive connection."""
    host, port, path = _split(url)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    hdrs = {**headers(token), "Content-Type": content_type}
    out = b""

    def once() -> bytes:
        conn.request("POST", path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"POST {url} -> {resp.status}: {data[:300]!r}")
        return data

    try:
        for _ in range(warmup):
            once()
        samples = []
        for _ in range(requests):
            t0 = time.perf_counter()
            out = once()
            samples.append(time.perf_counter() - t0)
    finally:
        conn.close()
    return samples, out


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def latency_summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(samples) * 1000, "p95_ms": percentile(samples, 0.95) * 1000,
            "p99_ms": percentile(samples, 0.99) * 1000, "min_ms": min(samples) * 1000,
            "n": len(samples)}


# ---------------------------------------------------------------- throughput


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


_LUA = """wrk.method = "POST"
local f = assert(io.open({path!r}, "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
{auth}
"""


def wrk(url: str, body: bytes, token: str | None, conns: int, seconds: float,
        threads: int = 1) -> dict[str, Any]:
    """Run wrk; req/s, non-2xx and socket errors, latency percentiles."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        body_path = os.path.join(tmp, "body.json")
        with open(body_path, "wb") as f:
            f.write(body)
        auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
        script = os.path.join(tmp, "post.lua")
        with open(script, "w") as f:
            f.write(_LUA.format(path=body_path, auth=auth).replace("'", '"'))
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(seconds))}s",
               "--timeout", "10s", "--latency", "-s", script, url]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout
    if out.returncode != 0 or "Requests/sec" not in text:
        raise RuntimeError(f"wrk failed ({out.returncode}): {text}\n{out.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    lat = {}
    for q, val, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        lat[f"p{q}_ms"] = float(val) * {"us": 1e-3, "ms": 1.0, "s": 1000.0}[unit]
    return {
        "tool": "wrk", "rps": rps, "requests": total, "conns": conns, "threads": threads,
        "seconds": seconds, "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
        "latency": lat, "raw": text.strip().splitlines()[-12:],
    }


def threaded(url: str, body: bytes, token: str | None, conns: int, seconds: float
             ) -> dict[str, Any]:
    """Python fallback for :func:`wrk` (threads, one keep-alive connection each)."""
    stop = threading.Event()
    counts = [[0, 0] for _ in range(conns)]
    host, port, path = _split(url)
    hdrs = headers(token)

    def loop(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while not stop.is_set():
            try:
                conn.request("POST", path, body=body, headers=hdrs)
                resp = conn.getresponse()
                resp.read()
                counts[i][0 if resp.status == 200 else 1] += 1
            except (OSError, http.client.HTTPException):
                counts[i][1] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(conns)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    ok = sum(c[0] for c in counts)
    return {"tool": "python-threads", "rps": ok / elapsed, "requests": ok, "conns": conns,
            "seconds": elapsed, "non2xx": sum(c[1] for c in counts), "socket_errors": 0}


def throughput(url: str, body: bytes, token: str | None, conns: int, seconds: float,
               warmup_seconds: float = 0) -> dict[str, Any]:
    run = wrk if have_wrk() else threaded
    if warmup_seconds:
        run(url, body, token, conns, warmup_seconds)
    return run(url, body, token, conns, seconds)


# ---------------------------------------------------------------- steady load (own process)


def steady(cfg: dict[str, Any]) -> dict[str, Any]:
    """Keep ``conns`` keep-alive connections busy until ``cfg['stop_file']`` exists.

    Every request is counted once: ok (200) or failed (non-200 status, connection
    refused/reset, server closed before answering, time-out); the connection is reopened
    for the next one. ``connection_errors`` counts the requests that met a
    connection-level error: what a client that never retries sees fail. With
    ``cfg['retry']`` such a request is sent once more on a new connection, as
    mlops_jlab's own clients do (``Deployment.predict`` and the Jupyter server's predict
    route: a prediction is safe to repeat); ``failed`` then counts what still failed.
    """
    host, port, path = _split(cfg["url"])
    body = cfg["body"].encode()
    hdrs = headers(cfg.get("token"))
    stop_file = cfg["stop_file"]
    conns = int(cfg.get("conns", 4))
    retry = bool(cfg.get("retry"))
    markers = {str(v): f'"model_version":{v}'.encode() for v in cfg.get("versions", [])}
    t0 = time.perf_counter()
    lock = threading.Lock()
    stats: dict[str, Any] = {"ok": 0, "failed": 0, "errors": {}, "failures": [],
                             "versions": {k: 0 for k in markers}, "reconnects": 0,
                             "connection_errors": 0, "recovered_by_retry": 0,
                             "retry": retry}
    stop = threading.Event()

    def fail(kind: str, detail: str) -> None:
        with lock:
            stats["failed"] += 1
            stats["errors"][kind] = stats["errors"].get(kind, 0) + 1
            if len(stats["failures"]) < 20:
                stats["failures"].append({"t": round(time.perf_counter() - t0, 3),
                                          "kind": kind, "detail": detail[:200]})

    def send(conn: http.client.HTTPConnection) -> tuple[int, bytes]:
        conn.request("POST", path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.read()

    def loop() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while not stop.is_set():
            try:
                status, data = send(conn)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                with lock:
                    stats["reconnects"] += 1
                    stats["connection_errors"] += 1
                if not retry:
                    fail(type(exc).__name__, str(exc))
                    continue
                try:
                    status, data = send(conn)
                except (OSError, http.client.HTTPException) as again:
                    fail(type(again).__name__, f"after one retry: {again}")
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                    continue
                with lock:
                    stats["recovered_by_retry"] += 1
            if status != 200:
                fail(f"http_{status}", data[:200].decode(errors="replace"))
                continue
            with lock:
                stats["ok"] += 1
                for k, m in markers.items():
                    if m in data:
                        stats["versions"][k] += 1
        conn.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(conns)]
    for t in threads:
        t.start()
    while not os.path.exists(stop_file):
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(15)
    stats["seconds"] = time.perf_counter() - t0
    stats["conns"] = conns
    return stats


class SteadyLoad:
    """Start ``loadgen.py steady`` as a subprocess; :meth:`finish` stops it and returns
    its counts."""

    def __init__(self, url: str, body: bytes, token: str | None, conns: int,
                 versions: list[int] | None = None, retry: bool = False) -> None:
        self.tmp = tempfile.mkdtemp(prefix="bench-steady-")
        self.stop_file = os.path.join(self.tmp, "stop")
        cfg = {"url": url, "body": body.decode(), "token": token, "conns": conns,
               "stop_file": self.stop_file, "versions": versions or [], "retry": retry}
        cfg_path = os.path.join(self.tmp, "cfg.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "steady",
                                      cfg_path], stdout=subprocess.PIPE, text=True)

    def finish(self) -> dict[str, Any]:
        open(self.stop_file, "w").close()
        out, _ = self.proc.communicate(timeout=60)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return json.loads(out.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


free_port = _free_port


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "steady":
        with open(sys.argv[2]) as f:
            print(json.dumps(steady(json.load(f))), flush=True)
    else:
        raise SystemExit("usage: loadgen.py steady CONFIG_JSON")
