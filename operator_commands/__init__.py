"""The operator commands (`credits-status`, `credits-verify`, ...): a person's way into a deployed stack.

Not part of the Lambda layer: they run on an operator's machine with the operator's AWS credentials.
`scripts/<name>.py` are thin entry points for the same commands, for `python scripts/<name>.py`.
"""
