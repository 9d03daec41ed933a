"""The importers by object type. Orders, leads and users join here as they arrive."""

from __future__ import annotations

from collections.abc import Callable

from guanxi.dataio.importers.base import Importer

_REGISTRY: dict[str, Callable[[], Importer]] = {}


def register(object_type: str, factory: Callable[[], Importer]) -> None:
    _REGISTRY[object_type] = factory


def get_importer(object_type: str) -> Importer:
    """A fresh importer for ``object_type`` (KeyError for an unknown one)."""
    _load()
    return _REGISTRY[object_type]()


def object_types() -> list[str]:
    _load()
    return list(_REGISTRY)


def _load() -> None:
    if _REGISTRY:
        return
    from guanxi.dataio.importers.contacts import ContactImporter
    from guanxi.dataio.importers.customers import CustomerImporter
    from guanxi.dataio.importers.follow_ups import FollowUpImporter

    register("customer", CustomerImporter)
    register("contact", ContactImporter)
    register("follow_up", FollowUpImporter)
