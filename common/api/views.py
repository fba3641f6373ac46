from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from .idempotency import IDEMPOTENCY_KEY, idempotent
from .parsers import body_object
from .serializers import AuditEntrySerializer, AuditRevertSerializer


class AuditListView(generics.ListAPIView):
    """Who changed what, when, from what, to what, and why."""

    serializer_class = AuditEntrySerializer
    permission_classes = [permissions.IsAdminUser]

    def get_queryset(self):
        return services.audit_list()


class AuditRevertView(APIView):
    """Undo one audited change (a reserve parameter, a haircut-policy field or a price source): the old value
    goes back through the same validated, audited service; the answer is the new audit row."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=AuditRevertSerializer, responses={201: AuditEntrySerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request, entry_id: int):
        serializer = AuditRevertSerializer(data=body_object(request))
        serializer.is_valid(raise_exception=True)
        entry = services.audit_revert(entry_id=entry_id, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(AuditEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
