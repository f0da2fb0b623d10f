"""UI forms of 投诉举报: input validation and widgets only. Department choices are limited to the user's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jianguan.complaints.choices import ComplaintKind, Rating, RejectionGround, ReturnReason
from jianguan.complaints.models import Category
from jianguan.complaints.services import IntakeRecord
from jianguan.core.forms import UnmaskForm as CoreUnmaskForm
from jianguan.core.models import Organization, Region

INTAKE_KIND_CHOICES = [
    *ComplaintKind.choices[:2],
    ("complaint_report", _("Both a complaint and a report")),
    *ComplaintKind.choices[2:],
]


def _public_regions() -> list[tuple[str, str]]:
    choices = [("", _("Not sure (we will find out from the address)"))]
    for region in Region.objects.filter(active=True, level__in=("city", "county")).order_by("code"):
        indent = "\u3000" if region.level == "county" else ""
        choices.append((region.code, f"{indent}{region.name}"))
    return choices


def _leaf_categories() -> list[tuple[str, str]]:
    choices = [("", "---------")]
    for category in Category.objects.filter(active=True, parent__isnull=False).select_related("parent"):
        choices.append((category.code, f"{category.parent.name if category.parent else ''} › {category.name}"))
    return choices


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class IntakeForm(forms.Form):
    """The public submission form (also used by 12345 operators to register a call)."""

    kind = forms.ChoiceField(label=_("Type"), choices=INTAKE_KIND_CHOICES, initial="complaint")
    title = forms.CharField(label=_("Subject line"), max_length=200, required=False)
    content = forms.CharField(label=_("What happened"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}),
                              help_text=_("Who, when, where, what; what you ask for."))
    occurred_on = forms.DateField(label=_("Date it happened"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    region_code = forms.ChoiceField(label=_("Region"), required=False)
    place_address = forms.CharField(label=_("Where it happened"), max_length=300, required=False)
    subject_name = forms.CharField(label=_("Business or entity concerned"), max_length=200, required=False)
    subject_uscc = forms.CharField(label=_("Its unified social credit code (if known)"), max_length=18,
                                   required=False)
    subject_address = forms.CharField(label=_("Its address"), max_length=300, required=False)
    anonymous = forms.BooleanField(label=_("Submit anonymously (reports only)"), required=False)
    reporter_name = forms.CharField(label=_("Your name"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("Your phone"), max_length=20, required=False)
    reporter_id_number = forms.CharField(label=_("Your ID number (optional)"), max_length=18, required=False)
    reporter_address = forms.CharField(label=_("Your address (optional)"), max_length=300, required=False)
    attachments = MultipleFileField(label=_("Attachments (JPG, PNG or PDF, up to 5 files of 10 MB)"),
                                    required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = _public_regions()

    def record(self) -> IntakeRecord:
        data = self.cleaned_data
        anonymous = bool(data.get("anonymous"))
        return IntakeRecord(
            kind=data["kind"], title=data.get("title", ""), content=data["content"],
            occurred_on=data.get("occurred_on"), region_code=data.get("region_code") or None,
            place_address=data.get("place_address", ""), subject_name=data.get("subject_name", ""),
            subject_uscc=data.get("subject_uscc", ""), subject_address=data.get("subject_address", ""),
            anonymous=anonymous,
            reporter_name="" if anonymous else data.get("reporter_name", ""),
            reporter_phone="" if anonymous else data.get("reporter_phone", ""),
            reporter_id_number="" if anonymous else data.get("reporter_id_number", ""),
            reporter_address="" if anonymous else data.get("reporter_address", ""),
        )


class TrackForm(forms.Form):
    ticket_no = forms.CharField(label=_("Ticket number"), max_length=24)
    code = forms.CharField(label=_("Tracking code"), max_length=12,
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))


class PublicRateForm(TrackForm):
    rating = forms.ChoiceField(label=_("Your rating"), choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment"), max_length=300, required=False)


# --- staff action forms -------------------------------------------------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AcceptForm(NoteForm):
    category = forms.ChoiceField(label=_("Category"))
    kind = forms.ChoiceField(label=_("Type"), choices=ComplaintKind.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _leaf_categories()


class ClassifyForm(NoteForm):
    category = forms.ChoiceField(label=_("Category"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _leaf_categories()


class RejectForm(NoteForm):
    ground = forms.ChoiceField(label=_("Ground"), choices=RejectionGround.choices)


class MergeForm(NoteForm):
    into = forms.CharField(label=_("Merge into ticket number"), max_length=24)


class DispatchForm(NoteForm):
    lead_org = forms.ModelChoiceField(label=_("Lead unit"), queryset=Organization.objects.none(), required=False,
                                      help_text=_("Leave empty to follow the dispatch catalogue."))
    co_orgs = forms.ModelMultipleChoiceField(label=_("Co-units"), queryset=Organization.objects.none(),
                                             required=False)

    def __init__(self, *args: Any, user: Any = None, region_prefix: str = "32", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prefix = user.region.scope_prefix if user is not None and user.region_id else "none"
        queryset = Organization.objects.filter(active=True, region__code__startswith=prefix).filter(
            region__code__startswith=region_prefix[:4] if len(region_prefix) >= 4 else region_prefix
        ).select_related("region").order_by("region_id", "kind_id")
        self.fields["lead_org"].queryset = queryset
        self.fields["co_orgs"].queryset = queryset


class ReturnForm(NoteForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnReason.choices)


class DecideForm(NoteForm):
    accepted = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "yes",
                                      choices=[("yes", _("Accept for handling")), ("no", _("Do not accept"))])
    ground = forms.ChoiceField(label=_("Ground (when not accepted)"), required=False,
                               choices=[("", "---------"), *RejectionGround.choices])
    case_opened = forms.NullBooleanField(label=_("Case opened (reports)"), required=False)


class TellReporterForm(NoteForm):
    method = forms.CharField(label=_("How the reporter was told"), max_length=50,
                             help_text=_("e.g. phone call, letter, SMS"))


class ProgressForm(forms.Form):
    note = forms.CharField(label=_("Investigation note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("Reply to the person"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    result = forms.CharField(label=_("Handling result"), max_length=5000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DirectAnswerForm(forms.Form):
    reply = forms.CharField(label=_("Answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class RequiredNoteForm(forms.Form):
    note = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class VisitForm(NoteForm):
    rating = forms.ChoiceField(label=_("Rating"), choices=Rating.choices)


class SuperviseForm(forms.Form):
    instructions = forms.CharField(label=_("Instructions"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    reply_days = forms.IntegerField(label=_("Answer within (working days)"), min_value=1, max_value=30,
                                    required=False)


class AnswerSupervisionForm(forms.Form):
    supervision = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.CharField(label=_("Answer"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(label=_("Extra working days"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ExtensionDecisionForm(NoteForm):
    extension = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "yes",
                                     choices=[("yes", _("Approve")), ("no", _("Refuse"))])


class LinkSubjectForm(forms.Form):
    subject = forms.IntegerField(label=_("Entity id"), min_value=1)


class UnmaskForm(CoreUnmaskForm):
    required_message = _("A reason is required to view the reporter's identity.")
    placeholder = _("e.g. calling back to arrange mediation")


def today() -> dt.date:
    return dt.date.today()
