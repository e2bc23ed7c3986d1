"""``stsd audit global-usage`` / ``events`` on a known mix of callers, from the store and from the
CloudTrail files, and the same data over the admin API."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from stsd.audit.query import DirSource, EventFilter, StoreSource, parse_time
from stsd.cli import app
from stsd.store.db import make_engine, sqlite_url
from stsd.testing import Credentials, StsdServer
from tests.audit.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    EU_NORTH_NET,
    OUTSIDE,
    SYDNEY_NET,
    client,
    file_records,
    request_id,
    start_server,
    store_records,
    trail_dir,
    trust,
    unique,
    wait_for,
)

JAVA_UA = "aws-sdk-java/1.12.0 Linux/5.10.0 OpenJDK_64-Bit_Server_VM/25.0 java/1.8.0 vendor/Oracle_Corporation"
CLI_V1_UA = "aws-cli/1.29.0 Python/3.11.7 Linux/6.1.0 botocore/1.31.0"


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A fresh server and a known mix of callers; returns (server, request ids by caller)."""
    server = start_server(tmp_path_factory.mktemp("usage"))
    calls: dict[str, list[str]] = {"boto3-legacy": [], "boto3-regional": [], "java": [], "cli": [], "failed": []}
    role = client(server, "iam", server.admins[ACCOUNT_B]).create_role(
        RoleName=unique("usage"), AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}))["Role"]
    legacy = client(server, region="eu-north-1", setting="legacy", source_ip=EU_NORTH_NET)
    for _ in range(3):
        calls["boto3-legacy"].append(request_id(legacy.get_caller_identity()))
    # Cross-account: two records, but one call by this caller.
    calls["boto3-legacy"].append(request_id(legacy.assume_role(RoleArn=role["Arn"], RoleSessionName="mix")))
    regional = client(server, region="eu-north-1", source_ip=EU_NORTH_NET)
    for _ in range(2):
        calls["boto3-regional"].append(request_id(regional.get_caller_identity()))
    java = client(server, region="ap-southeast-2", setting="legacy", source_ip=SYDNEY_NET, user_agent=JAVA_UA)
    for _ in range(2):
        calls["java"].append(request_id(java.get_caller_identity()))
    cli = client(server, region="us-east-1", setting="legacy", source_ip=OUTSIDE, user_agent=CLI_V1_UA)
    calls["cli"].append(request_id(cli.get_caller_identity()))
    # Two failures through Regional endpoints (not global-endpoint usage): AccessDenied in eu-west-1,
    # ValidationError in ap-southeast-2.
    with pytest.raises(ClientError) as denied:
        client(server, region="eu-west-1").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/no-such-role",
                                                       RoleSessionName="mix")
    calls["failed"].append(request_id(denied.value))
    with pytest.raises(ClientError) as invalid:
        client(server, region="ap-southeast-2", source_ip=SYDNEY_NET).get_session_token(DurationSeconds=129601)
    calls["failed"].append(request_id(invalid.value))
    everything = {rid for rids in calls.values() for rid in rids}
    wait_for(lambda: everything <= {r["requestID"] for r in store_records(server)}
             and everything <= {r["requestID"] for r in file_records(server)})
    yield server, calls
    server.cleanup()


def cli_json(server: StsdServer, *args: str) -> Any:
    return json.loads(server.run_cli("audit", *args, "--json"))


