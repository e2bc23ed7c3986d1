"""``stsd ca``, ``stsd dns`` and ``stsd hosts``: reach stsd by the real AWS host names.

Only the typer wiring lives here; the logic is in :mod:`stsd.netsetup`. Registered on the
main app by ``register(app)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True)

ca_app = typer.Typer(
    help="A local CA and a server certificate for the real STS/IAM host names (for `stsd serve --tls-cert`).",
    no_args_is_help=True,
)

PARTITION_HELP = ("Partition whose host names to include (repeatable): aws, aws-cn, aws-us-gov, aws-eusc, "
                  "aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, or all.")
CaDir = Annotated[Path, typer.Option("--dir", help="Directory of the CA and server certificate.")]
Partitions = list[str] | None
DEFAULT_CA_DIR = Path(".stsd/ca")


def _names(partitions: list[str] | None, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
    from stsd.netsetup.hostnames import service_hostnames

    try:
        return service_hostnames(partitions or default)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--partition") from None


@ca_app.command("init")
def ca_init(
    directory: CaDir = DEFAULT_CA_DIR,
    partition: Annotated[Partitions, typer.Option("--partition", help=PARTITION_HELP + " Default: aws.")] = None,
    renew: Annotated[bool, typer.Option("--renew", help="Issue a new server certificate even if the current one "
                                                        "still fits (the CA is always kept).")] = False,
    key_type: Annotated[str, typer.Option("--key-type", help="Key algorithm of new keys: ec (P-256) or "
                                                             "rsa (2048).")] = "ec",
    days: Annotated[int, typer.Option("--days", help="Server certificate validity in days (at most 397).")] = 397,
) -> None:
    """Create the CA (once) and a server certificate covering every STS host name.

    Re-running keeps the CA and the server certificate; a new server certificate is issued
    with --renew, or when the current one is missing, does not cover the requested names,
    or expires within 30 days.
    """
    from stsd.netsetup.ca import CaError, ensure_ca

    names = _names(partition)
    try:
        result = ensure_ca(directory, names=names, renew=renew, key_type=key_type.lower(), leaf_days=days)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except CaError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    files = result.files
    console.print(("Created a new CA" if result.ca_created else "Kept the CA") + f" in {files.directory}")
    console.print(f"  CA certificate   {files.ca_cert}   (SHA-256 {result.ca_fingerprint})")
    console.print(f"  CA key           {files.ca_key}   (mode 0600, keep it private)")
    verb = "Issued" if result.leaf_issued else "Kept"
    console.print(f"{verb} the server certificate ({result.reason}): {len(result.names)} names + "
                  f"{', '.join(result.ips)}, valid until {result.leaf_not_after:%Y-%m-%d}")
    console.print(f"  certificate      {files.server_cert}")
    console.print(f"  key              {files.server_key}   (mode 0600)")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print("\nServe TLS with it (port 443 needs root or CAP_NET_BIND_SERVICE):")
    console.print(f"  stsd serve --port 443 --tls-cert {files.server_cert} --tls-key {files.server_key}")
    console.print("Trust it from boto3 and the AWS CLI:")
    console.print(f"  export AWS_CA_BUNDLE={files.ca_cert.resolve()}")
    console.print("Point the host names at stsd: `stsd hosts` (for /etc/hosts) or `stsd dns`.")


@ca_app.command("show")
def ca_show(directory: CaDir = DEFAULT_CA_DIR) -> None:
    """Describe the CA and server certificate in --dir."""
    from stsd.netsetup.ca import CaError, CaFiles, fingerprint, load_certificate, san_names

    files = CaFiles.in_dir(directory)
    try:
        ca = load_certificate(files.ca_cert)
        leaf = load_certificate(files.server_cert) if files.server_cert.exists() else None
    except CaError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"CA      {ca.subject.rfc4514_string()}")
    console.print(f"        SHA-256 {fingerprint(ca)}, valid until {ca.not_valid_after_utc:%Y-%m-%d}")
    if leaf is None:
        console.print("server  (none yet: run `stsd ca init`)")
        return
    dns, ips = san_names(leaf)
    console.print(f"server  {leaf.subject.rfc4514_string()}, valid until {leaf.not_valid_after_utc:%Y-%m-%d}")
    console.print(f"        {len(dns)} DNS names, IPs {', '.join(map(str, ips)) or '-'}")
    for name in dns:
        typer.echo(f"        {name}")


def dns(
    listen: Annotated[str, typer.Option("--listen", help="Address:port for UDP and TCP (IPv6: "
                                                         "\\[::1]:5353).")] = "127.0.0.1:5353",
    answer: Annotated[Partitions, typer.Option("--answer", help="IPv4 address to answer A queries with "
                                                                "(repeatable). Default: 127.0.0.1.")] = None,
    answer6: Annotated[Partitions, typer.Option("--answer6", help="IPv6 address to answer AAAA queries with "
                                                                  "(repeatable). Default: none (empty "
                                                                  "answer).")] = None,
    upstream: Annotated[str | None, typer.Option("--upstream", help="Resolver (ip[:port]) to forward every "
                                                                    "other name to. Default: answer "
                                                                    "REFUSED.")] = None,
    partition: Annotated[Partitions, typer.Option("--partition", help=PARTITION_HELP + " Default: all.")] = None,
    ttl: Annotated[int, typer.Option("--ttl", help="TTL of the answers, seconds.")] = 60,
    upstream_timeout: Annotated[float, typer.Option("--upstream-timeout", help="Seconds to wait for the "
                                                                               "upstream.")] = 2.0,
    log_level: Annotated[str, typer.Option("--log-level", help="debug logs every query.")] = "info",
) -> None:
    """Answer DNS queries for the STS/IAM host names with stsd's address.

    Point a resolver at it for those names (see the README): every SDK then reaches
    stsd by the real host names. Anything else is forwarded to --upstream or refused.
    """
    import asyncio
    import logging

    from stsd.netsetup.dns import DnsServer, Responder, Zone, parse_address

    names = _names(partition, ("all",))
    try:
        host, port = parse_address(listen, 5353)
        upstream_address = parse_address(upstream, 53) if upstream else None
        zone = Zone.build(names, answer if answer is not None else ["127.0.0.1"], answer6 or (), ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if upstream_address == (host, port):
        raise typer.BadParameter("the upstream is this server itself", param_hint="--upstream")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        logging.getLogger("stsd.dns").setLevel(log_level.upper())
    except ValueError:
        raise typer.BadParameter("use debug, info, warning or error", param_hint="--log-level") from None
    server = DnsServer(Responder(zone, upstream=upstream_address, upstream_timeout=upstream_timeout), host, port)

    async def run() -> None:
        bound = await server.start()
        shown = f"[{host}]" if ":" in host else host
        console.print(f"stsd dns answering {len(zone.names)} STS/IAM names with "
                      f"{', '.join(zone.ipv4 + zone.ipv6)} on {shown}:{bound} (UDP and TCP); other names: "
                      + (f"forwarded to {upstream}" if upstream_address else "REFUSED"), highlight=False)
        console.print(f"  try: dig @{host} -p {bound} sts.eu-west-1.amazonaws.com", highlight=False)
        await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        err_console.print(f"[red]error:[/red] cannot listen on {listen}: {exc}")
        raise typer.Exit(1) from None


def hosts(
    address: Annotated[str, typer.Option("--address", help="Address the names should resolve to.")] = "127.0.0.1",
    partition: Annotated[Partitions, typer.Option("--partition", help=PARTITION_HELP + " Default: aws.")] = None,
) -> None:
    """Print /etc/hosts lines pointing every STS/IAM host name at --address.

    e.g. `stsd hosts | sudo tee -a /etc/hosts`; remove them again with
    `sudo sed -i '/^# >>> stsd/,/^# <<< stsd/d' /etc/hosts`.
    """
    from stsd.netsetup.hosts import hosts_lines

    names = _names(partition)
    try:
        lines = hosts_lines(address, names)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--address") from None
    typer.echo("\n".join(lines))


def register(app: typer.Typer) -> None:
    """Add ``ca``, ``dns`` and ``hosts`` to the main ``stsd`` app."""
    app.add_typer(ca_app, name="ca")
    app.command("dns")(dns)
    app.command("hosts")(hosts)
