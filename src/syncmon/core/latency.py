"""Health-poll latencies kept for `api_response_time`, in memory that does not grow."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class LatencyLog:
    """Sums and counts of latencies in fixed time buckets, at most `horizon` back.

    A window's mean is exact to the bucket (10 s by default), whatever the poll rate:
    a daemon polling every second for a month holds 8,640 buckets, not millions of samples.
    """

    def __init__(
        self, bucket: timedelta = timedelta(seconds=10), horizon: timedelta = timedelta(hours=24)
    ) -> None:
        self.bucket_seconds = bucket.total_seconds()
        self.horizon = horizon
        self._buckets: deque[list[float]] = deque()  # [bucket index, sum ms, count]

    def __len__(self) -> int:
        return len(self._buckets)

    def _index(self, at: datetime) -> float:
        return at.timestamp() // self.bucket_seconds

    def add(self, at: datetime, latency_ms: float) -> None:
        index = self._index(at)
        if self._buckets and self._buckets[-1][0] == index:
            self._buckets[-1][1] += latency_ms
            self._buckets[-1][2] += 1
        else:
            self._buckets.append([index, latency_ms, 1])
        oldest = self._index(at - self.horizon)
        while self._buckets and self._buckets[0][0] < oldest:
            self._buckets.popleft()

    def since(self, moment: datetime) -> tuple[float, int]:
        """(sum of latencies in ms, number of polls) from the bucket holding `moment` on."""
        first = self._index(moment)
        total, count = 0.0, 0
        for index, latency_sum, samples in reversed(self._buckets):
            if index < first:
                break
            total += latency_sum
            count += int(samples)
        return total, count
