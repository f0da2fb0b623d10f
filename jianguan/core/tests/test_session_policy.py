"""Session policy: idle timeout, security headers."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone


def test_an_idle_session_expires(client, gulou_inspector, settings) -> None:
    client.force_login(gulou_inspector)
    assert client.get("/").status_code == 200
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 60), tick=False):
        assert client.get("/").status_code == 200  # activity renews the session
    with time_machine.travel(start + dt.timedelta(seconds=2 * settings.SESSION_IDLE_TIMEOUT - 120), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=3 * settings.SESSION_IDLE_TIMEOUT - 60), tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_pages_carry_the_security_headers(client) -> None:
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "X-Request-ID" in response


def test_the_client_address_behind_trusted_proxies(rf, settings) -> None:
    from jianguan.core.middleware import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_ip(request) == "10.0.0.1"  # forwarded headers are ignored unless proxies are declared
    settings.TRUSTED_PROXY_HOPS = 2
    assert client_ip(request) == "203.0.113.9"
    settings.TRUSTED_PROXY_HOPS = 1
    assert client_ip(request) == "10.0.0.2"
