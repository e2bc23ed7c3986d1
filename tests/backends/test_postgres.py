"""stsd on a real PostgreSQL server (stsd.testing_backends): migrations from an empty database,
the IAM and STS APIs through boto3, a restart on the same database, and two stsd nodes sharing
one database and master key (IAM writes propagate through the generation poll, session tokens
open on either node through the shared keyring)."""

from __future__ import annotations

import base64
import concurrent.futures
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from botocore.exceptions import ClientError
from sqlalchemy import inspect, text

from stsd.store.db import alembic_config, make_engine, migrate
from stsd.store.models import Base
from stsd.testing import Credentials
from stsd.testing_backends import DatabaseStsdServer, new_master_key
from tests.conftest import allow, session_credentials, trust
from tests.e2e.test_iam_support import settled_step, totp

pytestmark = pytest.mark.timeout(120)

ACCOUNT = "123456789012"
PROPAGATION_LIMIT = 5.0  # seconds; nodes poll the account generations and keys every second
LONG_DESCRIPTION = "d" * 1000  # IAM's maximum
LONG_PATH = "/" + "p" * 510 + "/"  # IAM's maximum (512)


# --- helpers ---------------------------------------------------------------------------------
def head_revision(engine: Any) -> str:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Any) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def error_code(call: Callable[..., Any], **kwargs: Any) -> tuple[str, int] | None:
    """(error code, HTTP status) of ``call(**kwargs)``; None when it succeeds."""
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def eventually(check: Callable[[], Any], limit: float = PROPAGATION_LIMIT) -> float:
    """Retry ``check`` (ClientError/AssertionError mean "not yet") until it passes; seconds taken."""
    start = time.monotonic()
    while True:
        try:
            check()
            return time.monotonic() - start
        except (ClientError, AssertionError):
            if time.monotonic() - start > limit:
                raise
            time.sleep(0.05)


def key_id_of(token: str) -> int:
    """The sealing key id in a session token's header (format byte, flags, key id u16)."""
    return struct.unpack(">H", base64.b64decode(token)[2:4])[0]


def identity_arn(server: DatabaseStsdServer, creds: Credentials, region: str = "us-east-1") -> str:
    return server.client("sts", creds, region=region).get_caller_identity()["Arn"]


def snapshot(iam: Any, users: list[str], roles: list[str], policies: list[str]) -> dict[str, Any]:
    """What IAM answers about these entities, without request metadata."""

    def clean(response: dict[str, Any]) -> dict[str, Any]:
        response.pop("ResponseMetadata", None)
        return response

    out: dict[str, Any] = {"summary": clean(iam.get_account_summary())}
    for user in users:
        out[f"user:{user}"] = clean(iam.get_user(UserName=user))
        out[f"user-keys:{user}"] = clean(iam.list_access_keys(UserName=user))
        out[f"user-policies:{user}"] = clean(iam.list_user_policies(UserName=user))
        out[f"user-attached:{user}"] = clean(iam.list_attached_user_policies(UserName=user))
        out[f"user-mfa:{user}"] = clean(iam.list_mfa_devices(UserName=user))
    for role in roles:
        out[f"role:{role}"] = clean(iam.get_role(RoleName=role))
        out[f"role-policies:{role}"] = clean(iam.list_role_policies(RoleName=role))
        out[f"role-attached:{role}"] = clean(iam.list_attached_role_policies(RoleName=role))
    for arn in policies:
        out[f"policy:{arn}"] = clean(iam.get_policy(PolicyArn=arn))
        out[f"policy-version:{arn}"] = clean(iam.get_policy_version(PolicyArn=arn, VersionId="v1"))
    out["local-policies"] = clean(iam.list_policies(Scope="Local"))
    out["users"] = clean(iam.list_users())
    out["roles"] = clean(iam.list_roles())
    return out


