"""A KOL on a 360 px phone: she finds an open campaign (and why she cannot register for another), registers
with a pitch, reads and acknowledges the brief, sends her draft, reads the officer's relayed words (never the
brand's own), sends a revision that a double submit cannot turn into two versions, sends the link to her
live post and its insights from the same page, sees her payout with its breakdown and adds her bank details.
Another KOL's pages and finance's pages are 404 to her."""
import uuid
from datetime import datetime, timedelta, timezone

from console import (BASE, BRAND, FINANCE, OFFICER, PHONE, UNLABELLED, all_strings, api, iso, money,
                     open_campaign, resend, screenshot_for_docs, scroll_width, signed_in_page, user_id)

EN, ID = all_strings("en"), all_strings("id")
# Nurul Aini: 15,800 Instagram followers and no bank details yet (fixtures/accounts.json).
KOL = "nurul.aini@example.id"
OTHER_KOL = "sri.mulyani@example.id"
# Western Indonesia Time, in which she types the time of her post (no daylight saving).
WIB = timezone(timedelta(hours=7))


def tag():
    return uuid.uuid4().hex[:6]


def phone(new_context, email=KOL, **options):
    return signed_in_page(new_context, email, **PHONE, **options)


# JavaScript naming the innermost elements that reach past the right edge of the viewport.
TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5))
  .slice(0, 5).map(e => `${e.outerHTML.slice(0, 160)} (right edge ${Math.round(e.getBoundingClientRect().right)} px)`)"""


def fits_a_phone(page, name):
    """The page does not scroll sideways at 360 px and every visible field has a label."""
    width = scroll_width(page)
    assert width <= 360, f"{name}: {width} px wide at 360 px ({page.url}); too wide: {page.evaluate(TOO_WIDE)}"
    unlabelled = page.evaluate(UNLABELLED)
    assert unlabelled == [], f"{name}: fields without a label: {unlabelled}"


def path_of(page):
    return page.url[len(BASE):] if page.url.startswith(BASE) else page.url


def campaign_card(page, campaign_id):
    return page.locator("li.card", has=page.locator(f"a[href='/app/campaigns/{campaign_id}']"))


def figures(card):
    """A payout card's breakdown as {label: amount}."""
    return {item.locator("dt").inner_text().strip(): item.locator("dd").inner_text().strip()
            for item in card.locator("dl.figures > div").all()}


