"""Retrying optimistic writes under contention: attempts spaced by jittered exponential backoff.

Conditional writes that lose a race (a revision moved, a transaction conflicted) are retried after
re-reading. Without spacing, N writers retrying in lock step keep colliding and give up (the 503s of
issue #10 item 10); with "full jitter" (a random pause in [0, min(cap, base * 2**attempt)]) the
writers spread out and every one of them gets its turn within a few attempts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

MAX_ATTEMPTS = 40
BASE_SECONDS = 0.002
CAP_SECONDS = 0.1


def attempts(n: int = MAX_ATTEMPTS) -> Iterator[int]:
    """Attempt numbers 0..n-1, pausing (jittered, growing) before every attempt after the first.

    Worst case ~3.5 s of pauses over 40 attempts; the expected total is half of that and only
    reached under heavy contention."""
    for i in range(n):
        if i:
            time.sleep(random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2 ** min(i, 16))))
        yield i
