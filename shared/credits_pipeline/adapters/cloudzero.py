"""CloudZero AnyCost Stream over HTTP: billing drops with idempotency keys, retries and a deadline.

Retry rules (see the API reference): 429 answers, and 5xx answers to what writes nothing (reads, the dry
run), are retried with exponential backoff and jitter, honouring Retry-After; 400/403/404/413 are final.
CloudZero caches every answer under an idempotency key, errors included, so a retry after an error ANSWER
takes a fresh key. A request that never connected is retried under the same key (CloudZero never saw
it); reads (GETs) are retried after timeouts too.

A drop sent that gets no answer (a timeout, a broken connection) or a 5xx answer, a month's only chunk
included, may have been applied, or still be in CloudZero's hands (a gateway gives up on a slow backend)
and land after anything sent next: a `sum` sent again would add its credits twice, and a `replace_drop`
landing late would wipe the chunks sent after it. The API allows no second request in flight either:
`OutcomeUnknown` ends the delivery, so nothing else goes to the connection until the queue delivers the
month again, from its `replace_drop`. A 429 is retried: CloudZero applied nothing.
"""

import re
from collections.abc import Callable, Iterator
from typing import Any

import requests
import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_random_exponential
from urllib3.exceptions import NewConnectionError

from credits_pipeline.domain.cbf import DropBody
from credits_pipeline.domain.identity import drop_request_key
from credits_pipeline.domain.text import safe_text
from credits_pipeline.services.ports import (
    CloudZeroRejected,
    CloudZeroUnavailable,
    DropReceipt,
    OutcomeUnknown,
    Remaining,
    Validation,
)

FINAL_STATUSES = frozenset({400, 403, 404, 413})
_UNKNOWN = ", so nothing more is sent now; the month starts over from its replace_drop at its next delivery"
# No attempt starts unless this much time is left for it after its wait.
MIN_ATTEMPT_SECONDS = 2.0


class _RetryableAnswer(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None) -> None:
        super().__init__(f"CloudZero answered {status}: {message}")
        self.status = status
        self.retry_after = retry_after


