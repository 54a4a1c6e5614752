"""DynamoDB: each file's state (its run report, versioned) and each month's latest accepted file.

Shares the idempotency table with Powertools' records: ids never collide (`file#`, `month#` prefixes).
"""

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from credits_pipeline.adapters.aws_clients import aws_client
from credits_pipeline.domain.report import RunReport, utc_now
from credits_pipeline.services.ports import MonthPointer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_CONFLICTS = 20


class RecordConflict(RuntimeError):
    """Too many concurrent writers on one file's record."""


class FileRecords:
    def __init__(self, table_name: str, expiry_days: int, client: "DynamoDBClient | None" = None) -> None:
        self._ddb = client or aws_client("dynamodb")
        self._table = table_name
        self._expiry_seconds = expiry_days * 86400

    def load(self, sha256: str) -> RunReport | None:
        item = self._ddb.get_item(TableName=self._table, Key={"id": {"S": f"file#{sha256}"}}, ConsistentRead=True)
        if "Item" not in item:
            return None
        return RunReport.model_validate_json(item["Item"]["report"]["S"])

    def update(
        self, sha256: str, change: Callable[[RunReport], object], new: Callable[[], RunReport] | None = None
    ) -> RunReport:
        """Read, change and write the file's report under optimistic locking on its version."""
        for _ in range(MAX_CONFLICTS):
            report = self.load(sha256)
            if report is None:
                if new is None:
                    raise KeyError(f"no record of file {sha256}")
                report = new()
            previous = report.version
            change(report)
            report.version = previous + 1
            report.updated_at = utc_now()
            item: dict[str, Any] = {
                "id": {"S": f"file#{sha256}"},
                "report": {"S": report.model_dump_json()},
                "version": {"N": str(report.version)},
                "expiration": {"N": str(int(time.time()) + self._expiry_seconds)},
            }
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(id)"}
                if previous == 0
                else {
                    "ConditionExpression": "version = :previous",
                    "ExpressionAttributeValues": {":previous": {"N": str(previous)}},
                }
            )
            try:
                self._ddb.put_item(TableName=self._table, Item=item, **condition)
                return report
            except self._ddb.exceptions.ConditionalCheckFailedException:
                continue
        raise RecordConflict(f"file {sha256}: {MAX_CONFLICTS} concurrent updates in a row")

    def recent(self, limit: int) -> list[RunReport]:
        """The files most recently changed, newest first (for an operator's status command)."""
        return sorted(self.every_report(), key=lambda report: report.updated_at, reverse=True)[:limit]

    def every_report(self) -> Iterator[RunReport]:
        """Every file's report. A Scan with a filter reads the whole table: fine at this scale (a few files a
        month, records expire after IDEMPOTENCY_DAYS). A busier table would want a GSI on the update time."""
        for page in self._ddb.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(id, :file)",
            ExpressionAttributeValues={":file": {"S": "file#"}},
            ProjectionExpression="report",
            ConsistentRead=True,
        ):
            yield from (RunReport.model_validate_json(item["report"]["S"]) for item in page.get("Items", []))

    def version(self, sha256: str) -> int:
        item = self._ddb.get_item(
            TableName=self._table,
            Key={"id": {"S": f"file#{sha256}"}},
            ProjectionExpression="version",
            ConsistentRead=True,
        )
        return int(item.get("Item", {}).get("version", {}).get("N", "0"))

    def accept_month(
        self, month: str, sha256: str, bucket: str, key: str, accepted_at: str, *, force: bool = False
    ) -> bool:
        """Make this file the month's truth unless a later upload already is; True when it now is.

        `force` is an operator's replay of a named file: it becomes the truth whatever its age.
        """
        condition: dict[str, Any] = (
            {} if force else {"ConditionExpression": "attribute_not_exists(id) OR accepted_at <= :at"}
        )
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"id": {"S": f"month#{month}"}},
                UpdateExpression="SET sha256 = :sha, #bucket = :bucket, #key = :key, accepted_at = :at",
                ExpressionAttributeNames={"#bucket": "bucket", "#key": "key"},
                ExpressionAttributeValues={
                    ":sha": {"S": sha256},
                    ":bucket": {"S": bucket},
                    ":key": {"S": key},
                    ":at": {"S": accepted_at},
                },
                **condition,
            )
            return True
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False

    def aws_time(self, month: str) -> datetime:
        """AWS's clock, to the second (the Date of DynamoDB's answer to a read of the month's pointer).

        Uploads are ordered by S3's clock, so a moment an operator's command stamps (a replay making its
        file the truth) is taken from AWS, not from the operator's machine, which may run fast or slow.
        Floored to the second: an upload in the replay's own second counts as after it.
        """
        answer = self._ddb.get_item(
            TableName=self._table, Key={"id": {"S": f"month#{month}"}}, ProjectionExpression="id"
        )
        return parsedate_to_datetime(answer["ResponseMetadata"]["HTTPHeaders"]["date"])

    def month_pointer(self, month: str) -> MonthPointer | None:
        item = self._ddb.get_item(TableName=self._table, Key={"id": {"S": f"month#{month}"}}, ConsistentRead=True)
        if "Item" not in item:
            return None
        values = {name: value.get("S") for name, value in item["Item"].items()}
        return MonthPointer(
            month=month,
            sha256=values["sha256"] or "",
            bucket=values["bucket"] or "",
            key=values["key"] or "",
            accepted_at=values["accepted_at"] or "",
            pushed_sha256=values.get("pushed_sha256"),
            drop_id=values.get("drop_id"),
        )

    def export_accepted(self, manifest: str) -> tuple[str, str] | None:
        item = self._ddb.get_item(TableName=self._table, Key={"id": {"S": f"export#{manifest}"}}, ConsistentRead=True)
        values = {name: value.get("S") or "" for name, value in item.get("Item", {}).items()}
        return (values["manifest_sha256"], values["identity"]) if values else None

    def record_export(self, manifest: str, manifest_sha256: str, identity: str) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={
                "id": {"S": f"export#{manifest}"},
                "manifest_sha256": {"S": manifest_sha256},
                "identity": {"S": identity},
                "accepted_at": {"S": utc_now()},
            },
        )

    def record_push(self, month: str, sha256: str, drop_id: str) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key={"id": {"S": f"month#{month}"}},
            UpdateExpression="SET pushed_sha256 = :sha, drop_id = :drop, pushed_at = :at",
            ExpressionAttributeValues={
                ":sha": {"S": sha256},
                ":drop": {"S": drop_id},
                ":at": {"S": utc_now()},
            },
        )
