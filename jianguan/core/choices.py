"""Stable codes for the kernel's enumerations (labels are translated, codes never change)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")


class RegionKind(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("Prefecture-level city")
    DISTRICT = "district", _("District")
    COUNTY_CITY = "county_city", _("County-level city")
    COUNTY = "county", _("County")


class SubjectType(models.TextChoices):
    """监管对象类型: the 机构类别码 of the USCC for market entities, plus other organisations."""

    ENTERPRISE = "enterprise", _("Enterprise")
    INDIVIDUAL = "individual", _("Individual business")
    COOPERATIVE = "cooperative", _("Farmers' cooperative")
    OTHER = "other", _("Other organisation")


class SubjectStatus(models.TextChoices):
    ACTIVE = "active", _("In business")
    REVOKED = "revoked", _("Licence revoked")
    DEREGISTERED = "deregistered", _("Deregistered")
    MOVED_OUT = "moved_out", _("Moved out")


class CompetenceField(models.TextChoices):
    """执法领域: fields an enforcement officer is certified for."""

    MARKET = "market", _("Market regulation")
    FOOD = "food", _("Food safety")
    DRUG = "drug", _("Drugs and medical devices")
    ENVIRONMENT = "environment", _("Ecology and environment")
    CONSTRUCTION = "construction", _("Housing and construction")
    TRANSPORT = "transport", _("Transport")
    AGRICULTURE = "agriculture", _("Agriculture")
    CULTURE = "culture", _("Culture and tourism")
    HEALTH = "health", _("Health")
    SAFETY = "safety", _("Work safety")
    PUBLIC_SECURITY = "public_security", _("Public security")
    NATURAL_RESOURCES = "natural_resources", _("Natural resources")
    URBAN = "urban", _("Urban management")
    OTHER = "other", _("Other")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGOUT = "logout", _("Logout")
    READ = "read", _("Sensitive read")
    EXPORT = "export", _("Export")
    EVENT = "event", _("Business event")
