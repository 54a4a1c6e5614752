"""Text from outside (CloudZero's answers, file content) made safe to put in a log line, report or alert."""

import re

MAX_TEXT_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def safe_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Control characters (newlines, escapes, NULs) become one space; at most `limit` characters."""
    cleaned = _CONTROL.sub(" ", text).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
