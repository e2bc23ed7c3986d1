"""``stsd audit``: read the audit trail — CloudTrail records of every call — from the store or
from a directory of CloudTrail files (stsd's or real AWS logs), and find who still calls the
global STS endpoint, with the fix for each."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:  # imported when a command runs, so `stsd --help` stays fast
    from stsd.audit.query import DirSource, StoreSource

audit_app = typer.Typer(
    help="The audit trail: CloudTrail records of every STS/IAM call; who still uses the global endpoint.",
    no_args_is_help=True,
)
console = Console(width=200)

DataDir = typer.Option(Path(".stsd"), "--data-dir", help="Where the store lives (default ./.stsd).")
Database = typer.Option(None, "--database", help="SQLAlchemy URL of the store (default: SQLite in --data-dir).")
FromDir = typer.Option(None, "--from-dir", help="Read CloudTrail files (*.json.gz, *.json, recursively) instead of "
                                                "the store, e.g. <data-dir>/cloudtrail or a synced S3 bucket.")
Account = typer.Option(None, "--account", "--account-id", help="Only this account (recipientAccountId).")
Since = typer.Option(None, "--since", help="From this time: ISO 8601 (UTC if no zone) or an age: 15m, 2h, 7d.")
Until = typer.Option(None, "--until", help="Up to this time (same forms as --since).")
AsJson = typer.Option(False, "--json", help="Print JSON (the admin API's shape) instead of a table.")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def _source(data_dir: Path, database: str | None, from_dir: Path | None) -> StoreSource | DirSource:
    from stsd.audit.query import open_source

    if from_dir is None and database is None and not (data_dir / "stsd.db").exists():
        raise typer.BadParameter(f"no stsd store in {data_dir} (use --data-dir, --database or --from-dir)",
                                 param_hint="--data-dir")
    try:
        return open_source(from_dir, database or f"sqlite:///{(data_dir / 'stsd.db').resolve()}")
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--from-dir") from None


def _time(value: str | None, hint: str) -> str | None:
    from stsd.audit.query import parse_time

    try:
        return parse_time(value) if value else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=hint) from None


def _table(title: str, *columns: str, **options: object) -> Table:
    """Long values (ARNs, user agents, the fix) wrap instead of being cut short with an ellipsis."""
    table = Table(title=title, **options)  # type: ignore[arg-type]
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _print_json(payload: object) -> None:
    import orjson

    typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())


@audit_app.command("events")
def events(
    data_dir: Path = DataDir,
    database: str | None = Database,
    from_dir: Path | None = FromDir,
    account: str | None = Account,
    region: str | None = typer.Option(None, "--region", help="Only records delivered to this Region (awsRegion)."),
    event_name: str | None = typer.Option(None, "--event-name", help="e.g. AssumeRole, GetCallerIdentity."),
    principal: str | None = typer.Option(None, "--principal", help="Caller ARN (userIdentity.arn)."),
    endpoint_type: str | None = typer.Option(None, "--endpoint-type", help="global or regional."),
    since: str | None = Since,
    until: str | None = Until,
    errors_only: bool = typer.Option(False, "--errors-only", help="Only failed calls (with an errorCode)."),
    limit: int = typer.Option(100, "--limit", min=0, help="At most this many, newest first (0: all)."),
    as_json: bool = AsJson,
) -> None:
    """CloudTrail records, newest first, filtered."""
    from stsd.audit.fields import index_row
    from stsd.audit.query import EventFilter

    if endpoint_type not in (None, "global", "regional"):
        raise typer.BadParameter("global or regional", param_hint="--endpoint-type")
    query = EventFilter(account=account, region=region, event_name=event_name, principal=principal,
                        endpoint_type=endpoint_type, since=_time(since, "--since"), until=_time(until, "--until"),
                        errors_only=errors_only, limit=limit or None)
    found = _source(data_dir, database, from_dir).events(query)
    if as_json:
        _print_json({"Records": found})
        return
    table = _table(f"{len(found)} event(s)", "time", "account", "region", "event", "caller", "endpoint", "served in",
                   "source IP", "error")
    for record in found:
        row = index_row(record)
        table.add_row(row["event_time"], row["account_id"] or "-", row["region"], row["event_name"],
                      escape(row["principal_arn"] or "-"), row["endpoint_type"] or "-", row["serving_region"] or "-",
                      row["source_ip"] or "-", row["error_code"] or "")
    console.print(table)


@audit_app.command("global-usage")
def global_usage(
    data_dir: Path = DataDir,
    database: str | None = Database,
    from_dir: Path | None = FromDir,
    account: str | None = Account,
    principal: str | None = typer.Option(None, "--principal", help="Only this caller ARN."),
    since: str | None = Since,
    until: str | None = Until,
    limit: int = typer.Option(0, "--limit", min=0, help="At most this many callers, busiest first (0: all)."),
    as_json: bool = AsJson,
) -> None:
    """Who still calls the global endpoint (sts.amazonaws.com), and the fix for each.

    One row per caller, source IP, user agent and serving Region, with the count, the last call
    and the SDK setting or endpoint URL that moves that client to its Regional endpoint."""
    from stsd.audit.query import EventFilter

    query = EventFilter(account=account, principal=principal, since=_time(since, "--since"),
                        until=_time(until, "--until"), limit=limit or None)
    usage = _source(data_dir, database, from_dir).global_usage(query)
    if as_json:
        _print_json({"GlobalEndpointUsage": [u.as_dict() for u in usage]})
        return
    if not usage:
        console.print("No calls to the global endpoint.")
        return
    table = _table("Callers of the global STS endpoint", "caller", "source IP", "user agent", "served in", "calls",
                   "last seen", "fix", show_lines=True)
    for u in usage:
        remedy = u.remedy
        fix = f"[bold]{escape(remedy['sdk'])}[/bold]: {escape(remedy['fix'])}"
        table.add_row(escape(f"{u.principal or '-'}\n({u.account or 'no account'})"), u.source_ip or "-",
                      escape(u.user_agent or "-"), u.serving_region or "-", str(u.count), u.last_seen, fix)
    console.print(table)
