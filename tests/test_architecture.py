"""Structural checks from STYLE.md B10: app boundaries, migrations, and the data-scope declarations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = {"catalog", "datacenter", "complaints", "inspections", "credit", "risk", "evaluation", "datashare",
               "exchange", "security"}
WHITELISTED_TARGETS = {("catalog", "supervisionitem"), ("catalog", "implementationitem")}


def test_no_foreign_key_crosses_between_domain_apps() -> None:
    offenders = []
    for model in apps.get_models():
        source = model._meta.app_label
        if source not in DOMAIN_APPS:
            continue
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete) or field.related_model is None:
                continue
            target = field.related_model._meta
            if target.app_label in (source, "core", "auth", "contenttypes"):
                continue
            if (target.app_label, target.model_name) in WHITELISTED_TARGETS:
                continue
            offenders.append(f"{model._meta.label}.{field.name} -> {target.label}")
    assert offenders == []


def test_the_import_boundaries_hold() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_no_migration_is_missing() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_every_business_model_declares_its_scope() -> None:
    """A model users can list must say which field carries its region (and department, or None for shared data)."""
    exempt = {"core.departmentkind", "core.industrycode", "core.role", "core.auditanchor", "core.outboxevent",
              "core.processedevent", "core.parametervalue"}
    missing = []
    for model in apps.get_models():
        label = model._meta.label_lower
        if not label.startswith(("core.", *(f"{a}." for a in DOMAIN_APPS))) or label in exempt:
            continue
        if not hasattr(model, "scope_region_field") or not hasattr(model, "scope_org_field"):
            missing.append(label)
    assert missing == []


PUBLIC_URL_NAMES = {
    "core:login", "core:logout", "core:otp_verify", "core:otp_enrol", "core:password_change", "set_language",
    # The public catalogue (published versions only).
    "catalog:public_list", "catalog:public_detail", "api:catalog-public-item-list", "api:catalog-public-item-detail",
}
# Whole namespaces that are public by design: the complaints portal and the Open311 face (api_key for writes).
PUBLIC_NAMESPACES = ("complaints_portal:", "open311:")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


@pytest.mark.django_db
def test_every_url_is_public_by_declaration_or_refuses_anonymous(client) -> None:
    """Anonymous requests to every named page or endpoint are refused unless the URL is declared public."""
    from django.urls import reverse
    from django.urls.exceptions import NoReverseMatch

    checked = 0
    for name, pattern in _walk(get_resolver().url_patterns):
        if name in PUBLIC_URL_NAMES or name.startswith(("admin:", *PUBLIC_NAMESPACES)):
            continue
        kwargs = {key: "00000000-0000-0000-0000-000000000001" if "uuid" in str(conv).lower() else "1"
                  for key, conv in pattern.pattern.converters.items()}
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        response = client.get(url)
        assert response.status_code in (302, 401, 403, 405), f"{name} ({url}) answered {response.status_code}"
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"], name
        checked += 1
    assert checked > 30
