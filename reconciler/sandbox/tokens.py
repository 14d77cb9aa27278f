"""Bearer tokens the sandbox signs (HS256 with a per-sandbox key) and the checks ARM makes on each request.

Expiry is on the sandbox clock, yet clients decide when to refresh on *real* time (azure-core and MSAL both
renew 5 minutes before `expires_on`), so `expires_in` is the lifetime in real seconds at the clock's current
speed, never less than `token_min_real_seconds`: at 100000x a 1-hour token lasts 36 ms, and a client would
fetch a token before every request (measured: 5.5 -> 16-21 ms a request). With the default 360 s floor a run
renews its token every real minute at any clock speed; 0 gives the pure sandbox-clock lifetime. The clock
can also jump (`advance`) or change speed after a token was issued, which no client can see; a token is
therefore refused only when it is past its expiry on both clocks: the sandbox's (exp, plus ARM's 5-minute
skew) and the real one it was promised (plus the time a request may spend in flight). On a steady clock
without the floor the two agree.

Refusals follow ARM: 401 `InvalidAuthenticationToken` (malformed, bad signature), `ExpiredAuthenticationToken`
("The access token expiry UTC time '…' is earlier than current UTC time '…'."),
`InvalidAuthenticationTokenAudience` (wrong resource; text as in
Azure-Samples/active-directory-dotnetcore-daemon-v2#145), each with `WWW-Authenticate: Bearer
authorization_uri="<login>/<tenant>", error="invalid_token", error_description="…"`, the challenge azure-core
answers by dropping its cached token. Token values are never logged.

Claims are an app-only token's: `tid`, `appid` (the client id) and `oid` (the service principal's object id,
`object_id_of`), which Key Vault's access checks use (vault_access.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from .errors import ArmError

AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")
ARM_CLOCK_SKEW_SECONDS = 300.0  # sandbox seconds: the skew ARM's token validation allows
IN_FLIGHT_SECONDS = 5.0  # real seconds a request may take between the client's expiry check and arrival


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def audience_of(scope: str) -> str:
    """`https://management.azure.com//.default` -> `https://management.azure.com/` (the v2 scope's resource)."""
    resource = scope.split()[0] if scope.strip() else ""
    return resource[: -len(".default")] if resource.endswith("/.default") else resource


def object_id_of(client_id: str, own_client_id: str, own_object_id: str) -> str:
    """A token's `oid`: the service principal's object id, which Azure never makes equal to the app id (so a
    grant naming the app id instead works nowhere). The reconciler's own is configured; any other client's is
    derived from its id, stable across sandboxes, so a test can grant it."""
    if client_id.lower() == own_client_id.lower():
        return own_object_id
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-service-principal:{client_id.lower()}"))


def _allowed_audience(aud: str, audiences: tuple[str, ...]) -> bool:
    return aud.rstrip("/") + "/" in audiences


def _utc(ts: float) -> str:
    """ARM's rendering: '6/15/2026 8:22:51 AM' (microsoft/foundry-dev-tools#461)."""
    t = datetime.fromtimestamp(ts, tz=UTC)
    return f"{t.month}/{t.day}/{t.year} {t.hour % 12 or 12}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}"


class TokenIssuer:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self.issued = 0  # how many tokens were handed out (tests see refreshes through it)

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest())

    def issue(
        self, claims: dict[str, Any], lifetime: float, time_scale: float, now: float, min_real: float = 0.0
    ) -> tuple[str, int]:
        """(token, expires_in in real seconds). `now` is sandbox time; `lifetime` sandbox seconds."""
        real_lifetime = lifetime / time_scale if time_scale > 0 else lifetime
        if min_real > 0:
            real_lifetime = max(real_lifetime, min_real)
        body = dict(claims, iat=int(now), nbf=int(now), exp=int(now + lifetime))
        body["xms_rexp"] = time.time() + real_lifetime  # the real expiry the client was promised
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        payload = _b64(json.dumps(body).encode())
        signing_input = f"{header}.{payload}"
        self.issued += 1
        return f"{signing_input}.{self._sign(signing_input)}", max(0, math.floor(real_lifetime))

    def validate(
        self, token: str, now: float, authorization_uri: str, audiences: tuple[str, ...] = AUDIENCES
    ) -> dict[str, Any]:
        """The token's claims, or ARM's 401 for a token it would refuse (`audiences`: ARM's, by default)."""
        parts = token.split(".")
        if len(parts) != 3:
            raise invalid_token(
                authorization_uri, "InvalidAuthenticationToken", "The access token is invalid."
            )
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            raise invalid_token(
                authorization_uri, "InvalidAuthenticationToken", "The access token is invalid."
            ) from None
        good = hmac.compare_digest(self._sign(f"{parts[0]}.{parts[1]}"), parts[2])
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not good:
            raise invalid_token(
                authorization_uri,
                "InvalidAuthenticationToken",
                "The access token is invalid: its signature could not be verified.",
            )
        aud = str(claims.get("aud", ""))
        if not _allowed_audience(aud, audiences):
            allowed = ",".join(f"'{a}','{a.rstrip('/')}'" for a in audiences)
            raise invalid_token(
                authorization_uri,
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{aud}'. It should exactly "
                f"match with one of the allowed audiences {allowed}.",
            )
        exp = float(claims.get("exp", 0))
        past_sandbox = now > exp + ARM_CLOCK_SKEW_SECONDS
        past_real = time.time() > float(claims.get("xms_rexp", 0)) + IN_FLIGHT_SECONDS
        if past_sandbox and past_real:
            raise invalid_token(
                authorization_uri,
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{_utc(exp)}' is earlier than current UTC time '{_utc(now)}'.",
                description="The access token has expired.",
            )
        return claims


def invalid_token(
    authorization_uri: str, code: str, message: str, description: str | None = None
) -> ArmError:
    challenge = (
        f'Bearer authorization_uri="{authorization_uri}", error="invalid_token", '
        f'error_description="{description or message.split(":")[0].rstrip(".") + "."}"'
    )
    return ArmError(401, code, message, headers={"WWW-Authenticate": challenge})
