"""The AWS Account API's Region operations through boto3's ``account`` client, against a real
server whose Region transitions last one second.

Texts: "Unable to switch region status because of its current opt-in status." is AWS's
(hashicorp/terraform-provider-aws#41430); the AccessDenied texts follow AWS's
("... on resource: arn:aws:account::ID:account because no identity-based policy allows the
account:ListRegions action"; "(Your organization must first enable trusted access with AWS
Account Management.)", awslabs/aws-deployment-framework); the conflict text is not
AWS-documented (see stsd.account_api.rules).
"""

from __future__ import annotations

import json

import httpx
import pytest

from stsd.testing import Credentials
from tests.regions_api.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    DEFAULT_REGIONS,
    OPT_IN_REGIONS,
    client,
    error_of,
    eventually,
    policy,
    signed_request,
    sts_at,
)

MSG_SWITCH = "Unable to switch region status because of its current opt-in status."
MSG_INVALID_TOKEN = "The security token included in the request is invalid."


def conflict(account: str, region: str) -> str:
    return (f"Account {account} and region {region} is currently being enabled or disabled. "
            "Please wait until it finishes and then try again.")


@pytest.fixture(scope="module")
def account_a(regions_server):
    return client(regions_server, "account", regions_server.admins[ACCOUNT_A])


@pytest.fixture(scope="module")
def account_b(regions_server):
    return client(regions_server, "account", regions_server.admins[ACCOUNT_B])


def status(account, region: str) -> str:
    return account.get_region_opt_status(RegionName=region)["RegionOptStatus"]


def expected_regions() -> list[dict[str, str]]:
    rows = [{"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"} for r in DEFAULT_REGIONS]
    rows += [{"RegionName": r, "RegionOptStatus": "DISABLED"} for r in OPT_IN_REGIONS]
    return sorted(rows, key=lambda row: row["RegionName"])


def test_list_regions_of_a_new_account(account_b):
    listed = account_b.list_regions()
    assert listed["Regions"] == expected_regions()
    assert "NextToken" not in listed
    assert len(listed["Regions"]) == 36

    defaults = account_b.list_regions(RegionOptStatusContains=["ENABLED_BY_DEFAULT"])["Regions"]
    assert [r["RegionName"] for r in defaults] == list(DEFAULT_REGIONS)
    both = account_b.list_regions(RegionOptStatusContains=["ENABLING", "DISABLING"])
    assert both["Regions"] == []


def test_list_regions_pages(account_b):
    first = account_b.list_regions(MaxResults=10)
    assert first["Regions"] == expected_regions()[:10]
    second = account_b.list_regions(MaxResults=10, NextToken=first["NextToken"])
    assert second["Regions"] == expected_regions()[10:20]

    pages = list(account_b.get_paginator("list_regions").paginate(PaginationConfig={"PageSize": 7}))
    assert [len(p["Regions"]) for p in pages] == [7, 7, 7, 7, 7, 1]
    assert [r for p in pages for r in p["Regions"]] == expected_regions()
    assert "NextToken" not in pages[-1]

    code = error_of(lambda: account_b.list_regions(NextToken="not-a-token"))
    assert code == (400, "ValidationException", "The NextToken is not valid.")


def test_enable_then_disable_an_opt_in_region(account_a):
    region = "ap-east-1"
    assert status(account_a, region) == "DISABLED"

    response = account_a.enable_region(RegionName=region)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-length"] == "0"
    assert status(account_a, region) == "ENABLING"
    assert account_a.list_regions(RegionOptStatusContains=["ENABLING"])["Regions"] == [
        {"RegionName": region, "RegionOptStatus": "ENABLING"}]

    # While ENABLING: neither disable nor enable again, and nothing changes.
    assert error_of(lambda: account_a.disable_region(RegionName=region)) == (
        409, "ConflictException", conflict(ACCOUNT_A, region))
    assert error_of(lambda: account_a.enable_region(RegionName=region)) == (
        409, "ConflictException", conflict(ACCOUNT_A, region))
    assert status(account_a, region) == "ENABLING"

    eventually(lambda: _is(account_a, region, "ENABLED"), timeout=4)
    assert error_of(lambda: account_a.enable_region(RegionName=region)) == (400, "ValidationException", MSG_SWITCH)

    account_a.disable_region(RegionName=region)
    assert status(account_a, region) == "DISABLING"
    assert error_of(lambda: account_a.enable_region(RegionName=region)) == (
        409, "ConflictException", conflict(ACCOUNT_A, region))
    eventually(lambda: _is(account_a, region, "DISABLED"), timeout=4)
    assert error_of(lambda: account_a.disable_region(RegionName=region)) == (400, "ValidationException", MSG_SWITCH)


