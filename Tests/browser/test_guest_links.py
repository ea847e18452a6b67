"""Guest review links: a reviewer without an account reviews a campaign's drafts from the link an officer
made; a revoked link answers 410 and opens nothing."""
import uuid
from datetime import datetime, timedelta, timezone

from console import (BASE, EN, OFFICER, UNLABELLED, api, count_reviews, deliverable_status, draft_in_review, iso,
                     scroll_width, sql)

GUEST_NAME = "Dian Pratiwi"
GUEST_EMAIL = "dian.pratiwi@agensi.example.id"


def review_link(campaign_id, days=7):
    expires = datetime.now(timezone.utc) + timedelta(days=days)
    link = api(OFFICER, "POST", f"/v1/campaigns/{campaign_id}/review-links",
               {"reviewer_name": GUEST_NAME, "reviewer_email": GUEST_EMAIL, "expires_at": iso(expires)})
    assert link["url"].startswith("/review/"), link
    return link


def test_a_guest_link_lists_the_draft_and_its_approve_works(new_context):
    draft = draft_in_review(caption="Pagi ceria bersama si kecil dan segelas Susu Bunda hangat #SusuBunda #PagiCeria",
                            revised_caption="Pagi ceria bersama si kecil dan sarapan hangat #SusuBunda #PagiCeria")
    other = draft_in_review()  # another campaign's draft: not on this link
    link = review_link(draft["campaign_id"])
    page = new_context().new_page()  # no account, no session

    response = page.goto(link["url"])
    assert response.status == 200
    assert page.locator("h1").inner_text() == draft["campaign_title"]
    row = page.locator(f"a[href='{link['url']}/drafts/{draft['draft_id']}']")
    assert row.count() == 1 and row.inner_text() == draft["caption"]
    assert page.locator(f"a[href$='/drafts/{other['draft_id']}']").count() == 0

    row.click()
    page.wait_for_url(f"**{link['url']}/drafts/{draft['draft_id']}")
    assert [t.strip() for t in page.locator(".compare ins").all_inner_texts()] == ["sarapan"]
    assert page.locator("ul.checks li.missing").inner_text().startswith("@susubunda.id")
    before = count_reviews(draft["draft_id"])
    page.get_by_role("button", name=EN["draft.approve"]).click()
    page.wait_for_url(f"**{link['url']}?done=approve")
    assert page.get_by_role("status").inner_text() == EN["draft.done.approve"]
    assert page.locator(f"a[href$='/drafts/{draft['draft_id']}']").count() == 0, "the approved draft left the list"

    assert deliverable_status(draft["deliverable_id"]) == "approved"
    assert count_reviews(draft["draft_id"]) == before + 1
    reviews = api(OFFICER, "GET", f"/v1/drafts/{draft['draft_id']}")["reviews"]
    assert [(r["decision"], r["reviewer_role"]) for r in reviews][-1] == ("approve", "brand")
    # The audit event names the guest.
    events = sql(f"SELECT actor_role, data->>'guest_name', data->>'guest_email', data->>'review_link_id' FROM events "
                 f"WHERE entity_id = '{uuid.UUID(draft['deliverable_id'])}' AND to_state = 'approved'")
    assert events == [["brand", GUEST_NAME, GUEST_EMAIL, link["id"]]], events

    # The link opens nothing else: not the other campaign's draft, not the console.
    assert page.goto(f"{link['url']}/drafts/{other['draft_id']}").status == 404
    page.goto("/app")
    assert page.url.startswith(f"{BASE}/app/login")


def test_a_guest_can_request_changes_without_javascript(new_context):
    draft = draft_in_review()
    link = review_link(draft["campaign_id"])
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"{link['url']}/drafts/{draft['draft_id']}")
    page.get_by_label(EN["draft.feedback_label"]).fill("Logonya terlalu kecil.")
    with page.expect_navigation():
        page.get_by_role("button", name=EN["draft.request_changes"]).click()
    assert page.url.endswith(f"{link['url']}?done=request_changes")
    assert deliverable_status(draft["deliverable_id"]) == "brand_feedback"
    reviews = api(OFFICER, "GET", f"/v1/drafts/{draft['draft_id']}")["reviews"]
    assert (reviews[-1]["decision"], reviews[-1]["message"]) == ("request_changes", "Logonya terlalu kecil.")


def test_a_revoked_link_answers_410_and_an_unknown_one_404(new_context):
    draft = draft_in_review()
    link = review_link(draft["campaign_id"])
    page = new_context().new_page()
    assert page.goto(link["url"]).status == 200
    draft_page = f"{link['url']}/drafts/{draft['draft_id']}"
    page.goto(draft_page)
    approve = page.locator("form:has(input[name=decision][value=approve])")
    fields = {name: approve.locator(f"input[name={name}]").get_attribute("value")
              for name in ("csrf_token", "idempotency_key", "decision")}

    assert api(OFFICER, "DELETE", f"/v1/review-links/{link['id']}") is None
    response = page.goto(link["url"])
    assert response.status == 410
    assert page.locator("h1").inner_text() == EN["guest.gone.title"]
    assert page.locator("main a").count() == 0, "a plain page: nothing to follow"
    assert page.goto(draft_page).status == 410
    # The form opened before the link was revoked no longer decides anything.
    answer = page.request.post(f"{draft_page}/reviews", form=fields, max_redirects=0)
    assert answer.status == 410
    assert deliverable_status(draft["deliverable_id"]) == "in_brand_review"

    unknown = page.goto("/review/" + "x" * 43)
    assert unknown.status == 404


def test_the_guest_pages_fit_a_phone_and_label_their_fields(new_context):
    draft = draft_in_review(caption="Pagi ceria bersama si kecil dan segelas Susu Bunda hangat #SusuBunda #PagiCeria",
                            revised_caption="Pagi ceria bersama si kecil dan sarapan hangat #SusuBunda #PagiCeria")
    link = review_link(draft["campaign_id"])
    page = new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True).new_page()
    for path in (link["url"], f"{link['url']}/drafts/{draft['draft_id']}"):
        for language in ("en", "id"):
            assert page.goto(f"{path}?lang={language}").status == 200
            assert page.locator("html").get_attribute("lang") == language
            assert scroll_width(page) <= 360, f"{path} ({language}): {scroll_width(page)} px wide"
            assert page.evaluate(UNLABELLED) == [], path
    assert "default-src 'self'" in page.context.request.get(link["url"]).headers.get("content-security-policy", "")