class UnusableApiKey(CloudZeroRejected):
    """The stored key cannot go in a request header (CloudZero was not asked): final, as CloudZero's own 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(403, reason)

    def __str__(self) -> str:
        return self.message


# What a header value may hold: visible ASCII, no space (CloudZero's keys are letters and digits).
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
_KEY_UNUSABLE = (
    "the API key read from its secret cannot be sent: it is empty, or holds a space, a line break or another "
    "control character inside it; store the key alone in the secret again"
)


class AnyCostClient:
    def __init__(
        self,
        base_url: str,
        connection_id: str,
        api_key: str,
        *,
        test_key: str = "",
        request_timeout: float = 30.0,
        deadline_margin: float = 5.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        refresh_api_key: Callable[[], str] | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self.connection_id = connection_id
        self._session = session or requests.Session()
        self._session.headers["Content-Type"] = "application/json"
        self._key_usable = False
        self._use_key(api_key)
        if test_key:
            self._session.headers["cloudzero-test-key"] = test_key
        self._refresh_api_key = refresh_api_key
        self._timeout = request_timeout
        self._margin = deadline_margin
        self._sleep = sleep

    @property
    def _drops_url(self) -> str:
        return f"{self._base}/v2/connections/billing/anycost/{self.connection_id}/billing_drops"

    def post_drop(self, body: DropBody, delivery_id: str, remaining: Remaining) -> DropReceipt:
        """Send one body; retry what is retryable until `remaining()` seconds run short.

        A request sent that gets no answer (a timeout, a connection lost) or a 5xx answer raises OutcomeUnknown:
        CloudZero may still be applying it, and the API allows no second request in flight. One that never
        reached CloudZero (no connection was made) is tried again, and a 429 after its wait.
        """
        generation = 0
        key_refreshed = False

        def attempt() -> DropReceipt:
            nonlocal generation, key_refreshed
            key = self.idempotency_key(body, delivery_id, generation)
            try:
                response = self._session.post(
                    self._drops_url,
                    data=body.body,
                    headers={"cloudzero-idempotency-key": key},
                    timeout=self._attempt_timeout(remaining),
                )
            except (requests.Timeout, requests.ConnectionError) as error:
                if _never_sent(error):
                    raise  # retried: CloudZero never saw it
                raise OutcomeUnknown(
                    f"chunk {body.chunk} of {body.month} got no answer ({_short(error)}): CloudZero may still "
                    f"be applying it{_UNKNOWN}"
                ) from error
            if response.status_code == 200:
                drop = response.json()["connection"]
                return DropReceipt(str(drop["drop_id"]), str(drop["month"]), int(drop["row_count"]))
            if response.status_code >= 500:
                raise OutcomeUnknown(
                    f"chunk {body.chunk} of {body.month}: CloudZero answered {response.status_code} "
                    f"({_message(response)}), which may have applied it{_UNKNOWN}"
                )
            generation += 1  # the answer is cached under the key: the next try needs a fresh one
            if response.status_code == 403 and not key_refreshed and self._reload_api_key():
                key_refreshed = True  # the operator may have stored a new key since this container read it
                raise _RetryableAnswer(403, _message(response), retry_after=0)
            raise self._error(response)

        return self._retrying(remaining)(attempt)

    def validate_drop(self, body: DropBody, remaining: Remaining) -> Validation:
        """The dry run: CloudZero checks the body and writes nothing."""

        def attempt() -> Validation:
            response = self._session.post(
                f"{self._base}/v2/connections/billing/anycost/validate_billing_drop",
                data=body.body,
                timeout=self._attempt_timeout(remaining),
            )
            if response.status_code != 200:
                raise self._error(response)
            result = response.json()["connection"]
            return Validation(bool(result["is_valid"]), [str(error) for error in result.get("errors", [])])

        return self._retrying(remaining)(attempt)

    def month_rows(self, month: str, remaining: Remaining) -> Iterator[dict[str, Any]]:
        """What CloudZero holds for a month (nothing when it has no drop), row by row as the answer arrives.

        The request is made (and retried) here; the rows are parsed as they are iterated, one held at a
        time, whatever the month's size. An answer that breaks off midway raises CloudZeroUnavailable.
        """

        def attempt() -> requests.Response | None:
            response = self._session.get(
                f"{self._drops_url}/{month}", timeout=self._attempt_timeout(remaining), stream=True
            )
            if response.status_code == 404:
                response.close()
                return None
            if response.status_code != 200:
                raise self._error(response)  # reads the (small) error body, which frees the connection
            return response

        response = self._retrying(remaining)(attempt)
        return iter(()) if response is None else _streamed_rows(response, month)

    def connection_health(self, remaining: Remaining) -> dict[str, Any]:
        """The connection's record (`GET /v2/connections/billing/{id}`): a cheap check of id and key.
        Writes nothing; 403 and 404 raise CloudZeroRejected."""

        def attempt() -> dict[str, Any]:
            response = self._session.get(
                f"{self._base}/v2/connections/billing/{self.connection_id}", timeout=self._attempt_timeout(remaining)
            )
            if response.status_code != 200:
                raise self._error(response)
            payload: dict[str, Any] = response.json()
            return payload

        return self._retrying(remaining)(attempt)

    def drops(self, remaining: Remaining) -> list[dict[str, Any]]:
        """The connection's billing drops (`GET .../billing_drops`): drop id, month and row count each."""

        def attempt() -> list[dict[str, Any]]:
            response = self._session.get(self._drops_url, timeout=self._attempt_timeout(remaining))
            if response.status_code != 200:
                raise self._error(response)
            listed: list[dict[str, Any]] = response.json()["billing_drops"]
            return listed

        return self._retrying(remaining)(attempt)

    def _reload_api_key(self) -> bool:
        """Read the key again; True when it changed."""
        if self._refresh_api_key is None:
            return False
        before = self._session.headers.get("Authorization")
        self._use_key(self._refresh_api_key())
        return self._key_usable and self._session.headers.get("Authorization") != before

    def _use_key(self, api_key: str) -> None:
        """The key goes in the Authorization header, bare (not a bearer token). Spaces or a line break around it
        (a secret stored from a file) are not part of it. A key that still cannot go in a header is not sent:
        every call is refused before any request, with a reason that never repeats the key."""
        key = api_key.strip()
        self._key_usable = bool(_HEADER_SAFE.fullmatch(key))
        if self._key_usable:
            self._session.headers["Authorization"] = key

    def idempotency_key(self, body: DropBody, delivery_id: str, generation: int) -> str:
        """Unique to connection, month, chunk, body bytes, delivery and error-answer count."""
        return drop_request_key(
            self.connection_id, body.month, body.chunk, body.sha256, delivery=delivery_id, generation=generation
        )

    def _attempt_timeout(self, remaining: Remaining) -> float:
        return max(1.0, min(self._timeout, remaining() - self._margin))

    def _retrying(self, remaining: Remaining) -> Retrying:
        if not self._key_usable:
            self._reload_api_key()  # the operator may have stored it again since
        if not self._key_usable:
            raise UnusableApiKey(_KEY_UNUSABLE)

        def out_of_time(state: RetryCallState) -> bool:
            return remaining() - self._margin < state.upcoming_sleep + MIN_ATTEMPT_SECONDS

        def give_up(state: RetryCallState) -> Any:
            error = state.outcome.exception() if state.outcome else None
            raise CloudZeroUnavailable(
                f"gave up after {state.attempt_number} attempts, the time left ran short: {error}"
            ) from error

        options: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
        return Retrying(
            retry=retry_if_exception_type((_RetryableAnswer, requests.Timeout, requests.ConnectionError)),
            wait=_wait_retry_after_or_backoff,
            stop=out_of_time,
            retry_error_callback=give_up,
            reraise=True,
            **options,
        )

    @staticmethod
    def _error(response: requests.Response) -> Exception:
        message = _message(response)
        if response.status_code in FINAL_STATUSES:
            return CloudZeroRejected(response.status_code, message)
        return _RetryableAnswer(response.status_code, message, _retry_after(response))


