from rest_framework import serializers

from ..models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = ["id", "actor", "created_at", "target", "field", "old_value", "new_value", "reason"]


class AuditRevertSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="why the change is undone (audited)")
