"""The base of every parameter model, and errors that name the key, value and rule.

Every block of ``conf/*/parameters_*.yml`` has a frozen pydantic model. Unknown keys
are refused at any depth (``extra="forbid"``), so a typo stops the run before the
first node instead of silently falling back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class Params(BaseModel):
    """Frozen, strict about unknown keys; the base of every parameter block."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterError(ValueError):
    """A parameter that is unknown, of the wrong type or out of range.

    The message lists every problem as ``<full.key.path> = <value>: <what is
    allowed>``.
    """


def _model_at(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the last key of ``path`` (None if unknown)."""
    current: Any = model
    for key in path[:-1]:
        if _is_model(current) and key in current.model_fields:
            current = _inner_model(current.model_fields[key].annotation)
        # Otherwise ``key`` is a list index or a dict key: ``current`` is already the
        # model of the items.
    return current if _is_model(current) else None


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _inner_model(annotation: Any) -> Any:
    """The model inside ``list[Model]``, ``dict[str, Model]`` or ``Model | None``."""
    if _is_model(annotation):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        inner = _inner_model(argument)
        if inner is not None:
            return inner
    return None


def _describe(error: Mapping[str, Any], prefix: str, model: type[BaseModel]) -> str:
    path = tuple(error["loc"])
    key = ".".join(str(part) for part in (prefix, *path) if part != "")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        owner = _model_at(model, path)
        allowed = ", ".join(owner.model_fields) if owner is not None else "see the parameters file"
        return f"{key} = {value!r}: unknown parameter (a typo?); allowed here: {allowed}."
    if error["type"] == "missing":
        return f"{key}: missing; add it to the parameters file."
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(value, Mapping):  # a rule across several keys of one block
        return f"{key}: {message}."
    return f"{key} = {value!r}: {message}."


def format_validation_error(error: ValidationError, prefix: str, model: type[BaseModel]) -> str:
    """One line per problem, each naming the full key path, the value and the rule."""
    return "\n".join(f"  - {_describe(item, prefix, model)}" for item in error.errors())


def validate_block(model: type[Params], raw: Any, prefix: str) -> Params:
    """``model`` validated from ``raw``, or a ``ParameterError`` naming every problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ParameterError(
            f"Invalid parameters in '{prefix}':\n{format_validation_error(error, prefix, model)}\n"
            "Fix conf/<env>/parameters_*.yml or the --params of the command."
        ) from None
