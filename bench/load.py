"""Speed over the REST channel: per-turn latency with 1 and N concurrent users, throughput, memory."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import requests


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), like numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class LoadResult:
    users: int
    latencies_ms: List[float]
    wall_s: float
    errors: int

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0

    def summary(self) -> Dict[str, float]:
        lat = self.latencies_ms
        return {
            "turns": len(lat),
            "errors": self.errors,
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
            "p99_ms": percentile(lat, 99),
            "mean_ms": sum(lat) / len(lat) if lat else float("nan"),
            "throughput_rps": self.throughput,
        }


def say(session: requests.Session, url: str, sender: str, message: str, timeout: float = 60,
        token: Optional[str] = None) -> List[dict]:
    """One turn through the REST channel (with its bearer token, bot/rasa/rest.py)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=timeout,
                            headers=headers)
    response.raise_for_status()
    return response.json()


def run_load(url: str, messages: Sequence[str], users: int, turns_per_user: int, turns_per_conversation: int = 8,
             max_seconds: float = 240, tag: str = "load", token: Optional[str] = None) -> LoadResult:
    """``users`` threads, each holding conversations of ``turns_per_conversation`` turns (a new sender
    id after that, so session starts are part of the mix), cycling through ``messages``; bounded by
    ``max_seconds``. Latency = time of one REST request, i.e. one user turn with all its bot replies."""
    latencies: List[float] = []
    lock = threading.Lock()
    errors = [0]
    deadline = time.monotonic() + max_seconds

    def user(index: int) -> None:
        session = requests.Session()
        sender = None
        for turn in range(turns_per_user):
            if time.monotonic() > deadline:
                break
            if turn % turns_per_conversation == 0:
                sender = f"bench-{tag}-{index}-{uuid.uuid4().hex[:8]}"
            message = messages[(index * 7919 + turn) % len(messages)]
            started = time.perf_counter()
            try:
                say(session, url, sender, message, token=token)
            except requests.RequestException:
                with lock:
                    errors[0] += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
        session.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(user, range(users)))
    return LoadResult(users, latencies, time.perf_counter() - started, errors[0])


def rss_mb(pid: int) -> Dict[str, float]:
    """Resident memory (now and peak) of a process and its descendants, in MB (from /proc)."""
    now = peak = 0.0
    for p in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        now += int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        peak += int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    return {"rss_mb": now, "peak_rss_mb": peak}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process and its descendants have used so far, from /proc:
    the start-up work itself, whatever else the machine is doing."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)
    return total


def _descendants(pid: int) -> List[int]:
    out = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out.append(int(child))
        out.extend(_descendants(int(child)))
    return out


def wait_first_answer(url: str, started: float, timeout: float = 240, message: str = "what causes hip pain",
                      token: Optional[str] = None) -> Optional[float]:
    """Seconds from ``started`` (time.monotonic) until the first non-empty REST answer."""
    session = requests.Session()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if say(session, url, f"bench-ready-{uuid.uuid4().hex[:8]}", message, timeout=30, token=token):
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)
    return None
