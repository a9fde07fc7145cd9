"""schemathesis over the OpenAPI schema (issue 5): whatever is sent, no server error, and
every response matches the schema. Runs on SQLite and PostgreSQL with a unit admin's token."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from server_world import World


@pytest.fixture
def api(world: World) -> schemathesis.schemas.BaseSchema:
    world.headers = world.ready("admin_a")  # type: ignore[attr-defined]
    return schemathesis.openapi.from_asgi("/openapi.json", world.app)


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_r1_openapi_no_server_errors_and_schema_conformance(case: object, world: World) -> None:
    case.call_and_validate(  # type: ignore[attr-defined]
        headers=world.headers,  # type: ignore[attr-defined]
        checks=[not_a_server_error, response_schema_conformance],
    )
