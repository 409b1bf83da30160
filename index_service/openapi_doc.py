"""The OpenAPI document as committed in openapi/openapi.json."""

from __future__ import annotations

import json

from index_service.settings import Settings


def render_openapi() -> str:
    from index_service.main import create_app

    settings = Settings(dev_issuer_enabled=False, environment="test")
    app = create_app(settings, db=None)
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
