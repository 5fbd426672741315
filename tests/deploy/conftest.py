"""Deployment checks: compose.yaml and k8s/ describe the topology of standalone.yaml and are valid."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
