from operator import attrgetter

from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from ..memo import BoundedMemo
from ..models import AuditEntry


class FastOutputMixin:
    """An output serializer of plain objects (every source an attribute path, never a method or a mapping) that
    reads each plain field's source with one attrgetter, built once per serializer, instead of DRF's per-value
    checks for mappings, callables and missing relations: those were most of the cost of rendering the markets
    list (20 rows of 31 fields). A missing attribute, and every field that reads its own way (get_attribute
    overridden), goes through DRF's get_attribute; every value through the field's to_representation."""

    def to_representation(self, instance):
        plan = self.__dict__.get("_fast_plan")
        if plan is None:
            plan = self._fast_plan = [
                (field, attrgetter(".".join(field.source_attrs))
                 if type(field).get_attribute is serializers.Field.get_attribute and field.source != "*" else None)
                for field in self._readable_fields]
        ret = {}
        for field, getter in plan:
            if getter is not None:
                try:
                    value = getter(instance)
                except AttributeError:  # nothing there: DRF decides (the default, null, or left out)
                    getter = None
            if getter is None:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            check = value.pk if isinstance(value, PKOnlyObject) else value
            ret[field.field_name] = None if check is None else field.to_representation(value)
        return ret


class MemoOutputMixin:
    """An output serializer whose representation is a pure function of `memo_key(instance)`, kept in this process:
    an unchanged row (most of a list, most of the time) is not rendered again, and its fields are not even built.
    memo_key must cover everything the fields read. A row not seen yet is rendered by one instance of the class kept
    for the purpose, without the request's context (the answer is the key's alone), so that a request does not copy
    DRF's declared fields for its own instance. At most MEMO_SIZE answers are kept per serializer class (the keys
    move with the clock, so the table is emptied when full rather than tracked)."""

    MEMO_SIZE = 512

    def memo_key(self, instance):
        raise NotImplementedError

    def to_representation(self, instance):
        cls = type(self)
        memo = cls.__dict__.get("_memo")
        if memo is None:
            memo = cls._memo = BoundedMemo(self.MEMO_SIZE)
        key = self.memo_key(instance)
        hit = memo.get(key)
        if hit is None:
            renderer = cls.__dict__.get("_renderer")
            if renderer is None:
                renderer = cls._renderer = cls()
            hit = memo.keep(key, super(MemoOutputMixin, renderer).to_representation(instance))
        return dict(hit)  # the caller's own copy: nothing it does reaches the memo


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
