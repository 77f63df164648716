"""AWS-style API errors: the exception type a real client sees, and the message."""
from __future__ import annotations


class ApiError(Exception):
    """Raised by the service; the endpoint turns it into ``{"__type": code, "message": ...}``."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def field_error(value, field: str, constraint: str, hint: str) -> ApiError:
    """AWS's wording for a bad field, followed by what to change."""
    return validation(f"1 validation error detected: Value '{value}' at '{field}' failed to "
                      f"satisfy constraint: {constraint}. {hint}")


class JobFailed(Exception):
    """Ends a training job as Failed, with this FailureReason."""
