"""Domain errors every app raises; the API turns them into {"error": {code, message, field}}."""


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.field = field
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unprocessable(DomainError):
    """Well-formed input the protocol refuses (HF, caps, paused...)."""

    status = 422
    code = "rejected"


class ValidationFailed(DomainError):
    """A change a risk admin asked for would leave an invalid configuration: every field's reason is kept."""

    code = "invalid_parameters"

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)


class BrokerUnavailable(DomainError):
    """The task broker refused a message: the work was not queued (a 503 the client may retry)."""

    status = 503
    code = "broker_unavailable"
