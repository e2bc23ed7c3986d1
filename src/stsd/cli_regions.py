"""``stsd regions`` and ``stsd quotas``: Region state per account, STS activation (what AWS offers
only in its IAM console), simulated Region faults and quota overrides.

Offline against the store (``--data-dir``/``--database``) like the other commands; a running
server picks the writes up within a second. The rules are :mod:`stsd.account_api.rules`, the
same the Account API and the admin API apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from stsd.config import DEFAULT_ACCOUNT, Settings
from stsd.server.faults import MODES

regions_app = typer.Typer(help="Regions per account: opt-in status, STS activation, simulated faults.",
                          no_args_is_help=True)
quotas_app = typer.Typer(help="Request-rate quota overrides per account, Region and endpoint type.",
                         no_args_is_help=True)
console = Console()

DataDir = typer.Option(Path(".stsd"), "--data-dir", help="Where the SQLite store and master key live.")
Database = typer.Option(None, "--database", help="SQLAlchemy URL (default: SQLite in --data-dir).")
AccountId = typer.Option(DEFAULT_ACCOUNT, "--account-id", "--account", help="12-digit account id.")
RegionArg = typer.Argument(..., help="Region name, e.g. eu-west-1.")
Json = typer.Option(False, "--json", help="Print JSON instead of a table.")
Transition = typer.Option(5.0, "--transition-seconds", envvar="STSD_REGION_TRANSITION_SECONDS",
                          help="How long the Region stays ENABLING/DISABLING.")


def register(app: typer.Typer) -> None:
    app.add_typer(regions_app, name="regions")
    app.add_typer(quotas_app, name="quotas")


@contextmanager
def _rules(data_dir: Path, database: str | None, transition: float = 5.0) -> Iterator[tuple[Any, Any]]:
    """(rules module, runtime); a rule refusal prints its message and exits with code 1."""
    from stsd.account_api import rules
    from stsd.server.runtime import Runtime

    runtime = Runtime.open(Settings(data_dir=data_dir, database_url=database,
                                    region_transition_seconds=transition))
    try:
        yield rules, runtime
    except rules.RuleError as error:
        typer.echo(f"error: {error.message}", err=True)  # unwrapped: scripts and tests match it
        raise typer.Exit(1) from None
    finally:
        runtime.close()


def _bool(value: bool) -> str:
    return "yes" if value else "no"


def _print_region(info: Any, verb: str) -> None:
    sts = "active" if info.sts_active else "inactive"
    console.print(f"{info.region}: {verb} (opt status {info.opt_status}, STS {sts})", highlight=False)


@regions_app.command("list")
def regions_list(account_id: str = AccountId, as_json: bool = Json, data_dir: Path = DataDir,
                 database: str | None = Database) -> None:
    """Every Region of the account's partition: opt status, STS active, can STS be deactivated."""
    with _rules(data_dir, database) as (rules, runtime):
        found = rules.list_regions(runtime, account_id, rules.utcnow())
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in found]))
        return
    table = Table("Region", "Name", "Opt status", "STS active", "Can deactivate", title=f"Account {account_id}")
    for r in found:
        table.add_row(r.region, r.name, r.opt_status, _bool(r.sts_active), _bool(r.sts_deactivatable))
    console.print(table)


def _region_command(change: str, verb: str, doc: str) -> Callable[..., None]:
    def command(region: str = RegionArg, account_id: str = AccountId, data_dir: Path = DataDir,
                database: str | None = Database) -> None:
        with _rules(data_dir, database) as (rules, runtime):
            info = getattr(rules, change)(runtime, account_id, region, rules.utcnow())
        _print_region(info, verb)

    def timed(region: str = RegionArg, account_id: str = AccountId, data_dir: Path = DataDir,
              database: str | None = Database, transition: float = Transition) -> None:
        with _rules(data_dir, database, transition) as (rules, runtime):
            info = getattr(rules, change)(runtime, account_id, region, rules.utcnow())
        _print_region(info, verb)

    chosen = timed if change.endswith("_region") else command
    chosen.__doc__ = doc
    return chosen


