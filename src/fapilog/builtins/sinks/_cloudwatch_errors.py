"""AWS errors of the ``cloudwatch`` sink translated into the core's delivery outcomes.

- ``ThrottlingException``, ``ServiceUnavailableException``, any 5xx, a lost connection or a timeout: retryable
  (the core backs off with jitter and opens the circuit if it lasts);
- ``AccessDeniedException``: permanent, and the message names the IAM action the credentials lack;
- ``InvalidParameterException`` and other 4xx answers: permanent (the records are rejected, not retried);
- no credentials in the standard chain: permanent, with what to do.
"""

from __future__ import annotations

import re
from typing import Any

from fapilog.plugins.outcomes import PermanentSinkError, RetryableSinkError, SinkDeliveryError

__all__ = ["ALREADY_DONE", "classify", "error_code"]

ALREADY_DONE = frozenset({"ResourceAlreadyExistsException", "OperationAbortedException"})
"""Answers to CreateLogGroup/CreateLogStream that mean the resource is there (another writer won the race)."""
_RETRYABLE = {
    "ThrottlingException": "throttled",
    "ServiceUnavailableException": "service_unavailable",
    "RequestLimitExceeded": "throttled",
    "TooManyRequestsException": "throttled",
    "ExpiredTokenException": "expired_token",
    "RequestExpired": "expired_token",
}
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ("" for anything else)."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error")
        if isinstance(error, dict):
            return str(error.get("Code") or "")
    return ""


def _status(exc: BaseException) -> int:
    response: Any = getattr(exc, "response", None)
    meta = response.get("ResponseMetadata") if isinstance(response, dict) else None
    status = meta.get("HTTPStatusCode") if isinstance(meta, dict) else None
    return status if isinstance(status, int) else 0


def _snake(code: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", code.removesuffix("Exception")).lower() or "aws_error"


def classify(exc: BaseException, action: str, where: str, sink: str) -> SinkDeliveryError:
    """The outcome for ``exc`` raised by the API call ``action`` (``PutLogEvents``…) on ``where``."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    prefix = f"cloudwatch sink {sink!r}: {action} on {where}"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return PermanentSinkError(
            f"{prefix}: no AWS credentials found in the standard chain (environment, shared config/credentials "
            "files, container or instance role); give the process a role or set AWS_PROFILE", reason="no_credentials")
    if isinstance(exc, ClientError):
        return _answered(exc, action, prefix)
    if isinstance(exc, BotoCoreError):
        return RetryableSinkError(f"{prefix}: {type(exc).__name__} talking to CloudWatch Logs; retrying",
                                  reason=type(exc).__name__)
    return RetryableSinkError(f"{prefix}: {type(exc).__name__}: {exc}", reason=type(exc).__name__)


def _answered(exc: BaseException, action: str, prefix: str) -> SinkDeliveryError:
    """The outcome for an error answer of AWS (a botocore ``ClientError``)."""
    code, status = error_code(exc), _status(exc)
    if code in _RETRYABLE:
        return RetryableSinkError(f"{prefix}: {code}; retrying with backoff", reason=_RETRYABLE[code])
    if status >= 500:
        return RetryableSinkError(f"{prefix}: {code or 'error'} (HTTP {status}); retrying with backoff",
                                  reason=f"aws_{status}")
    if code in _DENIED:
        return PermanentSinkError(
            f"{prefix}: AccessDeniedException: the credentials lack the IAM permission logs:{action} on this "
            f"log group; grant logs:{action} (see the minimal policy in docs/sinks/cloudwatch.md)",
            reason="access_denied")
    if code == "InvalidParameterException":
        return PermanentSinkError(f"{prefix}: InvalidParameterException: {_message(exc)}",
                                  reason="invalid_parameter")
    return PermanentSinkError(f"{prefix}: {code or 'error'} (HTTP {status}): {_message(exc)}",
                              reason=_snake(code) if code else f"aws_{status}")


def _message(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    text = error.get("Message") if isinstance(error, dict) else None
    return str(text)[:300] if text else "no message"
