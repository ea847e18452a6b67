"""Signing in and out of the console, as a brand reviewer does it in Chromium."""
from console import BASE, BRAND, EN, ID, sign_in


def path_of(page):
    return page.url[len(BASE):] if page.url.startswith(BASE) else page.url


def test_sign_in_reaches_the_home_page_and_sign_out_ends_the_session(page):
    response = page.goto("/app")
    assert path_of(page).startswith("/app/login"), "a visitor without a session is sent to the sign-in page"
    assert response.status == 200
    sign_in(page, BRAND)
    assert path_of(page) == "/app"
    assert page.locator("h1").inner_text() == EN["home.title"]
    assert page.get_by_role("heading", name=EN["queue.title"]).is_visible()

    session = [c for c in page.context.cookies() if c["name"] == "kolab_session"]
    assert len(session) == 1, "the session cookie is set"
    assert session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"
    assert not session[0]["secure"], "development mode: the cookie works over plain http"

    page.get_by_role("button", name=EN["nav.logout"]).click()
    page.wait_for_load_state()
    assert path_of(page).startswith("/app/login")
    page.goto("/app")
    assert path_of(page).startswith("/app/login"), "after signing out /app asks to sign in again"
    assert page.locator("#password").is_visible()


def test_sign_in_returns_to_the_page_asked_for(page):
    page.goto("/app/campaigns")
    assert "next=" in page.url
    page.fill("#email", BRAND)
    page.fill("#password", "kolab-demo-2026")
    page.click("form[action='/app/login'] button[type=submit]")
    page.wait_for_url("**/app/campaigns")
    assert page.locator("h1").inner_text() == EN["campaigns.title"]


def test_a_wrong_password_shows_the_error_and_stays_on_the_form(page):
    page.goto("/app/login")
    page.fill("#email", BRAND)
    page.fill("#password", "not-the-password")
    with page.expect_navigation() as navigation:
        page.click("form[action='/app/login'] button[type=submit]")
    assert navigation.value.status == 401
    assert path_of(page).startswith("/app/login")
    assert page.get_by_role("alert").inner_text() == EN["login.wrong"]
    assert page.input_value("#email") == BRAND, "the e-mail is kept for the next try"
    assert page.input_value("#password") == ""
    assert not [c for c in page.context.cookies() if c["name"] == "kolab_session"]
    # The right password then works from the same form.
    page.fill("#password", "kolab-demo-2026")
    page.click("form[action='/app/login'] button[type=submit]")
    page.wait_for_url("**/app")
    assert page.locator("h1").inner_text() == EN["home.title"]


def test_the_sign_in_page_speaks_indonesian_when_asked(new_context):
    page = new_context(extra_http_headers={"Accept-Language": "id-ID,id;q=0.9"}).new_page()
    page.goto("/app/login")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == ID["login.title"]
    assert page.locator("label[for=password]").inner_text() == ID["login.password"]
