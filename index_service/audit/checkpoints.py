"""Signed checkpoints of the audit chain's head, kept outside the database.

A checkpoint says "at `position` the chain's hash was `hash`", signed with an Ed25519 key
that never enters the database. Someone who can edit the database can recompute the whole
chain after changing an event, but cannot sign a checkpoint that agrees with it, and the
checkpoints already written (to a directory outside the database, one file each, never
overwritten) disagree with the new chain. A missing tail shows as a checkpoint beyond the
chain's head.

The signed bytes are the RFC 8785 encoding of the checkpoint without its `signature`.
A checkpoint names the chain version it was made under: version-1 files
(`checkpoint-<position>.json`, from before migration 0020 re-chained the trail) are checked
against the version-1 hashes the seals kept; version-2 ones are named
`checkpoint-v2-<position>.json`, so that the first one after the re-chaining, often at
the very position of the last version-1 one, is a file of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from index_service.audit.chain import CHAIN_VERSION
from index_service.settings import Settings

PREFIX = "checkpoint-"


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: str  # hex
    event_id: str
    signed_at: str
    key_id: str
    version: int = CHAIN_VERSION
    signature: str = ""  # base64 Ed25519 over the RFC 8785 encoding of the rest

    def signed_bytes(self) -> bytes:
        content = asdict(self)
        del content["signature"]
        return rfc8785.dumps(content)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key. Outside production a missing key file is made (mode
    0600) under data_dir; in production it must exist where AUDIT_SIGNING_KEY_FILE says."""
    path = settings.signing_key_path
    if not path.exists():
        if settings.environment == "production":
            raise FileNotFoundError(f"audit signing key {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def verify_key(settings: Settings) -> Ed25519PublicKey | None:
    """The key checkpoints are verified with: AUDIT_VERIFY_KEY_FILE, else the public half
    of an existing signing key; None if there is neither (never made up here: a new key
    would call every existing checkpoint forged)."""
    if settings.audit_verify_key_file is None:
        path = settings.signing_key_path
        if not path.exists():
            return None
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return private.public_key()
    key = serialization.load_pem_public_key(settings.audit_verify_key_file.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{settings.audit_verify_key_file} is not an Ed25519 public key")
    return key


def sign(
    key: Ed25519PrivateKey,
    *,
    position: int,
    head: bytes,
    event_id: str,
    at: datetime,
    version: int = CHAIN_VERSION,
) -> Checkpoint:
    unsigned = Checkpoint(
        position=position,
        hash=head.hex(),
        event_id=event_id,
        signed_at=at.isoformat(),
        key_id=key_id(key.public_key()),
        version=version,
    )
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def signature_valid(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(checkpoint.signature), checkpoint.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def write(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write `checkpoint` as a file of its own, atomically, never over an existing one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(checkpoint.version, checkpoint.position)
    if path.exists():
        return path
    partial = directory / f".{path.name}.{os.getpid()}.partial"
    partial.write_text(json.dumps(asdict(checkpoint), indent=2) + "\n", encoding="utf-8")
    try:
        os.link(partial, path)  # fails if the name exists: a checkpoint is never replaced
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    return path


def file_name(version: int, position: int) -> str:
    tag = "" if version == 1 else f"v{version}-"
    return f"{PREFIX}{tag}{position:015d}.json"


@dataclass(frozen=True)
class StoredCheckpoint:
    path: Path
    checkpoint: Checkpoint | None  # None: not a readable checkpoint


def read_all(directory: Path) -> list[StoredCheckpoint]:
    """Every checkpoint file in `directory`, in file-name (position) order."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob(f"{PREFIX}*.json")):
        found.append(StoredCheckpoint(path=path, checkpoint=_parse(path)))
    return found


def _parse(path: Path) -> Checkpoint | None:
    try:
        content: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return Checkpoint(
            position=int(content["position"]),
            hash=str(content["hash"]),
            event_id=str(content["event_id"]),
            signed_at=str(content["signed_at"]),
            key_id=str(content["key_id"]),
            version=int(content["version"]),
            signature=str(content["signature"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def latest(directory: Path, version: int = CHAIN_VERSION) -> Checkpoint | None:
    """The newest readable checkpoint of the chain `version`, reading files from the
    newest name back."""
    if not directory.is_dir():
        return None
    for path in sorted(directory.glob(f"{PREFIX}*.json"), reverse=True):
        checkpoint = _parse(path)
        if checkpoint is not None and checkpoint.version == version:
            return checkpoint
    return None
