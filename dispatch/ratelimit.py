"""A token bucket: how fast one channel may be fed (SMS per second on a modem, messages per
second to a broker or a cell broadcast centre).

The bucket holds at most ``burst`` tokens and gains ``rate_per_second`` tokens per second; each
message takes one. It never reads the clock: the caller passes ``now`` (seconds on any monotonic
scale, e.g. ``time.monotonic()``), so it is driven exactly in tests. It starts full.

Guarantee: over any window of ``T`` seconds, at most ``burst + rate_per_second * T`` tokens are
granted. A ``now`` earlier than one seen before (a clock that stepped back) adds no tokens.
"""

from __future__ import annotations

import math

from dispatch.errors import PolicyError

_MARGIN_S = 1e-6


class TokenBucket:
    """A token bucket pure with respect to time. Not thread-safe: one owner per channel."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate_per_second: float, burst: int) -> None:
        if not (math.isfinite(rate_per_second) and rate_per_second > 0):
            raise PolicyError(
                f"rate limit: rate_per_second must be a positive number, got {rate_per_second!r}; "
                "e.g. 0.5 for one message every two seconds"
            )
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise PolicyError(
                f"rate limit: burst must be a whole number >= 1, got {burst!r}; "
                "it is how many messages may go back to back"
            )
        self._rate = float(rate_per_second)
        self._burst = burst
        self._tokens = float(burst)
        self._last: float | None = None

    @property
    def rate_per_second(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def _refill(self, now: float) -> None:
        if self._last is None:
            self._last = now
            return
        if now > self._last:
            self._tokens = min(float(self._burst), self._tokens + (now - self._last) * self._rate)
            self._last = now

    def available(self, now: float) -> float:
        """How many tokens the bucket holds at ``now`` (a fraction while refilling)."""
        self._refill(now)
        return self._tokens

    def take(self, now: float) -> float:
        """Take one token: return ``0.0`` if one was available (and it is now taken), else the
        seconds to wait until one will be (nothing is taken then; call again after waiting)."""
        if not math.isfinite(now):
            raise ValueError(f"now must be a finite number of seconds, got {now!r}")
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        # A microsecond of margin, so that waiting exactly this long is enough despite the
        # rounding of ``now + wait`` on a large clock value.
        return (1.0 - self._tokens) / self._rate + _MARGIN_S

    def __repr__(self) -> str:
        return (
            f"TokenBucket(rate_per_second={self._rate!r}, burst={self._burst!r}, "
            f"tokens={self._tokens:.3f})"
        )
