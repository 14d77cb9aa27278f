"""Building blocks shared by every kind: the strict base model, metadata, tags, regions, secret references."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from reconciler.spec import naming
from reconciler.spec.regions import normalise_region


class StrictModel(BaseModel):
    """Unknown keys are errors, values are immutable, YAML keys are camelCase (Python attributes snake_case)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, validate_default=True
    )


def _check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > 50:
        raise ValueError("Azure allows at most 50 tags on a resource")
    for name, value in tags.items():
        if not 1 <= len(name) <= 512 or re.search(r"[<>%&\\?/]", name):
            raise ValueError(f"tag name {name!r} must be 1-512 characters without < > % & \\ ? /")
        if len(value) > 256:
            raise ValueError(f"tag {name!r}: value longer than 256 characters")
    return tags


Tags = Annotated[dict[str, str], AfterValidator(_check_tags)]

Region = Annotated[
    str,
    BeforeValidator(normalise_region),
    WithJsonSchema({"type": "string", "description": 'Azure region, e.g. westeurope or "West Europe"'}),
]


def _check_subscription(value: str) -> str:
    if re.fullmatch(naming.GUID_PATTERN, value):
        return value.lower()
    return naming.SUBSCRIPTION_ALIAS.check(value)


SubscriptionRef = Annotated[
    str,
    AfterValidator(_check_subscription),
    WithJsonSchema({"type": "string", "description": "subscription id (GUID) or an alias from Settings"}),
]

ResourceGroupName = naming.RESOURCE_GROUP.type()


class Metadata(StrictModel):
    name: str = Field(min_length=1, description="The resource name in Azure (rules depend on the kind).")
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels for people and tools.")
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Free-form notes; not sent to Azure."
    )


def metadata_for(rule: naming.NameRule | None, kind: str) -> type[Metadata]:
    """A Metadata class whose `name` follows the Azure naming rule of `kind`."""
    if rule is None:
        return Metadata
    name_type = rule.type()

    class _Meta(Metadata):
        name: name_type  # type: ignore[valid-type]

    _Meta.__name__ = _Meta.__qualname__ = f"{kind}Metadata"
    return _Meta


class KeyVaultSecret(StrictModel):
    vault_id: naming.KEY_VAULT_ID.type() | None = Field(None, description="Key Vault resource id.")  # type: ignore[valid-type]
    vault_name: naming.KEY_VAULT.type() | None = Field(None, description="Key Vault name.")  # type: ignore[valid-type]
    secret_name: naming.SECRET.type()  # type: ignore[valid-type]
    version: str | None = Field(None, pattern=r"^[0-9a-fA-F]{32}$", description="Pin one secret version.")

    @model_validator(mode="after")
    def _one_vault(self) -> KeyVaultSecret:
        if (self.vault_id is None) == (self.vault_name is None):
            raise ValueError("give exactly one of vaultId or vaultName")
        return self


def _no_literal_secret(value: object) -> object:
    # Never echo the value: it may be a real password.
    if isinstance(value, str | int | float):
        raise ValueError(
            "a literal secret is not allowed here; reference a Key Vault secret instead: "
            "{keyVaultSecret: {vaultName: <vault>, secretName: <name>}}"
        )
    return value


class SecretRef(StrictModel):
    """Where a secret lives. Literal secrets are rejected: they would end up in git."""

    key_vault_secret: KeyVaultSecret


SecretReference = Annotated[SecretRef, BeforeValidator(_no_literal_secret)]
