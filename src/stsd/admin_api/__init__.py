"""The admin HTTP API under ``/admin/`` (JSON), for the web console: per-account Region and STS
activation state, simulated Region faults and quota overrides. See :mod:`stsd.admin_api.http`
for the description of the paths, bodies and errors."""
