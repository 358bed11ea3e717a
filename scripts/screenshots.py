"""Makes the README's screenshots from the demo (frozen clock, so reruns give the same pictures).

python scripts/screenshots.py        writes screenshots/*.svg
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.harness import demo_app, ready  # noqa: E402

OUT = ROOT / "screenshots"
SHOTS = [
    ("overview", (160, 48), []),
    ("overview-80x24", (80, 24), []),
    ("waterfall", (160, 48), ["2", "enter", "down", "down", "down", "down"]),
    ("flame", (160, 48), ["f", "down", "down", "down", "down"]),
    ("flame-search", (160, 48), ["f", "slash", "s", "s", "l", "enter"]),
    ("findings", (160, 48), ["F", "j"]),
    ("findings-80x24", (80, 24), ["F"]),
    ("tail", (160, 48), ["slash", "c", "o", "m", "p", "l", "e", "t", "e", "d", "enter"]),
]


async def shoot(name: str, size: tuple[int, int], keys: list[str]) -> None:
    with demo_app() as app:
        async with app.run_test(size=size) as pilot:
            await ready(app, health=True)
            await pilot.pause()
            for k in keys:
                await pilot.press(k)
            traces = [w.wait() for w in app.workers if w.group == "trace"]
            await asyncio.wait_for(asyncio.gather(*traces, return_exceptions=True), 60)
            await pilot.pause(0.2)
            app.save_screenshot(str(OUT / f"{name}.svg"))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, size, keys in SHOTS:
        asyncio.run(shoot(name, size, keys))
        print(f"screenshots/{name}.svg")


if __name__ == "__main__":
    main()
