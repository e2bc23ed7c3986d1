"""Per-Region circuit breakers against a real failing Region: open after N consecutive
failures, skip the Region while it is open, probe it half-open after the cool-down, close
on a successful probe (and re-open on a failed one)."""

from __future__ import annotations

import time

COOLDOWN = 1.0


def test_breaker_opens_skips_probes_and_closes(stsd_regional_sts, stsd_regions):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"], per_attempt_timeout=0.3, deadline=3.0,
                            failure_threshold=2, cooldown=COOLDOWN)
    sts.prepare()

    def call() -> list[tuple[str, str, str]]:
        sts.get_caller_identity()
        return [(a.region, a.breaker, a.outcome) for a in sts.last_call.attempts]

    with stsd_regions.fault("eu-west-1", "down", 1500):
        # Two consecutive failures: still tried each time, then the breaker opens.
        assert call() == [("eu-west-1", "closed", "failover"), ("eu-west-2", "closed", "success")]
        assert sts.health.state("eu-west-1") == "closed"
        assert call() == [("eu-west-1", "closed", "failover"), ("eu-west-2", "closed", "success")]
        assert sts.health.state("eu-west-1") == "open"
        # Open: skipped outright, no timeout paid.
        assert call() == [("eu-west-2", "closed", "success")]
        assert sts.last_call.skipped[0][0] == "eu-west-1"
        assert sts.last_call.skipped[0][1].startswith("circuit-open")
        # After the cool-down one probe goes through; it fails, so the breaker re-opens.
        time.sleep(COOLDOWN)
        assert sts.health.state("eu-west-1") == "half-open"
        assert call() == [("eu-west-1", "half-open", "failover"), ("eu-west-2", "closed", "success")]
        assert sts.health.state("eu-west-1") == "open"
    # The Region recovered; the next probe after the cool-down closes the breaker.
    time.sleep(max(0.0, sts.health.breaker("eu-west-1").retry_in()))
    assert call() == [("eu-west-1", "half-open", "success")]
    assert sts.health.state("eu-west-1") == "closed"
    assert call() == [("eu-west-1", "closed", "success")]


def test_every_breaker_open_means_trying_anyway(stsd_regional_sts):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"], cooldown=60.0)
    for key in ("eu-west-1", "eu-west-2"):
        sts.health.breaker(key).record_failure("test", trip=True)
    sts.get_caller_identity()  # both open: rather than fail without trying, they are forced
    assert [(a.region, a.breaker, a.outcome) for a in sts.last_call.attempts] == [
        ("eu-west-1", "open (forced)", "success")]
    assert sts.health.state("eu-west-1") == "closed"
