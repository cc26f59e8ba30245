"""The public surface is curated: everything exported is listed, and nothing else leaks."""

from __future__ import annotations

import clientbase
from clientbase import errors


def test_top_level_all_is_exactly_the_public_names() -> None:
    public = {name for name in vars(clientbase) if not name.startswith("_")}
    submodules = {"config", "errors", "domain", "storage", "security", "services", "cli"}
    submodules |= {"models", "analytics", "ingest", "demo", "web", "api"}
    assert set(clientbase.__all__) - {"__version__"} == public - submodules


def test_every_error_is_exported_and_subclasses_the_base() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.ClientbaseError)
        assert name in clientbase.__all__
