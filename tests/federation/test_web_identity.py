"""AssumeRoleWithWebIdentity end to end: unsigned boto3 calls (and the AWS CLI) against a real
stsd, with tokens from real OIDC issuers served over TLS on loopback.

AWS texts asserted here (sources in src/stsd/actions/sts/assume_role_with_web_identity.py):
"No OpenIDConnect provider found in your account for <iss>", "Incorrect token audience",
"Couldn't retrieve verification key from your identity provider,  please reference
AssumeRoleWithWebIdentity documentation for requirements", "OpenIDConnect provider's HTTPS
certificate doesn't match configured thumbprint", "Token expired: current date/time <now> must be
before the expiration date/time <exp>", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from stsd.testing import StsdServer, free_port
from tests.federation.conftest import (
    ACCOUNT,
    OTHER_ACCOUNT,
    aws_cli,
    create_provider,
    credentials_of,
    error,
    sts_unsigned,
    unique,
    web_trust,
)
from tests.federation.issuer import AUDIENCE, Issuer, new_key

MSG_NO_KEY = ("Couldn't retrieve verification key from your identity provider,  please reference "
              "AssumeRoleWithWebIdentity documentation for requirements")
MSG_INVALID = ("The web identity token that was passed could not be validated by Amazon Web Services. Get a new "
               "identity token from the identity provider and then retry the request.")
MSG_THUMBPRINT = "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
MSG_DENIED = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
EXPIRED = re.compile(r"Token expired: current date/time (\d+) must be before the expiration date/time (\d+)")
ASIA = re.compile(r"ASIA[A-Z2-7]{16}")
TAGS_CLAIM = "https://aws.amazon.com/tags"


def assume(sts, role: str, token: str, session: str = "web-session", **kwargs):
    return sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName=session, WebIdentityToken=token,
                                             **kwargs)


@pytest.fixture(scope="module")
def role(make_role, issuer, provider) -> str:
    return make_role(web_trust(issuer))


def test_success_and_the_session_is_an_assumed_role(server, sts, issuer, provider, role):
    response = assume(sts, role, issuer.token(sub="alice"), "alice-session")
    role_name = role.rsplit("/", 1)[1]
    assert response["Provider"] == provider == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer.host_path}"
    assert response["Audience"] == AUDIENCE
    assert response["SubjectFromWebIdentityToken"] == "alice"
    assert response["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/alice-session"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:alice-session", response["AssumedRoleUser"]["AssumedRoleId"])
    creds = response["Credentials"]
    assert ASIA.fullmatch(creds["AccessKeyId"])
    assert abs(creds["Expiration"] - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)
    assert "PackedPolicySize" not in response and "SourceIdentity" not in response

    identity = server.client("sts", credentials_of(response)).get_caller_identity()
    assert identity["Arn"] == response["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == response["AssumedRoleUser"]["AssumedRoleId"]
    assert identity["Account"] == ACCOUNT


def test_wire_shape(server, issuer, provider, role):
    """Unsigned POST; the result's elements in the order a captured AWS response has them."""
    reply = httpx.post(server.endpoint_url, data={
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role,
        "RoleSessionName": "wire", "WebIdentityToken": issuer.token()}, timeout=30)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/xml"
    body = reply.text
    children = re.findall(r"^    <(\w+)>", body, re.MULTILINE)
    assert children == ["Audience", "AssumedRoleUser", "Provider", "Credentials", "SubjectFromWebIdentityToken",
                        "RequestId"]
    assert re.findall(r"^      <(\w+)>", body, re.MULTILINE) == [
        "AssumedRoleId", "Arn", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    assert body.startswith('<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')


@pytest.mark.parametrize("index", [0, 1], ids=["RS256", "ES256"])
def test_rsa_and_ec_keys(sts, issuer, provider, role, index):
    key = issuer.keys[index]
    assert assume(sts, role, issuer.token(key=key))["SubjectFromWebIdentityToken"] == "user-1"


def test_signed_calls_work_too(server, issuer, provider, role):
    """SDKs send it unsigned; a signed call (valid signature) is answered the same way."""
    response = assume(server.client("sts"), role, issuer.token(sub="signed"))
    assert response["SubjectFromWebIdentityToken"] == "signed"


def test_aws_cli(server, issuer, provider, role, ca):
    ok = aws_cli(server, "sts", "assume-role-with-web-identity", "--role-arn", role, "--role-session-name", "cli",
                 "--web-identity-token", issuer.token(sub="cli-user"))
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["SubjectFromWebIdentityToken"] == "cli-user"
    assert out["Provider"] == provider
    assert ASIA.fullmatch(out["Credentials"]["AccessKeyId"])
    identity = aws_cli(server, "sts", "get-caller-identity", credentials=credentials_of(out))
    assert json.loads(identity.stdout)["Arn"].endswith("/cli")

    with Issuer(ca) as stranger:  # no provider for it
        failed = aws_cli(server, "sts", "assume-role-with-web-identity", "--role-arn", role,
                         "--role-session-name", "cli", "--web-identity-token", stranger.token())
        iss = stranger.iss
    assert failed.returncode != 0
    assert ("An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: "
            f"No OpenIDConnect provider found in your account for {iss}") in failed.stderr


def test_sdk_credential_chain(server, make_role, issuer, provider, tmp_path):
    """IRSA-style: the SDK's own web identity provider (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)
    reaches stsd through AWS_ENDPOINT_URL_STS; the CLI then runs with the role's credentials."""
    role = make_role(web_trust(issuer))
    token = tmp_path / "token"
    token.write_text(issuer.token(sub="system:serviceaccount:default:app"))
    run = aws_cli(server, "sts", "get-caller-identity", extra_env={
        "AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_SESSION_NAME": "pod",
        "AWS_ENDPOINT_URL_STS": server.endpoint_url})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/pod"


def test_no_provider_for_the_issuer(sts, make_role, ca):
    with Issuer(ca) as stranger:
        role = make_role(web_trust(stranger))
        assert error(assume, sts=sts, role=role, token=stranger.token()) == (
            "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {stranger.iss}", 400)


def test_the_provider_must_be_in_the_roles_account(server, sts, make_role, ca):
    with Issuer(ca) as elsewhere:
        create_provider(server.client("iam", server.admins[OTHER_ACCOUNT]), elsewhere)
        role = make_role(web_trust(elsewhere))
        assert error(assume, sts=sts, role=role, token=elsewhere.token())[:2] == (
            "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {elsewhere.iss}")
        other_role = make_role(web_trust(elsewhere, account=OTHER_ACCOUNT), account=OTHER_ACCOUNT)
        response = assume(sts, other_role, elsewhere.token())
        assert response["Provider"] == f"arn:aws:iam::{OTHER_ACCOUNT}:oidc-provider/{elsewhere.host_path}"


def test_audience(sts, iam, issuer, provider, role):
    assert error(assume, sts=sts, role=role, token=issuer.token(aud="someone-else")) == (
        "InvalidIdentityToken", "Incorrect token audience", 400)
    both = assume(sts, role, issuer.token(aud=["someone-else", AUDIENCE]))
    assert both["Audience"] == AUDIENCE
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID="mobile-app")
    try:
        assert assume(sts, role, issuer.token(aud="mobile-app"))["Audience"] == "mobile-app"
    finally:
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID="mobile-app")


