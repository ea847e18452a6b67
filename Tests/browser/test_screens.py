"""Screenshots for docs/screens/, taken only when KOLAB_SCREENSHOTS=1 (scripts/browser-tests passes it on):
the draft page on a 360 px phone and a brand's home page on a 1280 px desktop. With `pngquant` on the
PATH they are shrunk to 256 colours."""
import shutil
import subprocess

import pytest

from console import BASE, BRAND, ROOT, draft_in_review, screenshots_wanted, sign_in

SCREENS = ROOT / "docs" / "screens"


@pytest.mark.skipif(not screenshots_wanted(), reason="set KOLAB_SCREENSHOTS=1 to write docs/screens/")
def test_screenshots_for_the_docs(new_context):
    draft = draft_in_review(
        caption="Sahur tadi si kecil minta susu hangat sebelum tidur lagi. Segelas Susu Bunda, lalu tidur nyenyak "
                "sampai pagi. #SusuBunda",
        revised_caption="Sahur tadi si kecil minta Susu Bunda hangat sebelum tidur lagi. Segelas saja, lalu tidur "
                        "nyenyak sampai pagi. #SusuBunda #PagiCeria")
    SCREENS.mkdir(parents=True, exist_ok=True)

    def offline(context):
        # The draft's media live on another host: keep the run off the network.
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(BASE) else route.abort())
        return context

    phone = offline(new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                                device_scale_factor=1)).new_page()
    sign_in(phone, BRAND)
    phone.goto(f"/app/drafts/{draft['draft_id']}")
    phone.screenshot(path=str(SCREENS / "draft-360.png"), full_page=True)

    desktop = offline(new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1)).new_page()
    sign_in(desktop, BRAND)
    desktop.goto("/app")
    desktop.screenshot(path=str(SCREENS / "brand-home-1280.png"))
    for name in ("draft-360.png", "brand-home-1280.png"):
        if shutil.which("pngquant"):
            subprocess.run(["pngquant", "--force", "--skip-if-larger", "--strip", "--output", str(SCREENS / name), "256",
                            str(SCREENS / name)], check=False)
        assert (SCREENS / name).stat().st_size > 1000
