"""Validated models, made compact: equal frozen sub-models become one object, equal field sets one set.

A large estate's 10,000 ImageVersion documents validate into ~80,000 pydantic models, and a model's own
overhead (its `__dict__` and its `__pydantic_fields_set__`, a set of ~300 bytes) outweighed the data: 20 MB of
the 58 MB desired state were those sets. Most sub-models repeat (a target region, a safety profile, a
rollout policy), and so do the field sets. Sharing them is invisible to readers: the models are frozen,
pydantic never changes a frozen model's field set in place (`model_copy` copies it first), equality ignores
identity, and a model is shared only with one of the same type, the same fields set and equal values of the
same types (`1`, `1.0` and `True` stay apart).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from pydantic import BaseModel

# Values a shared model may hold: immutable, compared by value. A model holding a list or dict is never
# shared whole (its containers could be changed), only compacted inside.
_IMMUTABLE = (str, int, float, bool, type(None), dt.date, dt.datetime, dt.time, dt.timedelta, Enum)


class Compactor:
    """One per load: the canonical models and field sets seen so far."""

    def __init__(self) -> None:
        self._models: dict[tuple, BaseModel] = {}
        self._fields_sets: dict[frozenset[str], set[str]] = {}

    def model(self, model: BaseModel) -> BaseModel:
        """`model` with its sub-models replaced by canonical ones, or the canonical model equal to it."""
        return self._compact(model)

    def _compact(self, value: Any) -> Any:
        if isinstance(value, BaseModel):
            return self._model(value)
        if type(value) is list:
            for i, item in enumerate(value):
                if isinstance(item, BaseModel | list | dict):
                    value[i] = self._compact(item)
        elif type(value) is dict:
            for key, item in value.items():
                if isinstance(item, BaseModel | list | dict):
                    value[key] = self._compact(item)
        return value

    def _model(self, model: BaseModel) -> BaseModel:
        fields = model.__dict__
        for name, item in fields.items():
            if isinstance(item, BaseModel | list | dict):
                fields[name] = self._compact(item)  # the model is new and ours: no reader has it yet
        if not model.model_config.get("frozen"):
            return model  # assignment would add to its field set: it keeps its own
        fields_set = model.__pydantic_fields_set__
        frozen_set = frozenset(fields_set)
        shared_set = self._fields_sets.setdefault(frozen_set, fields_set)
        if shared_set is not fields_set:
            object.__setattr__(model, "__pydantic_fields_set__", shared_set)
        key = self._key(model, frozen_set)
        return model if key is None else self._models.setdefault(key, model)

    @staticmethod
    def _key(model: BaseModel, fields_set: frozenset[str]) -> tuple | None:
        if model.__pydantic_extra__ or getattr(model, "__pydantic_private__", None):
            return None
        parts: list[Any] = [type(model), fields_set]
        for name, value in model.__dict__.items():
            if isinstance(value, BaseModel):
                parts += (name, id(value))  # canonical already, or unique to (and kept alive by) this model
            elif type(value) is float:
                parts += (name, float, repr(value))  # -0.0 == 0.0
            elif isinstance(value, _IMMUTABLE):
                parts += (name, type(value), value)
            else:
                return None
        return tuple(parts)