_backoff = wait_random_exponential(multiplier=0.5, max=30)


def _wait_retry_after_or_backoff(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, _RetryableAnswer) and error.retry_after is not None:
        return error.retry_after
    return float(_backoff(state))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _message(response: requests.Response) -> str:
    """CloudZero's error message, safe for a log line, a report or an alert."""
    try:
        payload = response.json()
    except ValueError:
        return safe_text(response.text or response.reason or "")
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and "message" in error:
            return safe_text(str(error["message"]))
        if "message" in payload:
            return safe_text(str(payload["message"]))
    return safe_text(str(payload))


def _streamed_rows(response: requests.Response, month: str) -> Iterator[dict[str, Any]]:
    """The month's `billing_drop` rows, parsed from the socket as they come (ijson's C parser)."""
    import ijson  # type: ignore[import-untyped]  # noqa: PLC0415 - only a read-back needs it: not at cold start

    with response:
        response.raw.decode_content = True  # a gzip answer is read unzipped
        try:
            yield from ijson.items(response.raw, "billing_drop.item")
        except (ijson.JSONError, urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
            raise CloudZeroUnavailable(f"reading {month} back from CloudZero broke off: {_short(error)}") from error


def _never_sent(error: requests.RequestException) -> bool:
    """Whether the request failed before any connection was made (so CloudZero never received it)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)  # refused, or no route: nothing was sent


def _short(error: BaseException) -> str:
    return safe_text(f"{type(error).__name__}: {error}")
