"""Rule-based tags: each field and operator, tags applied AND removed as data changes through
the real services (follow-ups, status changes, the nightly run), manual tags untouched."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.customers import tag_rules
from guanxi.customers.models import Customer, CustomerTag, FollowUp, Interaction, Tag, TagRule
from guanxi.customers.services import customer_change_status, customer_update
from guanxi.customers.signals import customer_data_changed
from guanxi.customers.tag_rule_services import (
    SEED_RULES,
    ensure_seed_rules,
    tag_rule_create,
    tag_rule_run,
    tag_rule_update,
)
from guanxi.customers.tags import tags_apply

pytestmark = pytest.mark.django_db


def _follow_up(customer: Customer, actor: Any, when: dt.datetime) -> FollowUp:
    """A follow-up row as the follow-up service leaves it (row + customer's last time)."""
    row = FollowUp.objects.create(
        customer=customer,
        owner=actor,
        method="phone",
        content="电话沟通",
        followed_at=when,
        created_by=actor,
        updated_by=actor,
    )
    latest = FollowUp.objects.filter(customer=customer).order_by("-followed_at").first()
    Customer.objects.filter(pk=customer.pk).update(last_follow_up_at=latest.followed_at)
    return row


def _tags(customer: Customer) -> dict[str, str | None]:
    rows = CustomerTag.objects.filter(customer=customer).select_related("tag", "rule")
    return {r.tag.name: (r.rule.name if r.rule else None) for r in rows}


def _rule(name: str, conditions: list[dict[str, Any]], tag: Tag | None = None) -> TagRule:
    tag = tag or Tag.objects.create(name=f"T-{name}")
    return TagRule.objects.create(name=name, tag=tag, conditions=conditions)


def _ids(rule: TagRule, now: dt.datetime | None = None) -> set[int]:
    return set(tag_rules.matching_customers(rule, now=now).values_list("pk", flat=True))


def test_seeded_rules_exist_and_seeding_is_idempotent(db: Any) -> None:
    ensure_seed_rules()
    ensure_seed_rules()
    assert set(TagRule.objects.values_list("name", flat=True)) >= set(SEED_RULES)
    high = TagRule.objects.get(name="高价值客户")
    assert high.tag.name == "高价值客户" and high.tag.tag_type == "value"
    assert {c["field"] for c in high.conditions} == {"status", "follow_ups_90d"}
    churn = TagRule.objects.get(name="流失风险")
    assert {"field": "days_since_follow_up", "op": "gt", "value": 30} in churn.conditions
    high.description = "edited"
    high.save()
    ensure_seed_rules()
    assert TagRule.objects.get(name="高价值客户").description == "edited"


def test_churn_rule_applied_and_removed_through_follow_ups_and_status(
    org: dict[str, Any], make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ensure_seed_rules()
    rep = org["rep_a"]
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(rep)
    assert "流失风险" not in _tags(customer)  # 潜在客户: the rule wants 合作客户
    customer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        customer_change_status(actor=rep, customer=customer, status="cooperating")
    # Never followed up counts as more than 30 days.
    assert _tags(customer)["流失风险"] == "流失风险"
    with django_capture_on_commit_callbacks(execute=True):
        _follow_up(customer, rep, timezone.now() - dt.timedelta(days=2))
        customer_data_changed.send(FollowUp, customer_ids=[customer.pk], reason="follow_up")
    assert "流失风险" not in _tags(customer)
    # Time passes: the nightly run puts it back.
    tag_rules.evaluate_all(now=timezone.now() + dt.timedelta(days=40))
    assert _tags(customer)["流失风险"] == "流失风险"
    customer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        customer_change_status(actor=rep, customer=customer, status="lost")
    assert "流失风险" not in _tags(customer)


def test_high_value_rule_counts_follow_ups_of_the_last_90_days(
    org: dict[str, Any], make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ensure_seed_rules()
    rep = org["rep_a"]
    customer = make_customer(rep, status="cooperating")
    now = timezone.now()
    _follow_up(customer, rep, now - dt.timedelta(days=100))  # too old to count
    _follow_up(customer, rep, now - dt.timedelta(days=10))
    _follow_up(customer, rep, now - dt.timedelta(days=5))
    tag_rules.evaluate_all()
    assert "高价值客户" not in _tags(customer)
    with django_capture_on_commit_callbacks(execute=True):
        _follow_up(customer, rep, now - dt.timedelta(days=1))
        customer_data_changed.send(FollowUp, customer_ids=[customer.pk], reason="follow_up")
    assert _tags(customer)["高价值客户"] == "高价值客户"
    # Soft-deleted follow-ups do not count.
    FollowUp.objects.filter(customer=customer).update(deleted_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        customer_data_changed.send(FollowUp, customer_ids=[customer.pk], reason="follow_up")
    assert "高价值客户" not in _tags(customer)


def test_manual_tag_is_never_touched_and_blocks_a_duplicate_rule_row(
    org: dict[str, Any], make_customer: Any
) -> None:
    rep = org["rep_a"]
    tag = Tag.objects.create(name="重点")
    rule = _rule("重点规则", [{"field": "province", "op": "eq", "value": "广东省"}], tag)
    manual = make_customer(rep)
    other = make_customer(rep, province="北京市", city="北京市", district="东城区")
    CustomerTag.objects.create(customer=manual, tag=tag)  # manual, rule empty
    CustomerTag.objects.create(customer=other, tag=tag)  # manual, rule does not match
    result = tag_rules.evaluate(rule)
    assert _tags(manual) == {"重点": None}
    assert _tags(other) == {"重点": None}
    assert result.added == 0 and result.removed == 0


def test_customer_form_edit_keeps_rule_tags(
    org: dict[str, Any], make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ensure_seed_rules()
    rep = org["rep_a"]
    customer = make_customer(rep, status="cooperating", tags=["老客户"])
    tag_rules.evaluate_all()
    assert _tags(customer) == {"老客户": None, "流失风险": "流失风险"}
    customer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(
            actor=rep,
            customer=customer,
            data={"tags": ["华南区"], "notes": "改备注"},
            version=customer.version,
        )
    assert _tags(customer) == {"华南区": None, "流失风险": "流失风险"}


def test_bulk_tagging_never_removes_rule_tags(org: dict[str, Any], make_customer: Any) -> None:
    ensure_seed_rules()
    customer = make_customer(org["rep_a"], status="cooperating")
    tag_rules.evaluate_all()
    churn = Tag.objects.get(name="流失风险")
    tags_apply(actor=org["admin"], customer_ids=[customer.pk], remove=[churn.pk])
    assert _tags(customer) == {"流失风险": "流失风险"}


@pytest.mark.parametrize(
    ("field", "op", "value", "expect"),
    [
        ("status", "eq", "cooperating", {"a"}),
        ("status", "ne", "cooperating", {"b", "c"}),
        ("status", "in", ["cooperating", "lost"], {"a", "c"}),
        ("status", "eq", "合作客户", {"a"}),  # label accepted, stored as code
        ("customer_type", "eq", "individual", {"c"}),
        ("category", "eq", "vip", {"b"}),
        ("industry", "in", "I,C", {"a", "b"}),
        ("source", "is_empty", True, {"c"}),
        ("source", "is_empty", False, {"a", "b"}),
        ("province", "eq", "北京市", {"b"}),
        ("city", "ne", "深圳市", {"b", "c"}),
        ("completeness", "gte", 0, {"a", "b", "c"}),
        ("completeness", "lt", 0, set()),
        ("created_days_ago", "gt", 5, {"c"}),
        ("created_days_ago", "lte", 5, {"a", "b"}),
        ("created_days_ago", "eq", 10, {"c"}),
        ("days_since_follow_up", "gt", 30, {"b", "c"}),
        ("days_since_follow_up", "gte", 3, {"a", "b", "c"}),
        ("days_since_follow_up", "lt", 30, {"a"}),
        ("days_since_follow_up", "eq", 3, {"a"}),
        ("days_since_follow_up", "ne", 3, {"b", "c"}),
        ("days_since_follow_up", "in", [3, 40], {"a", "b"}),
        ("days_since_follow_up", "is_empty", True, {"c"}),
        ("follow_ups_90d", "gte", 2, {"a"}),
        ("follow_ups_90d", "eq", 0, {"c"}),
        ("follow_ups_90d", "gt", 0, {"a", "b"}),
        ("follow_ups_90d", "lte", 1, {"b", "c"}),
        ("complaints", "gte", 1, {"b"}),
        ("complaints", "eq", 0, {"a", "c"}),
        ("total_order_amount", "gte", 100000, set()),
        ("total_order_amount", "eq", 0, {"a", "b", "c"}),
    ],
)
def test_each_field_and_operator(
    org: dict[str, Any], make_customer: Any, field: str, op: str, value: Any, expect: set[str]
) -> None:
    rep = org["rep_a"]
    now = timezone.now()
    people = {
        "a": make_customer(rep, status="cooperating", industry="I"),
        "b": make_customer(
            rep, province="北京市", city="北京市", district="东城区", category="vip", industry="C"
        ),
        "c": make_customer(
            rep,
            status="lost",
            customer_type="individual",
            source="",
            city="广州市",
            district="天河区",
            industry="F",
        ),
    }
    Customer.objects.filter(pk=people["c"].pk).update(
        created_at=now - dt.timedelta(days=10, hours=1)
    )
    _follow_up(people["a"], rep, now - dt.timedelta(days=3, hours=2))
    _follow_up(people["a"], rep, now - dt.timedelta(days=50))
    FollowUp.objects.filter(customer=people["a"]).update()  # both inside 90 days
    _follow_up(people["b"], rep, now - dt.timedelta(days=60))
    _follow_up(people["b"], rep, now - dt.timedelta(days=40, hours=3))
    FollowUp.objects.filter(
        customer=people["b"], followed_at__lt=now - dt.timedelta(days=50)
    ).update(followed_at=now - dt.timedelta(days=120))
    Interaction.objects.create(
        customer=people["b"],
        kind="complaint",
        subject="投诉",
        staff=rep,
        created_by=rep,
        updated_by=rep,
    )
    Interaction.objects.create(
        customer=people["a"],
        kind="event",
        subject="活动",
        staff=rep,
        created_by=rep,
        updated_by=rep,
    )
    conditions = tag_rules.clean_conditions([{"field": field, "op": op, "value": value}])
    rule = _rule("r", conditions)
    names = {pk: key for key, c in people.items() for pk in [c.pk]}
    assert {names[pk] for pk in _ids(rule, now)} == expect
    tag_rules.evaluate(rule, now=now)
    tagged = set(CustomerTag.objects.filter(rule=rule).values_list("customer_id", flat=True))
    assert {names[pk] for pk in tagged} == expect


def test_conditions_are_anded(org: dict[str, Any], make_customer: Any) -> None:
    rep = org["rep_a"]
    a = make_customer(rep, status="cooperating")
    make_customer(rep, status="cooperating", province="北京市", city="北京市", district="东城区")
    make_customer(rep)
    rule = _rule(
        "and",
        [
            {"field": "status", "op": "eq", "value": "cooperating"},
            {"field": "province", "op": "eq", "value": "广东省"},
        ],
    )
    assert _ids(rule) == {a.pk}


def test_deleted_customers_lose_rule_tags(org: dict[str, Any], make_customer: Any) -> None:
    rep = org["rep_a"]
    customer = make_customer(rep)
    rule = _rule("gd", [{"field": "province", "op": "eq", "value": "广东省"}])
    tag_rules.evaluate(rule)
    assert CustomerTag.objects.filter(rule=rule, customer=customer).exists()
    Customer.objects.filter(pk=customer.pk).update(deleted_at=timezone.now())
    tag_rules.evaluate(rule, [customer.pk])
    assert not CustomerTag.objects.filter(rule=rule).exists()


@pytest.mark.parametrize(
    ("conditions", "key"),
    [
        ([], "conditions"),
        ("status=1", "conditions"),
        ([{"op": "eq", "value": 1}], "conditions.0"),
        ([{"field": "nope", "op": "eq", "value": 1}], "conditions.0.field"),
        ([{"field": "status", "op": "gt", "value": "lost"}], "conditions.0.op"),
        ([{"field": "status", "op": "eq", "value": "bogus"}], "conditions.0.value"),
        ([{"field": "status", "op": "eq", "value": 3}], "conditions.0.value"),
        ([{"field": "follow_ups_90d", "op": "gte", "value": "many"}], "conditions.0.value"),
        ([{"field": "follow_ups_90d", "op": "gte", "value": True}], "conditions.0.value"),
        ([{"field": "complaints", "op": "in", "value": []}], "conditions.0.value"),
        ([{"field": "province", "op": "eq", "value": ["a"]}], "conditions.0.value"),
        ([{"field": "industry", "op": "eq", "value": "不存在的行业"}], "conditions.0.value"),
        ([{"field": "complaints", "op": "is_empty", "value": True}], "conditions.0.op"),
    ],
)
def test_invalid_conditions_give_field_errors(conditions: Any, key: str, db: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        tag_rules.clean_conditions(conditions)
    assert key in exc.value.message_dict


def test_rule_services_validate_audit_and_run(org: dict[str, Any], make_customer: Any) -> None:
    from guanxi.audit.models import AuditEntry
    from guanxi.core.errors import PermissionDenied

    admin = org["admin"]
    tag = Tag.objects.create(name="北京客户")
    make_customer(org["rep_a"], province="北京市", city="北京市", district="东城区")
    with pytest.raises(ValidationError) as exc:
        tag_rule_create(actor=admin, data={"name": "", "tag_id": 0, "conditions": []})
    assert {"name", "tag_id", "conditions"} <= set(exc.value.message_dict)
    rule = tag_rule_create(
        actor=admin,
        data={
            "name": "北京",
            "tag_id": tag.pk,
            "conditions": [{"field": "province", "op": "eq", "value": "北京市"}],
        },
    )
    assert CustomerTag.objects.filter(rule=rule).count() == 1  # applied on save
    rule = tag_rule_update(actor=admin, rule=rule, data={"enabled": False})
    assert not CustomerTag.objects.filter(rule=rule).exists()  # disabled: tags go
    rule = tag_rule_update(actor=admin, rule=rule, data={"enabled": True})
    result = tag_rule_run(actor=admin, rule=rule)
    assert result.matched == 1 and rule.last_run_count == 1 and rule.last_run_at
    assert AuditEntry.objects.filter(action="tag_rule.run", object_id=str(rule.pk)).exists()
    with pytest.raises(PermissionDenied):
        tag_rule_run(actor=org["rep_a"], rule=rule)


def test_merge_delete_and_restore_re_evaluate(
    org: dict[str, Any], make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.customers.merge import customer_merge
    from guanxi.customers.recycle import customer_restore
    from guanxi.customers.services import customer_delete

    ensure_seed_rules()
    admin = org["admin"]
    survivor = make_customer(admin, status="cooperating")
    merged = make_customer(admin, status="cooperating")
    tag_rules.evaluate_all()
    _follow_up(survivor, admin, timezone.now() - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(actor=admin, survivor=survivor, merged=merged)
    assert "流失风险" not in _tags(survivor)  # followed up yesterday
    assert _tags(merged) == {}  # merged away: no rule tags left
    gone = make_customer(admin, status="not_cooperating")
    customer_delete(actor=admin, customer=gone)
    gone.refresh_from_db()
    Customer.objects.filter(pk=gone.pk).update(status="cooperating")  # as stored before
    with django_capture_on_commit_callbacks(execute=True):
        customer_restore(actor=admin, customer=gone)
    # Restored as 未合作: the churn rule (合作客户) does not apply.
    assert "流失风险" not in _tags(gone)
    rule = TagRule.objects.get(name="流失风险")
    rule.conditions = [{"field": "status", "op": "eq", "value": "not_cooperating"}]
    rule.save()
    Customer.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        customer_restore(actor=admin, customer=gone)
    assert _tags(gone) == {"流失风险": "流失风险"}


def test_ids_condition_is_a_range_only_for_whole_ranges() -> None:
    assert sorted(tag_rules.ids_q("pk", [7, 5, 6, 6]).children) == [("pk__gte", 5), ("pk__lte", 7)]
    assert tag_rules.ids_q("pk", [5, 7]).children == [("pk__in", [5, 7])]
    assert tag_rules.ids_q("pk", []).children == [("pk__in", [])]


def test_evaluating_a_range_of_ids_touches_only_those_customers(
    org: dict[str, Any], make_customer: Any
) -> None:
    rep = org["rep_a"]
    made = [make_customer(rep, name=f"范围客户{n}有限公司") for n in range(5)]
    Customer.objects.filter(pk__in=[c.pk for c in made]).update(status="cooperating")
    rule = _rule("合作中", [{"field": "status", "op": "eq", "value": "cooperating"}])
    first, middle, last = made[0].pk, [c.pk for c in made[1:4]], made[4].pk
    assert middle == list(range(middle[0], middle[-1] + 1))  # a whole range: BETWEEN
    tag_rules.evaluate(rule, middle)
    tagged = set(CustomerTag.objects.filter(rule=rule).values_list("customer_id", flat=True))
    assert tagged == set(middle)
    tag_rules.evaluate(rule, [first, last])  # not a whole range: IN
    tagged = set(CustomerTag.objects.filter(rule=rule).values_list("customer_id", flat=True))
    assert tagged == {first, last, *middle}
    Customer.objects.filter(pk__in=middle).update(status="lost")
    tag_rules.evaluate(rule, middle)
    tagged = set(CustomerTag.objects.filter(rule=rule).values_list("customer_id", flat=True))
    assert tagged == {first, last}
