"""Sign-in and discovery: OIDC + token endpoints for azure-identity/MSAL, ARM cloud metadata, /subscriptions and
/tenants. Tokens are signed JWTs (tokens.py); the
caller of a request is read from its validated claims. Never logs or echoes secrets.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl

from .errors import ArmError
from .routing import Request, Response
from .tokens import AUDIENCES as TOKEN_AUDIENCES
from .tokens import audience_of, object_id_of

AUDIENCES = list(TOKEN_AUDIENCES)


def metadata(req: Request) -> Response:
    base = req.base
    cloud = {
        "name": "Sandbox",
        "resourceManager": base + "/",
        "portal": base + "/",
        "gallery": base + "/",
        "graph": base + "/",
        "graphAudience": base + "/",
        "microsoftGraphResourceId": base + "/",
        "activeDirectoryDataLake": base + "/",
        "batch": base + "/",
        "media": base + "/",
        "sqlManagement": base + "/",
        "vmImageAliasDoc": base + "/vmimagealiases.json",
        "appInsightsResourceId": base + "/",
        "appInsightsTelemetryChannelResourceId": base + "/",
        "attestationResourceId": base + "/",
        "synapseAnalyticsResourceId": base + "/",
        "logAnalyticsResourceId": base + "/",
        "ossrDbmsResourceId": base + "/",
        "authentication": {
            "loginEndpoint": base + "/",
            "audiences": AUDIENCES,
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
    }
    version = req.api_version
    if version.startswith("2019") or version.startswith("2020") or version.startswith("2018"):
        return Response(200, [cloud])
    if version == "1.0":
        legacy = {
            "galleryEndpoint": base + "/",
            "graphEndpoint": base + "/",
            "portalEndpoint": base + "/",
            "authentication": {"loginEndpoint": base + "/", "audiences": AUDIENCES},
        }
        return Response(200, legacy)
    return Response(200, cloud)


def handle_public(app: Any, req: Request) -> Response | None:
    segs = [s.lower() for s in req.segments]
    if segs[:2] == ["metadata", "endpoints"]:
        return metadata(req)
    if segs == ["common", "discovery", "instance"]:
        host = req.base.split("://", 1)[1]
        tenant_ep = f"{req.base}/{req.query.get('tenant', 'common')}/v2.0/.well-known/openid-configuration"
        return Response(
            200,
            {
                "tenant_discovery_endpoint": tenant_ep,
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            },
        )
    if len(segs) == 4 and segs[1:] == ["v2.0", ".well-known", "openid-configuration"]:
        tenant = req.segments[0]
        t = app.config.tenant_id if tenant.lower() in ("common", "organizations") else tenant
        return Response(
            200,
            {
                "token_endpoint": f"{req.base}/{tenant}/oauth2/v2.0/token",
                "authorization_endpoint": f"{req.base}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{req.base}/{tenant}/oauth2/v2.0/devicecode",
                "issuer": f"{req.base}/{t}/v2.0",
                "jwks_uri": f"{req.base}/{tenant}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "sandbox",
            },
        )
    if len(segs) == 4 and segs[1:] == ["oauth2", "v2.0", "token"] and req.method == "POST":
        return token(app, req)
    if len(segs) == 3 and segs[1:] == ["oauth2", "token"] and req.method == "POST":
        return token(app, req)
    return None


def token(app: Any, req: Request) -> Response:
    form = dict(parse_qsl(req.raw_body.decode("utf-8", "replace")))
    client_id = form.get("client_id", "")
    if client_id.lower() == app.config.client_id.lower() and form.get("client_secret") not in (
        None,
        app.client_secret,
    ):
        body = {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
            "error_codes": [7000215],
        }
        return Response(401, body)
    tenant = req.segments[0]
    config = app.config
    claims = {
        "aud": audience_of(form.get("scope") or form.get("resource") or "https://management.azure.com/"),
        "iss": f"{req.base}/{tenant}/",
        "tid": app.config.tenant_id,
        "appid": client_id,
        "oid": object_id_of(client_id, config.client_id, config.object_id),
        "sub": client_id,
        "jti": secrets.token_hex(8),
    }
    access, expires_in = app.tokens.issue(
        claims,
        config.token_lifetime_seconds,
        app.clock.time_scale,
        app.clock.now_ts(),
        config.token_min_real_seconds,
    )
    body = {
        "token_type": "Bearer",
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access,
    }
    return Response(200, body)


def caller(app: Any, req: Request) -> str:
    """The principal of a request, from its validated bearer token; ARM's 401 when there is none or it is bad."""
    auth = req.headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") or not auth[7:].strip():
        raise ArmError(
            401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
        )
    authorization_uri = f"{req.base}/{app.config.tenant_id}"
    claims = app.tokens.validate(auth[7:].strip(), app.clock.now_ts(), authorization_uri)
    return str(claims.get("appid") or claims.get("oid") or "unknown")


def subscription_body(app: Any, sub: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}",
        "subscriptionId": sub,
        "tenantId": app.config.tenant_id,
        "displayName": f"Sandbox {sub[:8]}",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
    }


def subscriptions(app: Any, req: Request) -> Response:
    return Response(200, {"value": [subscription_body(app, s) for s in app.config.subscription_ids]})


def subscription(app: Any, req: Request, sub: str) -> Response:
    for s in app.config.subscription_ids:
        if s.lower() == sub.lower():
            return Response(200, subscription_body(app, s))
    raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def tenants(app: Any, req: Request) -> Response:
    t = app.config.tenant_id
    return Response(
        200,
        {
            "value": [
                {
                    "id": f"/tenants/{t}",
                    "tenantId": t,
                    "tenantCategory": "Home",
                    "displayName": "Sandbox",
                    "defaultDomain": "sandbox.onmicrosoft.com",
                    "domains": ["sandbox.onmicrosoft.com"],
                }
            ]
        },
    )
