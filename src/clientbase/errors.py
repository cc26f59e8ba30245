"""One exception tree for the whole of clientbase.

Every error that clientbase raises on purpose is a :class:`ClientbaseError`. Each class knows
the process exit code the CLI uses for it (``sysexits.h`` numbers) and the HTTP status the
API answers with, so no caller has to map errors by hand. Where a builtin fits, the class
also subclasses it, so ``except ValueError`` keeps working for library users::

    ClientbaseError
    ├── ConfigurationError                   exit 78  http 500  bad settings or policy file
    ├── InvalidInput (ValueError)            exit 65  http 422  a value the user gave is wrong
    │   ├── MappingError                                        a column-mapping file is wrong
    │   └── ImportRejected                                      an import had rejected rows
    ├── NotFound (LookupError)               exit 66  http 404  no such customer, file, run …
    ├── Conflict                             exit 75  http 409  state forbids the change
    ├── AuthenticationFailed                 exit 77  http 401  who is asking is unknown
    ├── PermissionDenied (PermissionError)   exit 77  http 403  they may not do this
    ├── StorageError                         exit 74  http 503  the database failed us
    │   └── SchemaOutOfDate                  exit 78            run ``clientbase db upgrade``
    └── ModelError                           exit 70  http 422  a statistical model failed
        ├── NotFittedError (AttributeError)                     predict before fit
        └── ConvergenceError (ArithmeticError)                  the optimiser did not converge

Messages are one readable sentence that says what and where; they never contain personal
data (names, e-mails, phone numbers, addresses), because they end up in logs.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "ClientbaseError",
    "ConfigurationError",
    "Conflict",
    "ConvergenceError",
    "ImportRejected",
    "InvalidInput",
    "MappingError",
    "ModelError",
    "NotFittedError",
    "NotFound",
    "PermissionDenied",
    "SchemaOutOfDate",
    "StorageError",
]


class ClientbaseError(Exception):
    """Base of every error clientbase raises on purpose."""

    exit_code: int = 1
    http_status: int = 500
    code: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigurationError(ClientbaseError):
    """A setting, a policy file or the environment is wrong."""

    exit_code = 78
    code = "configuration"


class InvalidInput(ClientbaseError, ValueError):
    """A value given by the user (argument, file content, request body) is wrong."""

    exit_code = 65
    http_status = 422
    code = "invalid_input"


class MappingError(InvalidInput):
    """A column-mapping file cannot be used with the file it is applied to."""

    code = "mapping"


class ImportRejected(InvalidInput):
    """An import found rejected rows and, being all-or-nothing, wrote nothing.

    ``report`` is the :class:`clientbase.ingest.report.ImportReport` with every rejection.
    """

    code = "import_rejected"

    def __init__(self, message: str, *, report: object, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


class NotFound(ClientbaseError, LookupError):
    """The thing asked for does not exist (or is not visible to the one asking)."""

    exit_code = 66
    http_status = 404
    code = "not_found"


class Conflict(ClientbaseError):
    """The current state forbids the change (a duplicate, a stale version, a lock)."""

    exit_code = 75
    http_status = 409
    code = "conflict"


class AuthenticationFailed(ClientbaseError):
    """Who is asking could not be established."""

    exit_code = 77
    http_status = 401
    code = "authentication"


class PermissionDenied(ClientbaseError, PermissionError):
    """The one asking may not do this; nothing was changed."""

    exit_code = 77
    http_status = 403
    code = "permission_denied"


class StorageError(ClientbaseError):
    """The database could not be reached or failed while working."""

    exit_code = 74
    http_status = 503
    code = "storage"


class SchemaOutOfDate(StorageError):
    """The database schema is older (or newer) than this version of clientbase expects."""

    exit_code = 78
    code = "schema_out_of_date"


class ModelError(ClientbaseError):
    """A statistical model could not be fitted or used."""

    exit_code = 70
    http_status = 422
    code = "model"


class NotFittedError(ModelError, AttributeError):
    """A prediction was asked of a model that has not been fitted."""

    code = "not_fitted"


class ConvergenceError(ModelError, ArithmeticError):
    """The optimiser did not reach a maximum of the likelihood."""

    code = "convergence"
