"""One budget for every path that spends: `set_budget(total=None, daily=None)`.

`total` counts what was committed from the `set_budget` call on, in this kernel; `daily` counts
what the ledger holds for the current calendar day (local time), whoever spent it. What a job
committed is its cost once known (reported or estimated), else its estimate while it may still
be charged (queued, running, timed out, cancelled, unknown); failed and expired jobs count zero.
A request whose price is unknown is refused while a limit is set: an unknown price is never
counted as zero. `check_budget(...)` is called by `Client.start` (so `generate`, `submit`, the
form), `compare` and `sweep` before anything is sent.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ._exceptions import BudgetExceededError

if TYPE_CHECKING:
    from ._ledger import Ledger, LedgerRow

__all__ = ["Budget", "set_budget", "get_budget", "check_budget", "committed_cost", "day_start"]

#: States whose job may be charged although its cost is not (yet) known.
MAYBE_CHARGED = ("queued", "running", "timed_out", "cancelled", "unknown")


@dataclass(frozen=True)
class Budget:
    """The limits in force: `total` (USD since `since`, epoch seconds) and `daily` (USD per
    calendar day); None is no limit."""

    total: float | None = None
    daily: float | None = None
    since: float = 0.0

    @property
    def active(self) -> bool:
        """True when at least one limit is set."""
        return self.total is not None or self.daily is not None


_lock = threading.Lock()
_current: list[Budget] = [Budget()]


def _limit(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}={value!r} must be a number of USD or None")
    if math.isnan(value) or value < 0 or math.isinf(value):
        raise ValueError(f"{name}={value!r} must be a finite, non-negative number of USD (or None)")
    return float(value)


def set_budget(total: float | None = None, daily: float | None = None) -> Budget:
    """Limit what every spending path may commit (USD): `total` from this call on, in this
    kernel; `daily` per calendar day (local time) from the ledger. None is no limit;
    `set_budget()` removes both. A request that would cross a limit is refused before it is
    sent with `gv.BudgetExceededError`. Returns the new `Budget`."""
    budget = Budget(_limit("total", total), _limit("daily", daily), time.time())
    with _lock:
        _current[0] = budget
    return budget


def get_budget() -> Budget:
    """The budget in force (both limits None when none is set)."""
    return _current[0]


def day_start(when: float | None = None) -> float:
    """Epoch seconds of local midnight of the day of `when` (default now)."""
    moment = datetime.fromtimestamp(time.time() if when is None else when)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def committed_cost(row: LedgerRow) -> float | None:
    """What a recorded job committed: its known cost, else its estimate while it may still be
    charged, 0.0 when it was not (failed, expired), None when that is unknown (no price)."""
    if row.cost_usd is not None:
        return row.cost_usd
    if row.state not in MAYBE_CHARGED:
        return 0.0
    from ._catalog import priced_spec
    from .adapters import get_adapter

    try:
        return priced_spec(get_adapter(row.provider), row.model, row.mode).estimate(row.params)
    except Exception:  # a model no longer in the table: its price is unknown
        return None


def _spent(rows: list[LedgerRow], since: float) -> tuple[float, int]:
    known, unknown = 0.0, 0
    for row in rows:
        if row.created_at < since:
            continue
        cost = committed_cost(row)
        if cost is None:
            unknown += 1
        else:
            known += cost
    return round(known, 6), unknown


def check_budget(estimate: float | None, ledger: Ledger, *, what: str, unknown_labels: tuple[str, ...] = (),
                 budget: Budget | None = None) -> None:
    """Raise `BudgetExceededError` when `estimate` (USD of what is about to be sent; None for
    an unknown price, `unknown_labels` for the unpriced parts of a batch) would cross a limit
    of `set_budget`. Nothing is sent before this passes."""
    budget = budget or get_budget()
    if not budget.active:
        return
    if estimate is None or unknown_labels:
        parts = ", ".join(unknown_labels) or what
        raise BudgetExceededError(
            f"{what}: the price of {parts} is unknown, and with a budget in force "
            f"({_describe(budget)}) an unknown price is not counted as zero; nothing was sent. "
            "Set a price with gv.set_price(...) or remove the limit with gv.set_budget()")
    rows = ledger.all()
    for name, limit, since in (("total", budget.total, budget.since),
                               ("daily", budget.daily, day_start())):
        if limit is None:
            continue
        spent, unknown = _spent(rows, since)
        if spent + estimate > limit + 1e-9:
            period = "since gv.set_budget()" if name == "total" else "today"
            extra = (f" (+ {unknown} earlier job{'s' if unknown != 1 else ''} of unknown price, "
                     "not counted)") if unknown else ""
            raise BudgetExceededError(
                f"{what}: estimated ${estimate:.2f}, spent ${spent:.2f} {period}{extra}, "
                f"{name} limit ${limit:.2f}: it would cross the budget; nothing was sent. "
                "Raise it with gv.set_budget(...) or remove it with gv.set_budget()")


def _describe(budget: Budget) -> str:
    bits = []
    if budget.total is not None:
        bits.append(f"total ${budget.total:.2f}")
    if budget.daily is not None:
        bits.append(f"daily ${budget.daily:.2f}")
    return ", ".join(bits)
