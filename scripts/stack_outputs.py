"""Kept for `local_stack` and older imports: the stack lookup lives in `operator_commands.stack`."""

from operator_commands.stack import Stack, describe_stack

__all__ = ["Stack", "describe_stack"]
