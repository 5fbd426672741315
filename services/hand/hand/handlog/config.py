"""Where the hand log keeps its files: ``$HAND_LOG_FILE`` and ``$HAND_LOG_DB`` (spec poker §7)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TEXT_FILE = "hand_log.txt"


@dataclass(frozen=True)
class HandLogPaths:
    """The text file and its database (default: the text file's name with the suffix ``.db``)."""

    text: Path
    db: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HandLogPaths:
        """Read ``HAND_LOG_FILE`` (default ``hand_log.txt``) and ``HAND_LOG_DB``; blank counts as unset."""
        env = os.environ if environ is None else environ
        text = Path(env.get("HAND_LOG_FILE", "").strip() or DEFAULT_TEXT_FILE)
        db = env.get("HAND_LOG_DB", "").strip()
        return cls(text=text, db=Path(db) if db else text.with_suffix(".db"))