def test_expired_token(sts, issuer, provider, role):
    token = issuer.token(expires_in=-30)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    code, message, status = error(assume, sts=sts, role=role, token=token)
    assert (code, status) == ("ExpiredTokenException", 400)
    match = EXPIRED.fullmatch(message)
    assert match is not None, message
    assert int(match.group(2)) == exp and int(match.group(1)) >= exp


def test_bad_signature(sts, issuer, provider, role):
    """Signed by another key that claims the kid of a published one."""
    impostor = new_key("RS256", kid=issuer.keys[0].kid)
    assert error(assume, sts=sts, role=role, token=issuer.token(key=impostor)) == (
        "InvalidIdentityToken", MSG_INVALID, 400)
    tampered = issuer.token(sub="alice").split(".")
    payload = jwt.utils.base64url_encode(json.dumps(
        {**jwt.decode(issuer.token(), options={"verify_signature": False}), "sub": "mallory"}).encode()).decode()
    assert error(assume, sts=sts, role=role, token=f"{tampered[0]}.{payload}.{tampered[2]}")[0] == (
        "InvalidIdentityToken")


def test_unsupported_algorithms(sts, issuer, provider, role):
    now = int(time.time())
    claims = {"iss": issuer.iss, "sub": "x", "aud": AUDIENCE, "iat": now, "exp": now + 600}
    hs = jwt.encode(claims, "shared-secret-of-32-bytes-at-least!!", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in (hs, unsigned):
        assert error(assume, sts=sts, role=role, token=token) == ("InvalidIdentityToken", MSG_INVALID, 400)


def test_malformed_tokens(server, sts, issuer, provider, role):
    for token in ("not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", "x" * 100):
        assert error(assume, sts=sts, role=role, token=token) == ("InvalidIdentityToken", MSG_INVALID, 400)
    short = httpx.post(server.endpoint_url, timeout=30, data={  # botocore refuses it before sending
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role, "RoleSessionName": "ok",
        "WebIdentityToken": "abc"})
    assert short.status_code == 400 and "<Code>ValidationError</Code>" in short.text  # model: 4..20000
    assert ("'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"
            in short.text)
    now = int(time.time())
    for claims in ({"iss": issuer.iss, "aud": AUDIENCE, "exp": now + 600},  # no sub
                   {"iss": issuer.iss, "sub": "x", "aud": AUDIENCE},  # no exp
                   {"iss": issuer.iss, "sub": "x", "aud": AUDIENCE, "exp": now + 600, "nbf": now + 3600}):
        assert error(assume, sts=sts, role=role, token=issuer.token(claims=claims)) == (
            "InvalidIdentityToken", MSG_INVALID, 400)


def test_keys_are_cached_and_an_unknown_kid_is_refetched(sts, iam, make_role, ca):
    with Issuer(ca, keys=[new_key("RS256")]) as rotating:
        create_provider(iam, rotating)
        role = make_role(web_trust(rotating))
        for _ in range(3):
            assume(sts, role, rotating.token())
        assert rotating.key_fetches() == 1  # cached: no fetch per request
        fetched_at = time.monotonic()

        rotating.keys.append(new_key("ES384"))  # the issuer rotates in a new key
        fresh = rotating.token(key=rotating.keys[-1])
        # A refetch right after the last one is not allowed (at most one every 5 s per issuer)...
        assert error(assume, sts=sts, role=role, token=fresh) == ("InvalidIdentityToken", MSG_NO_KEY, 400)
        assert rotating.key_fetches() == 1
        time.sleep(max(0.0, fetched_at + 5.2 - time.monotonic()))
        # ...after that, the unknown kid fetches the key set again and the new key verifies.
        assert assume(sts, role, fresh)["SubjectFromWebIdentityToken"] == "user-1"
        assert rotating.key_fetches() == 2
        assume(sts, role, rotating.token())  # the old key still works, from the cache
        assert rotating.key_fetches() == 2


def test_unreachable_issuer(sts, iam, make_role, issuer):
    """Nothing listens at the issuer's address: IDPCommunicationError (botocore retries it)."""
    gone = f"127.0.0.1:{free_port()}/{unique('realm')}"
    iam.create_open_id_connect_provider(Url=f"https://{gone}", ClientIDList=[AUDIENCE])
    role = make_role(web_trust(issuer).replace(issuer.host_path, gone))
    token = issuer.token(iss=f"https://{gone}")
    code, message, status = error(assume, sts=sts, role=role, token=token)
    assert (code, status) == ("IDPCommunicationError", 400)
    assert message.startswith("The request could not be fulfilled because the identity provider (IDP) that was "
                              "asked to verify the incoming identity token could not be reached.")


def test_issuer_without_discovery_document(sts, iam, make_role, issuer):
    """The issuer answers, but 404 for this path: no key can be had."""
    missing = f"{issuer.host_path}-missing"
    iam.create_open_id_connect_provider(Url=f"https://{missing}", ClientIDList=[AUDIENCE])
    role = make_role(web_trust(issuer).replace(issuer.host_path, missing))
    assert error(assume, sts=sts, role=role, token=issuer.token(iss=f"https://{missing}")) == (
        "InvalidIdentityToken", MSG_NO_KEY, 400)


def test_untrusted_tls_and_thumbprints(sts, iam, make_role, rogue_ca):
    """An issuer whose certificate no trusted CA vouches for: refused unless the provider's
    thumbprints name its top intermediate CA."""
    with Issuer(rogue_ca) as rogue:
        arn = create_provider(iam, rogue)
        role = make_role(web_trust(rogue))
        assert error(assume, sts=sts, role=role, token=rogue.token()) == ("InvalidIdentityToken", MSG_THUMBPRINT, 400)
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["0" * 40])
        assert error(assume, sts=sts, role=role, token=rogue.token())[:2] == ("InvalidIdentityToken", MSG_THUMBPRINT)
        assert rogue.key_fetches() == 0  # no document was read from an untrusted server
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                       ThumbprintList=["0" * 40, rogue_ca.intermediate_thumbprint])
        assert assume(sts, role, rogue.token())["Provider"] == arn


