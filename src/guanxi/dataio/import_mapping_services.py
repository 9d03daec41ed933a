"""Writes to saved import mappings (they are created by ``import_configure``'s "save as").

Saved mappings are shared by name within an object type, so removing one affects everybody
who picks it: only its author, or holders of ``dataio.delete_importmapping``, may.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import PermissionDenied
from guanxi.core.permissions import require_perm
from guanxi.dataio.importers import get_importer, object_types
from guanxi.dataio.models import ImportMapping

MSG_NOT_AUTHOR = _("只能删除自己保存的映射模板")
DELETE_PERM = "dataio.delete_importmapping"


@audited_refusals("import.mapping_delete", target="mapping")
def import_mapping_delete(
    *, actor: Any, mapping: ImportMapping, meta: RequestMeta | None = None
) -> None:
    """Delete a saved mapping (batches that used it keep their own copy of the mapping)."""
    if mapping.object_type in object_types():
        require_perm(actor, get_importer(mapping.object_type).permission)
    if mapping.created_by_id != actor.pk and not actor.has_perm(DELETE_PERM):
        raise PermissionDenied(MSG_NOT_AUTHOR)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="import.mapping_delete",
            obj=mapping,
            object_type="import_mapping",
            params={"object_type": mapping.object_type, "name": mapping.name},
            changes={"before": {"name": mapping.name, "mapping": mapping.mapping}},
            meta=meta,
        )
        mapping.delete()
