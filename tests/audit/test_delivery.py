"""Delivery: per-Region S3-layout files and store rows, the same records in both, no secret
anywhere, and a broken sink that costs records (counted) but never a request."""

from __future__ import annotations

import gzip
import json
import re
import urllib.request
from collections import Counter
from pathlib import Path

from stsd.testing import Credentials
from tests.audit.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    EU_NORTH_NET,
    SYDNEY_NET,
    client,
    file_records,
    records_of,
    request_id,
    start_server,
    store_records,
    store_rows,
    trail_dir,
    trail_files,
    trust,
    unique,
    wait_for,
)

LAYOUT = re.compile(
    r"AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/"
    r"(?P=account)_CloudTrail_(?P=region)_(?P=y)(?P=m)(?P=d)T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz"
)


def _scenario(server) -> tuple[list[str], list[str]]:
    """Calls that mint or carry secrets, over every kind of endpoint; returns (secrets, request ids)."""
    secrets = [c.secret_access_key for c in server.admins.values()]
    rids = []
    iam_b = client(server, "iam", server.admins[ACCOUNT_B])
    role = iam_b.create_role(RoleName=unique("deliver"), AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}))["Role"]
    iam_a = client(server, "iam")
    user = unique("deliver-user")
    iam_a.create_user(UserName=user)
    key = iam_a.create_access_key(UserName=user)
    secrets.append(key["AccessKey"]["SecretAccessKey"])
    rids.append(request_id(key))
    for sts in (client(server, region="eu-north-1", setting="legacy", source_ip=EU_NORTH_NET),  # global
                client(server, region="ap-southeast-2", source_ip=SYDNEY_NET),  # regional by host
                server.client("sts", region="eu-west-1", endpoint_url=f"{server.endpoint_url}/eu-west-1/")):
        assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="deliver")
        token = sts.get_session_token(DurationSeconds=900)
        secrets += [assumed["Credentials"]["SecretAccessKey"], token["Credentials"]["SecretAccessKey"]]
        rids += [request_id(assumed), request_id(token)]
        session = assumed["Credentials"]
        creds = Credentials(ACCOUNT_B, session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
        rids.append(request_id(client(server, creds=creds, region="eu-north-1").get_caller_identity()))
    return secrets, rids


def test_files_layout_store_equivalence_and_no_secrets(server):
    secrets, rids = _scenario(server)
    for rid in rids:
        records_of(server, rid, files=True)
    files = trail_files(server)
    assert files
    for path, records in files.items():
        relative = path.relative_to(trail_dir(server)).as_posix()
        match = LAYOUT.fullmatch(relative)
        assert match, relative
        assert json.loads(gzip.decompress(path.read_bytes())).keys() == {"Records"}
        for record in records:
            assert record["recipientAccountId"] == match["account"]
            assert record["awsRegion"] == match["region"]
    # Per-Region delivery: the global calls in us-east-1, the Regional ones in their Region, both accounts.
    delivered = {(r["recipientAccountId"], r["awsRegion"], r["eventName"]) for r in file_records(server)
                 if r["requestID"] in rids}
    assert {(ACCOUNT_A, "us-east-1", "AssumeRole"), (ACCOUNT_B, "us-east-1", "AssumeRole"),
            (ACCOUNT_A, "ap-southeast-2", "AssumeRole"), (ACCOUNT_B, "ap-southeast-2", "AssumeRole"),
            (ACCOUNT_A, "eu-west-1", "AssumeRole"), (ACCOUNT_B, "eu-west-1", "AssumeRole"),
            (ACCOUNT_A, "us-east-1", "GetSessionToken"), (ACCOUNT_A, "ap-southeast-2", "GetSessionToken"),
            (ACCOUNT_A, "eu-west-1", "GetSessionToken"), (ACCOUNT_B, "eu-north-1", "GetCallerIdentity"),
            (ACCOUNT_A, "us-east-1", "CreateAccessKey")} <= delivered

    # Every record with an account is in both, identical; the store's columns match the JSON.
    wait_for(lambda: {r["eventID"] for r in store_records(server) if "recipientAccountId" in r}
             == {r["eventID"] for r in file_records(server)})
    by_id = {r["eventID"]: r for r in store_records(server)}
    for record in file_records(server):
        assert by_id[record["eventID"]] == record
    for row in store_rows(server):
        record = json.loads(row["record"])
        assert (row["event_id"], row["event_time"], row["account_id"], row["region"], row["event_name"]) == (
            record["eventID"], record["eventTime"], record.get("recipientAccountId", ""), record["awsRegion"],
            record["eventName"])
        assert row["error_code"] == record.get("errorCode")

    # No secret in any file the trail wrote, in any audit row, or anywhere in the database files.
    assert server.data_dir is not None
    written = [gzip.decompress(p.read_bytes()) for p in trail_dir(server).rglob("*.json.gz")]
    written += [row["record"].encode() for row in store_rows(server)]
    database = [p.read_bytes() for p in Path(server.data_dir).glob("stsd.db*")]
    assert len(secrets) == 9
    for secret in secrets:
        assert all(secret.encode() not in blob for blob in written + database), "a secret access key was written"
    assert all(b"ecretAccessKey" not in blob for blob in written)


def test_broken_file_sink_costs_records_not_requests(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the trail's directory should be")
    server = start_server(tmp_path, STSD_AUDIT_DIR=str(blocker / "cloudtrail"))
    try:
        sts = server.client("sts")
        rids = [request_id(sts.get_caller_identity()) for _ in range(5)]
        for rid in rids:
            records_of(server, rid)  # the store still gets every record

        def dropped() -> float:
            with urllib.request.urlopen(f"{server.endpoint_url}/metrics") as response:
                text = response.read().decode()
            found = re.search(r'^stsd_audit_dropped_total\{reason="file_error"\} (\S+)$', text, re.M)
            return float(found[1]) if found else 0.0

        assert wait_for(lambda: dropped() >= 5)
        assert "not written to files" in server.log_text()
        assert not list(tmp_path.rglob("*.json.gz"))
    finally:
        server.cleanup()


def test_each_file_holds_one_account_and_region(server):
    counts = Counter((r["recipientAccountId"], r["awsRegion"]) for r in file_records(server))
    per_path = [(p.parts[-7], p.parts[-5]) for p in trail_files(server)]
    assert set(per_path) == set(counts)
