"""`build_model`: a scanned `Table` -> `DataModel` (properties, enums, merged constraints)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ops_pipeline.core.catalog import Table
from ops_pipeline.core.models.constraints import ConstraintSpec, from_spec, merge_constraints, not_null
from ops_pipeline.core.models.model import DataModel, DraftModel, EnumType, Property
from ops_pipeline.core.models.naming import check_package, enum_value_identifier, pure_identifier, unique_name
from ops_pipeline.core.models.types import NO_ENUMS, ModelType, TypeRules, map_sql_type


def _enum_of(model_type: ModelType) -> ModelType | None:
    if model_type.kind == "enum":
        return model_type
    if model_type.kind == "array" and model_type.item is not None:
        return _enum_of(model_type.item)
    return None


def build_model(
    table: Table,
    *,
    rules: TypeRules,
    package: str,
    constraints: Sequence[ConstraintSpec] = (),
    enums: Mapping[str, Sequence[str]] = NO_ENUMS,
    source: str = "",
) -> DataModel:
    """The model of ``table``: properties from its columns (their types read with the source database's
    ``rules``), enums, and the merged constraints.

    Raises ValueError for an invalid package, or a constraint spec that names an unknown field or does not
    fit the field's type (the message names the constraint and the field).
    """
    check_package(package)
    class_name = pure_identifier(table.entity_name or table.name, style="pascal", fallback="Model")
    taken: set[str] = set()
    properties: list[Property] = []
    for index, column in enumerate(table.columns, start=1):
        name = unique_name(pure_identifier(column.name, fallback=f"column{index}"), taken)
        properties.append(
            Property(
                name=name,
                column=column.name,
                type=map_sql_type(column.data_type, rules, enums),
                required=not column.nullable,
                description=column.comment or None,
                sql_type=column.data_type,
            )
        )

    enum_types: dict[str, EnumType] = {}
    by_key: dict[tuple[str | None, tuple[str, ...], str], str] = {}
    type_names: set[str] = {class_name}
    for i, prop in enumerate(properties):
        enum = _enum_of(prop.type)
        if enum is None:
            continue
        if enum.name is not None:
            key: tuple[str | None, tuple[str, ...], str] = (enum.name, enum.values, "")
            base = pure_identifier(enum.name.replace('"', "").rsplit(".", 1)[-1], style="pascal", fallback="Enum")
        else:
            key = (None, enum.values, prop.column)
            base = class_name + pure_identifier(prop.column, style="pascal", fallback=f"Column{i + 1}")
        if key not in by_key:
            enum_name = unique_name(base, type_names)
            by_key[key] = enum_name
            idents: set[str] = set()
            identifiers = tuple(unique_name(enum_value_identifier(v), idents) for v in enum.values)
            enum_types[enum_name] = EnumType(enum_name, enum.values, identifiers, enum.name)
        properties[i] = Property(
            prop.name, prop.column, prop.type, prop.required, prop.description, prop.sql_type, by_key[key]
        )

    draft = DraftModel(table.qualified_name, package, properties, enum_types)
    candidates = [not_null(p, origin="model") for p in properties if p.required and p.type.kind != "array"]
    candidates.extend(from_spec(spec, draft) for spec in constraints)
    return DataModel(
        name=class_name,
        package=package,
        source=source,
        table=table.qualified_name,
        properties=tuple(properties),
        primary_key=tuple(table.primary_key),
        constraints=merge_constraints(candidates, properties),
        enums=tuple(enum_types.values()),
        description=table.comment or None,
        dialect=rules.label,
    )
