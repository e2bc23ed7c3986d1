"""stsd vs moto_server benchmark (``make bench`` → ``bench/run.py``).

Modules: ``servers`` (start/stop/pin/measure both servers), ``signing`` (pre-signed SigV4
request pools), ``loadgen`` (the load generator, run as a separate pinned process),
``stats`` (percentiles), ``scenarios`` (the runs), ``report`` (table and JSON).
"""