# --- migrations ------------------------------------------------------------------------------
def test_migrations_build_the_schema_on_an_empty_database_and_are_idempotent(new_pg_database):
    engine = make_engine(new_pg_database())
    try:
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
        assert current_revision(engine) is None
        migrate(engine)
        assert current_revision(engine) == head_revision(engine)
        assert set(Base.metadata.tables) | {"alembic_version"} == set(inspect(engine).get_table_names())
        migrate(engine)  # again: nothing to do, nothing breaks
        assert current_revision(engine) == head_revision(engine)
        # The migrated schema is the models' schema, as PostgreSQL reflects it.
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
            created_at = {c["name"]: c for c in inspect(connection).get_columns("accounts")}["created_at"]
            assert created_at["type"].timezone  # timestamptz: aware datetimes round-trip
    finally:
        engine.dispose()


MIGRATE_WHEN_TOLD = """
import sys
from stsd.store.db import make_engine, migrate
engine = make_engine(sys.argv[1])
with engine.connect():
    pass
print("ready", flush=True)
sys.stdin.readline()
migrate(engine)
print("migrated", flush=True)
"""


def test_nodes_migrating_an_empty_database_at_once_do_not_collide(new_pg_database):
    """Nodes of one deployment may all start at the same moment on an empty database: their
    first migrations are serialised (advisory lock), the later ones find nothing to do."""
    url = new_pg_database()
    nodes = [subprocess.Popen([sys.executable, "-c", MIGRATE_WHEN_TOLD, url], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    try:
        for node in nodes:
            assert node.stdout.readline().strip() == "ready", node.stderr.read()
        for node in nodes:  # all connected and imported: start together
            node.stdin.write("go\n")
            node.stdin.flush()
        for node in nodes:
            out, err = node.communicate(timeout=60)
            assert (node.returncode, out.strip()) == (0, "migrated"), err[-2000:]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
                node.wait()
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision(engine)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        engine.dispose()


# --- one deployment: two nodes, one database, one master key ------------------------------------
@pytest.fixture(scope="module")
def deployment(new_pg_database: Callable[[], str]) -> Iterator[tuple[DatabaseStsdServer, DatabaseStsdServer]]:
    """Nodes A and B of one deployment on a new PostgreSQL database (A bootstraps it)."""
    node_a = DatabaseStsdServer(database=new_pg_database(), accounts=(ACCOUNT,),
                                env={"STSD_MASTER_KEY": new_master_key()})
    node_b = None
    try:
        node_a.start()
        node_b = node_a.joining()
        node_b.start()
        yield node_a, node_b
    finally:
        if node_b is not None:
            node_b.cleanup()
        node_a.cleanup()


@dataclass
class Population:
    """What :func:`populate` created, and sessions issued by it."""

    user: str
    user_arn: str
    user_creds: Credentials
    roles: tuple[str, str]
    role_arns: tuple[str, str]
    policy_arn: str
    sessions: dict[str, tuple[Credentials, str]]  # name → (credentials, expected caller ARN)
    mfa: tuple[str, str, int]  # seed, serial, step of the code used

    def entities(self) -> tuple[list[str], list[str], list[str]]:
        return [self.user, "admin"], list(self.roles), [self.policy_arn]


def populate(node: DatabaseStsdServer, prefix: str) -> Population:
    """A user with IAM's longest path and a key, two roles (the second trusting the first), a
    managed policy, a virtual MFA device, and role, chained and MFA sessions, all through boto3;
    checks the answers on the way."""
    iam = node.client("iam", node.admins[ACCOUNT])
    user = f"{prefix}-User"
    iam.create_user(UserName=user, Path=LONG_PATH, Tags=[{"Key": "team", "Value": "ünïcode"}])
    key = iam.create_access_key(UserName=user.lower())["AccessKey"]  # names are case-insensitive
    user_creds = Credentials(ACCOUNT, key["AccessKeyId"], key["SecretAccessKey"], user_name=user)
    user_arn = f"arn:aws:iam::{ACCOUNT}:user{LONG_PATH}{user}"
    iam.put_user_policy(UserName=user.upper(), PolicyName="Assume",
                        PolicyDocument=allow(["sts:AssumeRole", "iam:GetUser"]))
    first, second = f"{prefix}-First", f"{prefix}-Second"
    first_arn, second_arn = (f"arn:aws:iam::{ACCOUNT}:role/{name}" for name in (first, second))
    iam.create_role(RoleName=first, AssumeRolePolicyDocument=trust({"AWS": user_arn}), MaxSessionDuration=7200,
                    Description=LONG_DESCRIPTION, Tags=[{"Key": "k", "Value": "v"}])
    iam.put_role_policy(RoleName=first, PolicyName="chain", PolicyDocument=allow("sts:AssumeRole"))
    iam.create_role(RoleName=second, AssumeRolePolicyDocument=trust({"AWS": first_arn}))
    policy_arn = iam.create_policy(PolicyName=f"{prefix}ReadIam", Path="/pg/", Description="managed, on PostgreSQL",
                                   PolicyDocument=allow(["iam:GetRole", "iam:ListRoles"]))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=second, PolicyArn=policy_arn)
    iam.attach_role_policy(RoleName=second.lower(), PolicyArn=policy_arn)  # again, any case: a no-op
    iam.attach_role_policy(RoleName=second, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")

    user_sts = node.client("sts", user_creds)
    first_session = session_credentials(user_sts.assume_role(RoleArn=first_arn, RoleSessionName="first",
                                                             DurationSeconds=7200), ACCOUNT)
    chained = session_credentials(node.client("sts", first_session).assume_role(
        RoleArn=second_arn, RoleSessionName="chained"), ACCOUNT)

    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{prefix}-device")["VirtualMFADevice"]
    seed, serial = device["Base32StringSeed"], device["SerialNumber"]
    step = settled_step()
    iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    mfa_session = session_credentials(user_sts.get_session_token(SerialNumber=serial,
                                                                 TokenCode=totp(seed, step + 1)), ACCOUNT)
    sessions = {
        "user": (user_creds, user_arn),
        "first": (first_session, f"arn:aws:sts::{ACCOUNT}:assumed-role/{first}/first"),
        "chained": (chained, f"arn:aws:sts::{ACCOUNT}:assumed-role/{second}/chained"),
        "mfa": (mfa_session, user_arn),
    }
    for creds, arn in sessions.values():
        assert identity_arn(node, creds) == arn
    return Population(user, user_arn, user_creds, (first, second), (first_arn, second_arn), policy_arn,
                      sessions, (seed, serial, step + 1))


def test_iam_and_sts_on_postgres(deployment):
    node, _ = deployment
    iam = node.client("iam", node.admins[ACCOUNT])
    assert identity_arn(node, node.admins[ACCOUNT]) == f"arn:aws:iam::{ACCOUNT}:user/admin"
    state = populate(node, "Api")
    first, second = state.roles

    # Case-insensitive names: lookups in any case, duplicates in any case refused.
    got = iam.get_user(UserName=state.user.upper())["User"]
    assert (got["UserName"], got["Path"], got["Tags"]) == (state.user, LONG_PATH,
                                                           [{"Key": "team", "Value": "ünïcode"}])
    assert got["CreateDate"].tzinfo is not None
    assert error_code(iam.create_user, UserName=state.user.lower()) == ("EntityAlreadyExists", 409)
    assert error_code(iam.create_role, RoleName=first.upper(),
                      AssumeRolePolicyDocument=trust({"AWS": state.user_arn})) == ("EntityAlreadyExists", 409)
    assert error_code(iam.create_policy, PolicyName="apireadiam",
                      PolicyDocument=allow("iam:GetRole")) == ("EntityAlreadyExists", 409)
    iam.put_user_policy(UserName=state.user.lower(), PolicyName="ASSUME",  # the same policy: replaced
                        PolicyDocument=allow(["sts:AssumeRole", "iam:GetUser"]))
    assert iam.list_user_policies(UserName=state.user)["PolicyNames"] == ["Assume"]
    assert iam.get_role(RoleName=first)["Role"]["Description"] == LONG_DESCRIPTION
    assert iam.get_policy(PolicyArn=state.policy_arn)["Policy"]["AttachmentCount"] == 1

    # Role chaining: the chained session has the second role's permissions, and at most 1 h.
    chained, _ = state.sessions["chained"]
    first_session, _ = state.sessions["first"]
    assert node.client("iam", chained).get_role(RoleName=second)["Role"]["Arn"] == state.role_arns[1]
    assert error_code(node.client("iam", chained).create_user, UserName="nope") == ("AccessDenied", 403)
    assert error_code(node.client("sts", first_session).assume_role, RoleArn=state.role_arns[1],
                      RoleSessionName="too-long", DurationSeconds=7200) == ("ValidationError", 400)

    # A TOTP code is good once (the conditional UPDATE of mfa_devices.last_step).
    seed, serial, step = state.mfa
    assert error_code(node.client("sts", state.user_creds).get_session_token, SerialNumber=serial,
                      TokenCode=totp(seed, step)) == ("AccessDenied", 403)
    mfa_session, _ = state.sessions["mfa"]
    assert node.client("iam", mfa_session).get_user()["User"]["Arn"] == state.user_arn

    # DeleteConflict order, then deletes.
    assert error_code(iam.delete_policy, PolicyArn=state.policy_arn) == ("DeleteConflict", 409)
    assert error_code(iam.delete_role, RoleName=second) == ("DeleteConflict", 409)
    iam.detach_role_policy(RoleName=second, PolicyArn=state.policy_arn)
    iam.delete_policy(PolicyArn=state.policy_arn)
    assert error_code(iam.get_policy, PolicyArn=state.policy_arn) == ("NoSuchEntity", 404)


def test_every_length_iam_accepts_fits_its_column(deployment):
    """SQLite ignores VARCHAR lengths, PostgreSQL enforces them."""
    node, _ = deployment
    iam = node.client("iam", node.admins[ACCOUNT])
    name64, name128, role = "u" * 64, "P" * 128, "r" * 64
    arn = iam.create_policy(PolicyName=name128, Path=LONG_PATH, Description=LONG_DESCRIPTION,
                            PolicyDocument=allow("iam:GetUser"))["Policy"]["Arn"]
    iam.create_user(UserName=name64, Path=LONG_PATH, PermissionsBoundary=arn,
                    Tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    iam.put_user_policy(UserName=name64, PolicyName=name128, PolicyDocument=allow("iam:GetUser"))
    iam.create_access_key(UserName=name64)
    iam.attach_user_policy(UserName=name64, PolicyArn=arn)
    iam.create_role(RoleName=role, Path=LONG_PATH, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}),
                    Description=LONG_DESCRIPTION, PermissionsBoundary=arn, MaxSessionDuration=43200)
    iam.put_role_policy(RoleName=role, PolicyName=name128, PolicyDocument=allow("iam:GetRole"))
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    user = iam.get_user(UserName=name64)["User"]
    assert (user["Path"], user["PermissionsBoundary"]["PermissionsBoundaryArn"]) == (LONG_PATH, arn)
    assert iam.get_role(RoleName=role)["Role"]["Description"] == LONG_DESCRIPTION
    assert iam.list_user_policies(UserName=name64)["PolicyNames"] == [name128]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2


def test_long_mfa_device_names_fit_their_columns(deployment):
    node, _ = deployment
    iam = node.client("iam", node.admins[ACCOUNT])
    assert error_code(iam.create_virtual_mfa_device, VirtualMFADeviceName="m" * 226) is None
    assert error_code(iam.create_virtual_mfa_device, VirtualMFADeviceName="deep", Path="/" + "p" * 300 + "/") is None


def test_two_nodes_share_iam_state_and_session_keys(deployment):
    node_a, node_b = deployment
    admin = node_a.admins[ACCOUNT]
    iam_a, iam_b = node_a.client("iam", admin), node_b.client("iam", admin)
    assert iam_b.get_user()["User"]["UserName"] == "admin"  # node B has the account cached now

    # A user and key created through A authenticate on B after its next generation poll.
    iam_a.create_user(UserName="shared-user")
    iam_a.put_user_policy(UserName="shared-user", PolicyName="p",
                          PolicyDocument=allow(["sts:AssumeRole", "iam:GetUser"]))
    key = iam_a.create_access_key(UserName="shared-user")["AccessKey"]
    user = Credentials(ACCOUNT, key["AccessKeyId"], key["SecretAccessKey"], user_name="shared-user")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/shared-user"
    key_seconds = eventually(lambda: identity_arn(node_b, user))
    assert identity_arn(node_b, user) == user_arn

    # A role created through B, assumed through A; the session token opens on both nodes.
    iam_b.create_role(RoleName="shared-role", AssumeRolePolicyDocument=trust({"AWS": user_arn}))
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/shared-role"
    role_seconds = eventually(lambda: node_a.client("sts", user).assume_role(RoleArn=role_arn,
                                                                              RoleSessionName="probe"))
    session = session_credentials(node_a.client("sts", user).assume_role(
        RoleArn=role_arn, RoleSessionName="from-a"), ACCOUNT)
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/shared-role/from-a"
    assert identity_arn(node_b, session) == session_arn
    assert identity_arn(node_a, session) == session_arn
    from_b = session_credentials(node_b.client("sts", user).get_session_token(DurationSeconds=900), ACCOUNT)
    assert identity_arn(node_a, from_b) == user_arn

    # Deactivating the key through B refuses it on A too.
    iam_b.update_access_key(UserName="shared-user", AccessKeyId=user.access_key_id, Status="Inactive")

    def refused_on_a() -> None:
        assert error_code(node_a.client("sts", user).get_caller_identity) == ("InvalidClientTokenId", 403)

    revoke_seconds = eventually(refused_on_a)

    def same_answers() -> None:
        assert snapshot(iam_a, ["shared-user", "admin"], ["shared-role"], []) == snapshot(
            iam_b, ["shared-user", "admin"], ["shared-role"], [])

    eventually(same_answers)

    # Key rotation through the CLI: new sessions of A are sealed with the new key, B opens them.
    old_key_id = key_id_of(session.session_token)
    node_a.run_cli("keys", "rotate")
    iam_a.update_access_key(UserName="shared-user", AccessKeyId=user.access_key_id, Status="Active")
    fresh: list[Credentials] = []

    def sealed_with_new_key() -> None:
        response = node_a.client("sts", user).assume_role(RoleArn=role_arn, RoleSessionName="rotated")
        fresh[:] = [session_credentials(response, ACCOUNT)]
        assert key_id_of(fresh[0].session_token) != old_key_id

    rotate_seconds = eventually(sealed_with_new_key)
    # Known gap: B loads the new keys at its next poll (within a second); until then it refuses
    # sessions that A already seals with them (Keyring.open's reload on an unknown key id is
    # rate-limited by the same clock the poller resets every second, so it hardly ever fires).
    opened_seconds = eventually(lambda: identity_arn(node_b, fresh[0]))
    assert identity_arn(node_b, fresh[0]) == f"arn:aws:sts::{ACCOUNT}:assumed-role/shared-role/rotated"
    assert identity_arn(node_b, session) == session_arn  # sealed with the retired key: still opens
    print(f"\npropagation: A→B new key {key_seconds:.2f}s, B→A new role {role_seconds:.2f}s, "
          f"B→A deactivated key {revoke_seconds:.2f}s, rotation→A seals with the new key {rotate_seconds:.2f}s, "
          f"→B opens it {opened_seconds:.2f}s later")


def test_an_mfa_code_is_accepted_once_across_nodes(deployment):
    """Both nodes receive the same TOTP code at the same moment: exactly one accepts it."""
    node_a, node_b = deployment
    iam = node_a.client("iam", node_a.admins[ACCOUNT])
    iam.create_user(UserName="mfa-user")
    iam.put_user_policy(UserName="mfa-user", PolicyName="p", PolicyDocument=allow("iam:GetUser"))
    key = iam.create_access_key(UserName="mfa-user")["AccessKey"]
    user = Credentials(ACCOUNT, key["AccessKeyId"], key["SecretAccessKey"], user_name="mfa-user")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="race")["VirtualMFADevice"]
    seed, serial = device["Base32StringSeed"], device["SerialNumber"]
    step = settled_step(margin=8.0)
    iam.enable_mfa_device(UserName="mfa-user", SerialNumber=serial,
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    clients = [node.client("sts", user) for node in (node_a, node_b)]

    def both_know_the_device() -> None:
        assert node_b.client("iam", node_b.admins[ACCOUNT]).list_mfa_devices(
            UserName="mfa-user")["MFADevices"][0]["SerialNumber"] == serial

    eventually(both_know_the_device)
    code = totp(seed, step + 1)
    barrier = threading.Barrier(2)

    def attempt(client: Any) -> str:
        barrier.wait(timeout=10)
        try:
            client.get_session_token(SerialNumber=serial, TokenCode=code)
            return "accepted"
        except ClientError as error:
            return error.response["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, clients, timeout=30))
    assert outcomes == ["AccessDenied", "accepted"]


def test_a_restarted_node_keeps_state_and_sessions(deployment):
    """Node A restarts on the same database (migrations run again: nothing to do) while B keeps
    serving; state and sessions issued before the restart, by either node, work afterwards."""
    node_a, node_b = deployment
    iam = node_a.client("iam", node_a.admins[ACCOUNT])
    state = populate(node_a, "Kept")
    eventually(lambda: identity_arn(node_b, state.user_creds))  # B has polled A's writes
    state.sessions["from-b"] = (session_credentials(node_b.client("sts", state.user_creds).assume_role(
        RoleArn=state.role_arns[0], RoleSessionName="from-b"), ACCOUNT),
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{state.roles[0]}/from-b")
    before = snapshot(iam, *state.entities())

    node_a.stop()
    for creds, arn in state.sessions.values():  # B serves alone meanwhile
        assert identity_arn(node_b, creds) == arn
    started = time.monotonic()
    node_a.start()
    restart_seconds = time.monotonic() - started

    iam = node_a.client("iam", node_a.admins[ACCOUNT])
    assert snapshot(iam, *state.entities()) == before
    for creds, arn in state.sessions.values():
        assert identity_arn(node_a, creds) == arn
    chained, _ = state.sessions["chained"]
    assert node_a.client("iam", chained).get_role(RoleName=state.roles[1])["Role"]["Arn"] == state.role_arns[1]
    seed, serial, step = state.mfa  # a used code stays used
    assert error_code(node_a.client("sts", state.user_creds).get_session_token, SerialNumber=serial,
                      TokenCode=totp(seed, step)) == ("AccessDenied", 403)
    iam.detach_role_policy(RoleName=state.roles[1], PolicyArn=state.policy_arn)  # writes build on the old state
    assert iam.get_policy(PolicyArn=state.policy_arn)["Policy"]["AttachmentCount"] == 0
    engine = make_engine(node_a.database)
    try:
        assert current_revision(engine) == head_revision(engine)
    finally:
        engine.dispose()
    print(f"\nrestart of node A on PostgreSQL: {restart_seconds:.2f}s")
