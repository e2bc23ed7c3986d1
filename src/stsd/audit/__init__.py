"""The audit trail: a CloudTrail record for every Query-API call, delivered per Region to the
store and to S3-layout files in the background, plus the queries on top (events, who still
calls the global endpoint and how to move them off it).

Hot path: :meth:`stsd.audit.writer.AuditTrail.submit` reduces the finished pipeline
``Outcome`` to primitives (:mod:`stsd.audit.wire`) and appends them to a bounded queue; a
timer sends the queue to the worker's audit writer *process* (:mod:`stsd.audit.worker`), which
builds the records and delivers them every flush interval. (Nothing is imported here, so
``stsd audit`` starts without the server's modules.)
"""
