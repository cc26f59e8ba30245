from __future__ import annotations

import pytest

from clientbase import errors


@pytest.mark.parametrize(
    ("cls", "builtin", "exit_code", "status"),
    [
        (errors.InvalidInput, ValueError, 65, 422),
        (errors.MappingError, ValueError, 65, 422),
        (errors.NotFound, LookupError, 66, 404),
        (errors.PermissionDenied, PermissionError, 77, 403),
        (errors.NotFittedError, AttributeError, 70, 422),
        (errors.ConvergenceError, ArithmeticError, 70, 422),
        (errors.SchemaOutOfDate, errors.StorageError, 78, 503),
        (errors.Conflict, errors.ClientbaseError, 75, 409),
        (errors.AuthenticationFailed, errors.ClientbaseError, 77, 401),
    ],
)
def test_error_classes_map_to_exit_codes_statuses_and_builtins(
    cls: type[errors.ClientbaseError], builtin: type[Exception], exit_code: int, status: int
) -> None:
    exc = cls("something is wrong", hint="do this")
    assert isinstance(exc, builtin)
    assert exc.exit_code == exit_code
    assert exc.http_status == status
    assert str(exc) == "something is wrong (do this)"


def test_import_rejected_carries_its_report() -> None:
    report = object()
    exc = errors.ImportRejected("3 rows rejected", report=report)
    assert exc.report is report
    assert str(exc) == "3 rows rejected"