def test_global_usage_report(mix):
    server, _calls = mix
    admin = client(server, "iam").get_user()["User"]["Arn"]
    usage = cli_json(server, "global-usage")["GlobalEndpointUsage"]
    for row in usage:
        row.pop("firstSeen")
        row.pop("lastSeen")
    boto3_row, java_row, cli_row = usage
    assert len(usage) == 3  # the regional boto3 client is not a global-endpoint caller

    assert {k: v for k, v in boto3_row.items() if k != "remedy"} == {
        "accountId": ACCOUNT_A, "principal": admin, "sourceIPAddress": EU_NORTH_NET,
        "userAgent": boto3_row["userAgent"], "awsServingRegion": "eu-north-1", "count": 4}
    assert boto3_row["userAgent"].startswith("Boto3/1.44.5 ")
    remedy = boto3_row["remedy"]
    assert {k: remedy[k] for k in ("sdk", "sdkVersion", "supportsSetting", "defaultSetting", "region", "endpointUrl",
                                   "setting", "environment")} == {
        "sdk": "AWS SDK for Python (Boto3)", "sdkVersion": "1.44.5", "supportsSetting": True,
        "defaultSetting": "regional", "region": "eu-north-1", "endpointUrl": "https://sts.eu-north-1.amazonaws.com",
        "setting": "sts_regional_endpoints = regional", "environment": "AWS_STS_REGIONAL_ENDPOINTS=regional"}
    assert "remove the legacy setting" in remedy["fix"]
    assert "botocore ≥ 1.40 defaults to regional" in remedy["fix"]

    assert java_row["userAgent"] == JAVA_UA and java_row["count"] == 2
    assert (java_row["sourceIPAddress"], java_row["awsServingRegion"]) == (SYDNEY_NET, "ap-southeast-2")
    remedy = java_row["remedy"]
    assert (remedy["sdk"], remedy["sdkVersion"], remedy["defaultSetting"], remedy["region"], remedy["endpointUrl"]) \
        == ("AWS SDK for Java 1.x", "1.12.0", "legacy", "ap-southeast-2", "https://sts.ap-southeast-2.amazonaws.com")
    assert "AWS_STS_REGIONAL_ENDPOINTS=regional" in remedy["fix"] and "withEndpointConfiguration" in remedy["fix"]

    assert cli_row["userAgent"] == CLI_V1_UA and cli_row["count"] == 1
    assert (cli_row["sourceIPAddress"], cli_row["awsServingRegion"]) == (OUTSIDE, "us-east-1")
    remedy = cli_row["remedy"]
    assert (remedy["sdk"], remedy["defaultSetting"], remedy["region"]) == ("AWS CLI v1", "legacy", "us-east-1")
    assert "upgrade to AWS CLI v1 ≥ 1.42.0 or v2" in remedy["fix"]

    table = server.run_cli("audit", "global-usage")
    for text in (admin, EU_NORTH_NET, SYDNEY_NET, "AWS SDK for Java 1.x", "AWS CLI v1", "eu-north-1",
                 "ap-southeast-2"):
        assert text in table


def sources(server: StsdServer) -> tuple[StoreSource, DirSource]:
    assert server.data_dir is not None
    return StoreSource(make_engine(sqlite_url(server.data_dir))), DirSource(trail_dir(server))


def test_from_dir_answers_like_the_store(mix):
    server, _ = mix
    directory = str(trail_dir(server))
    # Through the CLI once each…
    assert cli_json(server, "global-usage") == cli_json(server, "global-usage", "--from-dir", directory)
    assert cli_json(server, "events", "--limit", "0") == cli_json(server, "events", "--limit", "0",
                                                                  "--from-dir", directory)
    # …and every filter through the query layer the CLI uses.
    store, files = sources(server)
    for query in (EventFilter(limit=None), EventFilter(endpoint_type="global"),
                  EventFilter(region="us-east-1", event_name="AssumeRole"), EventFilter(account=ACCOUNT_B),
                  EventFilter(errors_only=True), EventFilter(since=parse_time("1h"), limit=3),
                  EventFilter(endpoint_type="regional", region="eu-north-1", limit=None)):
        assert store.events(query) == files.events(query), query
        assert [u.as_dict() for u in store.global_usage(query)] == [u.as_dict() for u in files.global_usage(query)]
    assert len(store.events(EventFilter(limit=None))) == len(file_records(server)) > 10


