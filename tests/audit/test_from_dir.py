"""``stsd audit --from-dir`` on real CloudTrail logs (not stsd's own): AWS's S3 layout with
digest files beside the logs, records AWS wrote in 2025 (``RequestDetails``) and before
(only ``tlsDetails.clientProvidedHostHeader``), other services' events, a plain ``.json`` file and
a damaged one. The records are AWS's published examples (aws-sts-behaviour.md §4); no server runs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stsd.cli import app

ACCOUNT = "777788889999"
OTHER = "111122223333"
CLI_V2_UA = "aws-cli/2.15.33 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/sts.assume-role"
JAVA_V1_UA = "aws-sdk-java/1.11.900 Linux/4.14 OpenJDK_64-Bit_Server_VM/25.0 java/1.8.0"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
DEVELOPER = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/developer"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/test-role"


def ug_ct_global() -> dict[str, Any]:
    """The IAM User Guide's 2025 example: the global endpoint, served in eu-north-1 (verbatim but
    for the elided user agent)."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole", "principalId": "AROA123456789EXAMPLE:developer", "arn": DEVELOPER,
            "accountId": ACCOUNT, "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROA123456789EXAMPLE",
                                  "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin", "accountId": ACCOUNT,
                                  "userName": "Admin"},
                "webIdFederationData": {},
                "attributes": {"creationDate": "2025-02-12T21:44:28Z", "mfaAuthenticated": "false"}}},
        "eventTime": "2025-02-12T22:16:48Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.0",
        "userAgent": CLI_V2_UA,
        "requestParameters": {"roleArn": ROLE, "roleSessionName": "test-global-assume-role"},
        "responseElements": {
            "credentials": {"accessKeyId": "ASIAIOSFODNN7EXAMPLE", "sessionToken": "<encoded session token blob>",
                            "expiration": "Feb 12, 2025, 11:16:48 PM"},
            "assumedRoleUser": {"assumedRoleId": "AROA987654321EXAMPLE:test-global-assume-role",
                                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/test-role/test-global-assume-role"}},
        "additionalEventData": {"RequestDetails": {"awsServingRegion": "eu-north-1", "endpointType": "global"}},
        "requestID": "EXAMPLE7-2497-457a-9586-f21feEXAMPLE",
        "eventID": "EXAMPLEc-3d26-4c3a-9c94-722a9EXAMPLE",
        "readOnly": True,
        "resources": [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": ROLE}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "sts-global.eu-north-1.amazonaws.com"},
    }


def ug_ct_regional() -> dict[str, Any]:
    """The same doc's Regional counterpart."""
    record = ug_ct_global()
    record.update(awsRegion="eu-north-1", eventTime="2025-02-12T22:20:00Z", requestID="EXAMPLE8-regional",
                  eventID="EXAMPLEd-regional")
    record["additionalEventData"] = {"RequestDetails": {"awsServingRegion": "eu-north-1",
                                                        "endpointType": "regional"}}
    record["tlsDetails"] = {**record["tlsDetails"], "clientProvidedHostHeader": "sts.eu-north-1.amazonaws.com"}
    return record


def pre_2025(event_id: str, time: str) -> dict[str, Any]:
    """A GetCallerIdentity of 2024 through sts.amazonaws.com: no RequestDetails yet."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE", "arn": ALICE, "accountId": ACCOUNT,
                         "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": "alice"},
        "eventTime": time, "eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity",
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": JAVA_V1_UA,
        "requestParameters": None, "responseElements": None, "requestID": f"req-{event_id}", "eventID": event_id,
        "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256",
                       "clientProvidedHostHeader": "sts.amazonaws.com"},
    }


def owner_view() -> dict[str, Any]:
    """The role owner's copy of a cross-account AssumeRole (a caller in another account) through the
    global endpoint: that caller's call, not a call by this account."""
    record = ug_ct_global()
    record.update(userIdentity={"type": "AWSAccount", "principalId": "AIDAEXAMPLEOTHER", "accountId": OTHER},
                  eventID="EXAMPLEe-owner", requestID="EXAMPLE9-cross", sharedEventID="EXAMPLEf-shared",
                  eventTime="2025-02-12T22:30:00Z")
    return record


def failure() -> dict[str, Any]:
    """A denied AssumeRole (the reference's test fixture from a real event)."""
    record = ug_ct_regional()
    record.update(awsRegion="eu-west-1", eventTime="2025-02-13T08:00:00Z", requestID="EXAMPLEa-denied",
                  eventID="EXAMPLEb-denied", errorCode="AccessDenied",
                  errorMessage=f"User: arn:aws:sts::{ACCOUNT}:assumed-role/roleA/instanceId is not authorized to "
                               f"perform: sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/roleB",
                  responseElements=None)
    record["additionalEventData"] = {"RequestDetails": {"awsServingRegion": "eu-west-1", "endpointType": "regional"}}
    record["tlsDetails"] = {**record["tlsDetails"], "clientProvidedHostHeader": "sts.eu-west-1.amazonaws.com"}
    return record


def s3_event() -> dict[str, Any]:
    return {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": ALICE, "accountId": ACCOUNT},
            "eventTime": "2025-02-12T23:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
            "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": JAVA_V1_UA,
            "requestParameters": {"Host": "s3.amazonaws.com"}, "responseElements": None,
            "requestID": "S3EXAMPLE", "eventID": "EXAMPLE0-s3", "readOnly": True, "eventType": "AwsApiCall",
            "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
            "tlsDetails": {"clientProvidedHostHeader": "s3.amazonaws.com"}}


def log_file(root: Path, account: str, region: str, day: str, name: str, records: list[dict[str, Any]]) -> None:
    y, m, d = day.split("-")
    directory = root / "AWSLogs" / account / "CloudTrail" / region / y / m / d
    directory.mkdir(parents=True, exist_ok=True)
    stamp = f"{y}{m}{d}T2235Z"
    path = directory / f"{account}_CloudTrail_{region}_{stamp}_{name}.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real-cloudtrail")
    log_file(root, ACCOUNT, "us-east-1", "2024-06-01", "Ab12Cd34Ef56Gh78",
             [pre_2025("EXAMPLE1-2024", "2024-06-01T10:00:00Z"), pre_2025("EXAMPLE2-2024", "2024-06-01T10:05:00Z")])
    log_file(root, ACCOUNT, "us-east-1", "2025-02-12", "Zy98Xw76Vu54Ts32", [ug_ct_global(), s3_event()])
    log_file(root, ACCOUNT, "eu-north-1", "2025-02-12", "Qp11Ro22Sn33Tm44", [ug_ct_regional()])
    log_file(root, ACCOUNT, "us-east-1", "2025-02-13", "Lk55Ji66Hg77Fe88", [owner_view()])
    # Digest files sit beside the logs, also gzipped JSON, but without "Records".
    digest = root / "AWSLogs" / ACCOUNT / "CloudTrail-Digest" / "us-east-1" / "2025" / "02" / "12"
    digest.mkdir(parents=True)
    (digest / f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20250212T230000Z.json.gz").write_bytes(
        gzip.compress(json.dumps({"awsAccountId": ACCOUNT, "digestStartTime": "2025-02-12T22:00:00Z",
                                  "logFiles": []}).encode()))
    # A file someone unpacked, and one cut short by a failed download.
    (root / "unpacked.json").write_text(json.dumps({"Records": [failure()]}))
    (root / "truncated.json.gz").write_bytes(gzip.compress(b'{"Records": [{"eventID": "x"}]}')[:20])
    return root


def audit(*args: str) -> str:
    result = CliRunner().invoke(app, ["audit", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def events(logs: Path, *args: str) -> list[str]:
    found = json.loads(audit("events", "--from-dir", str(logs), "--limit", "0", "--json", *args))["Records"]
    return [r["eventID"] for r in found]


def test_events_from_real_logs(logs):
    everything = events(logs)
    assert everything == ["EXAMPLEb-denied", "EXAMPLE0-s3", "EXAMPLEe-owner", "EXAMPLEd-regional",
                          "EXAMPLEc-3d26-4c3a-9c94-722a9EXAMPLE", "EXAMPLE2-2024", "EXAMPLE1-2024"]  # newest first
    # Records come back as they were written.
    [record] = json.loads(audit("events", "--from-dir", str(logs), "--json", "--event-name", "AssumeRole",
                                "--region", "us-east-1", "--account", ACCOUNT, "--principal", DEVELOPER))["Records"]
    assert record == ug_ct_global()

    assert events(logs, "--endpoint-type", "global") == [
        "EXAMPLEe-owner", "EXAMPLEc-3d26-4c3a-9c94-722a9EXAMPLE", "EXAMPLE2-2024", "EXAMPLE1-2024"]
    assert events(logs, "--endpoint-type", "regional") == ["EXAMPLEb-denied", "EXAMPLEd-regional"]
    assert events(logs, "--errors-only") == ["EXAMPLEb-denied"]
    assert events(logs, "--region", "eu-north-1") == ["EXAMPLEd-regional"]
    assert events(logs, "--principal", ALICE) == ["EXAMPLE0-s3", "EXAMPLE2-2024", "EXAMPLE1-2024"]
    assert events(logs, "--principal", ALICE, "--event-name", "GetCallerIdentity", "--until",
                  "2024-06-01T10:04:59Z") == ["EXAMPLE1-2024"]
    assert events(logs, "--account-id", ACCOUNT, "--since", "2025-01-01") == [
        "EXAMPLEb-denied", "EXAMPLE0-s3", "EXAMPLEe-owner", "EXAMPLEd-regional", "EXAMPLEc-3d26-4c3a-9c94-722a9EXAMPLE"]
    assert events(logs, "--account", OTHER) == []
    assert events(logs, "--principal", "AIDAEXAMPLEOTHER") == ["EXAMPLEe-owner"]  # no ARN: its principalId
    assert events(logs, "--since", "2025-02-12T22:16:48Z", "--until", "2025-02-12T23:16:48+01:00") == [
        "EXAMPLEc-3d26-4c3a-9c94-722a9EXAMPLE"]
    assert len(json.loads(audit("events", "--from-dir", str(logs), "--json"))["Records"]) == 7

    table = audit("events", "--from-dir", str(logs), "--errors-only")
    assert "1 event(s)" in table and "AccessDenied" in table and "eu-west-1" in table


def test_global_usage_from_real_logs(logs):
    usage = json.loads(audit("global-usage", "--from-dir", str(logs), "--json"))["GlobalEndpointUsage"]
    remedies = [row.pop("remedy") for row in usage]
    # Busiest first; the role owner's copy of a cross-account call is not a caller.
    assert usage == [
        {"accountId": ACCOUNT, "principal": ALICE, "sourceIPAddress": "198.51.100.7", "userAgent": JAVA_V1_UA,
         "awsServingRegion": "us-east-1", "count": 2, "firstSeen": "2024-06-01T10:00:00Z",
         "lastSeen": "2024-06-01T10:05:00Z"},
        {"accountId": ACCOUNT, "principal": DEVELOPER, "sourceIPAddress": "192.0.2.0", "userAgent": CLI_V2_UA,
         "awsServingRegion": "eu-north-1", "count": 1, "firstSeen": "2025-02-12T22:16:48Z",
         "lastSeen": "2025-02-12T22:16:48Z"},
    ]
    java, cli = remedies
    assert (java["sdk"], java["sdkVersion"], java["supportsSetting"], java["defaultSetting"], java["region"],
            java["endpointUrl"]) == ("AWS SDK for Java 1.x", "1.11.900", True, "legacy", "us-east-1",
                                     "https://sts.us-east-1.amazonaws.com")
    assert "AWS_STS_REGIONAL_ENDPOINTS=regional" in java["fix"]
    assert (cli["sdk"], cli["supportsSetting"], cli["region"], cli["endpointUrl"]) == (
        "AWS CLI v2", False, "eu-north-1", "https://sts.eu-north-1.amazonaws.com")
    assert "aws configure set region eu-north-1" in cli["fix"]

    assert json.loads(audit("global-usage", "--from-dir", str(logs), "--json", "--since", "2025-01-01"))[
        "GlobalEndpointUsage"][0]["principal"] == DEVELOPER
    only = json.loads(audit("global-usage", "--from-dir", str(logs), "--json", "--principal", ALICE))
    assert [(u["principal"], u["count"]) for u in only["GlobalEndpointUsage"]] == [(ALICE, 2)]

    table = audit("global-usage", "--from-dir", str(logs))
    for text in (ALICE, "198.51.100.7", "192.0.2.0", "AWS SDK for Java 1.x", "AWS CLI v2", "eu-north-1"):
        assert text in table
    assert "…" not in table  # long ARNs, user agents and fixes wrap; nothing is cut short


def test_from_dir_must_be_a_directory(tmp_path):
    result = CliRunner().invoke(app, ["audit", "events", "--from-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "Invalid value for --from-dir" in result.output