def _is(account, region: str, expected: str) -> None:
    assert status(account, region) == expected


def test_validation_exception_carries_reason(account_a):
    with pytest.raises(account_a.exceptions.ValidationException) as caught:
        account_a.disable_region(RegionName="us-east-1")
    response = caught.value.response
    assert response["Error"] == {"Code": "ValidationException", "Message": MSG_SWITCH}
    assert response["reason"] == "invalidRegionOptTarget"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ValidationException"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_default_regions_cannot_be_enabled_or_disabled(account_a, region):
    assert error_of(lambda: account_a.enable_region(RegionName=region)) == (400, "ValidationException", MSG_SWITCH)
    assert error_of(lambda: account_a.disable_region(RegionName=region)) == (400, "ValidationException", MSG_SWITCH)
    assert status(account_a, region) == "ENABLED_BY_DEFAULT"


def test_unknown_and_foreign_regions(account_a):
    with pytest.raises(account_a.exceptions.ValidationException) as caught:
        account_a.get_region_opt_status(RegionName="moon-base-1")
    response = caught.value.response
    assert response["Error"]["Message"] == "Region moon-base-1 does not exist in the aws partition."
    assert response["reason"] == "fieldValidationFailed"
    assert response["fieldList"] == [
        {"name": "regionName", "message": "Region moon-base-1 does not exist in the aws partition."}]
    assert error_of(lambda: account_a.enable_region(RegionName="cn-northwest-1")) == (
        400, "ValidationException", "Region cn-northwest-1 does not exist in the aws partition.")


def test_account_id_of_another_account_is_denied(account_a, account_b):
    message = (f"User: arn:aws:iam::{ACCOUNT_A}:user/admin is not authorized to perform: account:EnableRegion "
               "(Your organization must first enable trusted access with AWS Account Management.)")
    assert error_of(lambda: account_a.enable_region(RegionName="me-south-1", AccountId=ACCOUNT_B)) == (
        403, "AccessDeniedException", message)
    assert status(account_b, "me-south-1") == "DISABLED"
    # The caller's own id is the standalone context (Terraform's aws_account_region sends it).
    assert account_a.get_region_opt_status(RegionName="me-south-1", AccountId=ACCOUNT_A)["RegionOptStatus"] == (
        "DISABLED")


def test_user_without_account_permissions(regions_server, make_user, account_a):
    creds = make_user(ACCOUNT_A, policy("sts:GetCallerIdentity"))
    account = client(regions_server, "account", creds)
    user = f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}"
    resource = f"arn:aws:account::{ACCOUNT_A}:account"
    for call, action in ((lambda: account.list_regions(), "account:ListRegions"),
                         (lambda: account.enable_region(RegionName="eu-south-1"), "account:EnableRegion")):
        assert error_of(call) == (403, "AccessDeniedException",
                                  f"User: {user} is not authorized to perform: {action} on resource: {resource} "
                                  f"because no identity-based policy allows the {action} action")
    assert status(account_a, "eu-south-1") == "DISABLED"