def test_trust_policy_denies(sts, make_role, issuer, provider, ca):
    with Issuer(ca) as other:
        untrusting = make_role(web_trust(other))  # trusts another provider
    assert error(assume, sts=sts, role=untrusting, token=issuer.token()) == ("AccessDenied", MSG_DENIED, 403)
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique('nobody')}"
    assert error(assume, sts=sts, role=missing, token=issuer.token()) == ("AccessDenied", MSG_DENIED, 403)
    assume_only = make_role(web_trust(issuer, actions=("sts:AssumeRole",)))
    assert error(assume, sts=sts, role=assume_only, token=issuer.token()) == ("AccessDenied", MSG_DENIED, 403)


def test_conditions_on_sub_and_aud(sts, make_role, issuer, provider):
    key = issuer.host_path
    exact = make_role(web_trust(issuer, condition={"StringEquals": {f"{key}:sub": "repo:org/app:ref:main",
                                                                    f"{key}:aud": AUDIENCE}}))
    assert assume(sts, exact, issuer.token(sub="repo:org/app:ref:main"))["SubjectFromWebIdentityToken"] == (
        "repo:org/app:ref:main")
    assert error(assume, sts=sts, role=exact, token=issuer.token(sub="repo:org/other:ref:main")) == (
        "AccessDenied", MSG_DENIED, 403)
    like = make_role(web_trust(issuer, condition={"StringLike": {f"{key}:sub": "repo:org/*"}}))
    assume(sts, like, issuer.token(sub="repo:org/anything"))
    assert error(assume, sts=sts, role=like, token=issuer.token(sub="repo:elsewhere/x"))[0] == "AccessDenied"
    amr = make_role(web_trust(issuer, condition={"ForAnyValue:StringEquals": {f"{key}:amr": "mfa"}}))
    assume(sts, amr, issuer.token(extra={"amr": ["pwd", "mfa"]}))
    assert error(assume, sts=sts, role=amr, token=issuer.token(extra={"amr": ["pwd"]}))[0] == "AccessDenied"
    session = make_role(web_trust(issuer, condition={"StringEquals": {"sts:RoleSessionName": "allowed"}}))
    assume(sts, session, issuer.token(), "allowed")
    assert error(assume, sts=sts, role=session, token=issuer.token(), session="other")[0] == "AccessDenied"


