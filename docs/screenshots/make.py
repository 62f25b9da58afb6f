"""Screenshots of the pages for people, from a real server over the seed, in headless Chromium.

    python docs/screenshots/make.py            # writes docs/screenshots/*.png

Needs Debian's Chromium (/usr/bin/chromium) and Playwright for Python ('.[test]').
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from seed.loader import build_database  # noqa: E402
from tests.server_process import running_server  # noqa: E402

OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
# (file, path, viewport width); wide pages at a desktop width, one at a phone's.
SHOTS = [
    ("landing.png", "/", 1280),
    ("collection.png", "/warrants?status=outstanding", 1280),
    ("record.png", "/warrants/warrant-benjamin-netanyahu", 1280),
    ("search.png", "/search?q=akane", 1280),
    ("timeline.png", "/timeline", 1280),
    ("source-viewer.png", "/sources/trump-campaign-against-icc-faces-resistance#span-1042-1225", 1280),
    ("record-375px.png", "/officials/tomoko-akane", 375),
]


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "icc-events.db"
        build_database(db)
        # The server imports this checkout, whatever else is installed.
        env = {"PYTHONPATH": str(ROOT)}
        with running_server(db, Path(tmp) / "server.log", env=env) as (base_url, _), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for name, path, width in SHOTS:
                context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900})
                page = context.new_page()
                page.goto(path)
                page.screenshot(path=str(OUT / name), full_page=False)
                context.close()
                print(OUT / name)
            browser.close()


if __name__ == "__main__":
    main()