def test_events_filters(mix):
    server, calls = mix
    store, _ = sources(server)
    admin = client(server, "iam").get_user()["User"]["Arn"]
    found = store.events(EventFilter(endpoint_type="global", principal=admin, event_name="GetCallerIdentity"))
    assert {r["requestID"] for r in found} == set(calls["boto3-legacy"][:3] + calls["java"] + calls["cli"])
    assert [r["eventTime"] for r in found] == sorted((r["eventTime"] for r in found), reverse=True)
    owner_view = store.events(EventFilter(account=ACCOUNT_B, event_name="AssumeRole"))
    assert [r["userIdentity"]["type"] for r in owner_view] == ["AWSAccount"]
    errors = store.events(EventFilter(errors_only=True))
    assert {r["requestID"]: (r["eventName"], r["errorCode"], r["awsRegion"]) for r in errors} == {
        calls["failed"][0]: ("AssumeRole", "AccessDenied", "eu-west-1"),
        calls["failed"][1]: ("GetSessionToken", "ValidationError", "ap-southeast-2")}
    assert all(r["responseElements"] is None for r in errors)
    assert [r["requestID"] for r in store.events(EventFilter(errors_only=True, region="eu-west-1"))] \
        == calls["failed"][:1]
    assert len(store.events(EventFilter(limit=2))) == 2
    assert store.events(EventFilter(until=parse_time("2020-01-01"))) == []
    regional = store.events(EventFilter(endpoint_type="regional", region="eu-north-1"))
    assert {r["requestID"] for r in regional} == set(calls["boto3-regional"])
    table = server.run_cli("audit", "events", "--endpoint-type", "global", "--event-name", "AssumeRole")  # 2 views
    assert "2 event(s)" in table and "AssumeRole" in table and "global" in table and "eu-north-1" in table