def test_session_tags_from_the_token(server, sts, iam, make_role, issuer, provider):
    tags = {TAGS_CLAIM: {"principal_tags": {"team": ["platform"], "cost-center": ["42"]},
                         "transitive_tag_keys": ["team"]}}
    no_tagging = make_role(web_trust(issuer))
    assert error(assume, sts=sts, role=no_tagging, token=issuer.token(extra=tags)) == (
        "AccessDenied", "Not authorized to perform sts:TagSession", 403)

    role = make_role(web_trust(issuer, actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession"),
                               condition={"StringEquals": {"aws:RequestTag/team": "platform"}}))
    name = role.rsplit("/", 1)[1]
    iam.put_role_policy(RoleName=name, PolicyName="team-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "platform"}}}]}))
    response = assume(sts, role, issuer.token(extra=tags))
    assert 0 < response["PackedPolicySize"] <= 100
    # The session carries the tags: aws:PrincipalTag/team allows GetRole.
    session_iam = server.client("iam", credentials_of(response))
    assert session_iam.get_role(RoleName=name)["Role"]["Arn"] == role
    other_tags = {TAGS_CLAIM: {"principal_tags": {"team": ["sales"]}}}
    assert error(assume, sts=sts, role=role, token=issuer.token(extra=other_tags))[0] == "AccessDenied"
    bad = {TAGS_CLAIM: {"principal_tags": {"aws:reserved": ["x"]}}}
    assert error(assume, sts=sts, role=role, token=issuer.token(extra=bad)) == (
        "InvalidIdentityToken", MSG_INVALID, 400)


def test_source_identity_from_the_token(server, sts, make_role, issuer, provider):
    claim = {"https://aws.amazon.com/source_identity": "alice@example.com"}
    plain = make_role(web_trust(issuer))
    assert error(assume, sts=sts, role=plain, token=issuer.token(extra=claim)) == (
        "AccessDenied", "Not authorized to perform sts:SetSourceIdentity", 403)
    role = make_role(web_trust(issuer, actions=("sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity")))
    response = assume(sts, role, issuer.token(extra=claim))
    assert response["SourceIdentity"] == "alice@example.com"


def test_duration(sts, make_role, issuer, provider):
    short = make_role(web_trust(issuer))  # MaxSessionDuration 3600
    assert error(assume, sts=sts, role=short, token=issuer.token(), DurationSeconds=7200) == (
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400)
    assert error(assume, sts=sts, role=short, token=issuer.token(), DurationSeconds=43201) == (
        "ValidationError", "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy "
                           "constraint: Member must have value less than or equal to 43200", 400)
    long = make_role(web_trust(issuer), MaxSessionDuration=7200)
    expiration = assume(sts, long, issuer.token(), DurationSeconds=7200)["Credentials"]["Expiration"]
    assert abs(expiration - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(minutes=1)
    # The token's own expiry does not shorten the session (AWS does not clamp to exp).
    brief = assume(sts, short, issuer.token(expires_in=60), DurationSeconds=900)["Credentials"]["Expiration"]
    assert brief - datetime.now(UTC) > timedelta(minutes=14)


def test_session_policy(server, sts, iam, make_role, issuer, provider):
    role = make_role(web_trust(issuer))
    iam.attach_role_policy(RoleName=role.rsplit("/", 1)[1], PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    narrow = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]})
    response = assume(sts, role, issuer.token(), Policy=narrow)
    assert "PackedPolicySize" in response
    session_iam = server.client("iam", credentials_of(response))
    session_iam.list_roles()
    assert error(session_iam.get_role, RoleName=role.rsplit("/", 1)[1])[0] == "AccessDenied"
    assert error(assume, sts=sts, role=role, token=issuer.token(), Policy="{not json")[0] == "MalformedPolicyDocument"


