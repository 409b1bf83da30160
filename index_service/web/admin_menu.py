"""The administrator's pages in the menu: those of `web/admin.py` the access policy lets
this user open (kept apart from `routing.py` so the menu has one line to merge)."""

from __future__ import annotations

from typing import Any

from index_service.access.policy import Permission

ADMIN_PAGES = (
    ("/admin/organisations", "Organisations", "organisations", Permission.ORGANISATION_READ),
    ("/admin/identity-providers", "Identity providers", "issuers", Permission.ISSUER_READ),
    ("/admin/suspensions", "Suspensions", "suspensions", Permission.SUSPENSION_READ),
    ("/admin/webhooks", "Webhook endpoints", "webhooks", Permission.WEBHOOK_READ),
)


def admin_menu(viewer: Any) -> list[tuple[str, str, str]]:
    return [(href, words, key) for href, words, key, needed in ADMIN_PAGES if viewer.may(needed)]
