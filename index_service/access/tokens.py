"""Bearer token verification with PyJWT.

Rules: ES256 or RS256 only, and the algorithm must fit the key that the issuer published
(it is never taken from the token alone); the issuer must be trusted; the key is chosen
by `kid`; `iss`, `aud`, `sub`, `exp`, `iat`, `name`, `email`, `org` and `roles` are
required; a token lives at most `max_token_lifetime_seconds`; oversized tokens are refused
before they are parsed.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import jwt
from jwt import PyJWK, PyJWKClient

from index_service import outbound
from index_service.common import one_line_of_text, with_invisibles_replaced
from index_service.errors import Forbidden, ServiceUnavailable, Unauthenticated
from index_service.settings import DEV_ISSUER, Settings

ALLOWED_ALGORITHMS = ("ES256", "RS256")
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "name", "email", "org", "roles"]


@dataclass(frozen=True)
class VerifiedClaims:
    issuer: str
    subject: str
    name: str
    email: str
    organisation_code: str
    roles: list[str]


class IssuerKeys:
    """The public keys of one trusted issuer, from a JWK set in a file or at a URL."""

    def __init__(
        self,
        issuer: str,
        *,
        jwks: dict[str, Any] | None = None,
        url: str | None = None,
        organisations: list[str] | None = None,
        vetted: bool = False,
    ):
        """`vetted`: fetch the key set only from public addresses (an issuer registered
        at run time); issuers configured in settings are the operator's own choice."""
        self.issuer = issuer
        self.source = (url, organisations)
        self.organisations = (
            frozenset(o.upper() for o in organisations) if organisations is not None else None
        )
        self._keys: dict[str | None, PyJWK] = {}
        # The JWK set is cached for five minutes, then fetched again, so a rotated or
        # withdrawn key stops working within that time. Signing keys are not cached apart.
        client_class = PublicJWKClient if vetted else PyJWKClient
        self._client = (
            client_class(
                url,
                cache_keys=False,
                cache_jwk_set=True,
                lifespan=JWKS_LIFESPAN_SECONDS,
                timeout=5,
            )
            if url
            else None
        )
        for entry in (jwks or {}).get("keys", []):
            key = PyJWK(entry)
            if _usable(key):
                self._keys[key.key_id] = key

    def key_for(self, kid: str | None) -> PyJWK:
        if self._client is not None:
            return self._fetched_key(self._client, kid)
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if kid not in self._keys:
            raise Unauthenticated("the token's key is not known", code="unknown_key")
        return self._keys[kid]

    @staticmethod
    def _fetched_key(client: PyJWKClient, kid: str | None) -> PyJWK:
        if kid is None:
            raise Unauthenticated("the token names no key (kid)", code="unknown_key")
        try:
            key = client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise ServiceUnavailable(
                "the identity provider's keys cannot be fetched just now; try again shortly",
                code="issuer_keys_unavailable",
            ) from exc
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated("the token's key is not known", code="unknown_key") from exc
        if not _usable(key):
            raise Unauthenticated("the token's key is not for signing", code="unknown_key")
        return key


class PublicJWKClient(PyJWKClient):
    """A PyJWKClient that fetches through `outbound.client`: only from an https host whose
    every address is public, checked on the address connected to, no redirects. pyjwt's
    own fetch (urllib) would connect wherever the name points at that moment."""

    def fetch_data(self) -> Any:
        try:
            with outbound.client(allow_private=False, timeout=self.timeout) as client:
                response = client.get(self.uri, headers=self.headers)
            response.raise_for_status()
            payload = response.json()
        except (httpx2.HTTPError, outbound.NotPublic, ValueError) as exc:
            raise jwt.PyJWKClientConnectionError(
                f"cannot fetch the key set: {type(exc).__name__}"
            ) from exc
        jwk_set = self._as_jwk_set_payload(payload)
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        self._last_successful_fetch = time.monotonic()
        return jwk_set


