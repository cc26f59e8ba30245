"""clientbase: customer-base intelligence with a lightweight CRM at its core.

The Python API is organised by layer: :mod:`clientbase.analytics` (features, ladder, categories
for frames and Ibis tables), :mod:`clientbase.models` (lifetime-value models), and
:mod:`clientbase.services` (use cases on a store). This top level exports the settings and
the exception tree.
"""

from importlib import metadata as _metadata

from clientbase.config import Settings, get_settings
from clientbase.errors import (
    AuthenticationFailed,
    ClientbaseError,
    ConfigurationError,
    Conflict,
    ConvergenceError,
    ImportRejected,
    InvalidInput,
    MappingError,
    ModelError,
    NotFittedError,
    NotFound,
    PermissionDenied,
    SchemaOutOfDate,
    StorageError,
)

try:
    __version__ = _metadata.version("clientbase")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

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
    "Settings",
    "StorageError",
    "__version__",
    "get_settings",
]
