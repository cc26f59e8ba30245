"""Answers encoded straight from the services' dataclasses.

For a returned object FastAPI validates it against the response model (in a worker thread
for a plain ``def`` endpoint) and only then serialises it: a second thread hop and a copy
of every field on each request. The services' results are already of the declared type,
so the busiest reads encode them once, with pydantic's serializer for that type, and
declare the model on the route (``response_model=``) for the OpenAPI document.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import Response
from pydantic import TypeAdapter

__all__ = ["json_response"]

_adapters: dict[type, TypeAdapter[Any]] = {}
_lock = threading.Lock()


def _adapter(kind: type) -> TypeAdapter[Any]:
    adapter = _adapters.get(kind)
    if adapter is None:
        with _lock:
            adapter = _adapters.setdefault(kind, TypeAdapter(kind))
    return adapter


def json_response(value: Any) -> Response:
    """``value`` (a dataclass) as a JSON answer, encoded as its own class."""
    return Response(_adapter(type(value)).dump_json(value), media_type="application/json")