def test_sts_must_be_active_for_the_roles_account(server, sts, issuer, provider, role):
    from stsd.testing import RegionControl

    control = RegionControl(server)
    try:
        regional = sts_unsigned(server, "eu-west-1", f"{server.endpoint_url}/eu-west-1/")
        with control.sts_disabled("eu-west-1", ACCOUNT):
            assert error(assume, sts=regional, role=role, token=issuer.token()) == (
                "RegionDisabledException",
                f"STS is not activated in this region for account:{ACCOUNT}. Your account administrator can "
                "activate STS in this region using the IAM Console.", 403)
        assert assume(regional, role, issuer.token())["Provider"] == provider
    finally:
        control.restore()
        control.close()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> StsdServer:
    srv = StsdServer(emulator=True, data_dir=tmp_path_factory.mktemp("emulator"))
    srv.start()
    yield srv
    srv.cleanup()


def test_emulator_mode(emulator, ca):
    """No provider, no key fetch, no role: the token only has to be a current JWT."""
    sts = sts_unsigned(emulator)
    key = new_key("RS256")
    now = int(time.time())
    token = jwt.encode({"iss": "https://idp.example.com/realm", "sub": "dev", "aud": "my-app", "exp": now + 600},
                       key.private, algorithm="RS256")
    role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/does-not-exist"
    response = assume(sts, role, token)
    assert response["Provider"] == f"arn:aws:iam::{OTHER_ACCOUNT}:oidc-provider/idp.example.com/realm"
    assert (response["Audience"], response["SubjectFromWebIdentityToken"]) == ("my-app", "dev")
    identity = emulator.client("sts", credentials_of(response, OTHER_ACCOUNT)).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/does-not-exist/web-session"
    assert error(assume, sts=sts, role=role, token="not-a-jwt") == ("InvalidIdentityToken", MSG_INVALID, 400)
    expired = jwt.encode({"iss": "https://idp.example.com", "sub": "dev", "exp": now - 10}, key.private,
                         algorithm="RS256")
    assert error(assume, sts=sts, role=role, token=expired)[0] == "ExpiredTokenException"
