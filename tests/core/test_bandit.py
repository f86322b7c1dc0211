"""bandit (a security linter for Python) finds nothing of medium or high severity in the app."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import require

ROOT = Path(__file__).resolve().parents[2]


def test_bandit_finds_no_medium_or_high_issue():
    bandit = Path(sys.executable).with_name("bandit")
    require(bandit.exists() or shutil.which("bandit") is not None, "bandit is not installed")
    result = subprocess.run(
        [str(bandit), "-r", str(ROOT / "learnhub"), "-ll", "-q", "-f", "txt"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
