"""Pydantic models of every kind of the desired-state language (one module per kind)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from reconciler.spec.models.gallery import GalleryDoc
from reconciler.spec.models.host_pool import HostPoolDoc
from reconciler.spec.models.image_build import ImageBuildDoc
from reconciler.spec.models.image_definition import ImageDefinitionDoc
from reconciler.spec.models.image_version import ImageVersionDoc
from reconciler.spec.models.settings import SettingsDoc

MODELS = {
    "Settings": SettingsDoc,
    "Gallery": GalleryDoc,
    "ImageDefinition": ImageDefinitionDoc,
    "ImageVersion": ImageVersionDoc,
    "ImageBuild": ImageBuildDoc,
    "HostPool": HostPoolDoc,
}

AnyDocument = Annotated[
    SettingsDoc | GalleryDoc | ImageDefinitionDoc | ImageVersionDoc | ImageBuildDoc | HostPoolDoc,
    Field(discriminator="kind"),
]

__all__ = ["MODELS", "AnyDocument", *(m.__name__ for m in MODELS.values())]
