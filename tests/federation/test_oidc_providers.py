"""IAM OpenID Connect providers through boto3: Create/Get/List/Delete, client ids, thumbprints.

Texts and statuses as recorded against AWS in LocalStack's AWS-validated
tests/aws/services/iam/test_iam_oidc.snapshot.json (2026): "Invalid Open ID Connect Provider
URL" (400 ValidationError), "Provider with url ... already exists." (409), "Thumbprint list must
contain fewer than 5 entries." (400 InvalidInput), "Cannot exceed quota for
ClientIdsPerOpenIdConnectProvider: 100" (409 LimitExceeded), the three-clause validation
message, "OpenIDConnect Provider not found for arn ..." (Get) and "OpenId connect Provider ...
cannot be found." (Delete), both 404; Get answers the URL without https:// and empty lists as [].
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from stsd.config import Settings
from stsd.server.runtime import Runtime
from stsd.testing import Credentials
from tests.federation.conftest import ACCOUNT, error, unique

A, B, C, D = "a" * 40, "b" * 40, "c" * 40, "d" * 40


def url() -> str:
    return f"https://{unique('idp')}.example.com/realms/main"


def arn_of(address: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:oidc-provider/{address.removeprefix('https://')}"


def arns(iam) -> list[str]:
    return [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def test_create_get_list_delete(iam):
    address = url()
    created = iam.create_open_id_connect_provider(
        Url=address, ClientIDList=["sts.amazonaws.com", "app-1"], ThumbprintList=[A],
        Tags=[{"Key": "team", "Value": "platform"}])
    arn = created["OpenIDConnectProviderArn"]
    assert arn == arn_of(address)
    assert created["Tags"] == [{"Key": "team", "Value": "platform"}]

    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == address.removeprefix("https://")
    assert got["ClientIDList"] == ["sts.amazonaws.com", "app-1"]
    assert got["ThumbprintList"] == [A]
    assert got["Tags"] == [{"Key": "team", "Value": "platform"}]
    assert abs(got["CreateDate"] - datetime.now(UTC)) < timedelta(minutes=2)
    assert arn in arns(iam)

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert arn not in arns(iam)
    assert error(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn) == (
        "NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}", 404)
    assert error(iam.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn) == (
        "NoSuchEntity", f"OpenId connect Provider {arn} cannot be found.", 404)


def test_thumbprints_are_optional_and_lists_come_back_empty(iam):
    address = url()
    created = iam.create_open_id_connect_provider(Url=address)
    assert "Tags" not in created
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=created["OpenIDConnectProviderArn"])
    assert (got["ClientIDList"], got["ThumbprintList"], got["Tags"]) == ([], [], [])


def test_paths_ports_and_trailing_slashes_are_kept(iam):
    """IAM does not normalise the URL: the ARN ends with exactly what follows https://."""
    for address in (f"https://{unique('h')}.example.com", f"https://{unique('h')}.example.com/",
                    f"https://127.0.0.1:8443/{unique('realm')}"):
        arn = iam.create_open_id_connect_provider(Url=address)["OpenIDConnectProviderArn"]
        assert arn == arn_of(address)
        assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["Url"] == address[len("https://"):]


def test_client_ids_add_remove_idempotent(iam):
    arn = iam.create_open_id_connect_provider(Url=url(), ClientIDList=["one"])["OpenIDConnectProviderArn"]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="two")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="two")  # no error
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["one", "two"]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="one")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="absent")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["two"]


def test_client_id_limit(iam):
    address = url()
    message = "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100"
    assert error(iam.create_open_id_connect_provider, Url=address, ThumbprintList=[A],
                 ClientIDList=[str(i) for i in range(101)]) == ("LimitExceeded", message, 409)
    arn = iam.create_open_id_connect_provider(Url=address, ClientIDList=[str(i) for i in range(100)])[
        "OpenIDConnectProviderArn"]
    assert error(iam.add_client_id_to_open_id_connect_provider, OpenIDConnectProviderArn=arn,
                 ClientID="one-more") == ("LimitExceeded", message, 409)
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="7")  # already there


