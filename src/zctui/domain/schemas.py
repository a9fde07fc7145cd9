"""Pydantic schemas for the sections, built from the field specs in data/forms.yaml.

The tables keep whatever was typed; a schema is the strict form of a record, as an import
or an API accepts it: limits from the guide (lengths, lines), value checks (ID number,
刊号, ISBN …), catalog codes, and the required fields that hold regardless of the rest of
the application. Errors are the same Chinese messages the checklist shows.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator

from zctui.data.catalog import load_catalog
from zctui.data.forms import FieldSpec, SectionSpec, load_forms
from zctui.domain.fields import blank, field_error


class SectionSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    section_code: ClassVar[str] = ""

    @model_validator(mode="after")
    def _fields_valid(self) -> SectionSchema:
        """Whole-record checks: cascading selects need their siblings, so they run here."""
        section = load_forms().section(self.section_code)
        record = self.model_dump()
        catalog = load_catalog()
        problems = []
        for spec in section.fields:
            value = record.get(spec.name)
            if blank(value):
                if spec.required is True and not spec.readonly:
                    problems.append(f"请填写{spec.label}")
            elif msg := field_error(spec, value, record, catalog):
                problems.append(msg)
        if problems:
            raise ValueError("；".join(problems))
        return self


def _field_type(spec: FieldSpec) -> Any:
    # The limit is checked by the record validator (in Chinese); here it only documents.
    extra: dict[str, Any] | None = {"maxLength": spec.max_len} if spec.max_len else None
    info = Field(description=spec.help, title=spec.label, json_schema_extra=extra)
    return Annotated[str | None, AfterValidator(lambda v: v or None), info]


@cache
def record_schema(section_code: str) -> type[SectionSchema]:
    """The schema of one section's record, e.g. `record_schema("paper")`."""
    section: SectionSpec = load_forms().section(section_code)
    fields: dict[str, Any] = {f.name: (_field_type(f), None) for f in section.fields}
    model = create_model(
        f"{section.code.title().replace('_', '')}Record",
        __base__=SectionSchema,
        __doc__=f"{section.title}（{section.rule}）",
        **fields,
    )
    model.section_code = section.code
    return model
