"""Pure decisions: adaptive interval, backoff, health findings."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.config import HealthSection
from monitor.decide import PollPolicy, adaptive_interval, backoff_delay, next_poll_after_error
from monitor.health import SourceFacts, assess

H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
POLICY = PollPolicy(min_interval=dt.timedelta(minutes=5), max_interval=6 * H, backoff_base=dt.timedelta(minutes=1),
                    backoff_cap=6 * H, jitter=0.2)


def test_interval_follows_real_posting_rate():
    hourly = [NOW - k * H for k in range(6)]
    assert adaptive_interval(H, hourly, 1, POLICY) == H / 2
    minutely = [NOW - k * dt.timedelta(minutes=1) for k in range(6)]
    assert adaptive_interval(H, minutely, 3, POLICY) == POLICY.min_interval
    assert adaptive_interval(5 * H, [], 0, POLICY) == POLICY.max_interval
    assert adaptive_interval(H, [], 0, POLICY) == 1.5 * H


def test_backoff_grows_caps_and_never_gives_up():
    delays = [backoff_delay(n, POLICY, 0.5) for n in range(1, 15)]
    assert delays[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(delays) == POLICY.backoff_cap and delays[-1] == POLICY.backoff_cap
    assert backoff_delay(3, POLICY, 0.0) == dt.timedelta(minutes=4 * 0.8)
    assert backoff_delay(3, POLICY, 0.999) < dt.timedelta(minutes=4 * 1.2)
    assert backoff_delay(40, POLICY, 0.999) <= POLICY.backoff_cap


def test_host_failures_dominate():
    assert next_poll_after_error(NOW, 1, 6, POLICY, 0.5) == NOW + dt.timedelta(minutes=32)


def test_policy_validates_plainly():
    with pytest.raises(ValueError, match="minimum poll interval must be positive"):
        PollPolicy(min_interval=dt.timedelta(0))


def _facts(**changes) -> SourceFacts:
    base = dict(name="s", url="http://x/", enabled=True, created_at=NOW - 30 * 24 * H, last_success_at=NOW - H,
                last_new_item_at=NOW - H, last_error_at=None, last_error=None, consecutive_failures=0,
                items_last_week=14, expected_period=None)
    base.update(changes)
    return SourceFacts(**base)


def test_health_findings():
    policy = HealthSection(failing_after=3, silent_factor=3, default_expected_period=24 * H)
    assert assess(_facts(), NOW, policy).problem == "ok"
    failing = assess(_facts(consecutive_failures=3, last_error="[s] http://x/: HTTP 500"), NOW, policy)
    assert failing.problem == "failing" and "HTTP 500" in failing.message
    silent = assess(_facts(last_new_item_at=NOW - 4 * 24 * H), NOW, policy)
    assert silent.problem == "silent" and "4.0 days" in silent.message
    assert assess(_facts(last_new_item_at=NOW - 4 * 24 * H, expected_period=7 * 24 * H), NOW, policy).problem == "ok"
    assert assess(_facts(), NOW, policy).items_per_day == 2.0
    assert failing.dedupe_key != silent.dedupe_key