def audit_cli(server: StsdServer, *args: str) -> str:
    """``stsd audit …`` in this process (a fresh interpreter per call costs seconds)."""
    assert server.data_dir is not None
    result = CliRunner().invoke(app, ["audit", *args, "--data-dir", str(server.data_dir)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_events_cli_filters(mix):
    server, calls = mix

    def found(*args: str) -> list[dict[str, Any]]:
        return json.loads(audit_cli(server, "events", *args, "--limit", "0", "--json"))["Records"]

    def rids(*args: str) -> list[str]:
        return [r["requestID"] for r in found(*args)]

    admin = client(server, "iam").get_user()["User"]["Arn"]
    assert sorted(rids("--errors-only")) == sorted(calls["failed"])
    assert rids("--errors-only", "--region", "eu-west-1") == calls["failed"][:1]
    assert rids("--region", "ap-southeast-2", "--event-name", "GetSessionToken") == calls["failed"][1:]
    assert sorted(rids("--principal", admin, "--endpoint-type", "regional", "--region", "eu-north-1")) \
        == sorted(calls["boto3-regional"])
    assert sorted(rids("--principal", admin, "--endpoint-type", "global", "--event-name", "GetCallerIdentity")) \
        == sorted(calls["boto3-legacy"][:3] + calls["java"] + calls["cli"])
    owner = found("--account-id", ACCOUNT_B, "--event-name", "AssumeRole")
    assert [(r["requestID"], r["userIdentity"]["type"], r["recipientAccountId"]) for r in owner] == [
        (calls["boto3-legacy"][3], "AWSAccount", ACCOUNT_B)]
    assert found("--account", ACCOUNT_B, "--event-name", "AssumeRole") == owner

    # Time range: both bounds inclusive, in any zone or as an age.
    mine = {r["requestID"]: r["eventTime"] for r in store_records(server)
            if r["requestID"] in {rid for rids in calls.values() for rid in rids}}
    first, last = min(mine.values()), max(mine.values())
    calls_made = sorted(calls["boto3-legacy"][:3] + calls["boto3-regional"] + calls["java"] + calls["cli"])
    window = ("--event-name", "GetCallerIdentity", "--since", first, "--until", last)
    assert sorted(rids(*window)) == calls_made
    first_plus_2 = datetime.fromisoformat(first.replace("Z", "+00:00")).astimezone(timezone(timedelta(hours=2)))
    assert sorted(rids("--event-name", "GetCallerIdentity", "--since", first_plus_2.isoformat(), "--until", last)) \
        == calls_made
    assert sorted(rids("--event-name", "GetCallerIdentity", "--since", "1h")) == calls_made
    before = (datetime.fromisoformat(first.replace("Z", "+00:00")) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert not set(rids("--until", before)) & set(mine)
    after = (datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not set(rids("--since", after)) & set(mine)

    table = audit_cli(server, "events", "--errors-only")
    assert "2 event(s)" in table
    for text in ("AccessDenied", "ValidationError", "eu-west-1", "ap-southeast-2", "regional"):
        assert text in table


def test_events_cli_refuses_bad_filters(mix):
    server, _ = mix
    assert server.data_dir is not None
    for args, hint in ((("--endpoint-type", "moon"), "--endpoint-type"), (("--since", "yesterday"), "--since")):
        result = CliRunner().invoke(app, ["audit", "events", *args, "--data-dir", str(server.data_dir)])
        assert result.exit_code == 2
        assert hint in result.output


# --- the admin API ----------------------------------------------------------------------------------------


def admin_get(server: StsdServer, path: str, creds: Credentials | None, **params: str) -> httpx.Response:
    url = f"{server.endpoint_url}{path}"
    request = AWSRequest("GET", url, params=params)
    if creds is not None:
        SigV4Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token), "stsd",
                  "us-east-1").add_auth(request)
    prepared = request.prepare()
    return httpx.get(prepared.url, headers=dict(prepared.headers.items()))


def test_admin_api_returns_the_same_data(mix):
    server, calls = mix
    admin = server.admins[ACCOUNT_A]
    response = admin_get(server, "/admin/audit/global-usage", admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == cli_json(server, "global-usage", "--account", ACCOUNT_A)

    response = admin_get(server, "/admin/audit/events", admin, endpointType="global", eventName="GetCallerIdentity",
                         limit="50")
    assert response.status_code == 200, response.text
    assert response.json() == cli_json(server, "events", "--account", ACCOUNT_A, "--endpoint-type", "global",
                                       "--event-name", "GetCallerIdentity", "--limit", "50")
    assert len(response.json()["Records"]) == 6

    response = admin_get(server, "/admin/audit/events", admin, errorsOnly="true", region="eu-west-1")
    assert response.status_code == 200, response.text
    assert [(r["requestID"], r["errorCode"]) for r in response.json()["Records"]] == [
        (calls["failed"][0], "AccessDenied")]

    # Account B's admin sees B's records only (the owner's copy of the cross-account call).
    response = admin_get(server, "/admin/audit/events", server.admins[ACCOUNT_B], eventName="AssumeRole")
    assert [r["recipientAccountId"] for r in response.json()["Records"]] == [ACCOUNT_B]

    # The admin calls are recorded too (IAM-style: iam.amazonaws.com, us-east-1).
    rid = response.headers["x-amzn-RequestId"]
    [record] = wait_for(lambda: [r for r in store_records(server) if r["requestID"] == rid])
    assert (record["eventSource"], record["eventName"], record["awsRegion"], record["recipientAccountId"]) == (
        "iam.amazonaws.com", "ListAuditEvents", "us-east-1", ACCOUNT_B)
    assert record["requestParameters"] == {"eventName": "AssumeRole"}


def test_admin_api_refusals(mix):
    server, _ = mix
    response = admin_get(server, "/admin/audit/events", None)
    assert (response.status_code, response.json()["code"]) == (403, "MissingAuthenticationToken")
    admin = server.admins[ACCOUNT_A]
    response = admin_get(server, "/admin/audit/events", admin, accountId=ACCOUNT_B)
    assert (response.status_code, response.json()["code"]) == (403, "AccessDenied")
    assert "stsd:ListAuditEvents" in response.json()["message"]
    response = admin_get(server, "/admin/audit/events", admin, endpointType="moon")
    assert (response.status_code, response.json()["code"]) == (400, "ValidationError")
    response = admin_get(server, "/admin/audit/events", admin, limit="0")
    assert (response.status_code, response.json()["code"]) == (400, "ValidationError")

    # A user without stsd permissions.
    iam = client(server, "iam")
    name = unique("no-audit")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="sts-only", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"])
    response = wait_for(lambda: (r := admin_get(server, "/admin/audit/global-usage", user)).status_code != 403
                        or (r.json()["code"] == "AccessDenied" and r))
    assert (response.status_code, response.json()["code"]) == (403, "AccessDenied")
    assert response.json()["message"].startswith(
        f"User: arn:aws:iam::{ACCOUNT_A}:user/{name} is not authorized to perform: stsd:GetGlobalEndpointUsage")
