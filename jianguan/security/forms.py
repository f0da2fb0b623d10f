"""Forms of the security administration pages. Choice fields are limited to the acting user's scope."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from jianguan.core import validators
from jianguan.core.forms import RegionChoiceField
from jianguan.core.models import DepartmentKind, Organization, Role, User
from jianguan.core.roles import grantable_role_codes
from jianguan.core.services import TOKEN_ACTIONS
from jianguan.core.views.base import scoped_regions
from jianguan.lib import validators as v


class OrganizationChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Organization) -> str:
        return obj.name


class RoleMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Role) -> str:
        from jianguan.core.templatetags.jianguan import role_label

        return role_label(obj)


def _organizations(user: Any) -> QuerySet[Organization]:
    return Organization.objects.visible_to(user, "view").filter(active=True).select_related("region").order_by("code")


def _assignable_roles(user: Any) -> QuerySet[Role]:
    """The roles ``user`` may grant (the grant table in ``jianguan.core.roles``)."""
    return Role.objects.filter(code__in=grantable_role_codes(user)).order_by("code")


def _clean_phone(value: str) -> str:
    return validators.normalise(v.validate_mobile, value) if value else ""


# --- Organisations ----------------------------------------------------------------------------------------------------


class OrganizationCreateForm(forms.Form):
    region = RegionChoiceField(label=_("Region"), queryset=None)
    kind = forms.ModelChoiceField(label=_("Department kind"), queryset=DepartmentKind.objects.order_by("code"))
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("Leave empty to use the standard name, e.g. 南京市市场监督管理局."))
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False,
                           validators=[validators.validate_uscc])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = scoped_regions(user).order_by("code")  # type: ignore[attr-defined]

    def clean_uscc(self) -> str | None:
        value = self.cleaned_data.get("uscc") or ""
        return validators.normalise(v.validate_uscc, value) if value else None


class OrganizationEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False,
                           validators=[validators.validate_uscc])
    active = forms.BooleanField(label=_("Active"), required=False)

    def clean_uscc(self) -> str | None:
        value = self.cleaned_data.get("uscc") or ""
        return validators.normalise(v.validate_uscc, value) if value else None


# --- Users ------------------------------------------------------------------------------------------------------------


class UserCreateForm(forms.Form):
    username = forms.RegexField(label=_("Username"), max_length=150, regex=r"^[A-Za-z0-9_.@+-]+$",
                                error_messages={"invalid": _("Use letters, digits and . @ + - _ only.")})
    full_name = forms.CharField(label=_("Full name"), max_length=50)
    organization = OrganizationChoiceField(label=_("Department"), queryset=None)
    roles = RoleMultipleChoiceField(label=_("Roles"), queryset=None, required=False,
                                    widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False,
                            validators=[validators.validate_mobile])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = _organizations(user)  # type: ignore[attr-defined]
        self.fields["roles"].queryset = _assignable_roles(user)  # type: ignore[attr-defined]

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("phone") or "")


class UserEditForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=50)
    organization = OrganizationChoiceField(label=_("Department"), queryset=None)
    roles = RoleMultipleChoiceField(label=_("Roles"), queryset=None, required=False,
                                    widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False,
                            validators=[validators.validate_mobile],
                            help_text=_("Leave empty to keep the stored value."))
    is_active = forms.BooleanField(label=_("Account enabled"), required=False)

    def __init__(self, *args: Any, user: Any, target: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = _organizations(user)  # type: ignore[attr-defined]
        # Roles the target already holds stay listed (so saving does not silently drop them).
        assignable = _assignable_roles(user)
        held = list(target.roles.values_list("code", flat=True)) if target.pk else []
        self.fields["roles"].queryset = (  # type: ignore[attr-defined]
            Role.objects.filter(code__in=[*assignable.values_list("code", flat=True), *held]).order_by("code")
        )

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("phone") or "")


# --- Roles ------------------------------------------------------------------------------------------------------------


# Plumbing tables nobody works with through a role (outbox, idempotency records, the audit prune anchor).
INTERNAL_MODELS = ("auditanchor", "outboxevent", "processedevent")


def jianguan_permissions() -> QuerySet[Permission]:
    """Permissions of Jianguan's own apps (Django's built-in apps and plumbing tables are not administered here)."""
    labels = [c.label for c in apps.get_app_configs() if c.name.startswith("jianguan.")]
    return (
        Permission.objects.filter(content_type__app_label__in=labels)
        .exclude(content_type__model__in=INTERNAL_MODELS)
        .select_related("content_type")
        .order_by("content_type__app_label", "content_type__model", "codename")
    )


class RoleForm(forms.Form):
    permissions = forms.ModelMultipleChoiceField(label=_("Permissions"), queryset=None, required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    all_departments = forms.BooleanField(
        label=_("Sees all departments in its region"), required=False,
        help_text=_("Without this, members see only their own department's records."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = jianguan_permissions()  # type: ignore[attr-defined]


# --- API tokens -------------------------------------------------------------------------------------------------------


class UserChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        suffix = " ⚙" if obj.is_machine else ""
        return f"{obj.username}（{obj.display_name}）{suffix}"


class TokenIssueForm(forms.Form):
    user = UserChoiceField(label=_("Account"), queryset=None)
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. 南京市12345热线系统."))
    scopes = forms.MultipleChoiceField(label=_("Allowed actions"), widget=forms.CheckboxSelectMultiple,
                                       choices=[(a, a) for a in TOKEN_ACTIONS], initial=["view"])
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=366, initial=90)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (  # type: ignore[attr-defined]
            User.objects.visible_to(user, "view").filter(is_active=True, is_machine=True).order_by("username")
        )
        labels = {"view": _("View"), "add": _("Add"), "change": _("Change"), "delete": _("Delete"),
                  "export": _("Export")}
        self.fields["scopes"].choices = [(a, labels.get(a, a)) for a in TOKEN_ACTIONS]  # type: ignore[attr-defined]
