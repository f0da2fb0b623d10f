"""API token management (security administrators): list, issue (secret shown once), revoke."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from jianguan.core import services
from jianguan.core.api.base import ScopedReadOnlyViewSet
from jianguan.core.models import ApiToken
from jianguan.security.api.serializers import ApiTokenCreatedSerializer, ApiTokenSerializer


@extend_schema_view(create=extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer}))
class ApiTokenViewSet(ScopedReadOnlyViewSet):
    """接口令牌 of accounts inside the caller's scope."""

    queryset = ApiToken.objects.select_related("user", "created_by")
    serializer_class = ApiTokenSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ApiTokenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        caller_token = request.auth if isinstance(request.auth, ApiToken) else None
        token, secret = services.issue_token(
            actor=request.user,
            user=data["user"],
            name=data["name"],
            scopes=data["scopes"],
            days=data["days"],
            actor_scopes=caller_token.scopes if caller_token is not None else None,
        )
        token.secret = secret  # type: ignore[attr-defined]
        return Response(ApiTokenCreatedSerializer(token, context=self.get_serializer_context()).data, status=201)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"], permission_action="change", required_scope="change")
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke the token at once (idempotent)."""
        token = services.revoke_token(self.get_object(), actor=request.user)
        return Response(self.represent(token))
