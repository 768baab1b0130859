"""The browser bundles under test, rebuilt when missing or older than their sources, so a
browser test never silently runs stale JavaScript."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.requirements import require_node

REPO = Path(__file__).resolve().parents[2]
WEB_DIR = REPO / "web"
DIST_DIR = WEB_DIR / "static" / "dist"
BUNDLES = ("cipherslip-crypto.js", "create.js", "reveal.js", "verify.js", "common.js",
           "download-sw.js")


def _stale() -> bool:
    built = [DIST_DIR / name for name in BUNDLES]
    if not all(path.exists() for path in built):
        return True
    oldest = min(path.stat().st_mtime for path in built)
    sources = [WEB_DIR / "build.mjs", *(WEB_DIR / "js").rglob("*.js")]
    return any(source.stat().st_mtime > oldest for source in sources)


def ensure_bundles() -> Path:
    if not _stale():
        return DIST_DIR
    node = require_node()
    if not (WEB_DIR / "node_modules" / "esbuild").is_dir():
        pytest.fail("web/node_modules is missing: run `make test` (or `npm ci` in web/)",
                    pytrace=False)
    built = subprocess.run(
        [node, str(WEB_DIR / "build.mjs")], cwd=WEB_DIR, capture_output=True, text=True,
        timeout=120, check=False,
    )
    if built.returncode != 0 or _stale():
        pytest.fail(f"`node web/build.mjs` failed:\n{built.stdout}\n{built.stderr}",
                    pytrace=False)
    return DIST_DIR
