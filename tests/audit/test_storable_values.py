"""Whatever a refused request carried, its audit entry is written: PostgreSQL's jsonb
refuses NUL characters and UTF-8 refuses lone surrogates, so the log stores a stand-in
for those characters and keeps everything else as sent (the chain still verifies)."""

from __future__ import annotations

import pytest

from guanxi.audit.models import AuditEntry, AuditResult
from guanxi.audit.services import audit_record
from guanxi.audit.verify import verify_chain

pytestmark = pytest.mark.django_db


def test_nul_and_lone_surrogates_are_stored_as_stand_ins(org):
    entry = audit_record(
        actor=org["admin"],
        action="segment.create",
        result=AuditResult.FAILED,
        object_type="segment",
        params={"reason": {"params.a\x00b": ["x\ud800y", "字面 \\u0000 保留", "中文"]}},
    )
    stored = AuditEntry.objects.get(pk=entry.pk).params["reason"]
    assert stored == {"params.a\ufffdb": ["x?y", "字面 \\u0000 保留", "中文"]}
    assert verify_chain().ok
