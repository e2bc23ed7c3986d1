"""Region management: the AWS Account API's Region operations and the rules they share.

- :mod:`stsd.account_api.rules` — the one place that decides what may change when: opt-in
  Region enable/disable (ENABLING → ENABLED, DISABLING → DISABLED), STS activation per
  account and Region, simulated Region faults and quota overrides. The CLI
  (``stsd regions``/``stsd quotas``), the Account API and the admin API all call it.
- :mod:`stsd.account_api.http` — ``POST /enableRegion``, ``/disableRegion``,
  ``/getRegionOptStatus``, ``/listRegions`` as AWS serves them (REST-JSON, SigV4 service
  ``account``), so boto3's ``account`` client works against stsd.
- :mod:`stsd.account_api.signed` — SigV4 authentication and policy authorisation for
  JSON APIs outside the Query pipeline (also used by :mod:`stsd.admin_api`).
"""
