"""Segments (客户分群): personal vs shared visibility, counts equal the customer list's for
users with different scopes, invalid parameters 422, pages, API, export with segment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers import selectors
from guanxi.customers.models import Segment
from guanxi.customers.segments import (
    expand_params,
    segment_count,
    segment_create,
    segment_delete,
    segment_get,
    segment_list,
    segment_update,
)
from tests.customers.test_api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org: dict[str, Any], make_customer: Any) -> dict[str, Any]:
    """Cooperating customers in both teams plus a manager's, and one potential customer."""
    for owner in ("rep_a", "rep_a", "rep_b", "manager"):
        make_customer(org[owner], status="cooperating")
    make_customer(org["rep_a"])
    return org


def test_personal_and_shared_visibility(world: dict[str, Any]) -> None:
    rep_a, rep_b, manager = world["rep_a"], world["rep_b"], world["manager"]
    mine = segment_create(
        actor=rep_a, data={"name": "我的合作客户", "params": {"status": "cooperating"}}
    )
    with pytest.raises(PermissionDenied):  # sharing needs change_segment
        segment_create(actor=rep_a, data={"name": "共享", "params": {}, "shared": True})
    shared = segment_create(
        actor=manager,
        data={"name": "合作客户", "params": {"status": "cooperating"}, "shared": True},
    )
    assert {s.pk for s in segment_list(user=rep_a)} == {mine.pk, shared.pk}
    assert {s.pk for s in segment_list(user=rep_b)} == {shared.pk}
    with pytest.raises(NotFound):
        segment_get(user=rep_b, pk=mine.pk)
    with pytest.raises(PermissionDenied):  # visible, not theirs
        segment_update(actor=rep_b, segment=shared, data={"name": "改名"})
    with pytest.raises(NotFound):
        segment_delete(actor=rep_b, segment=mine)
    assert Segment.objects.filter(pk=mine.pk).exists()
    # Same name for another owner is fine; twice for one owner is not.
    segment_create(actor=rep_b, data={"name": "我的合作客户", "params": {}})
    with pytest.raises(ValidationError) as exc:
        segment_create(actor=rep_a, data={"name": "我的合作客户", "params": {}})
    assert "name" in exc.value.message_dict
    segment_update(actor=rep_a, segment=mine, data={"description": "本组"})
    segment_delete(actor=rep_a, segment=mine)
    assert AuditEntry.objects.filter(action="segment.delete", result="success").count() == 1


def test_counts_follow_each_viewers_scope(world: dict[str, Any]) -> None:
    segment = segment_create(
        actor=world["manager"],
        data={"name": "合作", "params": {"status": "cooperating"}, "shared": True},
    )
    expected = {"rep_a": 2, "rep_b": 1, "manager": 4, "admin": 4}
    for who, n in expected.items():
        user = world[who]
        count = segment_count(user=user, segment=segment)
        assert count == n
        assert count == selectors.customer_count(user=user, params={"status": "cooperating"})


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"status": "bogus"}, "params.status"),
        ({"created_from": "2026-13-45"}, "params.created_from"),
        ({"owner_id": "abc"}, "params.owner_id"),
        ({"nope": "1"}, "params.nope"),
        ({"status": ["cooperating"]}, "params.status"),
        ("status=cooperating", "params"),
    ],
)
def test_invalid_params_are_field_errors(world: dict[str, Any], params: Any, key: str) -> None:
    with pytest.raises(ValidationError) as exc:
        segment_create(actor=world["rep_a"], data={"name": "x", "params": params})
    assert key in exc.value.message_dict


def test_list_only_parameters_are_dropped(world: dict[str, Any]) -> None:
    segment = segment_create(
        actor=world["rep_a"],
        data={
            "name": "x",
            "params": {"status": "lost", "ordering": "-name", "q": "", "cursor": "x"},
        },
    )
    assert segment.params == {"status": "lost"}


def test_api_segments(world: dict[str, Any]) -> None:
    rep = Api(world["rep_a"])
    bad = rep.post("/api/v1/segments", {"name": "", "params": {"status": "nope"}})
    assert bad.status_code == 422
    assert {"name", "params.status"} <= set(bad.json()["errors"])
    made = rep.post("/api/v1/segments", {"name": "合作", "params": {"status": "cooperating"}})
    assert made.status_code == 201
    body = made.json()
    assert body["params"] == {"status": "cooperating"} and body["editable"] is True
    sid = body["id"]
    assert rep.get(f"/api/v1/segments/{sid}/count").json() == {"count": 2, "capped": False}
    assert Api(world["admin"]).get(f"/api/v1/segments/{sid}").status_code == 404  # personal
    patched = rep.patch(f"/api/v1/segments/{sid}", {"params": {"status": "potential"}})
    assert patched.status_code == 200 and patched.json()["params"] == {"status": "potential"}
    assert rep.patch(f"/api/v1/segments/{sid}", {"shared": True}).status_code == 403
    manager = Api(world["manager"])
    shared = manager.post(
        "/api/v1/segments",
        {"name": "全部合作", "params": {"status": "cooperating"}, "shared": True},
    ).json()
    assert [s["name"] for s in rep.get("/api/v1/segments").json()["items"]] == ["全部合作", "合作"]
    assert rep.get(f"/api/v1/segments/{shared['id']}/count").json()["count"] == 2
    assert manager.get(f"/api/v1/segments/{shared['id']}/count").json()["count"] == 4
    assert rep.delete(f"/api/v1/segments/{shared['id']}").status_code == 403
    assert rep.delete(f"/api/v1/segments/{sid}").status_code == 204
    assert rep.get(f"/api/v1/segments/{sid}").status_code == 404
    assert rep.get("/api/v1/segments/abc").status_code == 404


