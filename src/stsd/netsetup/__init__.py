"""Reach stsd by real AWS host names: a local CA (``ca``), a DNS responder (``dns``) and
``/etc/hosts`` lines (``hosts``), all fed by one list of names (``hostnames``).

The typer wiring lives in :mod:`stsd.cli_net`; everything here is importable without it.
"""
