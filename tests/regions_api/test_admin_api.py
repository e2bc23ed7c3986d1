"""The admin API under /admin/: SigV4 (service ``stsd``) over httpx with botocore's SigV4Auth,
authorised by the policy engine; Region/STS state, faults and quotas seen by real STS calls.
Writes made through the server take effect at once (no poll delay)."""

from __future__ import annotations

import httpx
import pytest

from stsd.testing import Credentials
from tests.regions_api.conftest import ACCOUNT_A, ACCOUNT_B, error_of, policy, signed_request, sts_at

MSG_NO_IDENTITY = "because no identity-based policy allows the {action} action"


@pytest.fixture(scope="module")
def admin(regions_server):
    def call(method: str, path: str, body=None, creds: Credentials | None = None, **kwargs) -> httpx.Response:
        return signed_request(regions_server, creds or regions_server.admins[ACCOUNT_A], method, path, body, **kwargs)

    return call


def test_unauthenticated_and_mis_signed_requests(regions_server, admin):
    response = httpx.get(regions_server.endpoint_url + "/admin/faults")
    assert (response.status_code, response.json()) == (
        403, {"code": "MissingAuthenticationToken", "message": "Missing Authentication Token"})
    assert response.headers["content-type"] == "application/json"

    response = admin("GET", "/admin/faults", service="sts")
    assert (response.status_code, response.json()) == (
        403, {"code": "SignatureDoesNotMatch", "message": "Credential should be scoped to correct service: 'stsd'. "})

    forged = Credentials(ACCOUNT_A, "AKIAIOSFODNN7EXAMPLE", "x" * 40)
    response = admin("GET", "/admin/faults", creds=forged)
    assert (response.status_code, response.json()) == (
        403, {"code": "InvalidClientTokenId", "message": "The security token included in the request is invalid."})


def test_authorisation(regions_server, admin, make_user):
    creds = make_user(ACCOUNT_A, policy("stsd:ListRegions"))
    user = f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}"
    response = admin("PUT", "/admin/faults/eu-west-1", {"mode": "down"}, creds=creds)
    assert (response.status_code, response.json()) == (403, {"code": "AccessDenied", "message": (
        f"User: {user} is not authorized to perform: stsd:PutFault on resource: * "
        + MSG_NO_IDENTITY.format(action="stsd:PutFault"))})
    assert admin("GET", "/admin/faults").json() == {"faults": []}

    response = admin("GET", f"/admin/accounts/{ACCOUNT_A}/regions", creds=creds)
    assert response.status_code == 200
    # Another account's Regions are cross-account: no resource policy grants them.
    response = admin("GET", f"/admin/accounts/{ACCOUNT_B}/regions")
    assert (response.status_code, response.json()) == (403, {"code": "AccessDenied", "message": (
        f"User: arn:aws:iam::{ACCOUNT_A}:user/admin is not authorized to perform: stsd:ListRegions on resource: "
        f"account {ACCOUNT_B} because no resource-based policy allows the stsd:ListRegions action")})


def test_routing_errors(admin):
    response = admin("GET", "/admin/nothing")
    assert (response.status_code, response.json()) == (
        404, {"code": "NotFound", "message": "No admin API route for /admin/nothing."})
    response = admin("PATCH", "/admin/faults/eu-west-1")
    assert (response.status_code, response.json()) == (405, {"code": "MethodNotAllowed", "message": (
        "PATCH is not allowed on /admin/faults/eu-west-1; allowed: DELETE, GET, PUT.")})
    assert response.headers["allow"] == "DELETE, GET, PUT"
    response = admin("PUT", "/admin/faults/eu-west-1", raw=b"[1, 2]")
    assert (response.status_code, response.json()) == (
        400, {"code": "ValidationError", "message": "The request body must be a JSON object."})


def test_regions_of_an_account(admin):
    response = admin("GET", f"/admin/accounts/{ACCOUNT_A}/regions")
    assert response.status_code == 200
    body = response.json()
    assert body["accountId"] == ACCOUNT_A
    regions = {r["region"]: r for r in body["regions"]}
    assert len(regions) == 36
    assert regions["us-east-1"] == {"region": "us-east-1", "name": "US East (N. Virginia)", "optIn": False,
                                    "optStatus": "ENABLED_BY_DEFAULT", "stsActive": True, "stsDeactivatable": False}
    assert regions["ap-southeast-3"] == {"region": "ap-southeast-3", "name": "Asia Pacific (Jakarta)", "optIn": True,
                                         "optStatus": "DISABLED", "stsActive": False, "stsDeactivatable": False}
    assert regions["eu-central-1"] == {"region": "eu-central-1", "name": "Europe (Frankfurt)", "optIn": False,
                                       "optStatus": "ENABLED_BY_DEFAULT", "stsActive": True, "stsDeactivatable": True}


