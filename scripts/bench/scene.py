"""What a measured run is handed: the staged stack's functions, the upload's event, the month message.

Kept apart from `stage` (which provisions, and so imports the SAM translator and cfn-lint), so that
a measured function's process loads nothing the function itself would not.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from local_stack.runner import LocalContext


@dataclass(frozen=True)
class Function:
    name: str
    handler_path: str
    timeout_seconds: float
    memory_mb: int  # MemorySize, from template.yaml through the stack moto created from it
    environment: dict[str, str]

    def context(self) -> LocalContext:
        return LocalContext(self.name, self.timeout_seconds, memory_limit_in_mb=self.memory_mb)


@dataclass(frozen=True)
class Stage:
    stack_name: str
    bucket: str
    month_queue_url: str
    cloudzero_url: str
    splitter: Function
    pusher: Function
    watchdog: Function  # measured for its cold start only
    cloudzero_api_key: str
    key: str = ""
    splitter_event: dict[str, Any] | None = None  # the S3 event of the upload
    pusher_event: dict[str, Any] | None = None  # the SQS event of its first month, when the splitter ran

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> "Stage":
        data = json.loads(path.read_text())
        for function in ("splitter", "pusher", "watchdog"):
            data[function] = Function(**data[function])
        return cls(**data)
