"""`model_diff`: human-readable lines for what changed between two versions of a model."""

from __future__ import annotations

from ops_pipeline.core.models.constraints import normalized_expression
from ops_pipeline.core.models.model import DataModel, Property
from ops_pipeline.core.models.pure import pure_type
from ops_pipeline.core.models.types import describe_type


def _prop_ref(prop: Property) -> str:
    return prop.name if prop.name == prop.column else f"{prop.name} (column {prop.column})"


def _multiplicity(prop: Property) -> str:
    return "[" + pure_type(prop, "").rsplit("[", 1)[1]


def model_diff(old: DataModel | None, new: DataModel) -> list[str]:
    """Human-readable lines for what changed from ``old`` to ``new`` (``old`` None: everything is new).

    ``+``/``-`` for added/removed properties, enums and constraints, ``~`` for changes. Properties are
    matched by column, enums and constraints by name (the constraint's PURE label).
    """
    lines: list[str] = []
    is_new = old is None
    if old is None:
        lines.append(f"+ class {new.path}")
        old = DataModel(new.name, new.package, new.source, new.table, (), (), (), dialect=new.dialect)
    elif old.path != new.path:
        lines.append(f"~ class {old.path} -> {new.path}")

    old_props = {p.column: p for p in old.properties}
    new_columns = {p.column for p in new.properties}
    for prop in new.properties:
        before = old_props.get(prop.column)
        if before is None:
            lines.append(f"+ property {_prop_ref(prop)}: {pure_type(prop, new.package).split('::')[-1]}")
            continue
        if before.name != prop.name:
            lines.append(f"~ property {_prop_ref(before)} renamed -> {prop.name}")
        old_label = describe_type(before.type, before.enum)
        new_label = describe_type(prop.type, prop.enum)
        if old_label != new_label:
            lines.append(f"~ property {_prop_ref(prop)}: {old_label} -> {new_label}")
        elif before.type != prop.type or before.sql_type != prop.sql_type:
            lines.append(f"~ property {_prop_ref(prop)}: sql type {before.sql_type} -> {prop.sql_type}")
        if _multiplicity(before) != _multiplicity(prop):
            lines.append(f"~ property {_prop_ref(prop)}: multiplicity {_multiplicity(before)} -> {_multiplicity(prop)}")
        if (before.description or "") != (prop.description or ""):
            lines.append(f"~ property {_prop_ref(prop)}: description changed")
    lines.extend(f"- property {_prop_ref(p)}" for p in old.properties if p.column not in new_columns)

    if old.primary_key != new.primary_key and not is_new:
        lines.append(f"~ primary key ({', '.join(old.primary_key)}) -> ({', '.join(new.primary_key)})")

    old_enums = {e.name: e for e in old.enums}
    new_enum_names = {e.name for e in new.enums}
    for enum in new.enums:
        previous = old_enums.get(enum.name)
        if previous is None:
            lines.append(f"+ enum {enum.name}: {'|'.join(enum.values)}")
        elif previous.values != enum.values:
            lines.append(f"~ enum {enum.name}: {'|'.join(previous.values)} -> {'|'.join(enum.values)}")
    lines.extend(f"- enum {e.name}" for e in old.enums if e.name not in new_enum_names)

    old_constraints = {c.label: c for c in old.constraints}
    new_labels = {c.label for c in new.constraints}
    for c in new.constraints:
        previous_c = old_constraints.get(c.label)
        if previous_c is None:
            lines.append(f"+ constraint {c.label}: {c.expression}")
        elif normalized_expression(previous_c.expression) != normalized_expression(c.expression):
            lines.append(f"~ constraint {c.label}: {previous_c.expression} -> {c.expression}")
    lines.extend(f"- constraint {c.label}" for c in old.constraints if c.label not in new_labels)
    return lines