def _usable(key: PyJWK) -> bool:
    """A published key signs tokens only if it says so (or says nothing) and its algorithm
    is ES256 or RS256 (P-256 for EC)."""
    return key.public_key_use in ("sig", None) and key.algorithm_name in ALLOWED_ALGORITHMS


JWKS_LIFESPAN_SECONDS = 300  # an issuer's fetched key set is kept this long
VERIFIED_TOKENS_KEPT = 50_000  # a digest and the claims each: a few hundred bytes


class TokenVerifier:
    """Issuers from settings first; then, if given, `registered` (issuers administrators
    registered at run time, see `issuers/registry.py`)."""

    def __init__(
        self,
        settings: Settings,
        issuers: dict[str, IssuerKeys],
        registered: Callable[[str], IssuerKeys | None] | None = None,
    ):
        self._settings = settings
        self._issuers = issuers
        self.registered = registered
        # Tokens verified already, until they expire: a user's token comes with each of
        # their requests for up to an hour, and checking its signature again each time
        # was a fifth of the CPU of a request. Forgotten whenever the registered issuers
        # are (a registration or withdrawal moves the directory: `api/security.py`).
        self._verified: OrderedDict[bytes, tuple[VerifiedClaims, float]] = OrderedDict()
        self._verified_lock = threading.Lock()
        self._verified_generation = 0  # moves when the issuers change: older results unkept

    @property
    def configured_issuers(self) -> frozenset[str]:
        return frozenset(self._issuers)

    def invalidate_registered(self) -> None:
        """Forget the cached registered issuers (after one was registered or withdrawn),
        and every token verified with them."""
        self._forget_verified()
        invalidate = getattr(self.registered, "invalidate", None)
        if callable(invalidate):
            invalidate()

    def reload_registered(self, session: object) -> None:
        """Read the registered issuers again now, on the caller's own session."""
        self._forget_verified()
        reload = getattr(self.registered, "reload", None)
        if callable(reload):
            reload(session)

    def _forget_verified(self) -> None:
        with self._verified_lock:
            self._verified.clear()
            self._verified_generation += 1

    def verify(self, token: str) -> VerifiedClaims:
        """The token's claims if it is valid now. Each token's signature and claims are
        checked once, then remembered (by digest) until it expires or for the lifespan of
        its issuer's fetched keys, whichever is sooner, so that a key withdrawn from an
        issuer's key set stops working as soon as without the memory."""
        digest = hashlib.sha256(token.encode()).digest()
        with self._verified_lock:
            remembered = self._verified.get(digest)
            if remembered is not None:
                claims, until = remembered
                if time.time() < until:
                    self._verified.move_to_end(digest)
                    return claims
                del self._verified[digest]  # verified again (and refused if expired)
            generation = self._verified_generation
        claims, expires = self._verify(token)
        until = min(expires, time.time() + JWKS_LIFESPAN_SECONDS)
        with self._verified_lock:
            # Not kept if the issuers changed while it was being verified: it may have
            # been verified with an issuer that has just been withdrawn.
            if generation == self._verified_generation:
                self._verified[digest] = (claims, until)
                while len(self._verified) > VERIFIED_TOKENS_KEPT:
                    self._verified.popitem(last=False)
        return claims

    def vouches(self, issuer: str, organisation_code: str) -> None:
        """Refuse (401/403, as `verify` would) unless `issuer` is trusted now and may
        vouch for the organisation: for claims verified earlier (a web session)."""
        keys = self._issuers.get(issuer)
        if keys is None and self.registered is not None:
            keys = self.registered(issuer)
        if keys is None:
            raise Unauthenticated("the token's issuer is not trusted", code="issuer_not_trusted")
        if keys.organisations is not None and organisation_code not in keys.organisations:
            raise Forbidden(
                "your identity provider may not vouch for that organisation",
                code="issuer_not_trusted_for_organisation",
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        issuers: dict[str, IssuerKeys] = {}
        for trusted in settings.trusted_issuers:
            jwks = json.loads(Path(trusted.jwks_file).read_text()) if trusted.jwks_file else None
            issuers[trusted.issuer] = IssuerKeys(
                trusted.issuer,
                jwks=jwks,
                url=trusted.jwks_url,
                organisations=trusted.organisations,
            )
        if settings.dev_issuer_enabled:
            from index_service.access.devkeys import dev_public_jwks

            issuers[DEV_ISSUER] = IssuerKeys(DEV_ISSUER, jwks=dev_public_jwks(settings))
        return cls(settings, issuers)

    def _verify(self, token: str) -> tuple[VerifiedClaims, float]:
        if len(token.encode()) > self._settings.max_token_bytes:
            raise Unauthenticated("the token is too large", code="token_too_large")
        header, unverified = _peek(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise Unauthenticated(
                "tokens must be signed with ES256 or RS256", code="algorithm_not_allowed"
            )
        issuer = str(unverified.get("iss", ""))
        keys = self._issuers.get(issuer)
        if keys is None and self.registered is not None:
            keys = self.registered(issuer)
        if keys is None:
            raise Unauthenticated("the token's issuer is not trusted", code="issuer_not_trusted")
        kid = header.get("kid")
        key = keys.key_for(kid if isinstance(kid, str) else None)
        if key.algorithm_name != algorithm:
            raise Unauthenticated(
                "the token's algorithm does not fit the issuer's key", code="algorithm_not_allowed"
            )
        decoded = self._decode(token, key, algorithm, issuer)
        claims = _claims(decoded, self._settings.max_token_lifetime_seconds)
        if keys.organisations is not None and claims.organisation_code not in keys.organisations:
            raise Forbidden(
                "your identity provider may not vouch for that organisation",
                code="issuer_not_trusted_for_organisation",
            )
        return claims, float(decoded["exp"]) + self._settings.token_leeway_seconds

    def _decode(self, token: str, key: PyJWK, algorithm: str, issuer: str) -> dict[str, Any]:
        try:
            decoded: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self._settings.token_audience,
                issuer=issuer,
                leeway=self._settings.token_leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the token has expired", code="token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthenticated("the token is not valid yet", code="token_not_yet_valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated(
                "the token is for another audience", code="wrong_audience"
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(
                f"the token lacks the {exc.claim!r} claim", code="missing_claim"
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthenticated(
                "the token's signature is not valid", code="bad_signature"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("the token is not valid", code="invalid_token") from exc
        return decoded


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification: used only to pick the issuer and key."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("the token is malformed", code="malformed_token") from exc
    return header, claims


def _claims(claims: dict[str, Any], max_lifetime: int) -> VerifiedClaims:
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise Unauthenticated("exp and iat must be numbers", code="invalid_token")
    if exp - iat > max_lifetime:
        raise Unauthenticated(
            f"tokens may live at most {max_lifetime} seconds", code="token_lifetime_too_long"
        )
    texts = {name: claims[name] for name in ("iss", "sub", "name", "email", "org")}
    if not all(_plain(v, 300) for v in texts.values()):
        raise Unauthenticated(
            "iss, sub, name, email and org must be short strings of printable characters",
            code="invalid_token",
        )
    roles = claims["roles"]
    if not isinstance(roles, list) or len(roles) > 20 or not all(_plain(r, 40) for r in roles):
        raise Unauthenticated("roles must be a list of short strings", code="invalid_token")
    return VerifiedClaims(
        issuer=texts["iss"],
        subject=texts["sub"],
        name=texts["name"],
        email=texts["email"],
        organisation_code=texts["org"].upper(),
        roles=roles,
    )


def _plain(value: object, limit: int) -> bool:
    """A short line of visible text: the claims are written into every audit row."""
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return False
    try:
        one_line_of_text(value)
    except ValueError:
        return False
    return True


def claimed_identity(token: str) -> dict[str, str]:
    """What an unverifiable token claimed to be (issuer and subject, truncated), for the
    audit row of a refusal. Never trusted for anything else."""
    try:
        claims = jwt.decode(token[:16384], options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}
    return {
        k: with_invisibles_replaced(str(claims[k]))[:200]
        for k in ("iss", "sub", "org")
        if k in claims
    }
