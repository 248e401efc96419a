"""gv.set_budget: checked by every spending path, refusing before anything is sent."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

import grokvid_nb as gv
from grokvid_nb._budget import get_budget

from .conftest import created


def test_limits_are_checked() -> None:
    for bad in (math.nan, -1.0, math.inf):
        with pytest.raises(ValueError, match="non-negative"):
            gv.set_budget(total=bad)
        with pytest.raises(ValueError, match="non-negative"):
            gv.set_budget(daily=bad)
    with pytest.raises(TypeError):
        gv.set_budget(total="5")  # type: ignore[arg-type]
    budget = gv.set_budget(total=2, daily=None)
    assert (budget.total, budget.daily) == (2.0, None)
    assert get_budget() == budget
    assert gv.set_budget().active is False


# apixo grok-video 6 s: $0.09 estimated (published price)
SPENDERS = {
    "generate": lambda: gv.generate("a lake", provider="apixo"),
    "Client.submit": lambda: gv.Client("apixo").submit("a lake"),
    "Client.start": lambda: gv.Client("apixo").start("a lake"),
    "compare": lambda: gv.compare("a lake", providers=["apixo"], progress=False),
    "sweep": lambda: gv.sweep("a lake", providers=["apixo"], grid={"duration": [6]}, progress=False),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("path", sorted(SPENDERS))
def test_every_spending_path_refuses_before_sending(path: str, sandbox: Any) -> None:
    gv.set_budget(total=0.05)
    with pytest.raises(gv.BudgetExceededError) as caught:
        SPENDERS[path]()
    message = str(caught.value)
    assert "$0.09" in message and "$0.05" in message and "spent $0.00" in message
    assert "nothing was sent" in message
    assert created(sandbox) == 0
    assert sum(sandbox.stats.submits.values()) == 0


@pytest.mark.timeout(30)
def test_the_form_refuses_and_says_why(sandbox: Any) -> None:
    gv.set_budget(daily=0.01)
    form = gv.form("apixo")
    form.prompt.value = "a lake"
    form._on_generate()
    assert form.job is None
    assert "daily limit $0.01" in form.status.value
    assert created(sandbox) == 0


@pytest.mark.timeout(60)
def test_total_counts_from_the_call_and_daily_from_the_ledger(sandbox: Any) -> None:
    client = gv.Client("apixo", keep_local=False)
    assert client.submit("one").wait(30).ok  # $0.09, before any budget
    gv.set_budget(total=0.2)
    assert client.submit("two").wait(30).ok  # 0.09 since the call
    assert client.submit("three").wait(30).ok  # 0.18
    with pytest.raises(gv.BudgetExceededError, match=r"estimated \$0.09, spent \$0.18 since gv.set_budget\(\)"):
        client.submit("four")
    assert client.submit("three").reused is True  # reuse spends nothing: allowed
    gv.set_budget(daily=0.3)  # the ledger holds 0.27 for today
    with pytest.raises(gv.BudgetExceededError, match=r"spent \$0.27 today.*daily limit \$0.30"):
        client.submit("five")
    assert created(sandbox) == 3


@pytest.mark.timeout(30)
def test_a_pending_job_counts_as_committed(sandbox: Any) -> None:
    client = gv.Client("apixo", keep_local=False)
    gv.set_budget(total=0.1)
    job = client.start("slow [sandbox:latency=60]")
    with pytest.raises(gv.BudgetExceededError, match=r"spent \$0.09"):
        client.start("another")
    job.cancel()


@pytest.mark.timeout(30)
def test_an_unknown_price_is_never_counted_as_zero(sandbox: Any) -> None:
    gv.set_budget(total=100)
    with pytest.raises(gv.BudgetExceededError, match="unknown.*not counted as zero"):
        gv.Client("xingchao").submit("a lake")
    assert created(sandbox) == 0
    gv.set_price("xingchao", per_call=0.5)
    try:
        assert gv.Client("xingchao", keep_local=False).submit("a lake").wait(30).ok
    finally:
        gv.set_price("xingchao")


def test_compare_with_an_unpriced_provider_says_so(sandbox: Any) -> None:
    gv.set_budget(total=100)
    started = time.monotonic()
    with pytest.raises(gv.BudgetExceededError, match="unknown price for xingchao"):
        gv.compare("a lake", providers=["apixo", "xingchao"], progress=False)
    assert created(sandbox) == 0 and time.monotonic() - started < 5
