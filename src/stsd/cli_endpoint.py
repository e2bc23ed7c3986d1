"""``stsd endpoint explain``: which STS endpoint every AWS SDK would call here, and why.

Only the typer/rich wiring lives here; the logic is in :mod:`stsd.client.explain`.
Registered on the main app by ``register(app)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from stsd.client.explain import Explanation

DEFAULT_TOKEN_VERSION = "v1Token"  # IAM's default GlobalEndpointTokenVersion
err_console = Console(stderr=True)


def _console() -> Console:
    # Built per call: rich reads the terminal width (COLUMNS) when a Console is created.
    return Console(soft_wrap=True, highlight=False)

endpoint_app = typer.Typer(
    help="STS endpoint resolution as the AWS SDKs do it: which endpoint, why, and what it means.",
    no_args_is_help=True,
)


@endpoint_app.command("explain")
def explain_command(
    region: Annotated[str | None, typer.Option("--region", help="Region (default: environment / profile).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Shared-config profile to read.")] = None,
    sts_regional_endpoints: Annotated[str | None, typer.Option(
        "--sts-regional-endpoints", help="legacy or regional (default: AWS_STS_REGIONAL_ENDPOINTS / profile).")] = None,
    use_fips: Annotated[bool | None, typer.Option("--use-fips/--no-use-fips", help="FIPS endpoints.")] = None,
    use_dualstack: Annotated[bool | None, typer.Option(
        "--use-dualstack/--no-use-dualstack", help="Dual-stack endpoints.")] = None,
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help="Custom endpoint URL.")] = None,
    sdk: Annotated[list[str] | None, typer.Option(
        "--sdk", help="Only these SDKs (repeatable): aws-cli-v2, aws-cli-v1, boto3, boto3-legacy, ...")] = None,
    global_token_version: Annotated[str, typer.Option(
        "--global-token-version", help="The account's GlobalEndpointTokenVersion: v1Token (default) or v2Token.")
    ] = DEFAULT_TOKEN_VERSION,
    config_file: Annotated[Path | None, typer.Option(
        "--config-file", help="Shared config file (default: AWS_CONFIG_FILE or ~/.aws/config).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    details: Annotated[bool, typer.Option("--details", help="Print every SDK's full reasoning.")] = False,
) -> None:
    """For each AWS SDK and tool: the STS endpoint it would call, why, and what that means."""
    from stsd.client.explain import TOKEN_VERSIONS, explain

    if global_token_version not in TOKEN_VERSIONS:
        raise typer.BadParameter(f"use one of {', '.join(TOKEN_VERSIONS)}", param_hint="--global-token-version")
    try:
        result = explain(
            region=region, profile=profile, sts_regional_endpoints=sts_regional_endpoints, use_fips=use_fips,
            use_dualstack=use_dualstack, endpoint_url=endpoint_url, config_file=config_file,
            global_token_version=global_token_version, sdks=sdk or None,
        )
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--sdk") from None
    console = _console()
    if as_json:
        console.print_json(json.dumps(result.to_dict()))
        return
    _render(result, details, console)


def _render(result: Explanation, details: bool, console: Console) -> None:
    inputs = ", ".join(
        f"{name}={v.value!r} ({v.source})" for name, v in result.inputs.items() if v.value is not None
    )
    console.print(f"[bold]Settings:[/bold] {inputs or 'nothing configured'}")
    table = Table(show_lines=False, pad_edge=False)
    for column in ("SDK / tool", "STS endpoint (signed for)", "Why", "Opt-in Regions", "CloudTrail"):
        table.add_column(column, overflow="fold")
    for r in result.results:
        name = r.sdk.name + (f" {r.sdk.versions.split(' (')[0]}" if r.sdk.versions else "")
        if r.error:
            table.add_row(name, f"[red]{r.error}[/red]", r.summary, "-", "-")
            continue
        token, trail = r.meaning.get("token"), r.meaning.get("cloudtrail")
        host = urlsplit(r.endpoint or "").netloc or r.endpoint or "-"
        ok = "-" if token is None else ("[green]token valid[/green]" if token["valid_in_opt_in_regions"]
                                        else "[yellow]v1 token: NOT valid[/yellow]")
        trail_text = "-" if trail is None else f"{trail['region']} ({trail['endpointType']})"
        table.add_row(name, f"{host} ({r.signing_region})", r.summary, ok, trail_text)
    console.print(table)
    if details:
        for r in result.results:
            console.print(f"\n[bold]{r.sdk.name}{' ' + r.sdk.versions if r.sdk.versions else ''}[/bold]"
                          f" [dim]({r.resolved_by})[/dim]")
            for line in r.why:
                console.print(f"  - {line}")
            for warning in r.meaning.get("warnings", []):
                console.print(f"  [yellow]! {warning}[/yellow]")
            for note in r.sdk.notes:
                console.print(f"  [dim]note: {note}[/dim]")
    else:
        console.print("[dim]--details: the full reasoning per SDK; --json: everything, for scripts.[/dim]")
    console.print("[dim]Global endpoint: tokens follow the account's GlobalEndpointTokenVersion (v1Token by default: "
                  "only valid in Regions enabled by default); CloudTrail records the call in us-east-1 with "
                  "awsServingRegion naming the Region that served it. Regional endpoints: tokens valid in every "
                  "Region, recorded in that Region.[/dim]")


def register(app: typer.Typer) -> None:
    """Add ``endpoint`` to the main ``stsd`` app."""
    app.add_typer(endpoint_app, name="endpoint")
