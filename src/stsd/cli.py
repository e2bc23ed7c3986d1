"""The ``stsd`` command line: run the server, bootstrap accounts, manage signing keys."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stsd import __version__
from stsd.config import DEFAULT_ACCOUNT, Settings

app = typer.Typer(
    help=(
        "stsd — a self-hostable, AWS-compatible Security Token Service.\n\n"
        "Start with `stsd serve`: it creates a store in ./.stsd on first start, prints "
        "credentials for an `admin` user and the endpoint_url to give boto3 or the AWS CLI."
    ),
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Session-token sealing keys: list, rotate, purge.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
roles_app = typer.Typer(help="Role administration that AWS offers only in its console.", no_args_is_help=True)
app.add_typer(roles_app, name="roles")
from stsd.cli_net import register as _register_net; _register_net(app)  # noqa: E402, E702, I001
from stsd.cli_endpoint import register as _register_endpoint; _register_endpoint(app)  # noqa: E402, E702, I001
from stsd.cli_regions import register as _register_regions; _register_regions(app)  # noqa: E402, E702, I001
from stsd.cli_audit import register as _register_audit; _register_audit(app)  # noqa: E402, E702, I001
console = Console()

DataDir = typer.Option(Path(".stsd"), "--data-dir", help="Where the SQLite store and master key live.")
Database = typer.Option(None, "--database", help="SQLAlchemy URL (default: SQLite in --data-dir), "
                                                "e.g. postgresql://user@host/stsd.")

ENV_PREFIX = "STSD_"


def _settings(data_dir: Path, database: str | None, emulator: bool = False) -> Settings:
    return Settings(data_dir=data_dir, database_url=database, emulator=emulator)


def _runtime(settings: Settings):  # imported lazily so `stsd --help` is fast
    from stsd.server.runtime import Runtime

    return Runtime.open(settings)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8080, help="Port to listen on."),
    data_dir: Path = DataDir,
    database: str | None = Database,
    workers: int = typer.Option(1, help="Worker processes (they share the store)."),
    emulator: bool = typer.Option(False, "--emulator", help="Accept any credentials, like LocalStack/moto."),
    account_id: str = typer.Option(DEFAULT_ACCOUNT, "--account-id", help="Account bootstrapped on first start."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="Serve HTTPS with this PEM certificate chain "
                                                                  "(see `stsd ca`)."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key for --tls-cert."),
    topology: Path | None = typer.Option(None, "--topology", help="JSON file mapping source networks (CIDRs) to "
                                                                  "the Region callers are in."),
    global_endpoint_mode: str = typer.Option("local", "--global-endpoint-mode",
                                             help="local: the global endpoint serves callers in their own "
                                                  "default-enabled Region (2025); legacy: always us-east-1."),
    quota_rate: int = typer.Option(600, "--quota-rate", help="Requests/s per account, Region and endpoint type "
                                                             "(0: unlimited)."),
    quota_burst: int = typer.Option(600, "--quota-burst", help="Bucket size for --quota-rate."),
    redis_url: str | None = typer.Option(None, "--redis", help="Redis URL to share quotas between workers/nodes."),
    region_transition_seconds: float = typer.Option(5.0, "--region-transition-seconds",
                                                    help="How long opt-in Regions stay ENABLING/DISABLING."),
    trust_forwarded_for: bool = typer.Option(False, "--trust-forwarded-for",
                                             help="Take the caller's address (aws:SourceIp, CloudTrail "
                                                  "sourceIPAddress) from X-Forwarded-For: only behind a proxy "
                                                  "that sets it."),
    oidc_ca_file: Path | None = typer.Option(None, "--oidc-ca-file", envvar="STSD_OIDC_CA_FILE",
                                             help="PEM file of CA certificates to trust, besides the system's, "
                                                  "when fetching OIDC identity providers' keys."),
) -> None:
    """Run the STS/IAM endpoint (SQLite in ./.stsd by default)."""
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together", param_hint="--tls-cert")
    if oidc_ca_file is not None:
        oidc_ca_file = _check_ca_file(oidc_ca_file)
    import uvicorn

    from stsd.bootstrap import first_start

    settings = _settings(data_dir, database, emulator)
    runtime = _runtime(settings)
    creds, created = first_start(runtime, account_id)
    runtime.close()
    endpoint = f"{'https' if tls_cert else 'http'}://{host}:{port}"
    console.print(f"[bold]stsd {__version__}[/bold] serving on {endpoint}"
                  + (" [yellow](emulator mode)[/yellow]" if emulator else ""))
    console.print(("Created" if created else "Bootstrap") + f" admin credentials for account {creds.AccountId} "
                  f"(kept in {data_dir / 'bootstrap.json'}):")
    console.print(f"  export AWS_ACCESS_KEY_ID={creds.AccessKeyId}")
    console.print(f"  export AWS_SECRET_ACCESS_KEY={creds.SecretAccessKey}")
    console.print("  export AWS_DEFAULT_REGION=us-east-1")
    console.print(f"  aws --endpoint-url {endpoint} sts get-caller-identity")
    console.print(f"  python -c \"import boto3; print(boto3.client('sts', endpoint_url='{endpoint}')"
                  ".get_caller_identity())\"")
    from stsd.regions.topology import Topology

    Topology.load(topology, global_endpoint_mode)  # fail fast on a bad file or mode
    env = {
        "DATA_DIR": str(data_dir),
        "EMULATOR": "1" if emulator else "0",
        "DATABASE": database or "",
        "TOPOLOGY": str(topology) if topology else "",
        "GLOBAL_ENDPOINT_MODE": global_endpoint_mode,
        "QUOTA_RATE": str(quota_rate),
        "QUOTA_BURST": str(quota_burst),
        "REDIS": redis_url or "",
        "WORKERS": str(workers),
        "REGION_TRANSITION_SECONDS": str(region_transition_seconds),
        "OIDC_CA_FILE": str(oidc_ca_file) if oidc_ca_file else "",
        "TRUST_FORWARDED_FOR": "1" if trust_forwarded_for else "0",
    }
    for name, value in env.items():
        os.environ[ENV_PREFIX + name] = value
    from stsd.server.http_protocol import UVICORN_HTTP

    uvicorn.run(
        "stsd.server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        server_header=False,
        http=UVICORN_HTTP,  # uvicorn's httptools protocol, one write per response
        # uvicorn would otherwise take the client address from X-Forwarded-For sent from
        # 127.0.0.1, letting any local client choose its aws:SourceIp; stsd reads that
        # header itself, and only when the operator says a proxy sets it (trust_forwarded_for).
        proxy_headers=False,
        loop="uvloop",
        access_log=False,
        timeout_graceful_shutdown=5,  # idle keep-alive (TLS) connections must not hold shutdown
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


def _check_ca_file(path: Path) -> Path:
    """Fail fast on a CA file the TLS library cannot load; the absolute path for the workers."""
    import ssl

    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except (OSError, ssl.SSLError) as error:
        raise typer.BadParameter(f"cannot load CA certificates from {path}: {error}",
                                 param_hint="--oidc-ca-file") from None
    return path.resolve()


@app.command()
def init(
    account_id: str = typer.Option(DEFAULT_ACCOUNT, "--account-id", help="12-digit account id."),
    data_dir: Path = DataDir,
    database: str | None = Database,
    as_json: bool = typer.Option(False, "--json", help="Print the credentials as JSON."),
    root_key: bool = typer.Option(False, "--root-key", help="Create an access key for the account root "
                                                            "instead of the admin user (not recommended)."),
) -> None:
    """Create an account (if needed), its `admin` user with full access, and a new access key."""
    from stsd import ids
    from stsd.bootstrap import init_account

    if not ids.is_account_id(account_id):
        raise typer.BadParameter("must be 12 digits", param_hint="--account-id")
    runtime = _runtime(_settings(data_dir, database))
    creds = init_account(runtime, account_id, root_key=root_key)
    runtime.close()
    if as_json:
        typer.echo(json.dumps(asdict(creds)))
        return
    console.print(f"Account {creds.AccountId}, user {creds.UserName or '(root)'}")
    console.print(f"  AWS_ACCESS_KEY_ID={creds.AccessKeyId}")
    console.print(f"  AWS_SECRET_ACCESS_KEY={creds.SecretAccessKey}")


@keys_app.command("list")
def keys_list(data_dir: Path = DataDir, database: str | None = Database) -> None:
    """Show the sealing keys (ids only, never key material)."""
    runtime = _runtime(_settings(data_dir, database))
    table = Table("key id", "purpose", "state")
    for key_id, purpose, active in runtime.keyring.describe():
        table.add_row(str(key_id), purpose, "active" if active else "retired (opens old tokens)")
    runtime.close()
    console.print(table)


@keys_app.command("rotate")
def keys_rotate(data_dir: Path = DataDir, database: str | None = Database) -> None:
    """New sealing keys; sessions issued before keep working until they expire."""
    runtime = _runtime(_settings(data_dir, database))
    new_ids = runtime.keyring.rotate()
    runtime.close()
    console.print(f"new active key ids: {', '.join(map(str, new_ids))} (running servers pick them up within "
                  "a second)")


@keys_app.command("purge")
def keys_purge(data_dir: Path = DataDir, database: str | None = Database) -> None:
    """Delete retired keys whose sessions have all expired (36 h after retirement)."""
    runtime = _runtime(_settings(data_dir, database))
    count = runtime.keyring.purge()
    runtime.close()
    console.print(f"purged {count} retired key(s)")


@roles_app.command("revoke-sessions")
def roles_revoke_sessions(
    role: str = typer.Option(..., "--role", help="Role name."),
    account_id: str = typer.Option(DEFAULT_ACCOUNT, "--account-id"),
    data_dir: Path = DataDir,
    database: str | None = Database,
) -> None:
    """Revoke every session of a role issued until now, as the IAM console does: an inline
    policy AWSRevokeOlderSessions denying all actions when aws:TokenIssueTime is older."""
    from stsd.iam.revocation import revoke_older_sessions

    runtime = _runtime(_settings(data_dir, database))
    cutoff = revoke_older_sessions(runtime, account_id, role)
    runtime.close()
    console.print(f"sessions of {role} issued before {cutoff} are revoked")


@app.command()
def version() -> None:
    """Print the stsd version."""
    typer.echo(__version__)


def main() -> None:
    app()
