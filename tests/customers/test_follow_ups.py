"""Follow-up and interaction services: permissions, scope, validation, customer stamps, audit,
the change signal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound, PermissionDenied, StaleVersion
from guanxi.customers import follow_up_selectors, follow_ups
from guanxi.customers.models import Contact, Customer, FollowUp, Interaction
from guanxi.customers.signals import customer_data_changed

pytestmark = pytest.mark.django_db


def _data(**overrides):
    data = {"method": "电话", "content": "电话沟通需求，客户有采购意向", "result": "意向反馈"}
    data.update(overrides)
    return data


def _contact(customer, name="李四"):
    return Contact.objects.create(customer=customer, name=name)


def test_create_by_label_updates_customer_stamps_without_version_bump(
    org, make_customer, django_capture_on_commit_callbacks
):
    customer = make_customer(org["rep_a"])
    version = Customer.objects.get(pk=customer.pk).version
    followed = timezone.now() - dt.timedelta(hours=2)
    next_at = timezone.now() + dt.timedelta(days=3)
    received = []

    def listen(sender, customer_ids, reason, **kwargs):
        received.append((customer_ids, reason))

    customer_data_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            f = follow_ups.follow_up_create(
                actor=org["rep_a"],
                customer_id=customer.pk,
                data=_data(followed_at=followed, next_follow_up_at=next_at, next_plan="送样品"),
            )
    finally:
        customer_data_changed.disconnect(listen)
    f.refresh_from_db()
    assert f.method == "phone" and f.result and f.owner == org["rep_a"]
    current = Customer.objects.get(pk=customer.pk)
    assert current.last_follow_up_at == followed and current.next_follow_up_at == next_at
    assert current.version == version  # derived columns: no bump
    assert not AuditEntry.objects.filter(
        object_type="customer", object_id=str(customer.pk), action__startswith="follow_up"
    ).exists()
    entry = AuditEntry.objects.get(action="follow_up.create", object_id=str(f.pk))
    assert entry.object_type == "follow_up" and entry.result == "success"
    assert received == [([customer.pk], "follow_up")]


def test_latest_follow_up_wins_the_stamps_even_when_entered_late(org, make_customer):
    customer = make_customer(org["rep_a"])
    now = timezone.now()
    follow_ups.follow_up_create(
        actor=org["rep_a"],
        customer_id=customer.pk,
        data=_data(followed_at=now - dt.timedelta(days=1), next_follow_up_at=now),
    )
    # Entered afterwards but happened earlier: it must not move the stamps back.
    follow_ups.follow_up_create(
        actor=org["rep_a"],
        customer_id=customer.pk,
        data=_data(
            followed_at=now - dt.timedelta(days=5), next_follow_up_at=now - dt.timedelta(days=4)
        ),
    )
    current = Customer.objects.get(pk=customer.pk)
    assert current.last_follow_up_at == now - dt.timedelta(days=1)
    assert current.next_follow_up_at == now


def test_validation_names_every_bad_field(org, make_customer):
    customer = make_customer(org["rep_a"])
    other = make_customer(org["rep_a"])
    foreign = _contact(other)
    now = timezone.now()
    with pytest.raises(ValidationError) as info:
        follow_ups.follow_up_create(
            actor=org["rep_a"],
            customer_id=customer.pk,
            data={
                "method": "飞鸽传书",
                "content": "  ",
                "result": "不存在",
                "followed_at": now + dt.timedelta(days=1),
                "next_follow_up_at": now,
                "contact_id": foreign.pk,
            },
        )
    errors = info.value.message_dict
    assert set(errors) == {
        "method",
        "content",
        "result",
        "followed_at",
        "next_follow_up_at",
        "contact_id",
    }
    assert errors["content"] == [str(follow_ups.MSG_CONTENT_REQUIRED)]
    assert errors["next_follow_up_at"] == [str(follow_ups.MSG_NEXT_NOT_AFTER)]
    assert errors["contact_id"] == [str(follow_ups.MSG_CONTACT_FOREIGN)]
    with pytest.raises(ValidationError) as info:
        follow_ups.follow_up_create(actor=org["rep_a"], customer_id=customer.pk, data={})
    assert info.value.message_dict["method"] == [str(follow_ups.MSG_METHOD_REQUIRED)]
    assert not FollowUp.objects.exists()
    assert AuditEntry.objects.filter(action="follow_up.create", result="failed").count() == 2


def test_own_contact_and_small_clock_skew_are_accepted(org, make_customer):
    customer = make_customer(org["rep_a"])
    contact = _contact(customer)
    f = follow_ups.follow_up_create(
        actor=org["rep_a"],
        customer_id=customer.pk,
        data=_data(contact_id=contact.pk, followed_at=timezone.now() + dt.timedelta(minutes=2)),
    )
    assert f.contact_id == contact.pk


def test_scope_and_permissions(org, make_customer):
    customer = make_customer(org["rep_a"])
    # Another team's rep: outside the write scope is "not found", nothing written.
    with pytest.raises(NotFound):
        follow_ups.follow_up_create(actor=org["rep_b"], customer_id=customer.pk, data=_data())
    # Service rep reads everything but may not add follow-ups.
    with pytest.raises(PermissionDenied):
        follow_ups.follow_up_create(actor=org["service_rep"], customer_id=customer.pk, data=_data())
    with pytest.raises(NotFound):
        follow_ups.follow_up_create(actor=org["rep_a"], customer_id=10**9, data=_data())
    assert not FollowUp.objects.exists()
    # The manager (department and below) may.
    f = follow_ups.follow_up_create(actor=org["manager"], customer_id=customer.pk, data=_data())
    assert f.owner == org["manager"]
    assert follow_up_selectors.follow_up_get(user=org["service_rep"], pk=f.pk) == f
    with pytest.raises(NotFound):
        follow_up_selectors.follow_up_get(user=org["rep_b"], pk=f.pk)


def test_update_author_or_wider_scope_only(org, make_customer):
    customer = make_customer(org["rep_a"])
    by_manager = follow_ups.follow_up_create(
        actor=org["manager"], customer_id=customer.pk, data=_data()
    )
    # The customer's rep may not edit the manager's follow-up (own scope, not the author).
    with pytest.raises(PermissionDenied):
        follow_ups.follow_up_update(
            actor=org["rep_a"], follow_up=by_manager, data={"content": "改"}, version=1
        )
    mine = follow_ups.follow_up_create(actor=org["rep_a"], customer_id=customer.pk, data=_data())
    updated = follow_ups.follow_up_update(
        actor=org["rep_a"],
        follow_up=mine,
        data={"content": "补充：客户要求报价", "method": "wechat"},
        version=1,
    )
    assert updated.version == 2 and updated.method == "wechat"
    entry = AuditEntry.objects.get(action="follow_up.update", object_id=str(mine.pk))
    assert entry.changes["method"] == ["phone", "wechat"]
    with pytest.raises(StaleVersion):
        follow_ups.follow_up_update(
            actor=org["rep_a"], follow_up=mine, data={"content": "再改"}, version=1
        )
    # The manager edits anyone's follow-up in the team; rep_b cannot even see it.
    follow_ups.follow_up_update(actor=org["manager"], follow_up=mine, data={"next_plan": "上门"})
    with pytest.raises(NotFound):
        follow_ups.follow_up_update(actor=org["rep_b"], follow_up=mine, data={"content": "x"})
    with pytest.raises(PermissionDenied):
        follow_ups.follow_up_update(actor=org["service_rep"], follow_up=mine, data={"content": "x"})
    assert FollowUp.objects.get(pk=mine.pk).content == "补充：客户要求报价"


def test_update_moves_customer_stamps(org, make_customer):
    customer = make_customer(org["rep_a"])
    f = follow_ups.follow_up_create(actor=org["rep_a"], customer_id=customer.pk, data=_data())
    later = timezone.now() + dt.timedelta(days=7)
    follow_ups.follow_up_update(
        actor=org["rep_a"], follow_up=f, data={"next_follow_up_at": later}, version=1
    )
    assert Customer.objects.get(pk=customer.pk).next_follow_up_at == later


def test_due_list_is_own_and_overdue_first(org, make_customer):
    now = timezone.now()
    mine = [make_customer(org["rep_a"]) for _ in range(4)]
    theirs = make_customer(org["rep_b"])
    stamps = [now - dt.timedelta(days=3), now - dt.timedelta(days=10), now, None]
    for customer, stamp in zip(mine, stamps, strict=True):
        Customer.objects.filter(pk=customer.pk).update(next_follow_up_at=stamp)
    Customer.objects.filter(pk=mine[3].pk).update(next_follow_up_at=now + dt.timedelta(days=9))
    Customer.objects.filter(pk=theirs.pk).update(next_follow_up_at=now - dt.timedelta(days=1))
    page = follow_up_selectors.due_list(user=org["rep_a"])
    assert [c.pk for c in page.items] == [mine[1].pk, mine[0].pk, mine[2].pk]


def test_interaction_needs_read_scope_and_a_known_kind(org, make_customer):
    customer = make_customer(org["rep_a"])
    # The service desk records a complaint on a customer it does not own.
    i = follow_ups.interaction_create(
        actor=org["service_rep"],
        customer_id=customer.pk,
        data={"kind": "投诉咨询", "subject": "发货延迟投诉", "details": "客户反映到货晚了三天"},
    )
    assert i.kind == "complaint" and i.staff == org["service_rep"]
    assert AuditEntry.objects.filter(action="interaction.create", object_id=str(i.pk)).exists()
    with pytest.raises(ValidationError) as info:
        follow_ups.interaction_create(
            actor=org["service_rep"], customer_id=customer.pk, data={"kind": "x", "subject": ""}
        )
    assert set(info.value.message_dict) == {"kind", "subject"}
    with pytest.raises(NotFound):
        follow_ups.interaction_create(
            actor=org["rep_b"], customer_id=customer.pk, data={"kind": "event", "subject": "展会"}
        )
    with pytest.raises(PermissionDenied):
        follow_ups.interaction_create(
            actor=org["analyst"], customer_id=customer.pk, data={"kind": "event", "subject": "s"}
        )
    assert Interaction.objects.count() == 1


def test_merge_moves_follow_ups_and_recomputes_the_survivor_stamps(org, make_customer):
    from guanxi.customers import merge

    survivor = make_customer(org["rep_a"])
    merged = make_customer(org["rep_a"])
    now = timezone.now()
    follow_ups.follow_up_create(
        actor=org["rep_a"],
        customer_id=survivor.pk,
        data=_data(followed_at=now - dt.timedelta(days=9)),
    )
    follow_ups.follow_up_create(
        actor=org["rep_a"],
        customer_id=merged.pk,
        data=_data(followed_at=now - dt.timedelta(days=1), next_follow_up_at=now),
    )
    merge.customer_merge(
        actor=org["data_admin"],
        survivor=Customer.objects.get(pk=survivor.pk),
        merged=Customer.objects.get(pk=merged.pk),
    )
    current = Customer.objects.get(pk=survivor.pk)
    assert FollowUp.objects.filter(customer=current).count() == 2
    assert current.last_follow_up_at == now - dt.timedelta(days=1)
    assert current.next_follow_up_at == now
