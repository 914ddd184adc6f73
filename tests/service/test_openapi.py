"""The OpenAPI document: every /v1 operation is described, errors are problem+json, request
bodies carry examples, and the documented access policy matches the route table."""

from __future__ import annotations

from typing import Any

from service.api.access import policy_of
from tests.fixtures.service import World


async def test_every_operation_is_documented_with_problem_errors(world: World) -> None:
    response = await world.client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
    ]
    assert len(operations) >= 30
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("description") or op.get("summary"), where
        assert policy_of(method.upper(), path) is not None, where
        for status, answer in op["responses"].items():
            if status.startswith("4") and status != "422":
                assert "application/problem+json" in answer.get("content", {}), (where, status)
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            schema = body.get("schema", {})
            ref = schema.get("$ref", "").rsplit("/", 1)[-1]
            component = spec["components"]["schemas"].get(ref, {})
            documented = (
                "example" in body
                or "examples" in body
                or "examples" in schema
                or "examples" in component
                or "example" in component
            )
            assert documented, f"{where}: request body without an example"
