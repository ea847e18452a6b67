"""What every page of the console promises: the user's language, a phone's width, labelled fields, the
report's chart, and a Content-Security-Policy that loads nothing from another host."""
import pytest

from console import BRAND, EN, ID, UNLABELLED, api, draft_in_review, scroll_width, signed_in_page


def report_campaign():
    """The demo's "Hari Ibu" campaign: its insights are verified, so its report has figures and bars."""
    campaigns = api(BRAND, "GET", "/v1/campaigns?limit=100")["data"]
    return next(c for c in campaigns if "Hari Ibu" in c["title"])


@pytest.fixture(scope="module")
def compared_draft():
    return draft_in_review(
        caption="Bekal pagi untuk si kecil: roti, buah, dan Susu Bunda https://example.id/bekal-pagi-yang-sangat-panjang"
                "-sekali-agar-terlihat-apakah-tautan-panjang-meluber #SusuBunda",
        revised_caption="Bekal pagi untuk si kecil: roti isi, buah potong, dan Susu Bunda cokelat #SusuBunda #PagiCeria "
                        "@susubunda.id")


def console_pages(compared_draft):
    report = report_campaign()["id"]
    return {
        "home": "/app", "campaigns": "/app/campaigns", "draft": f"/app/drafts/{compared_draft['draft_id']}",
        "campaign": f"/app/campaigns/{compared_draft['campaign_id']}", "report": f"/app/campaigns/{report}/report",
    }


def test_accept_language_id_gives_indonesian_and_lang_en_switches_back(new_context):
    page = signed_in_page(new_context, extra_http_headers={"Accept-Language": "id"})
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == ID["home.title"]
    assert page.get_by_role("heading", name=ID["queue.title"]).is_visible()
    assert page.get_by_role("button", name=ID["nav.logout"]).is_visible()

    # The switch on every page: a link to ?lang=en, remembered afterwards.
    page.locator("a[hreflang=en]").click()
    page.wait_for_url("**?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == EN["home.title"]
    page.goto("/app/campaigns")
    assert page.locator("html").get_attribute("lang") == "en", "the choice outlasts the page"
    assert page.locator("h1").inner_text() == EN["campaigns.title"]
    page.goto("/app/campaigns?lang=id")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == ID["campaigns.title"]


def test_money_and_numbers_follow_the_language(new_context):
    page = signed_in_page(new_context, extra_http_headers={"Accept-Language": "id"})
    report = report_campaign()["id"]
    page.goto(f"/app/campaigns/{report}/report")
    figures = page.locator("dl.figures").inner_text()
    assert "Rp" in figures and "IDR" not in figures, figures
    page.goto(f"/app/campaigns/{report}/report?lang=en")
    figures = page.locator("dl.figures").inner_text()
    assert "IDR " in figures and "Rp" not in figures, figures


def test_no_page_scrolls_sideways_at_360_px(new_context, compared_draft):
    page = new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True).new_page()
    page.goto("/app/login")
    assert scroll_width(page) <= 360, f"login: {scroll_width(page)} px wide"
    page.fill("#email", BRAND)
    page.fill("#password", "kolab-demo-2026")
    page.click("form[action='/app/login'] button[type=submit]")
    page.wait_for_url("**/app")
    wide = {}
    for name, path in console_pages(compared_draft).items():
        for language in ("en", "id"):
            response = page.goto(f"{path}?lang={language}")
            assert response.status == 200, f"{name}: {response.status}"
            width = scroll_width(page)
            if width > 360:
                wide[f"{name} ({language})"] = width
    assert not wide, f"pages wider than 360 px: {wide}"


def test_every_visible_form_field_has_a_label(new_context, compared_draft):
    page = new_context().new_page()
    page.goto("/app/login")
    assert page.evaluate(UNLABELLED) == [], "login"
    page.fill("#email", BRAND)
    page.fill("#password", "kolab-demo-2026")
    page.click("form[action='/app/login'] button[type=submit]")
    page.wait_for_url("**/app")
    fields = 0
    for name, path in console_pages(compared_draft).items():
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], name
        fields += page.locator("input:not([type=hidden]), textarea, select").count()
        # Every button says what it does.
        for button in page.locator("button").all():
            assert button.inner_text().strip() or button.get_attribute("aria-label"), f"{name}: an empty button"
    assert fields >= 1, "the draft page's feedback field was checked"


def test_the_report_shows_an_svg_bar_chart(new_context):
    campaign = report_campaign()
    page = signed_in_page(new_context)
    response = page.goto(f"/app/campaigns/{campaign['id']}/report")
    assert response.status == 200
    assert page.get_by_role("heading", name=EN["report.chart_title"]).is_visible()
    chart = page.locator("figure.chart svg")
    assert chart.count() == 1 and chart.is_visible()
    assert chart.locator("rect").count() >= 2, "bars of reach and engagements"
    assert chart.bounding_box()["width"] > 0
    assert page.locator("table tbody tr").count() >= 1
    for text in ("Rina Wulandari", "Maya Sari"):
        assert text in page.locator("table").inner_text()


def test_the_content_security_policy_loads_nothing_from_elsewhere(new_context, compared_draft):
    page = signed_in_page(new_context)
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    for path in ["/app/login", *console_pages(compared_draft).values()]:
        response = page.goto(path)
        policy = response.headers.get("content-security-policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        assert directives.get("default-src") == ["'self'"], f"{path}: {policy!r}"
        for directive, sources in directives.items():
            if directive in ("img-src", "media-src"):
                assert set(sources) <= {"'self'", "https:"}, f"{path}: {directive} {sources}"
            else:
                assert not [s for s in sources if s not in ("'self'", "'none'")], f"{path}: {directive} {sources}"
        # The page itself keeps to it: its stylesheet is its own, and it runs no script.
        assert page.locator("script").count() == 0, path
        assert page.evaluate("[...document.styleSheets].every(s => !s.href || s.href.startsWith(location.origin))")
    assert not blocked, blocked
