"""Serializers for API token management: the secret is shown once, at creation."""

from __future__ import annotations

from rest_framework import serializers

from jianguan.core.api.serializers import ScopedPrimaryKeyRelatedField
from jianguan.core.models import ApiToken, User
from jianguan.core.services import TOKEN_ACTIONS


class ApiTokenSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Representation and create input; ``days`` is the validity period asked for at creation."""

    user = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), help_text="Account the token acts as")
    username = serializers.CharField(source="user.username", read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=list(TOKEN_ACTIONS)), allow_empty=False)
    days = serializers.IntegerField(write_only=True, default=30, help_text="Validity in days (1–366)")
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    usable = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "user",
            "username",
            "prefix",
            "scopes",
            "days",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "created_at",
            "created_by",
            "usable",
        ]
        read_only_fields = ["id", "prefix", "expires_at", "revoked_at", "last_used_at", "created_at"]

    def get_usable(self, token: ApiToken) -> bool:
        """Neither expired nor revoked (and the account is active)."""
        return token.is_usable()


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once; only a hash is stored")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "secret"]
