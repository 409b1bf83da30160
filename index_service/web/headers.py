"""Security headers of every page: a Content-Security-Policy with no 'unsafe-inline'
(GOV.UK Frontend's one inline script, which marks the body `js-enabled`, and the module
that starts its components carry this response's nonce), no framing, no referrer, no
sniffing, and HSTS in production (where the service is reached over https only)."""

from __future__ import annotations

from fastapi import Response

from index_service.settings import Settings

HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        )
    )


def secured(response: Response, *, nonce: str, settings: Settings) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if settings.environment == "production":
        response.headers["Strict-Transport-Security"] = HSTS
    return response
