"""Framework plumbing only: automatic change capture for ``AuditedModel``, login/logout audit, and dropping cached
token look-ups when credentials change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import signals as auth_signals
from django.db import models
from django.db.models import signals

from jianguan.core import audit
from jianguan.core.fields import EncryptedTextField

MASKED = "******"


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Field values for the audit diff; encrypted fields are recorded only as changed, never in clear."""
    exclude = set(getattr(type(instance), "audit_exclude", ()))
    personal_fields: tuple[str, ...] = getattr(instance, "personal_data_fields", tuple)()
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = getattr(instance, field.attname)
        if isinstance(field, EncryptedTextField) or field.name in personal_fields:
            value = MASKED if value else ""
            data[field.name] = value
            data[f"{field.name}__fingerprint"] = _fingerprint(getattr(instance, field.attname))
            continue
        data[field.name] = value
    return data


def _fingerprint(value: Any) -> str:
    if not value:
        return ""
    from jianguan.core.fields import blind_index

    return blind_index(str(value))[:12]


def _is_audited(sender: Any) -> bool:
    from jianguan.core.models import AuditedModel

    return isinstance(sender, type) and issubclass(sender, AuditedModel)


def _pre_save(sender: Any, instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    if raw or not _is_audited(sender):
        return
    instance._audit_before = None  # type: ignore[attr-defined]
    if instance.pk is not None and not instance._state.adding:
        previous = sender._default_manager.filter(pk=instance.pk).first()
        if previous is not None:
            instance._audit_before = snapshot(previous)  # type: ignore[attr-defined]


def _post_save(sender: Any, instance: models.Model, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not _is_audited(sender):
        return
    after = snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if created or before is None:
        audit.append("create", target=instance, after=after)
        return
    changed = {k for k in after if before.get(k) != after.get(k)}
    if not changed:
        return
    audit.append(
        "update",
        target=instance,
        before={k: before.get(k) for k in sorted(changed)},
        after={k: after[k] for k in sorted(changed)},
    )


def _post_delete(sender: Any, instance: models.Model, **kwargs: Any) -> None:
    if not _is_audited(sender):
        return
    audit.append("delete", target=instance, before=snapshot(instance))


def _m2m_changed(sender: Any, instance: models.Model, action: str, pk_set: Any, model: Any, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or not _is_audited(type(instance)):
        return
    if action != "post_clear" and not pk_set:
        return
    field_name = next(
        (f.name for f in instance._meta.many_to_many if f.remote_field.through is sender), sender.__name__
    )
    audit.append(
        "update",
        target=instance,
        details={
            "relation": field_name,
            "change": action.removeprefix("post_"),
            "ids": sorted(str(pk) for pk in (pk_set or [])),
        },
    )


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    ctx = audit.context_for_user(user, ip=_ip(request), request_id=getattr(request, "request_id", ""))
    audit.append("login", target=user, context=ctx)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    ctx = audit.context_for_user(user, ip=_ip(request), request_id=getattr(request, "request_id", ""))
    audit.append("logout", target=user, context=ctx)


def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    ctx = audit.AuditContext(
        actor_name=username or "anonymous", ip=_ip(request), request_id=getattr(request, "request_id", "")
    )
    audit.append(
        "login_failed",
        object_type="core.user",
        object_repr=username,
        success=False,
        details={"reason": kwargs.get("reason", "bad_credentials")},
        context=ctx,
    )


def _ip(request: Any) -> str:
    from jianguan.core.middleware import client_ip

    return client_ip(request)


def _credentials_changed(sender: Any, **kwargs: Any) -> None:
    from jianguan.core.services import forget_cached_tokens

    forget_cached_tokens()


def connect() -> None:
    from jianguan.core.models import ApiToken, Role, User

    for model in (User, Role, ApiToken):
        signals.post_save.connect(_credentials_changed, sender=model, dispatch_uid=f"jianguan_tokens_{model.__name__}")
        signals.post_delete.connect(_credentials_changed, sender=model,
                                    dispatch_uid=f"jianguan_tokens_del_{model.__name__}")
    for through in (User.roles.through, Role.permissions.through):
        signals.m2m_changed.connect(_credentials_changed, sender=through,
                                    dispatch_uid=f"jianguan_tokens_m2m_{through.__name__}")
    signals.pre_save.connect(_pre_save, dispatch_uid="jianguan_audit_pre_save")
    signals.post_save.connect(_post_save, dispatch_uid="jianguan_audit_post_save")
    signals.post_delete.connect(_post_delete, dispatch_uid="jianguan_audit_post_delete")
    signals.m2m_changed.connect(_m2m_changed, dispatch_uid="jianguan_audit_m2m")
    auth_signals.user_logged_in.connect(_logged_in, dispatch_uid="jianguan_audit_login")
    auth_signals.user_logged_out.connect(_logged_out, dispatch_uid="jianguan_audit_logout")
    auth_signals.user_login_failed.connect(_login_failed, dispatch_uid="jianguan_audit_login_failed")
