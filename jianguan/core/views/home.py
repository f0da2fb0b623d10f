"""The dashboard: who and where the user is, and what they can see."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jianguan.core.models import EnforcementOfficer, Subject, User
from jianguan.core.views.base import login_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    counts = [
        {"code": "subjects", "value": Subject.objects.visible_to(user, "view").count(),
         "perm": user.has_perm("core.view_subject")},
        {"code": "officers", "value": EnforcementOfficer.objects.visible_to(user, "view").count(),
         "perm": user.has_perm("core.view_enforcementofficer")},
        {"code": "users", "value": User.objects.visible_to(user, "view").count(),
         "perm": user.has_perm("core.view_user")},
    ]
    context = {
        "counts": [c for c in counts if c["perm"]],
        "roles": list(user.roles.all()),  # type: ignore[union-attr]
    }
    return render(request, "core/home.html", context)