def test_target_region_condition(regions_server, make_user, account_b):
    """As the IAM User Guide's example policy: enable/disable one Region only, by account:TargetRegion."""
    creds = make_user(ACCOUNT_B, policy(["account:EnableRegion", "account:DisableRegion"],
                                        {"StringEquals": {"account:TargetRegion": "il-central-1"}}))
    account = client(regions_server, "account", creds)
    user = f"arn:aws:iam::{ACCOUNT_B}:user/{creds.user_name}"
    assert error_of(lambda: account.enable_region(RegionName="mx-central-1")) == (
        403, "AccessDeniedException",
        f"User: {user} is not authorized to perform: account:EnableRegion on resource: "
        f"arn:aws:account::{ACCOUNT_B}:account because no identity-based policy allows the account:EnableRegion action")
    account.enable_region(RegionName="il-central-1")
    assert status(account_b, "il-central-1") == "ENABLING"
    assert status(account_b, "mx-central-1") == "DISABLED"


def test_sts_in_an_opt_in_region_needs_it_enabled(regions_server, account_b):
    sts = sts_at(regions_server, regions_server.admins[ACCOUNT_B], "ap-east-1")
    assert error_of(sts.get_caller_identity) == (403, "InvalidClientTokenId", MSG_INVALID_TOKEN)

    account_b.enable_region(RegionName="ap-east-1")
    assert error_of(sts.get_caller_identity) == (403, "InvalidClientTokenId", MSG_INVALID_TOKEN)  # ENABLING
    identity = eventually(sts.get_caller_identity, timeout=5)
    assert identity["Account"] == ACCOUNT_B
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT_B}:user/admin"
    # Account A did not enable it: its credentials are still unknown there.
    other = sts_at(regions_server, regions_server.admins[ACCOUNT_A], "ap-east-1")
    assert error_of(other.get_caller_identity) == (403, "InvalidClientTokenId", MSG_INVALID_TOKEN)


# --- the wire, below boto3's client-side checks ----------------------------------------


def wire(regions_server, path: str, body=None, **kwargs):
    kwargs.setdefault("service", "account")
    return signed_request(regions_server, regions_server.admins[ACCOUNT_A], "POST", path, body, **kwargs)


def test_server_side_validation(regions_server):
    response = wire(regions_server, "/getRegionOptStatus", {})
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"
    assert response.json() == {
        "message": "1 validation error detected: Value null at 'regionName' failed to satisfy constraint: "
                   "Member must not be null",
        "reason": "fieldValidationFailed",
        "fieldList": [{"name": "regionName", "message": "Member must not be null"}],
    }

    response = wire(regions_server, "/enableRegion", {"RegionName": "x" * 51, "AccountId": "12"})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "2 validation errors detected: Value '12' at 'accountId' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: \\d{12}; Value '" + "x" * 51 + "' at 'regionName' failed to satisfy "
        "constraint: Member must have length less than or equal to 50")

    response = wire(regions_server, "/listRegions", {"MaxResults": 0})
    assert response.json()["message"] == (
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have "
        "value greater than or equal to 1")

    response = wire(regions_server, "/listRegions", raw=b"{not json")
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (400, "SerializationException")


def test_authentication_errors(regions_server):
    unsigned = httpx.post(regions_server.endpoint_url + "/listRegions", content=b"{}")
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert unsigned.json() == {"message": "Missing Authentication Token"}

    wrong_service = wire(regions_server, "/listRegions", {}, service="sts")
    assert wrong_service.status_code == 403
    assert wrong_service.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert wrong_service.json() == {"message": "Credential should be scoped to correct service: 'account'. "}

    forged = Credentials(ACCOUNT_A, "AKIAIOSFODNN7EXAMPLE", "x" * 40)
    response = signed_request(regions_server, forged, "POST", "/listRegions", {}, service="account")
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
    assert response.json() == {"message": MSG_INVALID_TOKEN}


def test_any_signing_region_is_accepted(regions_server):
    response = wire(regions_server, "/getRegionOptStatus", {"RegionName": "eu-west-2"}, region="ap-southeast-2")
    assert response.status_code == 200
    assert json.loads(response.content) == {"RegionName": "eu-west-2", "RegionOptStatus": "ENABLED_BY_DEFAULT"}
