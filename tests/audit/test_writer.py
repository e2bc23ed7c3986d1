"""The audit trail's server side and its writer process: the bounded queue, what crosses the
pipe (no secrets), delivery per sink, flush/close, a writer that dies or stalls, and the cost
of ``submit`` and of the capture on the server's event loop."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvloop

from stsd.actions.base import registry
from stsd.audit import elements, metrics, redact
from stsd.audit.delivery import Deliverer
from stsd.audit.identity import user_identity
from stsd.audit.record import Call, KnownAccounts, records
from stsd.audit.wire import batch_line, capture, restore
from stsd.audit.writer import AuditTrail
from stsd.auth import principal as p
from stsd.errors import AccessDenied
from stsd.protocol.params import Str, StructList
from stsd.protocol.render import Members
from stsd.regions.endpoints import global_endpoint
from stsd.server.context import RequestContext
from stsd.server.pipeline import Outcome
from stsd.store.db import make_engine, migrate
from stsd.tokens.claims import ROLE, SessionClaims

ACCOUNT = "123456789012"
SESSION_SECRET = "sessionSECRETsessionSECRETsessionSECRET0"
MINTED_SECRET = "mintedSECRETmintedSECRETmintedSECRET0000"
WHEN = datetime(2025, 2, 12, 22, 16, 48, tzinfo=UTC)


class _Accounts:
    def known_accounts(self) -> list[str]:
        return [ACCOUNT]


class _Sink:
    def __init__(self, name: str, fail: bool = False):
        self.name, self.fail, self.got = name, fail, []

    def write(self, records: list[dict[str, Any]], encoded: list[bytes]) -> int:
        if self.fail:
            raise OSError(28, "No space left on device")
        self.got.extend(records)
        return 0


def _call(name: str = "GetCallerIdentity") -> Call:
    return Call(event_source="sts.amazonaws.com", event_name=name, read_only=True, time=WHEN,
                aws_region="us-east-1", source_ip="192.0.2.1", user_agent="ua", host="sts.amazonaws.com",
                request_id=f"rid-{name}", principal=None, access_key_id="AKIA",
                request_details={"awsServingRegion": "eu-north-1", "endpointType": "global"})


def _role_session() -> p.Principal:
    claims = SessionClaims(kind=ROLE, account=ACCOUNT, name="deployer", principal_id="AROAEXAMPLE",
                           session_name="ci", issued_at=1739398608, expires_at=1739402208, secret=SESSION_SECRET,
                           region="us-east-1", mfa=True, source_identity="alice", tags=(("team", "a"),),
                           transitive_keys=("team",), role_path="/ops/")
    return p.assumed_role(claims, None, "aws", "ASIAEXAMPLE", 1)


def _assume_role_outcome() -> Outcome:
    """What the pipeline hands ``submit`` for a chained AssumeRole (a role session calling)."""
    action = registry()["sts"]["AssumeRole"]
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/target"
    ctx = RequestContext(runtime=None, request_id="req-1", now=WHEN, endpoint=global_endpoint(),  # type: ignore[arg-type]
                         serving_region="eu-north-1", source_ip="192.0.2.7", user_agent="Boto3/1.44.5",
                         host="sts.amazonaws.com", secure=True, principal=_role_session(),
                         audit={"resources": [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role_arn}]})
    result = [("Credentials", [("AccessKeyId", "ASIANEW"), ("SecretAccessKey", MINTED_SECRET),
                               ("SessionToken", "token-value"), ("Expiration", WHEN)]),
              ("AssumedRoleUser", [("AssumedRoleId", "AROATARGET:s"), ("Arn", "arn:aws:sts::x")]),
              ("PackedPolicySize", None), ("SourceIdentity", "alice")]
    params = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role_arn, "RoleSessionName": "s",
              "TokenCode": "123456", "SerialNumber": "arn:aws:iam::123456789012:mfa/d"}
    headers = [(b"x-amzn-requestid", b"req-1"), (b"x-amz-sts-extended-request-id", b"ext-1")]
    return Outcome(200, b"<xml/>", headers, action=action, context=ctx, params=params, result=result,
                   access_key_id="ASIAEXAMPLE")


# --- what crosses the pipe --------------------------------------------------------------------------------


def test_capture_keeps_what_records_need_and_no_secret():
    outcome = _assume_role_outcome()
    line = batch_line(0, [capture(outcome)])
    assert SESSION_SECRET.encode() not in line and MINTED_SECRET.encode() not in line
    assert b'"123456"' not in line  # the MFA code
    [_, _, [wire]] = orjson.loads(line)
    [record] = records(restore(wire), KnownAccounts(_Accounts()))
    assert record["userIdentity"] == user_identity(_role_session())
    assert record["userIdentity"]["sessionContext"]["attributes"] == {"creationDate": "2025-02-12T22:16:48Z",
                                                                      "mfaAuthenticated": "true"}
    assert record["eventTime"] == "2025-02-12T22:16:48Z"
    assert record["awsRegion"] == "us-east-1"
    assert record["requestParameters"] == {
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/target", "roleSessionName": "s",
        "serialNumber": "arn:aws:iam::123456789012:mfa/d", "tokenCode": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    assert record["responseElements"] == {
        "credentials": {"accessKeyId": "ASIANEW", "sessionToken": "token-value",
                        "expiration": "Feb 12, 2025, 10:16:48 PM"},
        "assumedRoleUser": {"assumedRoleId": "AROATARGET:s", "arn": "arn:aws:sts::x"}, "sourceIdentity": "alice"}
    assert record["additionalEventData"] == {"RequestDetails": {"awsServingRegion": "eu-north-1",
                                                                "endpointType": "global"},
                                             "ExtendedRequestId": "ext-1"}
    assert record["resources"] == [{"accountId": ACCOUNT, "type": "AWS::IAM::Role",
                                    "ARN": f"arn:aws:iam::{ACCOUNT}:role/target"}]
    assert "errorCode" not in record


def test_capture_of_a_failed_call_and_of_an_admin_call():
    outcome = _assume_role_outcome()
    outcome.error = AccessDenied("not allowed")
    [_, _, [wire]] = orjson.loads(batch_line(0, [capture(outcome)]))
    [record] = records(restore(wire), KnownAccounts(_Accounts()))
    assert (record["errorCode"], record["errorMessage"], record["responseElements"]) == (
        outcome.error.trail_code, "not allowed", None)
    admin = _call("ListAuditEvents")
    admin.principal = _role_session()
    [_, _, [wire]] = orjson.loads(batch_line(0, [capture(admin)]))
    assert SESSION_SECRET not in str(wire)
    restored = restore(wire)
    assert restored.principal is not None and restored.principal.session is not None
    assert restored.principal.session.secret == ""
    assert records(restored, KnownAccounts(_Accounts()))[0]["userIdentity"] == user_identity(admin.principal)


def test_parameters_cross_with_secrets_hidden_and_come_out_as_before():
    """For every action: the writer's requestParameters from the redacted raw members equal
    what the server process would have built, and no masked or omitted value crosses."""
    for service, actions in registry().items():
        for name, action in actions.items():
            raw = {"Action": name, "Version": "v", "X-Amz-Signature": "sig"}
            for spec in action.params:
                for index, key in enumerate(redact._probe_keys(spec)):
                    raw[key] = f"value-{spec.name}-{index}"
            expected = elements.request_parameters(action.params, raw)
            policy = redact.policy(action)
            assert policy is not None, name
            crossed = policy.apply(raw)
            assert crossed is not None
            assert elements.request_parameters(redact.specs(service, name), crossed) == expected, name
            assert "X-Amz-Signature" not in crossed and "Action" not in crossed
            written = orjson.dumps(expected)
            for key, value in raw.items():
                if value.encode() not in written and key in crossed:
                    assert crossed[key] == elements.HIDDEN, (name, key)


def test_parameters_of_an_unknown_or_partly_masked_action_are_built_in_the_server():
    assume_role = registry()["sts"]["AssumeRole"]
    copy = dataclasses.replace(assume_role)  # not the registry's: the writer could not look it up
    assert redact.policy(copy) is None
    partly = dataclasses.replace(assume_role, name="Custom", params=(
        StructList("Login", "login", (Str("User", "user"), Str("Password", "password"))),))
    assert redact._policy(partly.params) is None
    outcome = _assume_role_outcome()
    outcome.action = copy
    [_, _, [wire]] = orjson.loads(batch_line(0, [capture(outcome)]))
    assert b'"123456"' not in orjson.dumps(wire)
    assert restore(wire).request_parameters == elements.request_parameters(copy.params, outcome.params)


def test_result_nodes_cross_without_secrets_and_become_the_same_response_elements():
    when = datetime(2025, 2, 12, 23, 16, 48, 123456, tzinfo=UTC)
    outcome = _assume_role_outcome()
    outcome.result = [
        ("Credentials", [("AccessKeyId", "ASIA1"), ("SecretAccessKey", MINTED_SECRET), ("SessionToken", "tok"),
                         ("Expiration", when)]),
        ("Devices", Members([[("SerialNumber", "arn:1"), ("Base32StringSeed", "SEEDSEEDSEED")], "plain",
                             Members(["nested"])])),
        ("PackedPolicySize", 7), ("IsTruncated", False), ("Ratio", 0.5), ("SourceIdentity", None)]
    line = batch_line(0, [capture(outcome)])
    assert MINTED_SECRET.encode() not in line and b"SEEDSEEDSEED" not in line
    [_, _, [wire]] = orjson.loads(line)
    assert restore(wire).response_elements == elements.response_elements(outcome.result)
    outcome.result = [("Odd", ("a", "tuple"))]  # no tag for it: reduced in the server process instead
    [_, _, [wire]] = orjson.loads(batch_line(0, [capture(outcome)]))
    assert restore(wire).response_elements == {"odd": ["a", "tuple"]}  # as the record's JSON has it
    assert orjson.dumps(elements.response_elements(outcome.result)) == b'{"odd":["a","tuple"]}'


# --- delivery (writer process side) -----------------------------------------------------------------------


def _wire(*calls: Call) -> list[Any]:
    return orjson.loads(batch_line(0, [capture(c) for c in calls]))[2]


def test_broken_sink_loses_its_batch_only():
    good, bad = _Sink("file"), _Sink("store", fail=True)
    deliverer = Deliverer([bad, good], _Accounts())
    report = deliverer.deliver(_wire(*[_call() for _ in range(4)]))
    assert (report.built, report.dropped, report.delivered) == (4, {"store_error": 4}, {"file": 4})
    assert len(good.got) == 4
    bad.fail = False
    report = deliverer.deliver(_wire(_call()))
    assert (report.dropped, report.delivered) == ({}, {"store": 1, "file": 1})
    assert len(bad.got) == 1 and len(good.got) == 5
    record = good.got[0]
    assert record["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIA"}
    assert record["additionalEventData"] == {"RequestDetails": {"awsServingRegion": "eu-north-1",
                                                                "endpointType": "global"}}


def test_a_record_that_cannot_be_built_is_counted():
    sink = _Sink("store")
    wire = _wire(_call("A"), _call("B"))
    wire[0][4] = "not a time"
    report = Deliverer([sink], _Accounts()).deliver(wire)
    assert report.dropped == {"build_error": 1} and [r["eventName"] for r in sink.got] == ["B"]


# --- the server side with a real writer process -----------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> dict[str, Any]:
    database = tmp_path / "stsd.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    engine.dispose()
    return {"database_url": f"sqlite:///{database}", "files": str(tmp_path / "cloudtrail")}


def _names(config: dict[str, Any]) -> list[str]:
    with sqlite3.connect(config["database_url"].removeprefix("sqlite:///"), timeout=30) as db:
        return [row[0] for row in db.execute("SELECT event_name FROM audit_events ORDER BY rowid")]


def _run(test: Callable[[], Awaitable[None]]) -> None:
    """On uvloop, like the server."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(test())


