"""Template context for the web shell: the user's place, and the modules they may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from jianguan.core.navigation import modules_for, portal_modules


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_modules": [], "portal_modules": portal_modules}
    return {"nav_modules": modules_for(user), "portal_modules": portal_modules}
