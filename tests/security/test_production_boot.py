"""The production configuration boots and serves pages (issue 6, section 8), as CI's `.ci/boot` step checks.

DEBUG off, `collectstatic` with the manifest storage, uvicorn and daphne on loopback: the home page, the
sign-in page, the branded 404 and a hashed static file answer as they should.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_production_configuration_boots_and_serves_pages(tmp_path):
    result = subprocess.run(
        [sys.executable, ".ci/boot", "--workdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Production boot passed" in result.stdout
