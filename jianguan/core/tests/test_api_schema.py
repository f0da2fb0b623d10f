"""The OpenAPI 3 schema and the documentation pages (vendored assets, no CDN)."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient


@pytest.fixture
def api_client(gulou_inspector) -> APIClient:
    """The schema and docs are for signed-in callers (they map every endpoint)."""
    client = APIClient()
    client.force_login(gulou_inspector)
    return client


@pytest.mark.parametrize("url_name", ["api:schema", "api:docs", "api:redoc"])
def test_the_schema_and_docs_refuse_anonymous_callers(db, url_name) -> None:
    response = APIClient().get(reverse(url_name))
    assert response.status_code in (401, 403)


def test_it_builds_the_openapi_schema_without_warnings(db, tmp_path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text(encoding="utf-8"))
    paths = set(schema["paths"])
    for expected in (
        "/api/v1/me/",
        "/api/v1/regions/",
        "/api/v1/department-kinds/",
        "/api/v1/organizations/{id}/",
        "/api/v1/users/{id}/reset-password/",
        "/api/v1/roles/{code}/",
        "/api/v1/subjects/{id}/",
        "/api/v1/officers/{id}/unmask/",
        "/api/v1/jobs/",
        "/api/v1/jobs/kinds/",
        "/api/v1/audit-entries/{id}/",
        "/api/v1/tokens/{id}/revoke/",
    ):
        assert expected in paths, expected
    assert set(schema["paths"]["/api/v1/audit-entries/{id}/"]) == {"get"}
    assert "delete" not in schema["paths"]["/api/v1/subjects/{id}/"]
    assert set(schema["paths"]["/api/v1/roles/{code}/"]) == {"get", "patch"}
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_it_serves_the_schema(db, api_client) -> None:
    response = api_client.get(reverse("api:schema"))
    assert response.status_code == 200
    assert b"openapi: 3" in response.content


@pytest.mark.parametrize("url_name", ["api:docs", "api:redoc"])
def test_it_serves_the_docs_pages_from_vendored_assets(db, api_client, url_name) -> None:
    response = api_client.get(reverse(url_name))
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "https://" not in page and "http://" not in page
    assert "<script>" not in page  # no inline script: the page works under script-src 'self'


def test_it_serves_the_swagger_init_script_separately(db, api_client) -> None:
    response = api_client.get(reverse("api:docs") + "?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema").encode() in response.content
