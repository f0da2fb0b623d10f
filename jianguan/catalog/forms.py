"""UI input validation for the catalogue pages; the services re-check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jianguan.catalog import services
from jianguan.catalog.choices import AdministrativeLevel, BasisLevel, BasisStatus, SupervisionMethod
from jianguan.catalog.models import PROVINCE_CODE, ItemVersion, LegalBasis
from jianguan.core.models import DepartmentKind, Organization
from jianguan.core.scope import user_sees_all_departments

TEXTAREA = forms.Textarea(attrs={"rows": 3})


def editable_department_kinds(user: Any) -> list[DepartmentKind]:
    """Departments whose provincial items ``user`` may create (their provincial department is in scope)."""
    orgs = Organization.objects.filter(region_id=PROVINCE_CODE).select_related("kind").order_by("kind_id")
    region = getattr(user, "region", None)
    if region is None or not PROVINCE_CODE.startswith(region.scope_prefix):
        return []
    if user_sees_all_departments(user):
        return [o.kind for o in orgs]
    return [o.kind for o in orgs if o.pk == user.organization_id]


class ContentForm(forms.Form):
    """The editable fields of a version."""

    name = forms.CharField(label=_("Name"), max_length=200)
    measures = forms.CharField(label=_("Supervision measures"), required=False, widget=TEXTAREA)
    targets = forms.CharField(label=_("Supervised objects"), required=False, widget=TEXTAREA)
    process = forms.CharField(label=_("Supervision process"), required=False, widget=TEXTAREA)
    result = forms.CharField(label=_("Supervision result"), required=False, widget=TEXTAREA)
    levels = forms.MultipleChoiceField(label=_("Supervision levels"), required=False,
                                       choices=AdministrativeLevel.choices, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)

    def content(self, citations: tuple[services.CitationData, ...]) -> services.ItemContent:
        data = self.cleaned_data
        return services.ItemContent(name=data["name"], measures=data["measures"], targets=data["targets"],
                                    process=data["process"], result=data["result"], levels=tuple(data["levels"]),
                                    citations=citations)

    @staticmethod
    def initial_for(version: ItemVersion) -> dict[str, Any]:
        return {"name": version.name, "measures": version.measures, "targets": version.targets,
                "process": version.process, "result": version.result, "levels": version.levels,
                "reason": version.change_reason}


class ItemCreateForm(ContentForm):
    department_kind = forms.ModelChoiceField(label=_("Supervising department"), queryset=DepartmentKind.objects.none())
    method = forms.ChoiceField(label=_("Supervision method"), choices=SupervisionMethod.choices)

    field_order = ["department_kind", "method", "name"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = editable_department_kinds(user)
        field = self.fields["department_kind"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = DepartmentKind.objects.filter(code__in=[k.code for k in kinds])
        field.label_from_instance = lambda kind: f"{kind.code} {kind.province_name}"  # type: ignore[method-assign]


class VersionEditForm(ContentForm):
    updated_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)


class CitationForm(forms.Form):
    basis = forms.ModelChoiceField(label=_("Legal basis"), queryset=LegalBasis.objects.exclude(
        status=BasisStatus.REPEALED).order_by("name"), required=False)
    article = forms.CharField(label=_("Article"), required=False, max_length=50,
                              widget=forms.TextInput(attrs={"placeholder": "第一百一十条"}))
    clause = forms.CharField(label=_("Clause"), required=False, max_length=100,
                             widget=forms.TextInput(attrs={"placeholder": "第一款"}))
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["basis"]
        assert isinstance(field, forms.ModelChoiceField)
        field.label_from_instance = lambda b: f"《{b.name}》"  # type: ignore[method-assign]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("basis") and (data.get("article") or data.get("text")):
            self.add_error("basis", _("Choose the law or regulation this citation refers to."))
        return data


CitationFormSet = forms.formset_factory(CitationForm, extra=2, can_delete=True, max_num=20, validate_max=True)


def citations_from(formset: Any) -> tuple[services.CitationData, ...]:
    out = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data.get("basis") or data.get("DELETE"):
            continue
        out.append(services.CitationData(data["basis"], data.get("article", ""), data.get("clause", ""),
                                         data.get("text", "")))
    return tuple(out)


def citation_initial(version: ItemVersion | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    return [{"basis": c.basis_id, "article": c.article, "clause": c.clause, "text": c.text}
            for c in version.citations.all()]


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Review comment"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class AbolishForm(forms.Form):
    reason = forms.CharField(label=_("Reason for abolition"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    abolished_on = forms.DateField(label=_("Abolished on"), widget=forms.DateInput(attrs={"type": "date"}))


class LegalBasisForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("Without the book-title marks"))
    level = forms.ChoiceField(label=_("Level"), choices=BasisLevel.choices)
    issuing_body = forms.CharField(label=_("Issuing body"), max_length=100, required=False)
    document_number = forms.CharField(label=_("Document number"), max_length=100, required=False)
    effective_on = forms.DateField(label=_("In force since"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    amended_on = forms.DateField(label=_("Last amended on"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    repealed_on = forms.DateField(label=_("Repealed on"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"), choices=BasisStatus.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)


class ReviseCitingForm(forms.Form):
    items = forms.MultipleChoiceField(label=_("Items to revise"), widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("Reason for the revision"), max_length=500)
    replace_with = forms.ModelChoiceField(label=_("Cite instead"), required=False,
                                          queryset=LegalBasis.objects.exclude(status=BasisStatus.REPEALED),
                                          help_text=_("Optional: the amended or replacing law or regulation"))
    submit = forms.BooleanField(label=_("Submit the revised drafts for review at once"), required=False)

    def __init__(self, *args: Any, items: list[tuple[int, str]], basis: LegalBasis, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["items"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(pk), label) for pk, label in items]
        replace = self.fields["replace_with"]
        assert isinstance(replace, forms.ModelChoiceField)
        replace.queryset = LegalBasis.objects.exclude(status=BasisStatus.REPEALED).exclude(pk=basis.pk).order_by(
            "name")


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (xlsx) or JSON export"))
    dry_run = forms.BooleanField(label=_("Check only (dry run)"), required=False)
    publish = forms.BooleanField(label=_("Publish at once (an approved catalogue)"), required=False)

    def __init__(self, *args: Any, can_publish: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_publish:
            del self.fields["publish"]


class ImplementationForm(forms.Form):
    item_code = forms.CharField(label=_("Item code"), max_length=14, min_length=14,
                                help_text=_("The 14-digit code of a published item"))
    organization = forms.ModelChoiceField(label=_("Implementing agency"), queryset=Organization.objects.none())
    handling_unit = forms.CharField(label=_("Handling unit"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact telephone"), max_length=50, required=False)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    local_basis = forms.CharField(label=_("Local basis"), required=False, widget=TEXTAREA)
    notes = forms.CharField(label=_("Local notes"), required=False, widget=TEXTAREA)

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (Organization.objects.visible_to(user, "view")
                          if user.has_perm("core.view_organization") else Organization.objects.none())
        if not user_sees_all_departments(user):
            field.queryset = field.queryset.filter(pk=user.organization_id)
        field.queryset = field.queryset.filter(active=True).order_by("region_id", "kind_id")
        if editing:
            del self.fields["item_code"]
            del self.fields["organization"]


class NationalLoadForm(forms.Form):
    file = forms.FileField(label=_("National catalogue file (xlsx or JSON)"))
    edition = forms.CharField(label=_("Edition"), max_length=40, required=False)


class MapForm(forms.Form):
    national_code = forms.CharField(label=_("National item code"), max_length=40)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