async def _until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


def _count(reason: str) -> float:
    return metrics.DROPPED.labels(reason)._value.get()


def test_full_queue_drops_newest_and_counts(store):
    async def test() -> None:
        trail = AuditTrail(store, max_queue=3)
        before = _count("queue_full")
        for name in ("A", "B", "C", "D", "E"):
            trail.submit(_call(name))
        assert _count("queue_full") - before == 2
        assert trail.pending() == 3
        trail.start()
        assert await trail.aflush() == 3
        assert _names(store) == ["A", "B", "C"]
        assert trail.pending() == 0
        await trail.aclose()

    _run(test)


def test_writer_delivers_on_its_interval_and_everything_on_close(store):
    async def test() -> None:
        delivered = metrics.DELIVERED.labels("store")._value.get()
        trail = AuditTrail(store, flush_seconds=0.2)
        trail.start()
        trail.submit(_call("Interval"))
        await _until(lambda: _names(store) == ["Interval"])  # no flush asked: the writer's interval
        await _until(lambda: metrics.DELIVERED.labels("store")._value.get() - delivered == 1)  # reported back
        await trail.aclose()

        slow = AuditTrail(store, flush_seconds=3600)
        slow.start()
        for _ in range(10):
            slow.submit(_call("Close"))
        await asyncio.sleep(0.3)
        assert _names(store) == ["Interval"]  # sent to the writer, held there for its interval
        await slow.aclose()
        assert _names(store) == ["Interval"] + ["Close"] * 10
        assert len(list(Path(store["files"]).rglob("*.json.gz"))) == 0  # no account: no trail file
        slow.close()  # idempotent
        await slow.aclose()

    _run(test)