regions_app.command("activate")(_region_command(
    "activate_sts", "STS activated", "Activate STS in a Region enabled by default (as the IAM console does)."))
regions_app.command("deactivate")(_region_command(
    "deactivate_sts", "STS deactivated",
    "Deactivate STS in a Region enabled by default (not us-east-1; opt-in Regions follow their opt status)."))
regions_app.command("enable")(_region_command(
    "enable_region", "enabling", "Enable an opt-in Region (Account API EnableRegion): ENABLING, then ENABLED."))
regions_app.command("disable")(_region_command(
    "disable_region", "disabling", "Disable an opt-in Region (Account API DisableRegion): DISABLING, then DISABLED."))


@regions_app.command("fail")
def regions_fail(
    region: str = RegionArg,
    mode: str = typer.Option(..., "--mode", help="One of: " + ", ".join(MODES) + "."),
    delay_ms: int = typer.Option(0, "--delay-ms", help="slow: answer delay; down: how long to hold the request "
                                                        "before dropping it (0: defaults 2 s / 30 s)."),
    data_dir: Path = DataDir,
    database: str | None = Database,
) -> None:
    """Simulate a failure of STS in a Region (all accounts)."""
    with _rules(data_dir, database) as (rules, runtime):
        fault = rules.set_fault(runtime, region, mode, delay_ms)
    console.print(f"{fault.region}: simulating '{fault.mode}'" + (f" ({fault.delay_ms} ms)" if fault.delay_ms else ""),
                  highlight=False)


@regions_app.command("restore")
def regions_restore(region: str | None = typer.Argument(None, help="Region to restore (default: all)."),
                    data_dir: Path = DataDir, database: str | None = Database) -> None:
    """End simulated failures (one Region, or all)."""
    with _rules(data_dir, database) as (rules, runtime):
        count = rules.clear_faults(runtime, region)
    console.print(f"removed {count} simulated fault(s)", highlight=False)


@regions_app.command("faults")
def regions_faults(as_json: bool = Json, data_dir: Path = DataDir, database: str | None = Database) -> None:
    """Show the simulated Region failures."""
    with _rules(data_dir, database) as (rules, runtime):
        found = rules.list_faults(runtime)
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in found]))
        return
    table = Table("Region", "Mode", "Delay (ms)")
    for f in found:
        table.add_row(f.region, f.mode, str(f.delay_ms))
    console.print(table)


@quotas_app.command("set")
def quotas_set(
    account_id: str = AccountId,
    region: str = typer.Option(..., "--region", help="Region name, or * for every Region."),
    endpoint_type: str = typer.Option(..., "--endpoint-type", help="global, regional or *."),
    rate: int = typer.Option(..., "--rate", help="Requests per second (0: unlimited)."),
    burst: int | None = typer.Option(None, "--burst", help="Bucket size (default: the rate)."),
    data_dir: Path = DataDir,
    database: str | None = Database,
) -> None:
    """Override the request-rate quota of an account for a Region and endpoint type."""
    with _rules(data_dir, database) as (rules, runtime):
        quota = rules.set_quota(runtime, account_id, region, endpoint_type, rate, burst)
    console.print(f"account {quota.account_id}, Region {quota.region}, endpoint type {quota.endpoint_type}: "
                  f"{quota.rate}/s, burst {quota.burst}", highlight=False)


@quotas_app.command("list")
def quotas_list(account_id: str | None = typer.Option(None, "--account-id", "--account", help="Only this account."),
                as_json: bool = Json, data_dir: Path = DataDir, database: str | None = Database) -> None:
    """Show the quota overrides (accounts without one use the server's --quota-rate/--quota-burst)."""
    with _rules(data_dir, database) as (rules, runtime):
        found = rules.list_quotas(runtime, account_id)
    if as_json:
        typer.echo(json.dumps([q.as_dict() for q in found]))
        return
    table = Table("Account", "Region", "Endpoint type", "Rate (/s)", "Burst")
    for q in found:
        table.add_row(q.account_id, q.region, q.endpoint_type, str(q.rate), str(q.burst))
    console.print(table)