def test_unstorable_parameter_names_are_a_plain_params_error(world: dict[str, Any]) -> None:
    """A NUL or a broken surrogate in a key cannot go into PostgreSQL's JSON (the error
    body is audited): the refusal names ``params`` instead of the key, never a 500."""
    from guanxi.audit.models import AuditEntry, AuditResult

    rep = Api(world["rep_a"])
    for key in ("a\u0000b", "x\ud800", "太长" * 30):
        bad = rep.post("/api/v1/segments", {"name": "坏参数", "params": {key: "1"}})
        assert bad.status_code == 422, bad.content
        assert list(bad.json()["errors"]) == ["params"]
    refusals = AuditEntry.objects.filter(action="segment.create", result=AuditResult.FAILED)
    assert refusals.count() == 3


def test_segment_pages(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["rep_a"])
    list_html = client.get(reverse("customers:list"), {"status": "cooperating"}).content.decode()
    assert "保存为分群" in list_html and 'data-testid="segment-picker"' in list_html
    form = client.get(
        reverse("customers:segment_create"), {"status": "cooperating", "ordering": "-id"}
    )
    assert form.status_code == 200 and 'name="status" value="cooperating"' in form.content.decode()
    bad = client.post(reverse("customers:segment_create"), {"name": "", "status": "cooperating"})
    assert bad.status_code == 422
    ok = client.post(
        reverse("customers:segment_create"), {"name": "合作客户", "status": "cooperating"}
    )
    assert ok.status_code == 302
    segment = Segment.objects.get(name="合作客户")
    assert segment.params == {"status": "cooperating"} and not segment.shared
    page = client.get(reverse("customers:segment_list")).content.decode()
    assert "合作客户" in page and "/customers/?status=cooperating" in page
    count = client.get(reverse("customers:segment_count", args=[segment.pk])).content.decode()
    assert ">2<" in count
    picker = client.get(reverse("customers:list")).content.decode()
    assert "/customers/?status=cooperating" in picker
    other = client_for(world["rep_b"])
    assert other.get(reverse("customers:segment_count", args=[segment.pk])).status_code == 404
    assert other.post(reverse("customers:segment_delete", args=[segment.pk])).status_code == 404
    client.post(reverse("customers:segment_edit", args=[segment.pk]), {"name": "合作2"})
    segment.refresh_from_db()
    assert segment.name == "合作2"
    client.post(reverse("customers:segment_delete", args=[segment.pk]))
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_export_with_segment_uses_its_filters_in_the_exporters_scope(
    world: dict[str, Any], client_for: Any
) -> None:
    from guanxi.dataio.customer_export import customer_export

    segment = segment_create(
        actor=world["manager"],
        data={"name": "合作", "params": {"status": "cooperating"}, "shared": True},
    )
    result = customer_export(
        actor=world["manager"], params={"segment": str(segment.pk)}, fmt="json"
    )
    assert result.rows == 4
    rows = json.loads(result.file.read())
    assert {r["status"] for r in rows} <= {"cooperating", "合作客户"}
    assert (
        customer_export(
            actor=world["admin"],
            params={"segment": str(segment.pk), "owner_id": str(world["rep_a"].pk)},
            fmt="json",
        ).rows
        == 2
    )
    entry = AuditEntry.objects.filter(action="customer.export").latest("id")
    assert entry.params["filters"]["status"] == "cooperating"
    mine = segment_create(actor=world["rep_a"], data={"name": "私有", "params": {}})
    with pytest.raises(ValidationError) as exc:
        customer_export(actor=world["manager"], params={"segment": str(mine.pk)}, fmt="json")
    assert "segment" in exc.value.message_dict
    assert expand_params(world["rep_a"], {"q": "x"}) == {"q": "x"}
    client = client_for(world["manager"])
    response = client.post(
        reverse("dataio:export_customers"), {"segment": segment.pk, "format": "csv"}
    )
    assert response.status_code == 200 and response["X-Export-Rows"] == "4"
