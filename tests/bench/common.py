"""Helpers the benchmarks share."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def load(call: Callable[[int], None], count: int, concurrency: int) -> dict[str, float]:
    """Run ``call`` ``count`` times on ``concurrency`` threads; latency in ms and throughput."""
    latencies: list[float] = []

    def timed(index: int) -> None:
        started = perf_counter()
        call(index)
        latencies.append((perf_counter() - started) * 1000)

    started = perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(timed, range(count)))
    elapsed = perf_counter() - started
    return {
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies),
        "requests_per_s": count / elapsed,
    }
