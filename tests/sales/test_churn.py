"""流失预警: which cooperating customers the daily job proposes, and the decisions on them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers import churn, churn_selectors, services
from guanxi.customers.models import ChurnProposal, Customer, StatusChange
from guanxi.ops.schedule import registered_jobs
from guanxi.sales import services as sales
from guanxi.workflow.models import Notification
from tests.sales.support import completed_order, cooperating, days_ago, ended_contract

pytestmark = pytest.mark.django_db


def proposed_ids() -> set[int]:
    return set(ChurnProposal.objects.filter(status="pending").values_list("customer_id", flat=True))


def test_job_proposes_only_customers_whose_business_ended_long_enough_ago(org, make_customer):
    rep = org["rep_a"]
    lapsed = cooperating(make_customer, rep)
    ended_contract(rep, lapsed, ended_days_ago=120)
    completed_order(rep, lapsed, completed_days_ago=100)
    recent = cooperating(make_customer, rep)
    ended_contract(rep, recent, ended_days_ago=30)
    # An old contract, but an order completed last month: the latest end counts.
    reordered = cooperating(make_customer, rep)
    ended_contract(rep, reordered, ended_days_ago=400)
    completed_order(rep, reordered, completed_days_ago=20)
    running = cooperating(make_customer, rep)
    ended_contract(rep, running, ended_days_ago=200)
    sales.contract_create(
        actor=rep, customer=running, title="续约", amount=1, signed_on=days_ago(300)
    )  # open-ended
    open_order = cooperating(make_customer, rep)
    ended_contract(rep, open_order, ended_days_ago=200)
    sales.order_create(
        actor=rep, customer=open_order, title="在途", amount=1, ordered_on=days_ago(150)
    )
    cooperating(make_customer, rep)  # never bought anything: no "last" business to judge
    not_cooperating = make_customer(rep)
    ended_contract(rep, not_cooperating, ended_days_ago=300)

    assert churn.propose_churn() == 1
    (proposal,) = ChurnProposal.objects.all()
    assert proposal.customer_id == lapsed.pk
    assert proposal.last_business_on == days_ago(100)
    # The owner is told; the run is audited; a second run proposes nothing twice.
    note = Notification.objects.get(recipient=rep, kind="churn")
    assert "1 个合作客户" in note.title and note.url == "/customers/churn/"
    entry = AuditEntry.objects.get(action="churn.propose")
    assert entry.params["proposed"] == 1 and entry.params["days"] == 90
    assert churn.propose_churn() == 0
    assert ChurnProposal.objects.count() == 1


def test_the_threshold_is_a_system_parameter_and_zero_turns_it_off(org, make_customer):
    customer = cooperating(make_customer, org["rep_a"])
    ended_contract(org["rep_a"], customer, ended_days_ago=50)
    with override_settings(GUANXI_CHURN_AFTER_DAYS=60):
        assert churn.propose_churn() == 0
    with override_settings(GUANXI_CHURN_AFTER_DAYS=0):
        assert churn.propose_churn() == 0
        out = StringIO()
        call_command("churn_review", stdout=out)
        assert "off" in out.getvalue()
    with override_settings(GUANXI_CHURN_AFTER_DAYS=45):
        out = StringIO()
        call_command("churn_review", stdout=out)
        assert out.getvalue().strip() == "1 customer(s) proposed as lost"
    assert "churn_review" in registered_jobs()


def test_accept_marks_the_customer_lost_with_history(org, make_customer, client_for):
    customer = cooperating(make_customer, org["rep_a"])
    ended_contract(org["rep_a"], customer, ended_days_ago=200)
    churn.propose_churn()
    proposal = ChurnProposal.objects.get()
    # Only someone who may change the customer sees and decides it.
    with pytest.raises(NotFound):
        churn.churn_accept(actor=org["rep_b"], proposal=proposal)
    with pytest.raises(PermissionDenied):
        churn.churn_accept(actor=org["marketing"], proposal=proposal)
    assert not churn_selectors.churn_pending(user=org["rep_b"]).exists()

    client = client_for(org["manager"])
    listing = client.get("/customers/churn/").content.decode()
    assert customer.name in listing and days_ago(200).isoformat() in listing
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="churn-proposed"' in detail
    response = client.post(f"/customers/churn/{proposal.pk}/", {"decision": "accept"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.status == "lost"
    change = StatusChange.objects.filter(customer=customer).first()
    assert (change.from_status, change.to_status) == ("cooperating", "lost")
    assert change.changed_by == org["manager"] and days_ago(200).isoformat() in change.reason
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("accepted", org["manager"])
    assert AuditEntry.objects.filter(action="churn.accept", result="success").count() == 1
    assert AuditEntry.objects.filter(action="customer.change_status").exists()
    after = client.get("/customers/churn/").content.decode()
    assert f'data-proposal-id="{proposal.pk}"' not in after and "没有待处理的流失预警" in after


def test_dismissed_is_not_proposed_again_until_later_business_ends(org, make_customer):
    rep = org["rep_a"]
    customer = cooperating(make_customer, rep)
    ended_contract(rep, customer, ended_days_ago=200)
    churn.propose_churn()
    proposal = ChurnProposal.objects.get()
    churn.churn_dismiss(actor=rep, proposal=proposal, reason="客户年底续签")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == ("dismissed", "客户年底续签")
    assert Customer.objects.get(pk=customer.pk).status == "cooperating"
    assert churn.propose_churn() == 0
    completed_order(rep, customer, completed_days_ago=95)
    assert churn.propose_churn() == 1
    assert ChurnProposal.objects.get(status="pending").last_business_on == days_ago(95)


def test_stale_proposals_are_withdrawn(org, make_customer):
    rep = org["rep_a"]
    customer = cooperating(make_customer, rep)
    ended_contract(rep, customer, ended_days_ago=200)
    churn.propose_churn()
    services.customer_change_status(actor=rep, customer=customer, status="not_cooperating")
    assert not churn_selectors.churn_pending(user=rep).exists()
    churn.propose_churn()
    assert ChurnProposal.objects.get().status == "withdrawn"
    assert proposed_ids() == set()