def test_update_thumbprint(iam):
    arn = iam.create_open_id_connect_provider(Url=url(), ThumbprintList=[B])["OpenIDConnectProviderArn"]
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[C, D])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ThumbprintList"], got["ClientIDList"]) == ([C, D], [])
    assert error(iam.update_open_id_connect_provider_thumbprint, OpenIDConnectProviderArn=arn,
                 ThumbprintList=[A] * 6) == ("InvalidInput", "Thumbprint list must contain fewer than 5 entries.", 400)
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[A, B, C, D, A])
    assert len(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"]) == 5


def test_create_errors_store_nothing(iam):
    before = set(arns(iam))
    address = url()
    assert error(iam.create_open_id_connect_provider, Url="example.org", ThumbprintList=[A]) == (
        "ValidationError", "Invalid Open ID Connect Provider URL", 400)
    assert error(iam.create_open_id_connect_provider, Url=address.replace("https", "http"))[:2] == (
        "ValidationError", "Invalid Open ID Connect Provider URL")
    assert error(iam.create_open_id_connect_provider, Url=f"{address}?tenant=1")[:2] == (
        "ValidationError", "Invalid Open ID Connect Provider URL")
    assert error(iam.create_open_id_connect_provider, Url=address, ThumbprintList=[A, B, C, D, A, B]) == (
        "InvalidInput", "Thumbprint list must contain fewer than 5 entries.", 400)
    assert error(iam.create_open_id_connect_provider, Url="b" * 256, ThumbprintList=["b" * 41],
                 ClientIDList=["b" * 256]) == (
        "ValidationError",
        "3 validation errors detected: Value at 'clientIDList' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must have length less than or equal to 255, Member must have length greater than or "
        "equal to 1]; Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must have length less than or equal to 40, Member must have length greater than or equal to 40]; "
        "Value at 'url' failed to satisfy constraint: Member must have length less than or equal to 255",
        400,
    )
    assert set(arns(iam)) == before  # nothing was created by any of them

    iam.create_open_id_connect_provider(Url=address, ThumbprintList=[A])
    assert error(iam.create_open_id_connect_provider, Url=address, ThumbprintList=[A]) == (
        "EntityAlreadyExists", f"Provider with url {address} already exists.", 409)
    assert set(arns(iam)) == before | {arn_of(address)}


@pytest.mark.parametrize("call", ["get", "add", "remove", "update"])
def test_missing_provider(iam, call):
    arn = arn_of(url())
    message = f"OpenIDConnect Provider not found for arn {arn}"
    calls = {
        "get": (iam.get_open_id_connect_provider, {}),
        "add": (iam.add_client_id_to_open_id_connect_provider, {"ClientID": "x"}),
        "remove": (iam.remove_client_id_from_open_id_connect_provider, {"ClientID": "x"}),
        "update": (iam.update_open_id_connect_provider_thumbprint, {"ThumbprintList": [A]}),
    }
    method, extra = calls[call]
    assert error(method, OpenIDConnectProviderArn=arn, **extra) == ("NoSuchEntity", message, 404)


def test_iam_permissions_apply(server, iam):
    user = unique("dev")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    creds = Credentials(ACCOUNT, key["AccessKeyId"], key["SecretAccessKey"], user_name=user)
    client = server.client("iam", creds)
    address = url()
    code, message, status = error(client.create_open_id_connect_provider, Url=address)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: iam:CreateOpenIDConnectProvider "
        f"on resource: {arn_of(address)} because no identity-based policy allows the "
        "iam:CreateOpenIDConnectProvider action")
    iam.put_user_policy(UserName=user, PolicyName="oidc", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:CreateOpenIDConnectProvider", "iam:GetOpenIDConnectProvider"],
             "Resource": f"arn:aws:iam::{ACCOUNT}:oidc-provider/*"}]}))
    arn = client.create_open_id_connect_provider(Url=address)["OpenIDConnectProviderArn"]
    assert client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["Url"] == address[len("https://"):]
    code, _message, status = error(client.list_open_id_connect_providers)
    assert (code, status) == ("AccessDenied", 403)
    code, _message, status = error(client.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn)
    assert (code, status) == ("AccessDenied", 403)


def test_providers_are_in_the_store(server, iam):
    """Written through the store, as every IAM write: another process opening it sees them."""
    address = url()
    arn = iam.create_open_id_connect_provider(Url=address, ClientIDList=["aud-1"], ThumbprintList=[A])[
        "OpenIDConnectProviderArn"]
    runtime = Runtime.open(Settings(data_dir=server.data_dir))
    try:
        provider = runtime.directory.account(ACCOUNT).oidc_provider(address[len("https://"):])
        assert provider is not None
        assert (provider.arn, provider.client_ids, provider.thumbprints) == (arn, ("aud-1",), (A,))
    finally:
        runtime.close()


def test_account_summary_counts_providers(iam):
    def providers() -> int:
        return iam.get_account_summary()["SummaryMap"]["Providers"]

    before = providers()
    assert before == len(arns(iam))
    arn = iam.create_open_id_connect_provider(Url=url(), ClientIDList=["app"])["OpenIDConnectProviderArn"]
    assert providers() == before + 1
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert providers() == before
