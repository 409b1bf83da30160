"""Signing in through an agency's identity provider: OpenID Connect's authorization code
flow with PKCE (S256), a state bound to the browser and a nonce bound to the ID token,
with Authlib's OAuth 2.0 client (authorization URL, PKCE, token request, client
authentication) and its OpenID Connect ID token rules (`CodeIDToken`: issuer, audience,
expiry, nonce, at_hash), the signature checked with joserfc against the provider's
published keys.

Every request to the provider (discovery, token, keys, userinfo) goes through
`outbound.client`: for an issuer an administrator registered, only to public addresses,
checked on the address connected to; issuers configured in settings are the operator's.

The claims are mapped by the issuer's `ClaimMapping` into the same `VerifiedClaims` a
bearer token gives the API, and so into a `Principal` by the API's own code."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.oauth2.client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from index_service import outbound
from index_service.access.tokens import ALLOWED_ALGORITHMS, VerifiedClaims
from index_service.common import one_line_of_text
from index_service.database import Database
from index_service.issuers.oidc_config import OidcClient, claim, mapped_roles
from index_service.issuers.service import active_issuers
from index_service.settings import Settings

TIMEOUT_SECONDS = 10.0
CALLBACK_PATH = "/sign-in/callback"
# Where a provider sends the browser back after signing the user out there too (register
# it with the provider as a post-logout redirect URI, beside the callback).
SIGNED_OUT_PATH = "/signed-out"


class SignInFailed(Exception):
    """The provider's answer could not be trusted or used; `reason` is for the audit and
    the log (a code, never a claim's value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OidcIssuer:
    issuer: str
    client: OidcClient
    organisations: frozenset[str] | None
    vetted: bool  # registered at run time: public addresses only

    @property
    def key(self) -> str:
        """A short stable handle for the issuer in a URL."""
        digest = hashlib.sha256(self.issuer.encode()).digest()[:9]
        return base64.urlsafe_b64encode(digest).decode()


def issuers(settings: Settings, db: Database) -> list[OidcIssuer]:
    """Every trusted issuer with an OpenID Connect client: settings' first, then the
    registered ones not withdrawn."""
    found = [
        OidcIssuer(
            issuer=t.issuer,
            client=t.oidc,
            organisations=frozenset(o.upper() for o in t.organisations)
            if t.organisations is not None
            else None,
            vetted=False,
        )
        for t in settings.trusted_issuers
        if t.oidc is not None
    ]
    with db.transaction() as session:
        rows = active_issuers(session=session)
    found += [
        OidcIssuer(
            issuer=row.issuer,
            client=OidcClient.model_validate(row.oidc),
            organisations=frozenset(row.organisations) if row.organisations is not None else None,
            vetted=not settings.outbound_private_allowed,
        )
        for row in rows
        if row.oidc is not None
    ]
    return found


def redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def post_logout_redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + SIGNED_OUT_PATH


class _Http:
    """The session Authlib's client posts to the token endpoint with, over `outbound`."""

    def __init__(self, client: httpx2.Client) -> None:
        self._client = client

    def post(
        self,
        url: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = None,
        **_: Any,
    ) -> httpx2.Response:
        body = urlencode(data or {})
        sent = dict(headers or {})
        if auth is not None:
            url, sent, body = auth.prepare("POST", url, sent, body)
        return self._client.post(url, content=body, headers=sent)


@dataclass(frozen=True)
class Started:
    url: str
    state: str
    nonce: str
    code_verifier: str


class Provider:
    """One issuer's provider, its discovery document read once per use."""

    def __init__(self, issuer: OidcIssuer, settings: Settings) -> None:
        self.issuer = issuer
        self._settings = settings
        self._http = outbound.client(allow_private=not issuer.vetted, timeout=TIMEOUT_SECONDS)
        self._metadata: dict[str, Any] | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            payload = response.json()
        except (httpx2.HTTPError, outbound.NotPublic, ValueError) as exc:
            raise SignInFailed(f"provider_unreachable:{type(exc).__name__}") from None
        if not isinstance(payload, dict):
            raise SignInFailed("provider_answer_not_an_object")
        return payload

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            metadata = self._get_json(self.issuer.client.discovery_url)
            if metadata.get("issuer") != self.issuer.issuer:
                raise SignInFailed("discovery_issuer_mismatch")
            for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(endpoint), str):
                    raise SignInFailed(f"discovery_lacks_{endpoint}")
            self._metadata = metadata
        return self._metadata

    def end_session_url(self) -> str | None:
        """Where to send the browser so that the provider ends its own session too
        (OpenID Connect RP-Initiated Logout 1.0), or None if the provider offers no such
        endpoint. Without it, on a shared workstation the next person to press "sign in"
        would be let through the provider as the one who just signed out. The client is
        named by `client_id` (the ID token is not kept, so there is no `id_token_hint`);
        the provider may ask the user to confirm."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            return None
        query = urlencode(
            {
                "client_id": self.issuer.client.client_id,
                "post_logout_redirect_uri": post_logout_redirect_uri(self._settings),
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def _oauth(self) -> OAuth2Client:
        config = self.issuer.client
        return OAuth2Client(
            _Http(self._http),
            client_id=config.client_id,
            client_secret=config.client_secret(),
            scope=" ".join(config.scopes),
            redirect_uri=redirect_uri(self._settings),
            code_challenge_method="S256",
        )

    def start(self) -> Started:
        """Where to send the browser, and what to keep until it comes back."""
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        url, _ = self._oauth().create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            nonce=nonce,
        )
        return Started(url=str(url), state=state, nonce=nonce, code_verifier=verifier)

    def finish(self, *, code: str, nonce: str, code_verifier: str) -> VerifiedClaims:
        """Exchange the code (with the PKCE verifier), check the ID token, map its claims."""
        oauth = self._oauth()
        try:
            token = oauth.fetch_token(
                self.metadata()["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )
        except httpx2.HTTPError as exc:
            raise SignInFailed(f"token_request_failed:{type(exc).__name__}") from None
        except Exception as exc:  # Authlib's OAuth2Error and ValueError: a refusal
            raise SignInFailed(f"token_refused:{type(exc).__name__}") from None
        if "id_token" not in token:
            raise SignInFailed("no_id_token")
        claims = self._id_token_claims(token, nonce)
        mapping = self.issuer.client.claims
        needed = [mapping.subject, mapping.name, mapping.email, mapping.roles]
        if mapping.static_organisation is None and mapping.organisation is not None:
            needed.append(mapping.organisation)
        endpoint = self.metadata().get("userinfo_endpoint")
        if any(claim(claims, path) is None for path in needed) and isinstance(endpoint, str):
            claims = {**self._userinfo(endpoint, token["access_token"]), **claims}
        return self._mapped(claims)

    def _id_token_claims(self, token: dict[str, Any], nonce: str) -> dict[str, Any]:
        published: Any = self._get_json(self.metadata()["jwks_uri"])
        try:
            keys = KeySet.import_key_set(published)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise SignInFailed(f"provider_keys_invalid:{type(exc).__name__}") from None
        try:
            decoded = jwt.decode(
                token["id_token"],
                keys,
                registry=JWSRegistry(algorithms=list(ALLOWED_ALGORITHMS)),
            )
            id_token = CodeIDToken(
                decoded.claims,
                decoded.header,
                {"iss": {"essential": True, "value": self.issuer.issuer}},
                {
                    "nonce": nonce,
                    "client_id": self.issuer.client.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            id_token.validate(leeway=self._settings.token_leeway_seconds)
        except (JoseError, ValueError) as exc:
            raise SignInFailed(f"id_token_invalid:{type(exc).__name__}") from None
        except Exception as exc:  # Authlib's claim errors
            raise SignInFailed(f"id_token_invalid:{type(exc).__name__}") from None
        return dict(decoded.claims)

    def _userinfo(self, endpoint: str, access_token: str) -> dict[str, Any]:
        try:
            response = self._http.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
            response.raise_for_status()
            payload = response.json()
        except (httpx2.HTTPError, outbound.NotPublic, ValueError) as exc:
            raise SignInFailed(f"userinfo_failed:{type(exc).__name__}") from None
        if not isinstance(payload, dict):
            raise SignInFailed("userinfo_not_an_object")
        payload.pop("iss", None)  # the ID token's say on who vouched
        return payload

    def _mapped(self, claims: dict[str, Any]) -> VerifiedClaims:
        mapping = self.issuer.client.claims
        organisation = mapping.static_organisation or claim(claims, mapping.organisation or "")
        texts = {
            "subject": claim(claims, mapping.subject),
            "name": claim(claims, mapping.name),
            "email": claim(claims, mapping.email),
            "organisation": organisation,
        }
        for name, value in texts.items():
            if not _plain(value):
                raise SignInFailed(f"claim_missing_or_invalid:{name}")
        organisation_code = str(organisation).upper()
        allowed = self.issuer.organisations
        if allowed is not None and organisation_code not in allowed:
            raise SignInFailed("issuer_not_trusted_for_organisation")
        return VerifiedClaims(
            issuer=self.issuer.issuer,
            subject=str(texts["subject"]),
            name=str(texts["name"]),
            email=str(texts["email"]),
            organisation_code=organisation_code,
            roles=mapped_roles(mapping, claim(claims, mapping.roles)),
        )


def _plain(value: object, limit: int = 300) -> bool:
    """A short line of visible text (the claims go into every audit row)."""
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return False
    try:
        one_line_of_text(value)
    except ValueError:
        return False
    return True