def moment(text):
    """An API time (`2026-11-20T01:30:00Z`, with or without fractions of a second) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def drafts_of(deliverable_id):
    return api(OFFICER, "GET", f"/v1/deliverables/{deliverable_id}/drafts")["data"]


def accepted(campaign_id, kol=KOL, acknowledge=True):
    """Her registration for the campaign, accepted by the officer (and its brief acknowledged): ids."""
    rid = api(kol, "POST", f"/v1/campaigns/{campaign_id}/registrations", {"pitch": "Ibu dua anak di Makassar."})["id"]
    api(OFFICER, "POST", f"/v1/registrations/{rid}/accept")
    if acknowledge:
        api(kol, "POST", f"/v1/registrations/{rid}/brief-acknowledgement", {"version": 1})
    did = api(kol, "GET", f"/v1/registrations/{rid}/deliverables")["data"][0]["id"]
    return rid, did


def test_open_campaigns_show_the_fee_and_why_she_cannot_register_in_both_languages(new_context):
    suffix = tag()
    open_one = open_campaign(f"Susu Bunda: Sarapan Bersama {suffix}", fee_idr=1_750_000)
    big = open_campaign(f"Susu Bunda: Duta Besar {suffix}", fee_idr=5_000_000, eligibility={"min_followers": 50_000})
    page = phone(new_context)
    page.locator("header nav a[href='/app/campaigns']").click()
    page.wait_for_url("**/app/campaigns")
    assert page.locator("h1").inner_text() == EN["kol.campaigns.title"]
    fits_a_phone(page, "campaigns")

    card = campaign_card(page, open_one["id"])
    assert card.count() == 1, "the open campaign is listed"
    assert f"{EN['kol.campaign.fee']} {money(1_750_000)} · instagram" in card.inner_text()
    assert card.locator("strong").first.inner_text() == money(1_750_000)
    assert EN["kol.campaign.eligible"] in card.inner_text()

    ineligible = campaign_card(page, big["id"])
    assert ineligible.count() == 1, "a campaign she cannot join is listed too, with the reason"
    assert money(5_000_000) in ineligible.inner_text()
    assert EN["kol.campaign.eligible"] not in ineligible.inner_text()
    assert EN["kol.campaign.not_eligible"] in ineligible.inner_text()
    assert ineligible.locator("li").all_inner_texts() == ["You need at least 50,000 followers on instagram."]

    # The campaign's own page says the same and offers no register form.
    ineligible.locator("a.title").click()
    page.wait_for_url(f"**/app/campaigns/{big['id']}")
    assert page.locator("#pitch").count() == 0
    assert page.locator("main .notice li").all_inner_texts() == ["You need at least 50,000 followers on instagram."]
    fits_a_phone(page, "ineligible campaign")
    # Nor does a forged post register her: the API's eligibility rule holds.
    csrf = page.locator("form[action='/app/logout'] input[name=csrf_token]").get_attribute("value")
    forged = page.request.post(f"/app/campaigns/{big['id']}/registrations", max_redirects=0,
                               form={"csrf_token": csrf, "pitch": "Tolong", "idempotency_key": str(uuid.uuid4())})
    assert forged.status >= 400, forged.status
    assert api(OFFICER, "GET", f"/v1/campaigns/{big['id']}/registrations")["data"] == []

    # In Bahasa Indonesia: her language's words and numbers.
    assert page.goto("/app/campaigns?lang=id").status == 200
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").inner_text() == ID["kol.campaigns.title"]
    card = campaign_card(page, open_one["id"])
    assert f"{ID['kol.campaign.fee']} {money(1_750_000, 'id')}" in card.inner_text()
    assert ID["kol.campaign.eligible"] in card.inner_text()
    ineligible = campaign_card(page, big["id"])
    assert ID["kol.campaign.not_eligible"] in ineligible.inner_text()
    assert ineligible.locator("li").all_inner_texts() == ["Anda perlu minimal 50.000 pengikut di instagram."]
    fits_a_phone(page, "campaigns (id)")


def test_a_kol_goes_from_an_open_campaign_to_her_payout_on_a_phone(new_context):
    suffix = tag()
    campaign = open_campaign(f"Susu Bunda: Pagi Ceria di Rumah {suffix}", fee_idr=1_750_000)
    cid = campaign["id"]
    page = phone(new_context)
    fits_a_phone(page, "home")

    # She finds the campaign and registers with a pitch.
    page.locator("header nav a[href='/app/campaigns']").click()
    page.wait_for_url("**/app/campaigns")
    screenshot_for_docs(page, "kol-campaigns-360.png")
    campaign_card(page, cid).locator("a.title").click()
    page.wait_for_url(f"**/app/campaigns/{cid}")
    assert page.locator("h1").inner_text() == campaign["title"]
    assert money(1_750_000) in page.locator("p.meta").first.inner_text()
    fits_a_phone(page, "campaign")
    pitch = f"Ibu dua anak di Makassar; pagi kami selalu dimulai dengan sarapan bersama ({suffix})."
    page.get_by_label(EN["kol.campaign.pitch"]).fill(pitch)
    screenshot_for_docs(page, "kol-campaign-360.png")
    page.get_by_role("button", name=EN["kol.campaign.register"]).click()
    page.wait_for_url("**/app/registrations/*")
    rid = path_of(page).rsplit("/", 1)[1]
    assert page.locator("main > p.meta .stage").inner_text() == EN["kol.registration.applied"]
    assert page.locator("p.caption").inner_text() == pitch
    registration = api(OFFICER, "GET", f"/v1/registrations/{rid}")
    assert (registration["campaign_id"], registration["status"], registration["pitch"]) == (cid, "applied", pitch)

    # Accepted by the officer: her registrations say there is a brief to read; she opens it, reads it and
    # acknowledges it.
    api(OFFICER, "POST", f"/v1/registrations/{rid}/accept")
    api(OFFICER, "POST", f"/v1/campaigns/{cid}/close-registration")
    page.locator("header nav a[href='/app/registrations']").click()
    page.wait_for_url("**/app/registrations")
    assert page.locator("h1").inner_text() == EN["kol.registrations.title"]
    row = page.locator("li.card", has=page.locator(f"a[href='/app/registrations/{rid}']"))
    assert row.locator(".stage").inner_text() == EN["kol.registration.accepted"]
    assert EN["kol.registration.read_brief"] in row.inner_text()
    fits_a_phone(page, "registrations")
    screenshot_for_docs(page, "kol-registrations-360.png")
    row.locator("a.title").click()
    page.wait_for_url(f"**/app/registrations/{rid}")
    assert page.locator("main > p.meta .stage").inner_text() == EN["kol.registration.accepted"]
    brief = page.locator("section.brief").inner_text()
    for text in ("A calm morning starts with Susu Bunda", "Show the pack in daylight", "No medical claims",
                 "#SusuBunda #PagiCeria", "@susubunda.id"):
        assert text in brief, text
    fits_a_phone(page, "registration")
    screenshot_for_docs(page, "kol-registration-360.png")
    page.get_by_role("button", name=EN["kol.registration.acknowledge"]).click()
    page.wait_for_url(f"**/app/registrations/{rid}")
    assert EN["kol.registration.acknowledged"] in page.locator("main").inner_text()
    assert page.get_by_role("button", name=EN["kol.registration.acknowledge"]).count() == 0
    assert api(OFFICER, "GET", f"/v1/registrations/{rid}")["brief_version_acknowledged"] == 1

    # Her home says what is due next: the draft, by its due time.
    did = api(KOL, "GET", f"/v1/registrations/{rid}/deliverables")["data"][0]["id"]
    page.locator("header nav a[href='/app']").first.click()
    page.wait_for_url("**/app")
    assert page.locator("h1").inner_text() == EN["kol.home.title"]
    link = page.locator(f"a[href='/app/deliverables/{did}']")
    assert link.count() == 1 and link.inner_text() == f"{campaign['title']} · instagram · {EN['format.feed_post']}"
    row = page.locator("li.card", has=link)
    assert EN["kol.next.draft"] in row.inner_text()
    assert row.locator("time").get_attribute("datetime") == iso(campaign["draft_due_at"])
    fits_a_phone(page, "home with a deliverable")
    screenshot_for_docs(page, "kol-home-360.png")

    # The draft: a caption, a media link (a url field) and a note.
    link.click()
    page.wait_for_url(f"**/app/deliverables/{did}")
    assert page.locator("main > p.meta .stage").inner_text() == EN["deliverable.status.awaiting_draft"]
    assert EN["kol.next.draft"] in page.locator("main").inner_text()
    assert page.get_by_label(f"{EN['kol.deliverable.media']} 1").get_attribute("type") == "url"
    fits_a_phone(page, "deliverable, draft form")
    caption = f"Pagi ceria di Makassar: roti, pisang dan segelas Susu Bunda hangat #SusuBunda #PagiCeria ({suffix})"
    media = f"https://cdn.example.id/nurul/pagi-ceria-{suffix}.jpg"
    page.get_by_label(EN["draft.caption"]).fill(caption)
    page.get_by_label(f"{EN['kol.deliverable.media']} 1").fill(media)
    page.get_by_label(EN["draft.notes"]).fill("Foto diambil jam 7 pagi.")
    page.get_by_role("button", name=EN["kol.deliverable.send_draft"]).click()
    page.wait_for_url(f"**/app/deliverables/{did}")
    assert page.locator("main > p.meta .stage").inner_text() == EN["deliverable.status.draft_submitted"]
    assert EN["kol.next.wait_review"] in page.locator("main").inner_text()
    assert page.locator("#caption").count() == 0, "no draft form while the draft is reviewed"
    drafts = drafts_of(did)
    assert [(d["version"], d["caption"], d["notes"]) for d in drafts] == [(1, caption, "Foto diambil jam 7 pagi.")]
    assert drafts[0]["media"] == [{"url": media, "kind": "image"}]

    # The officer forwards it, the brand asks for changes in its own words, the officer relays hers.
    forward_note = f"Untuk tim brand, mohon dicek ({suffix})"
    brand_words = f"BRAND ONLY: the pack is hidden behind the glass, logo far too small ({suffix})"
    officer_words = f"Mbak Nurul, tolong kemasan Susu Bunda ditaruh di depan gelas ya ({suffix})"
    v1 = drafts[0]["id"]
    api(OFFICER, "POST", f"/v1/drafts/{v1}/reviews", {"decision": "forward", "message": forward_note})
    api(BRAND, "POST", f"/v1/drafts/{v1}/reviews", {"decision": "request_changes", "message": brand_words})
    api(OFFICER, "POST", f"/v1/drafts/{v1}/reviews", {"decision": "relay", "message": officer_words})
    page.reload()
    assert page.locator("main > p.meta .stage").inner_text() == EN["deliverable.status.changes_requested"]
    messages = page.locator("section[aria-labelledby=messages-heading]")
    assert officer_words in messages.inner_text()
    assert EN["decision.relay"] in messages.inner_text()
    html = page.content()
    assert brand_words not in html, "the brand's own words never reach the KOL"
    assert "BRAND ONLY" not in html and forward_note not in html
    assert EN["kol.next.revision"] in page.locator("main").inner_text()
    assert page.get_by_label(EN["draft.caption"]).input_value() == caption, "the revision starts from her last caption"
    fits_a_phone(page, "deliverable, revision form")
    screenshot_for_docs(page, "kol-deliverable-360.png")

    # The revision, sent twice from one form (a double tap): one new version.
    revised = f"Pagi ceria di Makassar: kemasan Susu Bunda di depan, lalu sarapan bersama #SusuBunda #PagiCeria ({suffix})"
    page.get_by_label(EN["draft.caption"]).fill(revised)
    page.get_by_label(f"{EN['kol.deliverable.media']} 1").fill(f"https://cdn.example.id/nurul/pagi-ceria-{suffix}-v2.jpg")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(f"/app/deliverables/{did}/drafts")) as sent:
        page.get_by_role("button", name=EN["kol.deliverable.send_draft"]).click()
    page.wait_for_url(f"**/app/deliverables/{did}")
    first = sent.value.response()
    again = resend(page, sent.value)
    assert first.status == 303 and again.status == 303, (first.status, again.status, again.text()[:300])
    assert again.headers.get("location") == first.headers.get("location") == f"/app/deliverables/{did}"
    assert again.headers.get("idempotent-replayed") == "true", "the second answer is the first one replayed"
    drafts = drafts_of(did)
    assert [(d["version"], d["caption"]) for d in drafts] == [(1, caption), (2, revised)], drafts
    assert api(OFFICER, "GET", f"/v1/deliverables/{did}")["revision_rounds_used"] == 1
    page.reload()
    assert [t.strip() for t in page.locator("section[aria-labelledby=drafts-heading] li").all_inner_texts()] == [
        f"v2: {revised}", f"v1: {caption}"]

    # The brand approves v2 (through the API, as the officer and the brand would on their own pages).
    v2 = drafts[1]["id"]
    api(OFFICER, "POST", f"/v1/drafts/{v2}/reviews", {"decision": "forward"})
    api(BRAND, "POST", f"/v1/drafts/{v2}/reviews", {"decision": "approve"})

    # She posts and sends the link with the time she posted, in WIB. Insights fall due the campaign's
    # insights_after_days (at least 1) after the post, so the post is dated eight days back, as in the README.
    page.reload()
    assert page.locator("main > p.meta .stage").inner_text() == EN["deliverable.status.approved"]
    assert EN["kol.next.post"] in page.locator("main").inner_text()
    assert page.locator("#caption").count() == 0, "no draft form once the draft is approved"
    assert page.get_by_label(EN["kol.deliverable.post_url"]).get_attribute("type") == "url"
    assert page.get_by_label(EN["kol.deliverable.posted_at"]).get_attribute("type") == "datetime-local"
    fits_a_phone(page, "deliverable, post form")
    post_url = f"https://www.instagram.com/p/PagiCeria{suffix}/"
    posted_wib = (datetime.now(WIB) - timedelta(days=8)).replace(second=0, microsecond=0)
    page.get_by_label(EN["kol.deliverable.post_url"]).fill(post_url)
    page.get_by_label(EN["kol.deliverable.posted_at"]).fill(posted_wib.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name=EN["kol.deliverable.send_post"]).click()
    page.wait_for_url(f"**/app/deliverables/{did}")
    assert page.locator("main > p.meta .stage").inner_text() == EN["deliverable.status.posted"]
    assert EN["kol.next.wait_post"] in page.locator("main").inner_text()
    assert page.locator("#url").count() == 0, "no post form while the officer checks the post"
    assert page.get_by_role("link", name=post_url).get_attribute("href") == post_url
    sent = api(OFFICER, "GET", f"/v1/deliverables/{did}")
    assert (sent["status"], sent["post_url"]) == ("posted", post_url)
    assert moment(sent["posted_at"]) == posted_wib, "the time she typed, read as WIB"

    # The officer verifies the post; her insights are due, and she sends them with a screenshot link.
    assert api(OFFICER, "POST", f"/v1/deliverables/{did}/post/verify")["status"] == "live"
    insights_due = posted_wib + timedelta(days=campaign["insights_after_days"])
    page.reload()
    assert page.locator("main > p.meta .stage").inner_text() == EN["deliverable.status.live"]
    assert EN["kol.next.insights"] in page.locator("main").inner_text()
    assert moment(page.locator("main > p time").get_attribute("datetime")) == insights_due
    fits_a_phone(page, "deliverable, insights form")
    typed = {"reach": 18_400, "impressions": 26_250, "views": 21_075, "likes": 947, "comments": 63, "shares": 21,
             "saves": 84, "clicks": 139}
    labels = {"reach": EN["report.reach"], "impressions": EN["report.impressions"], "views": EN["report.views"],
              "likes": EN["kol.insights.likes"], "comments": EN["kol.insights.comments"],
              "shares": EN["kol.insights.shares"], "saves": EN["kol.insights.saves"], "clicks": EN["kol.insights.clicks"]}
    for field, value in typed.items():
        box = page.get_by_label(labels[field], exact=True)
        assert box.get_attribute("type") == "number", field
        box.fill(str(value))
    evidence = f"https://cdn.example.id/nurul/insights-{suffix}.png"
    page.get_by_label(f"{EN['kol.insights.evidence']} 1", exact=True).fill(evidence)
    page.get_by_role("button", name=EN["kol.deliverable.send_insights"]).click()
    page.wait_for_url(f"**/app/deliverables/{did}")
    assert page.locator("main > p.meta .stage").inner_text() == EN["deliverable.status.insights_submitted"]
    assert EN["kol.next.wait_insights"] in page.locator("main").inner_text()
    assert page.locator("#reach").count() == 0, "no insights form while the officer checks them"
    reported = api(KOL, "GET", f"/v1/deliverables/{did}/insights")["data"]
    assert len(reported) == 1, reported
    assert {field: reported[0][field] for field in typed} == typed, "her insights, as she typed them"
    assert (reported[0]["evidence_urls"], reported[0]["status"]) == ([evidence], "submitted")

    # The officer verifies them: the deliverable is done and her payout is calculated.
    assert api(OFFICER, "POST", f"/v1/deliverables/{did}/insights/verify")["status"] == "completed"
    payouts = api(KOL, "GET", f"/v1/payouts?campaign_id={cid}")["data"]
    assert [p["status"] for p in payouts] == ["calculated"], payouts
    payout = payouts[0]
    page.goto("/app")
    assert page.locator(f"a[href='/app/deliverables/{did}']").count() == 0, "completed work is no longer due"

    # Her payout with the breakdown; held until she adds her bank details.
    page.locator("header nav a[href='/app/payouts']").click()
    page.wait_for_url("**/app/payouts")
    assert page.locator("h1").inner_text() == EN["kol.payouts.title"]

    def payout_card(language="en"):
        cards = [card for card in page.locator("ul.list > li.card").all()
                 if money(payout["net_idr"], language) in card.inner_text()
                 and money(payout["fee_idr"], language) in card.inner_text()]
        assert len(cards) == 1, page.locator("main").inner_text()
        return cards[0]

    def expected(strings, language):
        return {strings["kol.payout.fee"]: money(payout["fee_idr"], language),
                strings["kol.payout.bonus"]: money(payout["bonus_idr"], language),
                strings["kol.payout.gross"]: money(payout["gross_idr"], language),
                strings["kol.payout.tax"]: money(payout["tax_idr"], language),
                strings["kol.payout.net"]: money(payout["net_idr"], language)}

    card = payout_card()
    assert payout["fee_idr"] == 1_750_000 and payout["net_idr"] == payout["gross_idr"] - payout["tax_idr"]
    assert figures(card) == expected(EN, "en")
    assert card.locator(".stage").inner_text() == EN["kol.payout.calculated"]
    assert EN["kol.payout.hold"] in card.inner_text()
    fits_a_phone(page, "payouts")

    # She adds her bank details on her profile and sees them saved.
    page.locator("header nav a[href='/app/profile']").click()
    page.wait_for_url("**/app/profile")
    fits_a_phone(page, "profile")
    bank = {"bank_name": "Bank Rakyat Indonesia", "bank_code": "BRI", "account_number": "052201000456789",
            "account_holder": "Nurul Aini"}
    page.get_by_label(EN["kol.profile.bank_name"], exact=True).fill(bank["bank_name"])
    page.get_by_label(EN["kol.profile.bank_code"], exact=True).fill(bank["bank_code"])
    page.get_by_label(EN["kol.profile.account_number"], exact=True).fill(bank["account_number"])
    page.get_by_label(EN["kol.profile.account_holder"], exact=True).fill(bank["account_holder"])
    page.get_by_role("button", name=EN["kol.profile.save"]).click()
    page.wait_for_url("**/app/profile?saved=1")
    assert page.get_by_role("status").inner_text() == EN["kol.profile.saved"]
    for field, value in bank.items():
        assert page.locator(f"#{field}").input_value() == value, field
    screenshot_for_docs(page, "kol-profile-360.png")
    profile = api(FINANCE, "GET", f"/v1/kols/{user_id(KOL)}")
    assert profile["bank"] == bank and profile["has_bank_details"] is True
    assert profile["full_name"] == "Nurul Aini" and [a["handle"] for a in profile["social_accounts"]] == ["nurul.sehat"]

    page.locator("header nav a[href='/app/payouts']").click()
    page.wait_for_url("**/app/payouts")
    card = payout_card()
    assert EN["kol.payout.hold"] not in card.inner_text(), "with bank details her payout is no longer held"
    assert figures(card) == expected(EN, "en")
    fits_a_phone(page, "payouts, bank details added")
    screenshot_for_docs(page, "kol-payouts-360.png")

    # And in Bahasa Indonesia.
    page.goto("/app/payouts?lang=id")
    card = payout_card("id")
    assert figures(card) == expected(ID, "id")
    assert card.locator(".stage").inner_text() == ID["kol.payout.calculated"]
    fits_a_phone(page, "payouts (id)")


def test_another_kols_deliverable_and_finance_pages_are_404_to_a_kol(new_context):
    campaign = open_campaign(f"Susu Bunda: Bekal Sekolah {tag()}")
    rid, did = accepted(campaign["id"])
    owner = phone(new_context)
    assert owner.goto(f"/app/deliverables/{did}").status == 200, "her own deliverable opens"

    page = phone(new_context, OTHER_KOL)
    for path in (f"/app/deliverables/{did}", f"/app/registrations/{rid}"):
        response = page.goto(path)
        assert response.status == 404, f"{path}: {response.status}"
        assert page.locator("h1").inner_text() == EN["error.not_found.title"]
        assert campaign["title"] not in page.content()
        fits_a_phone(page, f"404 {path}")
    # Nor can she send a draft to it.
    csrf = page.locator("form[action='/app/logout'] input[name=csrf_token]").get_attribute("value")
    answer = page.request.post(f"/app/deliverables/{did}/drafts", max_redirects=0, form={
        "csrf_token": csrf, "idempotency_key": str(uuid.uuid4()), "caption": "Bukan milik saya", "media_1": "https://cdn.example.id/x.jpg"})
    assert answer.status == 404
    assert drafts_of(did) == []

    # Finance's pages do not exist for a KOL; /app/payouts is her own page.
    batch = api(FINANCE, "GET", "/v1/payout-batches")["data"][0]["id"]
    payout = api(FINANCE, "GET", "/v1/payouts")["data"][0]["id"]
    for path in ("/app/payout-batches", f"/app/payout-batches/{batch}", f"/app/payout-batches/{batch}/export.csv",
                 f"/app/payouts/{payout}"):
        response = page.goto(path)
        assert response.status == 404, f"{path}: {response.status}"
        assert page.locator("h1").inner_text() == EN["error.not_found.title"], path
    batches = len(api(FINANCE, "GET", "/v1/payout-batches?limit=100")["data"])
    created = page.request.post("/app/payout-batches", form={"csrf_token": csrf, "idempotency_key": str(uuid.uuid4())},
                                max_redirects=0)
    assert created.status == 404
    assert len(api(FINANCE, "GET", "/v1/payout-batches?limit=100")["data"]) == batches
    assert page.goto("/app/payouts").status == 200
    assert page.locator("h1").inner_text() == EN["kol.payouts.title"]
    assert page.locator("header nav a[href='/app/payout-batches']").count() == 0, "no finance section in her navigation"


def test_every_kol_page_fits_a_phone_and_labels_its_fields_in_both_languages(new_context):
    suffix = tag()
    # A campaign to register for, and three pieces of work: one to draft, one to post, one live for insights.
    to_register = open_campaign(f"Susu Bunda: Tidur Nyenyak {suffix}")
    to_draft = open_campaign(f"Susu Bunda: Sarapan Keluarga {suffix}")
    rid, draft_did = accepted(to_draft["id"], acknowledge=False)
    to_post = open_campaign(f"Susu Bunda: Libur Akhir Tahun {suffix}", brand_review_required=False)
    _, post_did = accepted(to_post["id"])
    draft = api(KOL, "POST", f"/v1/deliverables/{post_did}/drafts",
                {"caption": "Liburan seru #SusuBunda", "media": [{"url": "https://cdn.example.id/libur.jpg", "kind": "image"}]})
    api(OFFICER, "POST", f"/v1/drafts/{draft['id']}/reviews", {"decision": "approve"})
    live = open_campaign(f"Susu Bunda: Bekal Sekolah {suffix}", brand_review_required=False)
    _, live_did = accepted(live["id"])
    draft = api(KOL, "POST", f"/v1/deliverables/{live_did}/drafts",
                {"caption": "Bekal sekolah " + "sehat" * 40, "media": [{"url": "https://cdn.example.id/bekal.jpg", "kind": "image"}]})
    api(OFFICER, "POST", f"/v1/drafts/{draft['id']}/reviews", {"decision": "approve"})
    long_link = "https://www.instagram.com/p/C9xYz12AbCd/?igsh=MTc4MmM1YmI2NmQ4ZjE2YzE3NDk3NGFmZGQ%3D&utm_source=ig_web_copy_link"
    api(KOL, "POST", f"/v1/deliverables/{live_did}/post",
        {"url": long_link, "posted_at": iso(datetime.now(timezone.utc) - timedelta(days=8))})
    api(OFFICER, "POST", f"/v1/deliverables/{live_did}/post/verify")

    pages = {
        "home": ("/app", None), "campaigns": ("/app/campaigns", None),
        "campaign": (f"/app/campaigns/{to_register['id']}", "#pitch"),
        "registrations": ("/app/registrations", None),
        "registration": (f"/app/registrations/{rid}", "form[action$='/brief-acknowledgement'] button"),
        "deliverable, draft": (f"/app/deliverables/{draft_did}", "#caption"),
        "deliverable, post": (f"/app/deliverables/{post_did}", "#url"),
        "deliverable, insights": (f"/app/deliverables/{live_did}", "#evidence_url_1"),
        "payouts": ("/app/payouts", None), "profile": ("/app/profile", "#account_number"),
    }
    page = phone(new_context)
    problems = []  # every page is checked before the test fails, so that one report lists them all
    for language in ("en", "id"):
        for name, (path, form_part) in pages.items():
            response = page.goto(f"{path}?lang={language}")
            assert response.status == 200, f"{name}: {response.status}"
            assert page.locator("html").get_attribute("lang") == language
            try:
                fits_a_phone(page, f"{name} ({language})")
            except AssertionError as problem:
                problems.append(str(problem).split("\nassert")[0])
            if form_part:
                assert page.locator(form_part).count() == 1, f"{name}: {form_part} is on the page"
            for button in page.locator("button").all():
                assert button.inner_text().strip() or button.get_attribute("aria-label"), f"{name}: an empty button"
    assert not problems, "\n".join(problems)
    page.goto(f"/app/deliverables/{post_did}?lang=en")
    assert page.get_by_label(EN["kol.deliverable.post_url"]).get_attribute("type") == "url"
    page.goto(f"/app/deliverables/{live_did}")
    assert page.get_by_label(f"{EN['kol.insights.evidence']} 1").get_attribute("type") == "url"
