"""Retries as a policy object: what is retried, how long to wait, and when to give up.

``Retry-After`` wins over backoff (capped by ``max_retry_after``); 5xx and connection failures back
off exponentially with full jitter; ``max_attempts`` and ``max_total`` bound the whole call. The
policy only *decides*; the client sleeps with its injectable ``sleep`` (tests pass one that moves
the emulator's virtual clock, or does nothing).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["NO_RETRY", "RETRYABLE_STATUSES", "RetryPolicy"]

#: Statuses worth another attempt (429 throttling and transient server failures).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry a failed request.

    - ``max_attempts``: attempts in total (1 = never retry);
    - ``max_total``: seconds a call may spend waiting between attempts, in total;
    - ``backoff`` / ``max_backoff``: first and largest exponential backoff (seconds);
    - ``jitter``: ``True`` for full jitter (uniform 0..backoff), which spreads thundering herds;
    - ``max_retry_after``: cap on the server's ``Retry-After`` advice; longer advice gives up at once;
    - ``statuses``: the HTTP statuses that are retried.
    """

    max_attempts: int = 6
    max_total: float = 300.0
    backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: bool = True
    max_retry_after: float = 120.0
    statuses: frozenset[int] = RETRYABLE_STATUSES
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff_for(self, attempt: int) -> float:
        """Exponential backoff after failed attempt number *attempt* (1-based), jittered."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling) if self.jitter else ceiling

    def delay(
        self,
        attempt: int,
        waited: float,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up.

        *attempt* is the number of attempts made so far, *waited* the seconds already spent
        waiting; *status* is ``None`` for a connection failure.
        """
        if attempt >= self.max_attempts:
            return None
        if status is not None and status not in self.statuses:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            wait = retry_after
        else:
            wait = self.backoff_for(attempt)
        if waited + wait > self.max_total:
            return None
        return wait


#: A policy that never retries (every failure surfaces at once).
NO_RETRY = RetryPolicy(max_attempts=1)
