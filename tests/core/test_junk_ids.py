"""Ids that are not ids (text, fractions, out of bigint range) are a 404 on every door,
never a database error: Django matches out-of-range integers to nothing."""

import pytest

from guanxi.audit.services import audit_record
from guanxi.workflow.notifications import notify

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("pk", [HUGE, "-1", "0", "abc", "1.5", str(2**63)])
def test_api_answers_404_for_junk_ids(org, client_for, pk):
    admin = org["admin"]
    audit_record(actor=admin, action="x.y")
    notify([admin], kind="k", title="t")
    api = client_for(admin)
    assert api.post(f"/api/v1/notifications/{pk}/read").status_code == 404
    assert api.get(f"/api/v1/audit/{pk}").status_code == 404


def test_pages_answer_404_for_out_of_range_ids(org, client_for):
    page = client_for(org["admin"])
    for url in (f"/settings/audit/{HUGE}/", f"/notifications/{HUGE}/open/"):
        assert page.get(url).status_code == 404, url
    assert page.post(f"/notifications/{HUGE}/read/").status_code == 404
