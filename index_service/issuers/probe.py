""" "Test this provider": fetch an identity provider's discovery document and its keys,
through the same vetted client a sign-in uses (`outbound.client`: public addresses only
for a registered issuer, no redirects, no proxy from the environment), and say in plain
words what was found or what failed. Nothing is stored; an administrator reads the
answer before relying on the provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx2

from index_service import outbound

TIMEOUT_SECONDS = 10.0
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


@dataclass
class ProbeResult:
    ok: bool
    summary: str
    found: list[str] = field(default_factory=list)


class _Failed(Exception):
    pass


def _get_json(client: httpx2.Client, url: str, what: str) -> dict[str, Any]:
    try:
        response = client.get(url, headers={"Accept": "application/json"})
    except outbound.NotPublic:
        raise _Failed(f"The {what} at {url} is not at a public internet address.") from None
    except httpx2.HTTPError:
        raise _Failed(f"The {what} at {url} could not be reached.") from None
    if response.status_code != 200:
        raise _Failed(f"The {what} at {url} answered with HTTP status {response.status_code}.")
    try:
        payload = response.json()
    except ValueError:
        raise _Failed(f"The {what} at {url} is not JSON.") from None
    if not isinstance(payload, dict):
        raise _Failed(f"The {what} at {url} is JSON but not an object.")
    return payload


def probe(
    *, issuer: str, discovery_url: str | None, jwks_url: str, allow_private: bool
) -> ProbeResult:
    """Fetch the discovery document (an issuer with an OpenID Connect client), check it
    names `issuer` and the endpoints a sign-in uses, then fetch its keys and count them.
    Without a discovery document: the registered key set only."""
    found: list[str] = []
    try:
        with outbound.client(allow_private=allow_private, timeout=TIMEOUT_SECONDS) as client:
            if discovery_url is not None:
                outbound.check_url(discovery_url, allow_private=allow_private)
                jwks_url = _discovered(client, discovery_url, issuer, found)
            outbound.check_url(jwks_url, allow_private=allow_private)
            keys = _get_json(client, jwks_url, "key set").get("keys")
            if not isinstance(keys, list) or not keys:
                raise _Failed(f"The key set at {jwks_url} has no keys.")
    except outbound.NotPublic as refused:
        return ProbeResult(False, f"That address may not be used: {refused}.", found)
    except _Failed as failed:
        return ProbeResult(False, str(failed), found)
    found.append(f"Signing keys: {len(keys)}")
    plural = "key" if len(keys) == 1 else "keys"
    what = "its discovery document and " if discovery_url is not None else ""
    return ProbeResult(True, f"The provider answered: {what}{len(keys)} signing {plural}.", found)


def _discovered(client: httpx2.Client, url: str, issuer: str, found: list[str]) -> str:
    """The discovery document's endpoints, into `found`; its key set's address."""
    metadata = _get_json(client, url, "discovery document")
    named = metadata.get("issuer")
    if named != issuer:
        raise _Failed(
            f"The discovery document names the issuer {named!r}, not {issuer!r}: its "
            "sign-ins would be refused."
        )
    found.append(f"Issuer: {issuer}")
    for endpoint in ENDPOINTS:
        value = metadata.get(endpoint)
        if isinstance(value, str):
            found.append(f"{endpoint.replace('_', ' ').capitalize()}: {value}")
        elif endpoint != "userinfo_endpoint":
            raise _Failed(f"The discovery document has no {endpoint}.")
    return str(metadata["jwks_uri"])
