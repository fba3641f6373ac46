"""Querysets compiled once a process and run many times: the hot reads' SQL built by the ORM once, not per request.

py-spy under load: building the SQL text (`SQLCompiler.as_sql`) was a quarter of the web processes' CPU, for
statements whose shape never changes (an account's positions, its wallet, the reserves). `prepared(build)` compiles
build()'s queryset once per database alias, with markers for the arguments; afterwards a call only puts the
arguments where the markers were, runs the SQL on the current connection (inside the caller's transaction, if any)
and builds the instances as Django's ModelIterable does: the same columns, converters and select_related objects.

For reads whose arguments reach the SQL as they are: exact lookups on integers or strings, and `__in` lookups on a
list of them (compiled once per length of the list; never empty). A locking read
(select_for_update) is compiled and run inside a transaction only, as the ORM requires. A marker that does not come
back among the parameters is an error at compile time, never a wrong read; the tests compare each prepared read with
its queryset."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import QuerySet, signals
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

_MARKER_BASE = -7_346_912_000_000  # no row has such an id; compiled as is, found again among the parameters


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int, int, bool], ...]  # (parameter index, argument index, list index or -1, as text)
    model: type
    init_list: list[str]
    fields: tuple[int, int]  # the model's columns in a row: [start, end)
    populators: list
    converters: list
    locks: bool


def _shape(args) -> tuple[int, ...]:
    """Each argument's list length, -1 for a single value: the SQL differs only in an IN list's length."""
    return tuple([len(a) if type(a) in (list, tuple) else -1 for a in args]) if args else ()


class Prepared:
    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[tuple[str, tuple[int, ...]], _Compiled] = {}
        self._columns: dict[str, _Compiled] = {}  # any compiled form per alias: they all select the same columns
        self._lock = threading.Lock()

    def _compile(self, alias: str, shape: tuple[int, ...]) -> _Compiled:
        if 0 in shape:
            raise ValueError(f"{self.build} was given an empty list: an IN () matches nothing, ask for nothing")
        serial = iter(range(sum(max(length, 1) for length in shape)))
        markers = [_MARKER_BASE - next(serial) if length < 0 else [_MARKER_BASE - next(serial) for _ in range(length)]
                   for length in shape]
        where = {marker: (index, -1) for index, marker in enumerate(markers) if not isinstance(marker, list)}
        where.update({marker: (index, item) for index, group in enumerate(markers) if isinstance(group, list)
                      for item, marker in enumerate(group)})
        queryset = self.build(*markers)
        locks = queryset.query.select_for_update
        if locks and connections[alias].get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for position, value in enumerate(params):
            found = where.get(int(value)) if isinstance(value, int) or (
                isinstance(value, str) and value.lstrip("-").isdecimal()) else None
            if found is not None:
                slots.append((position, *found, isinstance(value, str)))
        if sorted(found[1:3] for found in slots) != sorted(where.values()):
            raise ValueError(f"an argument of {self.build} does not reach the SQL unchanged: {params}")
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        converters = list(compiler.get_converters([s[0] for s in select[:compiler.col_count]]).items())
        return _Compiled(sql, tuple(params), tuple(slots), klass_info["model"],
                         [s[0].target.attname for s in select[start:end]], (start, end),
                         get_related_populators(klass_info, select, alias), converters, locks)

    def _compiled_for(self, using: str, args: tuple) -> _Compiled:
        key = (using, _shape(args))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using, key[1])
                self._compiled[key] = compiled
                self._columns.setdefault(using, compiled)
        return compiled

    def rows(self, *args, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        """The rows as the database driver returns them, before any converter: equal rows are equal states, so a
        caller may keep what it built from one (`instance(row)`) while the row comes back unchanged."""
        compiled = self._compiled_for(using, args)
        params = list(compiled.params)
        for position, index, item, as_text in compiled.slots:
            value = args[index] if item < 0 else args[index][item]
            params[position] = str(value) if as_text else value
        connection = connections[using]
        if compiled.locks and connection.get_autocommit():  # a lock outside a transaction would end at once
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return cursor.fetchall()

    def instance(self, row: tuple, *, using: str = DEFAULT_DB_ALIAS):
        """The instance (with its select_related objects) of one of rows()'s rows, as Django's ModelIterable
        builds it."""
        return self._instances([row], self._columns[using], using)[0]

    @staticmethod
    def _instances(rows, compiled: _Compiled, using: str) -> list:
        connection = connections[using]
        start, end = compiled.fields
        objects = []
        for row in rows:
            if compiled.converters:
                row = list(row)
                for position, (functions, expression) in compiled.converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
            obj = compiled.model.from_db(using, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def __call__(self, *args, using: str = DEFAULT_DB_ALIAS) -> list:
        rows = self.rows(*args, using=using)
        return self._instances(rows, self._columns[using], using) if rows else []

    def first(self, *args, using: str = DEFAULT_DB_ALIAS):
        """The first row, or None."""
        rows = self(*args, using=using)
        return rows[0] if rows else None


def prepared(build: Callable[..., QuerySet]) -> Prepared:
    """`build(*args)` -> the queryset; the result, called with the same arguments, returns its rows as a list."""
    return Prepared(build)


_updates: dict[tuple, tuple[str, list]] = {}  # (model, fields, vendor) -> (UPDATE's SQL, its fields)


def _update_sql(model, names: tuple[str, ...], connection) -> tuple[str, list]:
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    for field in fields:
        # what save() would do differently: a value computed at save time, or a placeholder other than %s
        if not field.concrete or field.primary_key or getattr(field, "auto_now", False) \
                or hasattr(field, "get_placeholder"):
            raise ValueError(f"update_columns writes plain columns only, not {meta.label}.{field.name}")
    sql = (f"UPDATE {quote(meta.db_table)} SET " + ", ".join(f"{quote(f.column)} = %s" for f in fields)
           + f" WHERE {quote(meta.pk.column)} = %s")
    return sql, fields


def update_columns(instance, fields, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """`instance.save(update_fields=fields)` for plain columns, as QuerySet.update writes them (no signals: none of
    the rows written this way has receivers): each value through its field's get_db_prep_save, as the ORM's UPDATE
    does. Raises DatabaseError when no row matched, as save() does."""
    connection = connections[using]
    key = (type(instance), tuple(fields), connection.vendor)
    found = _updates.get(key)
    if found is None:
        found = _updates[key] = _update_sql(type(instance), key[1], connection)
    sql, columns = found
    params = [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in columns]
    params.append(instance.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != 1:
            raise DatabaseError(f"update_columns did not affect {type(instance).__name__} {instance.pk}")


_inserts: dict[tuple, tuple[str, list]] = {}  # (model, vendor) -> (INSERT's SQL, its fields)


def _insert_sql(model, connection) -> tuple[str, list]:
    meta, quote = model._meta, connection.ops.quote_name
    if meta.auto_field is None or meta.db_returning_fields != [meta.pk] or meta.parents:
        raise ValueError(f"insert_row writes models with an auto primary key and no other returned column, "
                         f"not {meta.label}")
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    for field in fields:
        if hasattr(field, "get_placeholder") or getattr(field, "generated", False):
            raise ValueError(f"insert_row writes plain columns only, not {meta.label}.{field.name}")
    sql = (f"INSERT INTO {quote(meta.db_table)} (" + ", ".join(quote(f.column) for f in fields) + ") VALUES ("
           + ", ".join(["%s"] * len(fields)) + ")")
    if connection.features.can_return_columns_from_insert:
        returning, _ = connection.ops.return_insert_columns([meta.pk])
        sql += " " + returning
    return sql, fields


def insert_row(instance, *, using: str = DEFAULT_DB_ALIAS):
    """`instance.save()` of a new row, on INSERT SQL written once per model: each value through its field's pre_save
    (auto_now_add) and get_db_prep_save as the ORM's INSERT does, the new primary key set on the instance. A model
    with save receivers is saved by the ORM instead, so that they run."""
    model = type(instance)
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        instance.save(force_insert=True, using=using)
        return instance
    connection = connections[using]
    key = (model, connection.vendor)
    found = _inserts.get(key)
    if found is None:
        found = _inserts[key] = _insert_sql(model, connection)
    sql, fields = found
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_columns_from_insert:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    instance.pk = pk
    instance._state.adding, instance._state.db = False, using
    return instance
