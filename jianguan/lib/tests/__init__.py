"""Tests for :mod:`jianguan.lib` (pure functions, no database)."""

from __future__ import annotations
