"""The requests the bench sends, as bytes built once: many practitioners (a token each, in
several agencies, each stating their agency's purpose) and the enquiry mix. Users and
enquiries are paired round-robin over counts with no common factor, so a pair repeats
only after users x enquiries requests: repeats inside the alert window stay rare, and
each user's rate count grows as a real user's would."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from bench.load.setup import ENQUIRER_ORGS, OPERATOR_ORG
from bench.matching.population import Enquiry
from index_service.access.devkeys import mint_dev_token
from index_service.settings import Settings


@dataclass(frozen=True)
class User:
    subject: str
    organisation: str
    purpose: str
    token: str


def _settings(data_dir: Path) -> Settings:
    """The development issuer's key lives in the served process's data directory."""
    return Settings(environment="development", data_dir=data_dir, database_url="postgresql://x")


def practitioners(data_dir: Path, *, count: int, tag: str) -> list[User]:
    """`count` practitioners spread over the enquiring agencies; `tag` makes this run's
    subjects new (an earlier run's alerts and rate counts are another person's)."""
    settings = _settings(data_dir)
    users = []
    for n in range(count):
        code, _, purpose = ENQUIRER_ORGS[n % len(ENQUIRER_ORGS)]
        subject = f"bench-{tag}-{n:05d}"
        token = mint_dev_token(
            settings, subject=subject, name=f"Bench Practitioner {n}",
            email=f"{subject}@bench.example", organisation=code, roles=["practitioner"],
        )  # fmt: skip
        users.append(User(subject, code, purpose, token))
    return users


def administrator(data_dir: Path) -> str:
    return mint_dev_token(
        _settings(data_dir), subject="bench-admin", name="Bench Administrator",
        email="bench-admin@bench.example", organisation=OPERATOR_ORG, roles=["administrator"],
    )  # fmt: skip


def enquiry_head(user: User, host: str) -> bytes:
    return (
        "POST /v1/enquiries HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: Bearer {user.token}\r\n"
        f"Purpose-Of-Use: {user.purpose}\r\n"
        "Purpose-Text: load benchmark enquiry\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: "
    ).encode()


def enquiry_body(enquiry: Enquiry) -> bytes:
    body = json.dumps(enquiry.as_json(), ensure_ascii=False).encode()
    return b"%d\r\n\r\n%s" % (len(body), body)


class Enquiries:
    """An endless stream of enquiry requests: user n % U asks enquiry n % E."""

    def __init__(self, users: list[User], enquiries: list[Enquiry], host: str) -> None:
        bodies = [enquiry_body(e) for e in enquiries]
        while len(bodies) > 1 and math.gcd(len(users), len(bodies)) != 1:
            bodies.pop()
        self.heads = [enquiry_head(u, host) for u in users]
        self.bodies = bodies
        self.sent = 0

    def __call__(self) -> bytes:
        n = self.sent
        self.sent += 1
        return self.heads[n % len(self.heads)] + self.bodies[n % len(self.bodies)]


def healthz(host: str) -> bytes:
    return f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def metrics(host: str) -> bytes:
    return f"GET /metrics HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