def test_activate_and_deactivate(regions_server, admin):
    base = f"/admin/accounts/{ACCOUNT_B}/regions"
    sts = sts_at(regions_server, regions_server.admins[ACCOUNT_B], "eu-central-1")
    response = admin("POST", f"{base}/eu-central-1/deactivate", creds=regions_server.admins[ACCOUNT_B])
    assert (response.status_code, response.json()) == (200, {
        "region": "eu-central-1", "name": "Europe (Frankfurt)", "optIn": False, "optStatus": "ENABLED_BY_DEFAULT",
        "stsActive": False, "stsDeactivatable": True})
    try:
        assert error_of(sts.get_session_token) == (403, "RegionDisabledException", (
            f"STS is not activated in this region for account:{ACCOUNT_B}. Your account administrator can activate "
            "STS in this region using the IAM Console."))
    finally:
        response = admin("POST", f"{base}/eu-central-1/activate", creds=regions_server.admins[ACCOUNT_B])
    assert (response.status_code, response.json()["stsActive"]) == (200, True)
    assert sts.get_session_token()["Credentials"]["AccessKeyId"].startswith("ASIA")

    response = admin("POST", f"{base}/us-east-1/deactivate", creds=regions_server.admins[ACCOUNT_B])
    assert (response.status_code, response.json()) == (400, {
        "code": "InvalidOperation",
        "message": "STS is always active in us-east-1; it cannot be activated or deactivated."})
    response = admin("POST", f"{base}/me-west-1/deactivate", creds=regions_server.admins[ACCOUNT_B])
    assert (response.status_code, response.json()) == (400, {"code": "InvalidOperation", "message": (
        "me-west-1 is an opt-in Region. Enabling an opt-in Region activates STS there; it cannot be deactivated. "
        "Enable or disable the Region instead.")})

    response = admin("POST", f"{base}/ca-west-1/enable", creds=regions_server.admins[ACCOUNT_B])
    assert (response.status_code, response.json()["optStatus"]) == (200, "ENABLING")
    response = admin("POST", f"{base}/ca-west-1/disable", creds=regions_server.admins[ACCOUNT_B])
    assert (response.status_code, response.json()) == (409, {"code": "Conflict", "message": (
        f"Account {ACCOUNT_B} and region ca-west-1 is currently being enabled or disabled. Please wait until it "
        "finishes and then try again.")})


def test_throttle_fault(regions_server, admin):
    creds = regions_server.admins[ACCOUNT_A]
    west1, west2 = sts_at(regions_server, creds, "eu-west-1"), sts_at(regions_server, creds, "eu-west-2")
    response = admin("PUT", "/admin/faults/eu-west-1", {"mode": "throttle"})
    assert (response.status_code, response.json()) == (200, {"region": "eu-west-1", "mode": "throttle", "delayMs": 0})
    try:
        assert admin("GET", "/admin/faults").json() == {"faults": [
            {"region": "eu-west-1", "mode": "throttle", "delayMs": 0}]}
        assert admin("GET", "/admin/faults/eu-west-1").json() == {
            "region": "eu-west-1", "mode": "throttle", "delayMs": 0}
        assert error_of(west1.get_caller_identity) == (400, "Throttling", "Rate exceeded")
        assert west2.get_caller_identity()["Account"] == ACCOUNT_A
    finally:
        response = admin("DELETE", "/admin/faults/eu-west-1")
    assert (response.status_code, response.json()) == (200, {"removed": 1})
    assert west1.get_caller_identity()["Account"] == ACCOUNT_A
    response = admin("GET", "/admin/faults/eu-west-1")
    assert (response.status_code, response.json()) == (
        404, {"code": "NotFound", "message": "No fault is simulated in eu-west-1."})

    response = admin("PUT", "/admin/faults/eu-west-1", {"mode": "slow", "delayMs": -1})
    assert (response.status_code, response.json()) == (
        400, {"code": "ValidationError", "message": "delayMs must be an integer between 0 and 600000."})
    response = admin("PUT", "/admin/faults/atlantis-1", {"mode": "down"})
    assert (response.status_code, response.json()) == (
        400, {"code": "ValidationError", "message": "Region atlantis-1 does not exist in the aws partition."})
    assert admin("GET", "/admin/faults").json() == {"faults": []}


def test_quotas(regions_server, admin):
    path = f"/admin/accounts/{ACCOUNT_A}/quotas"
    response = admin("PUT", path, {"region": "ap-south-1", "endpointType": "regional", "rate": 1})
    quota = {"accountId": ACCOUNT_A, "region": "ap-south-1", "endpointType": "regional", "rate": 1, "burst": 1}
    assert (response.status_code, response.json()) == (200, quota)
    assert admin("GET", path).json() == {"accountId": ACCOUNT_A, "quotas": [quota]}
    sts = sts_at(regions_server, regions_server.admins[ACCOUNT_A], "ap-south-1")
    try:
        sts.get_caller_identity()
        assert error_of(sts.get_caller_identity) == (400, "Throttling", "Rate exceeded")
    finally:
        response = admin("PUT", path, {"region": "ap-south-1", "endpointType": "regional", "rate": 0, "burst": 0})
    assert response.status_code == 200
    assert sts.get_caller_identity()["Account"] == ACCOUNT_A

    response = admin("PUT", path, {"rate": "fast"})
    assert (response.status_code, response.json()) == (
        400, {"code": "ValidationError", "message": "rate must be a non-negative integer."})
