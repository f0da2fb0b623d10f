"""Scope-matrix helpers for API tests (NetBox's generic permission test mixins, as plain functions).

``assert_scope_matrix`` walks one endpoint through the four cases every endpoint must get right:

* anonymous → 401 ``auth.required``;
* the outsider (another county or city) → 404 ``not_found``: existence does not leak;
* in scope without the action → 403 ``permission.denied`` (404 when the user may not even view such rows);
* in scope with the action → 2xx, plus a new audit row for writes.

Every error answer must have the one stable shape ``{code, message, fields}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ERROR_KEYS = {"code", "message", "fields"}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """``response`` is an error with ``status`` in the stable shape (and ``code`` when given)."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["fields"], dict), body
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


def call(client: Any, user: Any, method: str, url: str, data: Any = None) -> Any:
    """Make one request as ``user`` (``None``: anonymous) with DRF's ``APIClient``."""
    client.force_authenticate(user=user)
    try:
        return getattr(client, method.lower())(url, data, format="json")
    finally:
        client.force_authenticate(user=None)


def assert_scope_matrix(
    client: Any,
    *,
    method: str,
    url: str,
    data: Any = None,
    outsider: Any,
    without_permission: Any,
    with_permission: Any,
    without_permission_status: int = 403,
    success: Iterable[int] = (200, 201, 204),
    audited: bool | None = None,
) -> Any:
    """Assert the four cases for one object endpoint and return the successful response.

    ``audited`` defaults to True for writes (anything but GET/HEAD/OPTIONS): the successful call must add at least
    one audit row.
    """
    from jianguan.core.models import AuditEntry

    assert_error(call(client, None, method, url, data), 401, "auth.required")
    assert_error(call(client, outsider, method, url, data), 404, "not_found")
    expected_code = "permission.denied" if without_permission_status == 403 else "not_found"
    assert_error(call(client, without_permission, method, url, data), without_permission_status, expected_code)
    if audited is None:
        audited = method.upper() not in ("GET", "HEAD", "OPTIONS")
    before = AuditEntry.objects.count()
    response = call(client, with_permission, method, url, data)
    assert response.status_code in tuple(success), (response.status_code, response.content[:500])
    if audited:
        assert AuditEntry.objects.count() > before, "a successful write must leave an audit row"
    return response


def list_ids(client: Any, user: Any, url: str, key: str = "id", **params: Any) -> set[Any]:
    """Every ``key`` a list endpoint shows ``user`` (one large page)."""
    client.force_authenticate(user=user)
    try:
        response = client.get(url, {"page_size": 500, **params})
    finally:
        client.force_authenticate(user=None)
    assert response.status_code == 200, (response.status_code, response.content[:500])
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row[key] for row in rows}
