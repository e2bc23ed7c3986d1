"""AssumeRoleWithWebIdentity is unsigned: its calls draw on the request quota of the role's
account (before any key is fetched), and unknown accounts get no bucket at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stsd.testing import StsdServer, start_server
from tests.federation.conftest import ACCOUNT, create_provider, error, sts_unsigned, web_trust
from tests.federation.issuer import Issuer, TestCA


@pytest.fixture(scope="module")
def throttled(ca: TestCA) -> Iterator[StsdServer]:
    srv = start_server((ACCOUNT,), extra_args=("--oidc-ca-file", str(ca.root_pem), "--quota-rate", "1",
                                               "--quota-burst", "3"))
    yield srv
    srv.cleanup()


def test_unsigned_calls_are_throttled_on_the_roles_account(throttled: StsdServer, issuer: Issuer) -> None:
    iam = throttled.client("iam")
    create_provider(iam, issuer)
    role = iam.create_role(RoleName="web-quota", AssumeRolePolicyDocument=web_trust(issuer))["Role"]["Arn"]
    sts = sts_unsigned(throttled)
    outcomes = []
    for n in range(6):
        try:
            sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName=f"s{n}",
                                              WebIdentityToken=issuer.token())
            outcomes.append("ok")
        except Exception as exc:  # the type is what is compared
            outcomes.append(type(exc).__name__)
    assert outcomes[:3] == ["ok", "ok", "ok"]
    assert error(sts.assume_role_with_web_identity, RoleArn=role, RoleSessionName="late",
                 WebIdentityToken=issuer.token()) == ("Throttling", "Rate exceeded", 400)


def test_unknown_accounts_are_not_charged(throttled: StsdServer, issuer: Issuer) -> None:
    sts = sts_unsigned(throttled)
    role = "arn:aws:iam::999999999999:role/nobody"
    for _ in range(5):  # far past the burst: no bucket exists for an account we do not hold
        code, _message, status = error(sts.assume_role_with_web_identity, RoleArn=role, RoleSessionName="xx",
                                       WebIdentityToken=issuer.token())
        assert (code, status) != ("Throttling", 400)
