"""GetFederationToken against a real server: the response (recorded by LocalStack from AWS:
PackedPolicySize present, 0 without policies or tags; real-aws-wire-samples.md §2.2),
durations, validation texts, who may call it, and what the federated session may then do
(aws-sts-behaviour.md §1.4, §1.5, §2.1, §2.2, §4).

Policy-evaluated calls of the federated session go to the Account API (account:ListRegions,
account:GetRegionOptStatus): IAM and every STS action but GetCallerIdentity refuse federated
sessions outright, so they cannot show the intersection of session and user policies.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from stsd.testing import Credentials
from tests.audit.conftest import records_of, request_id, start_server
from tests.conftest import allow, run_aws_cli, trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    ASIA_RE,
    CREDENTIALS_XML,
    MSG_DUPLICATE_TAGS,
    MSG_GST_SESSION,
    ROOT_ACCOUNT,
    SECRET_RE,
    STS_NS,
    UUID_RE,
    aws_error,
    denied,
    error_of,
    max_len_problem,
    min_len_problem,
    pattern_problem,
    problem,
    root_credentials,
    session_credentials,
    signed_request,
    sts_client,
    unique,
    user_arn,
    validation,
)

MSG_GFT_SESSION = "Cannot call GetFederationToken with session credentials"
POLICY_PATTERN = r"[\u0009\u000A\u000D\u0020-\u00FF]+"
HUMAN = "%b %-d, %Y, %-I:%M:%S %p"  # CloudTrail's expiration, e.g. "Feb 12, 2025, 11:16:48 PM"


def fed_arn(name: str, account: str = ACCOUNT_A) -> str:
    return f"arn:aws:sts::{account}:federated-user/{name}"


def account_arn(account: str = ACCOUNT_A) -> str:
    return f"arn:aws:account::{account}:account"


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def expires_in(out: dict, before: float, after: float) -> tuple[int, int]:
    """Bounds on the granted duration: Expiration = the second the request was served + duration."""
    expiration = out["Credentials"]["Expiration"].timestamp()
    return int(expiration - after), int(expiration - before) + 1


def account_error(call, **kwargs) -> tuple[int, str, str]:
    try:
        call(**kwargs)
    except ClientError as exc:
        return (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"],
                exc.response["Error"]["Message"])
    raise AssertionError(f"{call.__name__} succeeded; an error was expected")


@pytest.fixture
def federator(make_user):
    """A user allowed to federate and to list Regions (nothing else)."""
    return make_user(policy=allow(["sts:GetFederationToken", "account:ListRegions"]))


def federate(server, creds: Credentials, name: str = "bob", **kwargs) -> tuple[dict, Credentials]:
    out = sts_client(server, creds).get_federation_token(Name=name, **kwargs)
    return out, session_credentials(out, creds.account_id)


# --- the response ----------------------------------------------------------------------------------


def test_response_fields(server, federator):
    out, _ = federate(server, federator, "Bob")
    assert set(out) == {"Credentials", "FederatedUser", "PackedPolicySize", "ResponseMetadata"}
    assert out["FederatedUser"] == {"FederatedUserId": f"{ACCOUNT_A}:Bob", "Arn": fed_arn("Bob")}
    assert out["PackedPolicySize"] == 0
    creds = out["Credentials"]
    assert re.fullmatch(ASIA_RE, creds["AccessKeyId"])
    assert re.fullmatch(SECRET_RE, creds["SecretAccessKey"])
    assert len(creds["SessionToken"]) >= 100


def test_xml_layout(server, federator):
    response = signed_request(server, {"Action": "GetFederationToken", "Version": "2011-06-15",
                                       "Name": "layout@example.com"}, federator)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml"
    rid = response.headers["x-amzn-requestid"]
    assert re.fullmatch(UUID_RE, rid)
    pattern = (
        f'<GetFederationTokenResponse xmlns="{re.escape(STS_NS)}">\n'
        "  <GetFederationTokenResult>\n"
        + CREDENTIALS_XML
        + "    <FederatedUser>\n"
        f"      <FederatedUserId>{ACCOUNT_A}:layout@example.com</FederatedUserId>\n"
        f"      <Arn>{re.escape(fed_arn('layout@example.com'))}</Arn>\n"
        "    </FederatedUser>\n"
        "    <PackedPolicySize>0</PackedPolicySize>\n"
        "  </GetFederationTokenResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{rid}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetFederationTokenResponse>\n"
    )
    assert re.fullmatch(pattern, response.text), response.text


def test_json_layout(server, federator):
    response = signed_request(server, {"Action": "GetFederationToken", "Version": "2011-06-15", "Name": "js"},
                              federator, headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = json.loads(response.text)
    result = body["GetFederationTokenResponse"]["GetFederationTokenResult"]
    assert list(result) == ["Credentials", "FederatedUser", "PackedPolicySize"]
    assert result["FederatedUser"] == {"FederatedUserId": f"{ACCOUNT_A}:js", "Arn": fed_arn("js")}
    assert result["PackedPolicySize"] == 0


def test_packed_policy_size_with_policies_and_tags(server, make_user):
    user = make_user(policy=allow(["sts:GetFederationToken", "sts:TagSession"]))
    sts = sts_client(server, user)
    sizes = [
        sts.get_federation_token(Name="pp")["PackedPolicySize"],
        sts.get_federation_token(Name="pp", Policy=allow("s3:GetObject"))["PackedPolicySize"],
        sts.get_federation_token(Name="pp", Tags=tags(k="v"))["PackedPolicySize"],
        sts.get_federation_token(Name="pp", PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])[
            "PackedPolicySize"],
    ]
    assert sizes[0] == 0
    assert all(isinstance(s, int) and 0 < s <= 100 for s in sizes[1:]), sizes
    many = [{"Key": f"Key{i}", "Value": "v" * 250} for i in range(9)]
    error = error_of(sts.get_federation_token, Name="big", Tags=many)
    match = re.fullmatch(r"Packed size of session tags consumes (\d+)% of allotted space\.", error.pop("Message"))
    assert error == aws_error(400, "PackedPolicyTooLarge")
    assert match is not None and int(match.group(1)) > 100


# --- durations ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "granted"), [(None, 43200), (900, 900), (3600, 3600), (129600, 129600)])
def test_user_durations(server, federator, requested, granted):
    kwargs = {} if requested is None else {"DurationSeconds": requested}
    before = datetime.now(UTC).timestamp()
    out, _ = federate(server, federator, **kwargs)
    low, high = expires_in(out, before, datetime.now(UTC).timestamp())
    assert low <= granted <= high


@pytest.mark.parametrize(("requested", "granted"), [
    (None, 3600), (900, 900), (3600, 3600), (3601, 3600), (129600, 3600)])
def test_root_durations_are_capped_at_one_hour(server, requested, granted):
    kwargs = {} if requested is None else {"DurationSeconds": requested}
    before = datetime.now(UTC).timestamp()
    out, _ = federate(server, root_credentials(server), **kwargs)
    low, high = expires_in(out, before, datetime.now(UTC).timestamp())
    assert low <= granted <= high
    assert out["FederatedUser"] == {"FederatedUserId": f"{ROOT_ACCOUNT}:bob", "Arn": fed_arn("bob", ROOT_ACCOUNT)}


@pytest.mark.parametrize(("value", "constraint"), [
    (899, "Member must have value greater than or equal to 900"),
    (0, "Member must have value greater than or equal to 900"),
    (129601, "Member must have value less than or equal to 129600"),
])
def test_duration_out_of_range(server, federator, value, constraint):
    expected = validation(problem(str(value), "durationSeconds", constraint))
    for creds in (federator, root_credentials(server)):  # the root cap applies after validation
        sts = sts_client(server, creds, validate=False)
        assert error_of(sts.get_federation_token, Name="bob", DurationSeconds=value) == expected


# --- validation ------------------------------------------------------------------------------------


def test_name_validation(server, federator):
    sts = sts_client(server, federator, validate=False)
    assert error_of(sts.get_federation_token) == validation(problem(None, "name", "Member must not be null"))
    assert error_of(sts.get_federation_token, Name="a") == validation(min_len_problem("a", "name", 2))
    long = "n" * 33
    assert error_of(sts.get_federation_token, Name=long) == validation(max_len_problem(long, "name", 32))
    assert error_of(sts.get_federation_token, Name="bob smith") == validation(pattern_problem("bob smith", "name"))
    assert error_of(sts.get_federation_token, Name="a:b") == validation(pattern_problem("a:b", "name"))
    assert error_of(sts.get_federation_token, Name="é") == validation(
        pattern_problem("é", "name"), min_len_problem("é", "name", 2))
    # Every limit of the model at once, in member order.
    assert error_of(sts.get_federation_token, Name="x", DurationSeconds=100) == validation(
        min_len_problem("x", "name", 2),
        problem("100", "durationSeconds", "Member must have value greater than or equal to 900"))
    # Exactly the limits pass.
    assert sts.get_federation_token(Name="ab")["FederatedUser"]["Arn"] == fed_arn("ab")
    name = "A_z0+=,.@-" + "x" * 22
    assert sts.get_federation_token(Name=name)["FederatedUser"]["Arn"] == fed_arn(name)


def test_policy_validation(server, federator):
    sts = sts_client(server, federator, validate=False)
    assert error_of(sts.get_federation_token, Name="bob", Policy="") == validation(min_len_problem("", "policy", 1))
    padded = allow("s3:GetObject")[:-1] + " " * 2000 + "}"
    assert len(padded) > 2048
    assert error_of(sts.get_federation_token, Name="bob", Policy=padded) == validation(
        max_len_problem(padded, "policy", 2048))
    exotic = allow("s3:GetObject").replace("*", "\u0100")
    assert error_of(sts.get_federation_token, Name="bob", Policy=exotic) == validation(
        pattern_problem(exotic, "policy", POLICY_PATTERN))
    assert error_of(sts.get_federation_token, Name="bob", Policy="{not json") == aws_error(
        400, "MalformedPolicyDocument", "This policy contains invalid Json")
    no_action = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]})
    assert error_of(sts.get_federation_token, Name="bob", Policy=no_action) == aws_error(
        400, "MalformedPolicyDocument", "Policy statement must contain actions.")
    with_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    assert error_of(sts.get_federation_token, Name="bob", Policy=with_principal) == aws_error(
        400, "MalformedPolicyDocument", "Policy document should not specify a principal.")
    # 2,048 characters exactly pass.
    exact = allow("s3:GetObject")[:-1] + " " * (2048 - len(allow("s3:GetObject"))) + "}"
    assert len(exact) == 2048
    assert sts.get_federation_token(Name="bob", Policy=exact)["PackedPolicySize"] > 0


def test_policy_arns_validation(server, federator):
    sts = sts_client(server, federator, validate=False)
    arns = [f"arn:aws:iam::{ACCOUNT_A}:policy/p{i:02d}" for i in range(11)]
    assert error_of(sts.get_federation_token, Name="bob", PolicyArns=[{"arn": a} for a in arns]) == validation(
        max_len_problem(str(arns), "policyArns", 10))
    assert error_of(sts.get_federation_token, Name="bob", PolicyArns=[{"arn": "arn:short"}]) == validation(
        min_len_problem("arn:short", "policyArns.1.member.arn", 20))


def test_tag_validation(server, make_user):
    user = make_user(policy=allow(["sts:GetFederationToken", "sts:TagSession"]))
    sts = sts_client(server, user, validate=False)
    many = [{"Key": f"k{i}", "Value": ""} for i in range(51)]
    shown = "[" + ", ".join(f"Key=k{i}, Value=" for i in range(51)) + "]"
    assert error_of(sts.get_federation_token, Name="bob", Tags=many) == validation(
        max_len_problem(shown, "tags", 50))
    assert error_of(sts.get_federation_token, Name="bob", Tags=tags(Team="a", team="b")) == aws_error(
        400, "InvalidParameterValue", MSG_DUPLICATE_TAGS)
    long_key = "k" * 129
    assert error_of(sts.get_federation_token, Name="bob", Tags=tags(**{long_key: "v"})) == validation(
        max_len_problem(long_key, "tags.1.member.key", 128))
    # TransitiveTagKeys is not a member of GetFederationToken: ignored like any unknown parameter.
    response = signed_request(server, {"Action": "GetFederationToken", "Version": "2011-06-15", "Name": "bob",
                                       "Tags.member.1.Key": "k", "Tags.member.1.Value": "v",
                                       "TransitiveTagKeys.member.1": "k"}, user)
    assert response.status_code == 200, response.text


# --- who may call it ---------------------------------------------------------------------------------


def test_session_credentials_cannot_call_it(server, federator, make_role):
    user = federator
    role = make_role(trust({"AWS": user_arn(user)}))
    caller = sts_client(server, user)
    role_session = session_credentials(caller.assume_role(RoleArn=role, RoleSessionName="s1"), ACCOUNT_A)
    user_session = session_credentials(caller.get_session_token(), ACCOUNT_A)
    root_session = session_credentials(sts_client(server, root_credentials(server)).get_session_token(),
                                       ROOT_ACCOUNT)
    _, federated = federate(server, user, Policy=allow("*"))
    expected = aws_error(403, "AccessDenied", MSG_GFT_SESSION)
    for creds in (role_session, user_session, root_session, federated):
        assert error_of(sts_client(server, creds).get_federation_token, Name="bob") == expected
        assert error_of(sts_client(server, creds).get_federation_token, Name="bob", Policy=allow("*"),
                        DurationSeconds=900) == expected


def test_the_user_needs_sts_get_federation_token(server, make_user):
    nothing = make_user()
    assert error_of(sts_client(server, nothing).get_federation_token, Name="bob") == denied(
        user_arn(nothing), "sts:GetFederationToken", fed_arn("bob"))
    # The resource is the federated user's ARN.
    some = make_user(policy=allow("sts:GetFederationToken", f"arn:aws:sts::{ACCOUNT_A}:federated-user/app-*"))
    assert federate(server, some, "app-1")[0]["FederatedUser"]["Arn"] == fed_arn("app-1")
    assert error_of(sts_client(server, some).get_federation_token, Name="bob") == denied(
        user_arn(some), "sts:GetFederationToken", fed_arn("bob"))
    denying = make_user(policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sts:GetFederationToken", "Resource": fed_arn("root-like")}]}))
    assert error_of(sts_client(server, denying).get_federation_token, Name="root-like") == denied(
        user_arn(denying), "sts:GetFederationToken", fed_arn("root-like"))
    # The root needs no policy.
    assert federate(server, root_credentials(server), "rooted")[0]["PackedPolicySize"] == 0


def test_tags_need_sts_tag_session(server, make_user):
    plain = make_user(policy=allow("sts:GetFederationToken"))
    assert error_of(sts_client(server, plain).get_federation_token, Name="bob", Tags=tags(team="blue")) == denied(
        user_arn(plain), "sts:TagSession", fed_arn("bob"))
    conditional = make_user(policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:TagSession", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}}]}))
    out, _ = federate(server, conditional, Tags=tags(team="blue"))
    assert out["PackedPolicySize"] > 0
    assert error_of(sts_client(server, conditional).get_federation_token, Name="bob",
                    Tags=tags(team="red")) == denied(user_arn(conditional), "sts:TagSession", fed_arn("bob"))


# --- the federated session -------------------------------------------------------------------------


def test_caller_identity(server, federator):
    _, session = federate(server, federator, "Carol")
    assert {k: v for k, v in sts_client(server, session).get_caller_identity().items()
            if k != "ResponseMetadata"} == {"UserId": f"{ACCOUNT_A}:Carol", "Account": ACCOUNT_A,
                                            "Arn": fed_arn("Carol")}
    _, rooted = federate(server, root_credentials(server), "Dave")
    assert sts_client(server, rooted).get_caller_identity()["Arn"] == fed_arn("Dave", ROOT_ACCOUNT)
    assert sts_client(server, rooted).get_caller_identity()["UserId"] == f"{ROOT_ACCOUNT}:Dave"


def test_no_session_policy_no_permissions(server, federator):
    _, session = federate(server, federator)
    account = server.client("account", session)
    assert account_error(account.list_regions) == (
        403, "AccessDeniedException",
        f"User: {fed_arn('bob')} is not authorized to perform: account:ListRegions on resource: "
        f"{account_arn()} because no session policy allows the account:ListRegions action")
    # The parent user itself may.
    assert server.client("account", federator).list_regions()["Regions"]


def test_session_policy_intersects_the_user_policies(server, federator):
    session_policy = allow(["account:ListRegions", "account:GetRegionOptStatus"])
    _, session = federate(server, federator, Policy=session_policy)
    account = server.client("account", session)
    assert len(account.list_regions()["Regions"]) == 36  # allowed by both
    assert account_error(account.get_region_opt_status, RegionName="eu-west-1") == (  # session only
        403, "AccessDeniedException",
        f"User: {fed_arn('bob')} is not authorized to perform: account:GetRegionOptStatus on resource: "
        f"{account_arn()} because no identity-based policy allows the account:GetRegionOptStatus action")
    # A managed session policy works the same way; an explicit deny in it wins.
    iam = server.client("iam", server.admins[ACCOUNT_A])
    managed = iam.create_policy(PolicyName=unique("fed"), PolicyDocument=allow("account:*"))["Policy"]["Arn"]
    _, by_arn = federate(server, federator, PolicyArns=[{"arn": managed}])
    assert server.client("account", by_arn).list_regions()["Regions"]
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "account:ListRegions", "Resource": "*"}]})
    _, denied_session = federate(server, federator, Policy=deny)
    assert account_error(server.client("account", denied_session).list_regions)[2].endswith(
        "with an explicit deny in a session policy")


def test_root_federated_session_is_bounded_by_its_session_policy(server):
    root = root_credentials(server)
    _, bare = federate(server, root, "rooted")
    assert account_error(server.client("account", bare).list_regions) == (
        403, "AccessDeniedException",
        f"User: {fed_arn('rooted', ROOT_ACCOUNT)} is not authorized to perform: account:ListRegions on resource: "
        f"{account_arn(ROOT_ACCOUNT)} because no session policy allows the account:ListRegions action")
    _, allowed = federate(server, root, "rooted", Policy=allow("account:ListRegions"))
    assert server.client("account", allowed).list_regions()["Regions"]


def test_principal_tags_from_session_tags(server, make_user, iam_a):
    user = make_user(policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:GetFederationToken", "sts:TagSession"], "Resource": "*"},
        {"Effect": "Allow", "Action": "account:ListRegions", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]}))
    iam_a.tag_user(UserName=user.user_name, Tags=tags(team="red", floor="3"))
    policy = allow("account:ListRegions")
    _, untagged = federate(server, user, Policy=policy)  # the user's own tag (red) applies
    assert account_error(server.client("account", untagged).list_regions)[0] == 403
    _, blue = federate(server, user, Policy=policy, Tags=tags(Team="blue"))  # overrides, whatever the case
    assert server.client("account", blue).list_regions()["Regions"]
    _, red = federate(server, user, Policy=policy, Tags=tags(team="green"))
    assert account_error(server.client("account", red).list_regions)[0] == 403


def test_no_iam_at_all(server, make_user):
    user = make_user(policy=allow("*"))
    _, session = federate(server, user, Policy=allow("*"))
    iam = server.client("iam", session)
    assert error_of(iam.list_users) == aws_error(
        403, "AccessDenied", f"User: {fed_arn('bob')} is not authorized to perform: iam:ListUsers on resource: "
                             f"arn:aws:iam::{ACCOUNT_A}:user/ because no identity-based policy allows the "
                             "iam:ListUsers action")
    assert error_of(iam.get_user, UserName=user.user_name) == aws_error(
        403, "AccessDenied", f"User: {fed_arn('bob')} is not authorized to perform: iam:GetUser on resource: "
                             f"user {user.user_name} because no identity-based policy allows the iam:GetUser action")


def test_no_sts_but_get_caller_identity(server, make_user, make_role):
    user = make_user(policy=allow("*"))
    role = make_role(trust({"AWS": ACCOUNT_A}))  # any principal of the account, by the trust policy
    _, session = federate(server, user, Policy=allow("*"))
    sts = sts_client(server, session)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="xx") == denied(
        fed_arn("bob"), "sts:AssumeRole", role)
    assert error_of(sts.get_session_token) == aws_error(403, "AccessDenied", MSG_GST_SESSION)
    assert error_of(sts.get_federation_token, Name="again") == aws_error(403, "AccessDenied", MSG_GFT_SESSION)
    assert error_of(sts.get_access_key_info, AccessKeyId=user.access_key_id) == aws_error(
        403, "AccessDenied", f"User: {fed_arn('bob')} is not authorized to perform: sts:GetAccessKeyInfo")
    # IAM takes the federated user's ARN as a trust principal (a valid form, as AWS documents);
    # its session still may not assume the role.
    named = make_role(trust({"AWS": fed_arn("bob")}))
    assert error_of(sts.assume_role, RoleArn=named, RoleSessionName="xx") == denied(
        fed_arn("bob"), "sts:AssumeRole", named)
    assert sts.get_caller_identity()["Arn"] == fed_arn("bob")


def test_session_of_a_deleted_user_stops_working(server, make_user, iam_a):
    user = make_user(policy=allow("sts:GetFederationToken"))
    _, session = federate(server, user)
    assert sts_client(server, session).get_caller_identity()["Arn"] == fed_arn("bob")
    iam_a.delete_user_policy(UserName=user.user_name, PolicyName="p")
    iam_a.delete_access_key(UserName=user.user_name, AccessKeyId=user.access_key_id)
    iam_a.delete_user(UserName=user.user_name)
    iam_a.create_user(UserName=user.user_name)  # the same name, another user
    expected = aws_error(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while True:  # the server sees IAM writes on its next directory refresh
        try:
            sts_client(server, session).get_caller_identity()
        except ClientError:
            break
        assert datetime.now(UTC) < deadline
    assert error_of(sts_client(server, session).get_caller_identity) == expected


# --- the AWS CLI, as Vault's federation_token credential type uses it ----------------------------------


def test_cli_vault_style(server, federator, tmp_path: Path):
    policy = allow(["account:ListRegions"])
    result = run_aws_cli(server, tmp_path, "--output", "json", "sts", "get-federation-token", "--name", "vault-app",
                         "--policy", policy, "--duration-seconds", "900", creds=federator)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["Credentials", "FederatedUser", "PackedPolicySize"]
    assert out["FederatedUser"] == {"FederatedUserId": f"{ACCOUNT_A}:vault-app", "Arn": fed_arn("vault-app")}
    assert isinstance(out["PackedPolicySize"], int) and out["PackedPolicySize"] > 0
    session = Credentials(ACCOUNT_A, out["Credentials"]["AccessKeyId"], out["Credentials"]["SecretAccessKey"],
                          out["Credentials"]["SessionToken"])
    assert server.client("account", session).list_regions()["Regions"]
    failed = run_aws_cli(server, tmp_path, "sts", "get-federation-token", "--name", "x", creds=federator)
    assert failed.returncode == 255, failed.stderr  # the CLI's own validation: Name is 2..32
    assert "Invalid length for parameter Name, value: 1, valid min length: 2" in failed.stderr


# --- the audit trail --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trail_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("fed-audit"))
    yield srv
    srv.cleanup()


def test_audit_records(trail_server):
    admin_iam = trail_server.client("iam", trail_server.admins[ACCOUNT_A])
    name = unique("fed")
    user = admin_iam.create_user(UserName=name)["User"]
    admin_iam.put_user_policy(UserName=name, PolicyName="p",
                              PolicyDocument=allow(["sts:GetFederationToken", "sts:TagSession"]))
    key = admin_iam.create_access_key(UserName=name)["AccessKey"]
    creds = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"], user_name=name)
    policy = allow("account:ListRegions")
    out = trail_server.client("sts", creds).get_federation_token(
        Name="audited", Policy=policy, DurationSeconds=1800, Tags=tags(team="blue"))
    [record] = records_of(trail_server, request_id(out))
    assert record["eventName"] == "GetFederationToken"
    assert record["eventSource"] == "sts.amazonaws.com"
    assert record["readOnly"] is True
    assert record["userIdentity"] == {"type": "IAMUser", "principalId": user["UserId"], "arn": user["Arn"],
                                      "accountId": ACCOUNT_A, "accessKeyId": key["AccessKeyId"], "userName": name}
    assert record["requestParameters"] == {"name": "audited", "policy": policy, "durationSeconds": 1800,
                                           "tags": [{"key": "team", "value": "blue"}]}
    c = out["Credentials"]
    assert record["responseElements"] == {
        "credentials": {"accessKeyId": c["AccessKeyId"], "sessionToken": c["SessionToken"],
                        "expiration": c["Expiration"].astimezone(UTC).strftime(HUMAN)},
        "federatedUser": {"federatedUserId": f"{ACCOUNT_A}:audited", "arn": fed_arn("audited")},
        "packedPolicySize": out["PackedPolicySize"],
    }
    assert c["SecretAccessKey"] not in json.dumps(record)

    # The federated session's own calls: type FederatedUser, issued by the IAM user.
    session = session_credentials(out, ACCOUNT_A)
    rid = request_id(trail_server.client("sts", session).get_caller_identity())
    [record] = records_of(trail_server, rid)
    identity = record["userIdentity"]
    attributes = identity["sessionContext"].pop("attributes")
    assert identity == {
        "type": "FederatedUser",
        "principalId": f"{ACCOUNT_A}:audited",
        "arn": fed_arn("audited"),
        "accountId": ACCOUNT_A,
        "accessKeyId": c["AccessKeyId"],
        "sessionContext": {
            "sessionIssuer": {"type": "IAMUser", "principalId": user["UserId"], "arn": user["Arn"],
                              "accountId": ACCOUNT_A, "userName": name},
            "webIdFederationData": {},
        },
    }
    assert attributes["mfaAuthenticated"] == "false"
    created = datetime.strptime(attributes["creationDate"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(created - (c["Expiration"] - timedelta(seconds=1800))) <= timedelta(seconds=1)

    # A refused call is recorded with AWS's code and text.
    try:
        trail_server.client("sts", session).get_federation_token(Name="again")
    except ClientError as exc:
        rid = request_id(exc.response)
    [record] = records_of(trail_server, rid)
    assert record["errorCode"] == "AccessDenied"
    assert record["errorMessage"] == MSG_GFT_SESSION
    assert record["requestParameters"] == {"name": "again"}
    assert record["userIdentity"]["type"] == "FederatedUser"


def test_audit_identity_of_a_root_federated_session(trail_server):
    root = trail_server.init_account(ROOT_ACCOUNT, root_key=True)
    sts = trail_server.client("sts", root)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while True:  # the running server sees `stsd init`'s writes on its next refresh
        try:
            out = sts.get_federation_token(Name="rooted", DurationSeconds=7200)
            break
        except ClientError:
            assert datetime.now(UTC) < deadline
    session = session_credentials(out, ROOT_ACCOUNT)
    rid = request_id(trail_server.client("sts", session).get_caller_identity())
    [record] = records_of(trail_server, rid)
    context = record["userIdentity"]["sessionContext"]
    assert record["userIdentity"]["type"] == "FederatedUser"
    assert record["userIdentity"]["arn"] == fed_arn("rooted", ROOT_ACCOUNT)
    assert context["sessionIssuer"] == {"type": "Root", "principalId": ROOT_ACCOUNT,
                                       "arn": f"arn:aws:iam::{ROOT_ACCOUNT}:root", "accountId": ROOT_ACCOUNT}
