from __future__ import annotations

app_name = "datacenter"
urlpatterns: list[object] = []
