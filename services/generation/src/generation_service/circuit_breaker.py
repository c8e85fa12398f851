"""A circuit breaker per provider: after repeated failures, stop calling it for a while.

Closed: calls go through. `failures_to_open` consecutive failures open it: calls fail at once
with `circuit_open` (and fall back) for `cooldown_s`. Then one trial call goes through (half
open): success closes the circuit, failure opens it for another cooldown.
"""

import time
from dataclasses import dataclass


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0
    trial_running: bool = False


class CircuitBreaker:
    def __init__(self, failures_to_open: int, cooldown_s: float) -> None:
        self._threshold = failures_to_open
        self._cooldown = cooldown_s
        self._states: dict[str, _State] = {}

    def allows(self, name: str) -> bool:
        state = self._states.get(name)
        if state is None or state.failures < self._threshold:
            return True
        if time.monotonic() < state.open_until or state.trial_running:
            return False
        state.trial_running = True  # half open: this caller is the one trial
        return True

    def succeeded(self, name: str) -> None:
        self._states.pop(name, None)

    def failed(self, name: str) -> None:
        state = self._states.setdefault(name, _State())
        state.failures += 1
        state.trial_running = False
        if state.failures >= self._threshold:
            state.open_until = time.monotonic() + self._cooldown

    def is_open(self, name: str) -> bool:
        state = self._states.get(name)
        return state is not None and state.failures >= self._threshold
