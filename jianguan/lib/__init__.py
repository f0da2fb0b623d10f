"""Pure-Python helpers shared by every Jianguan app (no Django, no other jianguan packages)."""

from __future__ import annotations
