"""Property-based API testing against the live OpenAPI document (schemathesis).

Every operation gets generated requests (valid and invalid) over real HTTP with a bearer
token: no response may be a server error or disagree with the documented schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.conftest import customer_data

pytestmark = pytest.mark.live

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
GENERATED = {"requests": 0}


@pytest.fixture
def api_token(live_server, org):
    from guanxi.accounts.tokens import token_issue
    from guanxi.customers.services import customer_create

    for i in range(3):
        customer_create(
            actor=org["admin"],
            data=customer_data(name=f"契约测试客户{i}", status="not_cooperating"),
        )
    raw, _ = token_issue(user=org["admin"])
    return raw


@pytest.fixture
def api_schema(live_server, api_token):
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms(case, live_server, api_token):
    GENERATED["requests"] += 1
    case.call_and_validate(
        base_url=live_server.url, headers={"Authorization": f"Bearer {api_token}"}, checks=CHECKS
    )


def test_report_generated_count():
    """Prints how many requests the property tests generated (for the closing note)."""
    print(f"\nschemathesis generated requests: {GENERATED['requests']}")
