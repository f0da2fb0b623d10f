"""UI forms of the kernel: input validation and widgets only. Choice fields are limited to the user's scope."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from jianguan.core import validators
from jianguan.core.choices import CompetenceField, SubjectStatus, SubjectType
from jianguan.core.models import IndustryCode, Organization, Region
from jianguan.core.views.base import scoped_regions
from jianguan.lib import validators as v


class RegionChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Region) -> str:
        indent = {"city": "\u3000", "county": "\u3000\u3000"}.get(obj.level, "")
        return f"{indent}{obj.name}"


class IndustryChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: IndustryCode) -> str:
        return f"{obj.code} {obj.name}"


# --- Sign-in ----------------------------------------------------------------------------------------------------------


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OtpForm(forms.Form):
    code = forms.RegexField(
        label=_("Verification code"), regex=r"^\s*\d{6}\s*$", max_length=8,
        error_messages={"invalid": _("Enter the 6-digit code shown in your authenticator app.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
                                      "pattern": "[0-9]{6}", "maxlength": "6", "class": "code-input"}),
    )


# Django 5.2's MinimumLengthValidator formats its error with "%d", a msgid its own zh_Hans catalogue lacks (it has
# the "%(min_length)d" variant). Declaring it here keeps it in our catalogue, so the message shows in Chinese.
DJANGO_MESSAGES_MISSING_IN_ZH = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("New password"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    confirm_password = forms.CharField(label=_("Confirm new password"), strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password"].help_text = password_validation.password_validators_help_text_html()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new, confirm = data.get("new_password"), data.get("confirm_password")
        if new and confirm and new != confirm:
            self.add_error("confirm_password", _("The two new passwords do not match."))
        return data


# --- Master data ------------------------------------------------------------------------------------------------------


class SubjectForm(forms.Form):
    """监管对象 create/edit. The service re-validates and re-checks scope; this form gives early, per-field errors."""

    uscc = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False,
                           validators=[validators.validate_uscc])
    name = forms.CharField(label=_("Name"), max_length=200)
    subject_type = forms.ChoiceField(label=_("Type"), choices=SubjectType.choices)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=50, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none())
    industry = IndustryChoiceField(label=_("Industry"), queryset=IndustryCode.objects.none(), required=False)
    registered_capital = forms.DecimalField(label=_("Registered capital (10k CNY)"), max_digits=16, decimal_places=4,
                                            required=False, min_value=0)
    established_on = forms.DateField(label=_("Established on"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"), choices=SubjectStatus.choices, initial=SubjectStatus.ACTIVE)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = scoped_regions(user).order_by("code")  # type: ignore[attr-defined]
        # GB/T 4754 is national reference data (no data scope): the whole classification is offered.
        self.fields["industry"].queryset = IndustryCode.objects.order_by("code")  # type: ignore[attr-defined]

    def clean_uscc(self) -> str | None:
        value = self.cleaned_data.get("uscc") or ""
        return validators.normalise(v.validate_uscc, value) if value else None

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class OfficerForm(forms.Form):
    """执法人员 create/edit. On edit the ID number and phone are never pre-filled (that would reveal them unaudited):
    leaving them empty keeps the stored values."""

    name = forms.CharField(label=_("Full name"), max_length=50)
    id_number = forms.CharField(label=_("ID number"), max_length=18, validators=[validators.validate_id_number])
    certificate_no = forms.CharField(label=_("Certificate number"), max_length=30)
    organization = forms.ModelChoiceField(label=_("Department"), queryset=Organization.objects.none())
    competence = forms.MultipleChoiceField(label=_("Fields of competence"), choices=CompetenceField.choices,
                                       widget=forms.CheckboxSelectMultiple, required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False,
                            validators=[validators.validate_mobile])
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["organization"].queryset = (  # type: ignore[attr-defined]
            Organization.objects.visible_to(user, "view").filter(active=True).select_related("region")
        )
        if editing:
            for name in ("id_number", "phone"):
                field = self.fields[name]
                field.required = False
                field.help_text = _("Leave empty to keep the stored value.")

    def clean_id_number(self) -> str:
        value = self.cleaned_data.get("id_number") or ""
        return validators.normalise(v.validate_id_number, value) if value else ""

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone") or ""
        return validators.normalise(v.validate_mobile, value) if value else ""

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["fields"] = data.pop("competence", [])  # the model's name; a form attribute may not be called "fields"
        if self.editing:
            for name in ("id_number", "phone"):
                if not data.get(name):
                    data.pop(name, None)
        return data


class UnmaskForm(forms.Form):
    """The reason asked before personal data is shown in full (the reason goes into the audit event). Each page
    that reveals something subclasses it with its own ``required_message`` and ``placeholder``."""

    required_message: Any = _("A reason is required to view personal data in full.")
    placeholder: Any = _("e.g. case 2024-031: contacting the officer")
    field_prefix = ""  # an ``auto_id`` prefix, for a page with another form's ``reason`` field

    reason = forms.CharField(label=_("Reason for viewing"), max_length=500, min_length=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.field_prefix:
            kwargs.setdefault("auto_id", f"{self.field_prefix}_%s")
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        reason.error_messages["required"] = self.required_message
        reason.widget.attrs["placeholder"] = self.placeholder
