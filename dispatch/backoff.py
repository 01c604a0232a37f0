"""How long to wait before retrying a delivery: exponential, capped, randomised.

The delay before retry number ``n`` (``attempt`` = how many attempts have failed so far, from 1)
starts as ``initial * multiplier ** (attempt - 1)``, is capped at ``maximum``, and is then drawn
uniformly from ``[(1 - jitter) * d, d]``.

Why this shape of jitter: with ``jitter = 1.0`` it is the "full jitter" of the well-known AWS
analysis (uniform in ``[0, d]``), which spreads retries best but may retry almost at once; the
default ``0.5`` ("equal jitter") always waits at least half the nominal delay, so a channel that
is down is not hammered, while the deliveries that failed together (a broker outage fails every
pending message at once) still come back spread out instead of in one burst. ``jitter = 0.0``
gives plain deterministic exponential backoff.

Pure: the random source is passed in, so a seeded ``random.Random`` replays the same delays.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from dispatch.errors import PolicyError


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Retry delays for one channel. Construction checks the settings and says which is wrong."""

    initial: timedelta
    maximum: timedelta
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.initial <= timedelta(0):
            raise PolicyError(
                f"retry backoff: initial delay must be positive, got {self.initial}; "
                "set it to e.g. 10 seconds"
            )
        if self.maximum < self.initial:
            raise PolicyError(
                f"retry backoff: maximum delay ({self.maximum}) is shorter than the initial "
                f"delay ({self.initial}); raise the maximum or lower the initial delay"
            )
        if not (math.isfinite(self.multiplier) and self.multiplier >= 1.0):
            raise PolicyError(
                f"retry backoff: multiplier must be a number >= 1 (delays never shrink), "
                f"got {self.multiplier!r}; 2 doubles the delay after each failure"
            )
        if not (math.isfinite(self.jitter) and 0.0 <= self.jitter <= 1.0):
            raise PolicyError(
                f"retry backoff: jitter must be between 0 and 1, got {self.jitter!r}; "
                "0 means no randomisation, 0.5 waits between half and all of the delay"
            )

    def base_delay(self, attempt: int) -> timedelta:
        """The nominal (un-jittered) delay after ``attempt`` failed attempts (``attempt >= 1``).

        Never decreases as ``attempt`` grows, never exceeds ``maximum``, and does not overflow
        for any attempt count.
        """
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        steps = attempt - 1
        initial_s = self.initial.total_seconds()
        maximum_s = self.maximum.total_seconds()
        if steps == 0 or self.multiplier == 1.0:
            seconds = initial_s
        elif steps >= math.log(maximum_s / initial_s) / math.log(self.multiplier):
            seconds = maximum_s
        else:
            seconds = min(maximum_s, initial_s * self.multiplier**steps)
        return min(self.maximum, timedelta(seconds=seconds))

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        """The randomised delay after ``attempt`` failed attempts: in ``[(1-jitter)*d, d]``
        where ``d = base_delay(attempt)``. Uses exactly one ``rng.random()`` draw."""
        base = self.base_delay(attempt)
        fraction = 1.0 - self.jitter * rng.random()  # in (1 - jitter, 1]
        return base * fraction
