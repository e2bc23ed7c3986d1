"""Failover suite: one real stsd server (path-prefix endpoints per Region, no request quota),
driven through the fixtures stsd.testing offers to users (Region faults, STS deactivation).

Faults are server-wide, so these tests run one at a time (no xdist groups needed: the suite
does not use -n), and every fault is cleared — and seen cleared — before the next test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator

import pytest

from stsd.testing import (  # noqa: F401 - fixtures, re-exported for this directory
    Credentials,
    StsdServer,
    _stsd_region_control,
    start_server,
    stsd_admin,
    stsd_endpoint_template,
    stsd_region_disabled,
    stsd_region_fault,
    stsd_regional_sts,
    stsd_regions,
)
from tests.federation.issuer import AUDIENCE, Issuer, TestCA

ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def oidc_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """The CA of the test OIDC issuers (web identity credentials), trusted by the server."""
    return TestCA(tmp_path_factory.mktemp("oidc-ca"))


@pytest.fixture(scope="session")
def stsd_server(oidc_ca: TestCA) -> Iterator[StsdServer]:
    """Overrides stsd.testing's server: no quota, so only simulated faults throttle; trusts
    the test OIDC issuers' CA."""
    server = start_server((ACCOUNT,), extra_args=("--quota-rate", "0", "--oidc-ca-file", str(oidc_ca.root_pem)))
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def make_role(stsd_server: StsdServer) -> Callable[..., str]:
    """A role in ACCOUNT that the account's principals may assume (unless ``trusted`` says otherwise)."""
    iam = stsd_server.client("iam")

    def make(trusted: str = f"arn:aws:iam::{ACCOUNT}:root") -> str:
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]}
        name = f"role-{uuid.uuid4().hex[:10]}"
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

    return make


@pytest.fixture(scope="session")
def role_arn(make_role: Callable[..., str]) -> str:
    return make_role()


# --- web identity: tokens of a real OIDC issuer (TLS) and a role trusting it ---------------------


@pytest.fixture(scope="session")
def web_issuer(oidc_ca: TestCA) -> Iterator[Issuer]:
    with Issuer(oidc_ca) as issuer:
        yield issuer


@pytest.fixture(scope="session")
def web_role(stsd_server: StsdServer, web_issuer: Issuer) -> str:
    """The role ``web``, trusting the issuer's IAM OIDC provider (audience sts.amazonaws.com)."""
    iam = stsd_server.client("iam")
    provider = iam.create_open_id_connect_provider(Url=web_issuer.iss, ClientIDList=[AUDIENCE])
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider["OpenIDConnectProviderArn"]},
        "Action": "sts:AssumeRoleWithWebIdentity"}]}
    return iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