def test_a_dead_writer_is_counted_and_replaced(store):
    async def test() -> None:
        exits = metrics.WRITER_EXITS._value.get()
        trail = AuditTrail(store, flush_seconds=3600)
        trail.start()
        trail.submit(_call("Before"))
        await trail.aflush()
        writer = trail._writer
        assert writer is not None
        trail.submit(_call("Lost"))
        await asyncio.sleep(0.15)  # sent, held by the writer for its interval
        lost = _count("writer_lost")
        os.kill(writer.pid, signal.SIGKILL)
        await _until(lambda: metrics.WRITER_EXITS._value.get() - exits == 1)
        assert _count("writer_lost") - lost == 1
        trail.submit(_call("After"))  # queued while no writer runs; the next one takes it
        await _until(lambda: trail._writer is not None)
        assert await trail.aflush() == 1
        assert _names(store) == ["Before", "After"]
        await trail.aclose()

    _run(test)


def test_a_stalled_writer_never_blocks_the_event_loop(store):
    async def test() -> None:
        trail = AuditTrail(store, max_queue=5_000)
        trail.start()
        await trail.aflush()  # the writer is up
        writer = trail._writer
        assert writer is not None
        os.kill(writer.pid, signal.SIGSTOP)  # stops reading: the pipe fills, then the queue
        try:
            full = _count("queue_full")
            worst = 0.0
            for _ in range(40):
                for _ in range(1_000):
                    trail.submit(_call("Flood"))
                started = time.perf_counter()
                await asyncio.sleep(0.06)  # a send tick runs in here
                worst = max(worst, time.perf_counter() - started - 0.06)
            dropped = _count("queue_full") - full
            print(f"\nstalled writer: 40 000 submitted, {dropped:.0f} dropped (queue full), "
                  f"worst event-loop delay {worst * 1000:.1f} ms")
            assert dropped > 0
            assert trail._backlog > 0  # batches wait here for the pipe
            assert worst < 1.0
        finally:
            os.kill(writer.pid, signal.SIGCONT)
        await trail.aclose()
        assert len(_names(store)) == 40_000 - dropped

    _run(test)


def test_submit_cost():
    """The request path's whole audit cost: the reduction of the call to primitives, encoded,
    and one bounded append (the send timer only joins bytes). Reported in the log (-s)."""
    trail = AuditTrail({}, max_queue=10_000_000)
    for label, item, limit in (("GetCallerIdentity, unauthenticated admin Call", _call(), 20e-6),
                               ("AssumeRole by a role session", _assume_role_outcome(), 50e-6)):
        rounds = 20_000
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(rounds):
                trail.submit(item)
            best = min(best, (time.perf_counter() - started) / rounds)
            trail._queue.clear()
        print(f"\nsubmit() of {label}: {best * 1e6:.1f} µs per call (best of 5 x {rounds})")
        assert best < limit  # generous: a loaded test machine


def test_a_full_queue_costs_almost_nothing():
    trail = AuditTrail({}, max_queue=0)
    item = _assume_role_outcome()
    rounds = 200_000
    started = time.perf_counter()
    for _ in range(rounds):
        trail.submit(item)
    per_call = (time.perf_counter() - started) / rounds
    print(f"\nsubmit() with the queue full: {per_call * 1e9:.0f} ns per call")
    assert per_call < 5e-6
