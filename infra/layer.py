"""The functions' dependencies layer, built without Docker and cached until requirements change.

pip fetches manylinux wheels for Lambda's platform and Python into build/layer/python; synth
packages that folder as a layer. Nothing compiles here, so it builds the same on any machine.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "functions" / "requirements.txt"
LAYER = ROOT / "build" / "layer"
LAMBDA_PYTHON = "3.13"


def build_layer() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + LAMBDA_PYTHON.encode()).hexdigest()
    stamp = LAYER / ".requirements-sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return LAYER
    target = LAYER / "python"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--platform", "manylinux2014_x86_64", "--only-binary=:all:", "--implementation", "cp",
                    "--python-version", LAMBDA_PYTHON, "--upgrade", "--target", str(target), "-r", str(REQUIREMENTS)],
                   check=True)
    stamp.write_text(digest)
    return LAYER
