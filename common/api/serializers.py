from rest_framework import serializers

from ..models import AuditEntry


class RejectUnknownFieldsMixin:
    """A PATCH body names only fields the serializer has: a misspelt field is a 400, never silently ignored."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({unknown[0]: [f"Unknown field {unknown[0]}."]}, code="unknown_field")
        return super().to_internal_value(data)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = ["id", "actor", "created_at", "target", "field", "old_value", "new_value", "reason"]


class AuditRevertSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="why the change is undone (audited)")
