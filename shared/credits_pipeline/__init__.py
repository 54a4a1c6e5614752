"""Monthly AWS credit files from S3 into CloudZero AnyCost Stream, exactly once.

Pure domain modules (no boto3): money, accounts, months, credit_line, formats, normalise,
month_batch, cbf, report. Adapters, one per outside system: object_store (S3), month_queue (SQS),
file_records (DynamoDB), cloudzero (AnyCost API). Services: splitter, pusher.
"""
