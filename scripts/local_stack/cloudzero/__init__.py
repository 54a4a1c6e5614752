"""The CloudZero AnyCost Stream API emulator (see emulator.py for what it does and decides)."""

from local_stack.cloudzero.emulator import CloudZeroEmulator
from local_stack.cloudzero.faults import Drift, Fault, FaultPath
from local_stack.cloudzero.rules import DEFAULT_API_KEY, DEFAULT_MAX_BODY_BYTES, ParsedDrop, month_key, validate_drop
from local_stack.cloudzero.state import AcceptedDrop, ConcurrencyViolation, RequestRecord

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_MAX_BODY_BYTES",
    "AcceptedDrop",
    "CloudZeroEmulator",
    "ConcurrencyViolation",
    "Drift",
    "Fault",
    "FaultPath",
    "ParsedDrop",
    "RequestRecord",
    "month_key",
    "validate_drop",
]
