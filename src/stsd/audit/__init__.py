"""The audit trail: a CloudTrail record for every Query-API call, delivered per Region to the
store and to S3-layout files in the background, plus the queries on top (events, who still
calls the global endpoint and how to move them off it).

Hot path: :meth:`stsd.audit.writer.AuditTrail.submit` only appends the finished pipeline
``Outcome`` to a bounded queue; records are built and written by a writer thread every flush
interval. (Nothing is imported here, so ``stsd audit`` starts without the server's modules.)
"""
