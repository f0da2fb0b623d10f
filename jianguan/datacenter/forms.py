"""Forms of the data centre's pages (input validation and widgets only; the rules live in the services)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jianguan.core.forms import UnmaskForm as CoreUnmaskForm
from jianguan.core.models import Organization
from jianguan.datacenter.choices import Channel, FileFormat, Library, SourceKind
from jianguan.datacenter.pipeline.fields import ENTITY_FIELDS


class JSONTextField(forms.CharField):
    """A JSON object typed into a text area."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise forms.ValidationError(_("Not valid JSON.")) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(_("A JSON object is expected."))
        return data

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, indent=1)
        return value


class SourceForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=SourceKind.choices)
    library = forms.ChoiceField(label=_("Library"), choices=Library.choices, initial=Library.ENTITIES)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.FILE)
    file_format = forms.ChoiceField(label=_("File format"), choices=[("", "—"), *FileFormat.choices], required=False)
    owner = forms.ModelChoiceField(label=_("Owning department"), queryset=Organization.objects.none())
    field_mapping = JSONTextField(label=_("Field mapping"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_('Canonical field → column, e.g. {"uscc": "信用代码"}; empty: '
                                              "usual headers are recognised"))
    options = JSONTextField(label=_("Options"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    schedule_minutes = forms.IntegerField(label=_("Pull every (minutes)"), min_value=1, required=False)
    priority = forms.IntegerField(label=_("Priority"), min_value=0, max_value=1000, initial=50)
    freshness_days = forms.IntegerField(label=_("Data is timely for (days)"), min_value=1, initial=30)
    contact_name = forms.CharField(label=_("Contact"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Organization.objects.in_scope_of(user).filter(active=True).order_by("code")
        if editing:
            for name in ("code", "owner"):
                self.fields.pop(name)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("owner", None)
        if data.get("schedule_minutes") is None:
            data["schedule_minutes"] = None
        return data


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("CSV, XLSX, JSON Lines or Parquet"))
    force = forms.BooleanField(label=_("Process even if the same content was loaded before"), required=False)


class CorrectionForm(forms.Form):
    """One text input per canonical field, pre-filled with the delivered (or already corrected) values — personal
    ones in their masked form unless revealed (the service keeps a value submitted in its masked form)."""

    def __init__(self, *args: Any, values: dict[str, str], problem_fields: set[str],
                 fields: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in fields or [(f.name, f.label) for f in ENTITY_FIELDS]:
            self.fields[name] = forms.CharField(label=label, required=False, initial=values.get(name))
            if name in problem_fields:
                self.fields[name].widget.attrs["class"] = "has-problem"


class UnmaskForm(CoreUnmaskForm):
    required_message = _("A reason is required to view personal data.")
    placeholder = _("e.g. checking the delivered phone number to correct it")
    field_prefix = "unmask"  # the page has the discard form's reason field too


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ResolveForm(forms.Form):
    apply = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                   choices=[("1", _("Apply the incoming value")), ("0", _("Keep the current value"))])
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
