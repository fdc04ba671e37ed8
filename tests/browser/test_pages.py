"""The web pages in a real browser (Debian's headless Chromium) against the real server."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect

from conftest import ADMIN_USERNAME, JWT_SECRET, OUTPUT, board_row, extra_server, register_in_page, sign_in_admin, sign_in_in_page, unique


def wait_live(page, timeout=10_000):
    expect(page.locator("#live-status")).to_have_attribute("data-state", "connected", timeout=timeout)
    expect(page.locator("#live-text")).to_have_text("Live")


def test_a_test_score_appears_live_on_another_page(new_page, server):
    game = "time-trial"
    viewer = new_page()
    viewer.goto(f"/games/{game}")
    wait_live(viewer)
    expect(viewer.locator("#game-name")).to_have_text("Time Trial")
    viewer.evaluate("window.__notReloaded = true")

    player = new_page()
    player.goto(f"/games/{game}")
    name = unique("Runner ")
    register_in_page(player, unique("runner"), name)
    wait_live(player)
    expect(player.locator("#submit-test-score")).to_be_visible()
    # The sample time trial refuses runs shorter than 3 s and scores under 3,000: the
    # button plays that long and submits within the bounds.
    expect(player.locator("#test-score-help")).to_contain_text("no run shorter than 3 s")

    with player.expect_response(lambda r: r.url.endswith("/api/scores/submit")) as answer:
        player.click("#submit-test-score")
        expect(player.locator("#submit-result")).to_contain_text("Playing for 3 s")
    assert answer.value.status == 200, answer.value.text()
    assert 3000 <= answer.value.request.post_data_json["score"] <= 3_600_000
    submitted = time.monotonic()
    # Within one second of the submission's answer, on the other page, without a reload.
    expect(board_row(viewer, "global", name)).to_be_visible(timeout=1000)
    elapsed = time.monotonic() - submitted
    assert elapsed < 1.0, f"the score took {elapsed:.2f} s to appear"
    assert viewer.evaluate("window.__notReloaded") is True
    wait_live(viewer)
    # The new row is marked as a move on the page that watched it arrive.
    expect(board_row(viewer, "global", name).locator(".move")).to_be_visible()

    # The submitting page: its own row, its message, and its personal best.
    expect(player.locator("#submit-result")).to_contain_text("Submitted")
    expect(board_row(player, "global", name).locator(".you")).to_be_visible()
    score = board_row(viewer, "global", name).locator("td.score").inner_text()
    player.click("#tab-personal")
    expect(player.locator("#personal-score")).to_have_text(score)
    expect(player.locator("#personal-global-rank")).to_contain_text("#")
    # Local board: the player's country (GB).
    player.click("#tab-local")
    expect(board_row(player, "local", name)).to_be_visible()
    assert viewer.errors == [] and player.errors == []


def test_personal_best_follows_pushes_without_fetching_and_keeps_64_bit_scores(new_page, server):
    """The personal state carries ranks and totals: the page shows them and never asks the
    REST API for the player's standing, and a score past 2^53 stays exact."""
    game = "quest-points"
    username, name = unique("exact"), unique("Exact ")
    account = server.register(username, name, "GB")
    server.ingest(game, account["userId"], name, 2**53 + 1, country="GB")
    page = new_page()
    standing_reads = []
    page.on("request", lambda request: "/players/" in request.url and standing_reads.append(request.url))
    page.goto(f"/games/{game}")
    sign_in_in_page(page, username, name)
    wait_live(page)
    page.click("#tab-personal")
    expect(page.locator("#personal-global-rank")).to_contain_text("#1 of ")
    assert re.sub(r"\D", "", page.locator("#personal-score").inner_text()) == str(2**53 + 1)
    expect(page.locator("#personal-local-rank")).to_contain_text("#1 of ")
    total = int(re.sub(r"\D", "", page.locator("#personal-global-rank").inner_text().split(" of ")[1]))

    # A new leader from another country: global rank and total move, the local rank does not.
    server.ingest(game, unique("leader"), unique("Leader "), 2**53 + 3, country="US")
    expect(page.locator("#personal-global-rank")).to_contain_text("#2 of ")
    assert int(re.sub(r"\D", "", page.locator("#personal-global-rank").inner_text().split(" of ")[1])) == total + 1
    expect(page.locator("#personal-local-rank")).to_contain_text("#1 of ")
    expect(board_row(page, "global", name).locator("td.score")).to_have_text(re.compile(r"^9\D?007\D?199\D?254\D?740\D?993$"))
    assert standing_reads == [], standing_reads
    assert page.errors == []


def test_rows_move_in_place_with_a_rank_badge(new_page, server):
    game = "space-runner"
    page = new_page()
    page.goto(f"/games/{game}")
    wait_live(page)
    first, second = unique("Alpha "), unique("Bravo ")
    first_id, second_id = unique("u-"), unique("u-")
    server.ingest(game, first_id, first, 990_000)
    server.ingest(game, second_id, second, 980_000)
    expect(board_row(page, "global", second)).to_be_visible()
    rank_before = int(board_row(page, "global", second).get_attribute("data-rank"))
    board_row(page, "global", second).evaluate("row => { row.__before = true; }")
    time.sleep(0.3)
    server.ingest(game, second_id, second, 995_000)  # overtakes `first`
    row = board_row(page, "global", second)
    expect(row).to_have_attribute("data-rank", str(rank_before - 1))
    expect(row.locator(".move.up")).to_have_text("▲1")
    expect(board_row(page, "global", first).locator(".move.down")).to_have_text("▼1")
    # Updated in place: the same element (not a re-rendered one), now above `first`.
    assert row.evaluate("row => row.__before === true"), "the row element was replaced"
    names = page.locator("#rows-global td.player").all_inner_texts()
    assert names.index(next(n for n in names if second in n)) < names.index(next(n for n in names if first in n))


def test_restart_shows_reconnecting_then_live_with_the_same_board(new_page, server):
    game = "space-runner"
    page = new_page()
    subscriptions = []
    page.on("websocket", lambda socket: socket.on(
        "framesent", lambda frame: subscriptions.append(frame) if '"subscribe"' in str(frame) else None))
    page.goto(f"/games/{game}")
    name = unique("Survivor ")
    register_in_page(page, unique("survivor"), name)
    wait_live(page)
    # space-runner allows 2,000 points per second of play: the page plays a second first.
    with page.expect_response(lambda r: r.url.endswith("/api/scores/submit"), timeout=15_000) as answer:
        page.click("#submit-test-score")
    assert answer.value.status == 200, answer.value.text()
    row = board_row(page, "global", name)
    expect(row).to_be_visible()
    score_before = row.locator("td.score").inner_text()
    rank_before = row.get_attribute("data-rank")

    server.stop()
    expect(page.locator("#live-status")).to_have_attribute("data-state", re.compile("reconnecting|offline"), timeout=5000)
    expect(page.locator("#live-text")).to_have_text(re.compile("Reconnecting|Offline"))
    server.start()
    wait_live(page, timeout=35_000)  # backoff 1, 2, 4, 8, 16 s: well within this

    row = board_row(page, "global", name)
    expect(row).to_be_visible()
    assert row.locator("td.score").inner_text() == score_before
    assert row.get_attribute("data-rank") == rank_before
    # The reconnection resumed with the versions the page held.
    resumed = json.loads(subscriptions[-1])
    assert resumed["gameId"] == game and "global" in resumed.get("since", {}), resumed
    # Live again after the restart: a new score arrives without a reload.
    late = unique("Late ")
    server.ingest(game, unique("u-"), late, 999_999)
    expect(board_row(page, "global", late)).to_be_visible(timeout=3000)
    expect(board_row(page, "global", late)).to_have_attribute("data-rank", "1")


def test_admin_creates_a_game_and_an_announcement_and_removes_a_player(new_page, server):
    admin = new_page()
    admin.goto("/admin")
    expect(admin.locator("#admin-gate")).to_be_visible()
    sign_in_admin(admin, server)
    expect(admin.locator("#admin-content")).to_be_visible()

    game_id = unique("gauntlet-")
    game_name = "Gauntlet " + game_id[-8:]
    admin.fill("#game-id", game_id)
    admin.fill("#game-name", game_name)
    admin.select_option("#game-sort", "desc")
    admin.select_option("#game-operator", "best")
    admin.fill("#game-topn", "10")
    admin.fill("#game-max-score", "100000")
    admin.click("#game-submit")
    expect(admin.locator("#game-message")).to_contain_text("Created")
    expect(admin.locator("#admin-games")).to_contain_text(game_name)

    title = unique("Season opens ")
    admin.fill("#announcement-title", title)
    admin.fill("#announcement-body", "New game on the server.\nGood luck!")
    admin.click("#announcement-submit")
    expect(admin.locator("#announcement-message")).to_contain_text("published")
    expect(admin.locator("#admin-announcements")).to_contain_text(title)

    # A player scores on the new game (through the API: the pages are tested elsewhere).
    player_name = unique("Cheater ")
    player = server.register(unique("cheater"), player_name)
    server.submit_run(player["accessToken"], game_id, 4242)

    home = new_page()
    home.goto("/")
    card = home.locator(f'[data-game-id="{game_id}"]')
    expect(card).to_contain_text(game_name)
    expect(card.locator(".leader-name")).to_have_text(player_name)
    expect(home.locator("#announcements")).to_contain_text(title)
    expect(home.locator("#announcements")).to_contain_text("Good luck!")

    viewer = new_page()
    viewer.goto(f"/games/{game_id}")
    wait_live(viewer)
    expect(board_row(viewer, "global", player_name)).to_be_visible()

    admin.select_option("#moderation-game", game_id)
    admin.click("#moderation-load")
    target = admin.locator("#moderation-rows tr", has_text=player_name)
    expect(target).to_be_visible()
    target.get_by_role("button", name=re.compile("^Remove")).click()  # confirm() is accepted
    expect(admin.locator("#moderation-message")).to_contain_text("Removed")
    # The open game page drops the row live.
    expect(board_row(viewer, "global", player_name)).to_have_count(0, timeout=3000)
    expect(viewer.locator("#rows-global")).to_contain_text("No scores yet")
    assert admin.errors == [] and viewer.errors == []


def test_admin_edits_games_and_announcements_bans_players_and_sees_flags(new_page, server):
    admin = new_page()
    admin.goto("/admin")
    sign_in_admin(admin, server)

    # A game with actions: the actions editor appears for incr games.
    game_id = unique("quests-")
    admin.fill("#game-id", game_id)
    admin.fill("#game-name", "Side Quests")
    admin.select_option("#game-operator", "incr")
    expect(admin.locator("#game-actions")).to_be_visible()
    admin.select_option("#game-sort", "desc")
    admin.click("#add-action")
    admin.locator(".action-id").last.fill("open-chest")
    admin.locator(".action-name").last.fill("Open a chest")
    admin.locator(".action-points").last.fill("7")
    admin.click("#game-submit")
    expect(admin.locator("#game-message")).to_contain_text("Created")
    status, game = server.call("GET", f"/api/games/{game_id}")
    assert status == 200 and game["operator"] == "incr"
    assert game["actions"][0]["id"] == "open-chest" and game["actions"][0]["points"] == 7

    # Edit it: the form loads the game; the id stays.
    admin.locator(f'#admin-games tr[data-game-id="{game_id}"]').get_by_role("button", name="Edit Side Quests").click()
    expect(admin.locator("#game-id")).to_have_value(game_id)
    expect(admin.locator(".action-id")).to_have_value("open-chest")
    admin.fill("#game-name", "Side Quests II")
    admin.fill("#game-topn", "25")
    admin.click("#game-submit")
    expect(admin.locator("#game-message")).to_contain_text("Saved")
    status, game = server.call("GET", f"/api/games/{game_id}")
    assert game["name"] == "Side Quests II" and game["topN"] == 25

    # Every field of the form: ascending times, the set operator, a points-per-second cap.
    laps_id = unique("laps-")
    admin.fill("#game-id", laps_id)
    admin.fill("#game-name", "Laps")
    admin.select_option("#game-sort", "asc")
    admin.select_option("#game-operator", "set")
    expect(admin.locator("#game-actions")).to_be_hidden()
    admin.fill("#game-topn", "5")
    admin.fill("#game-max-score", "600000")
    admin.fill("#game-max-per-second", "50")
    admin.fill("#game-min-score", "1500")
    admin.fill("#game-min-run", "20000")
    admin.click("#game-submit")
    expect(admin.locator("#game-message")).to_contain_text("Created")
    status, laps = server.call("GET", f"/api/games/{laps_id}")
    assert (laps["sortOrder"], laps["operator"], laps["topN"], laps["maxScore"], laps["maxScorePerSecond"],
            laps["minScore"], laps["minRunMilliseconds"]) == ("asc", "set", 5, 600000, 50, 1500, 20000), laps
    # Editing loads the lower bounds too, and saving keeps them.
    admin.locator(f'#admin-games tr[data-game-id="{laps_id}"]').get_by_role("button", name="Edit Laps").click()
    expect(admin.locator("#game-min-score")).to_have_value("1500")
    expect(admin.locator("#game-min-run")).to_have_value("20000")
    admin.fill("#game-min-run", "30000")
    admin.click("#game-submit")
    expect(admin.locator("#game-message")).to_contain_text("Saved")
    status, laps = server.call("GET", f"/api/games/{laps_id}")
    assert (laps["minScore"], laps["minRunMilliseconds"]) == (1500, 30000), laps

    # Period boards: a new game with a daily board from the form.
    daily_id = unique("daily-")
    admin.fill("#game-id", daily_id)
    admin.fill("#game-name", "Dailies")
    admin.check("#game-period-daily")
    admin.fill("#game-keep-archives", "2")
    admin.click("#game-submit")
    expect(admin.locator("#game-message")).to_contain_text("Created")
    status, dailies = server.call("GET", f"/api/games/{daily_id}")
    assert (dailies["periods"], dailies["keepArchives"]) == (["all-time", "daily"], 2), dailies

    # Editing a game loads its schedules; what is changed is saved, and a custom schedule
    # (which the form does not show) is kept, not dropped with its boards.
    seasons_id = unique("seasons-")
    custom = {"name": "raid-week", "everyDays": 7, "from": "2026-12-07T18:00:00Z"}
    status, _ = server.call("POST", "/api/admin/games", {
        "id": seasons_id, "name": "Seasons", "periods": ["all-time", "daily", "weekly", custom], "keepArchives": 3,
    }, server.login(ADMIN_USERNAME)["accessToken"])
    assert status == 201
    status, before = server.call("GET", f"/api/games/{seasons_id}")
    admin.reload()
    admin.locator(f'#admin-games tr[data-game-id="{seasons_id}"]').get_by_role("button", name="Edit Seasons").click()
    expect(admin.locator("#game-period-daily")).to_be_checked()
    expect(admin.locator("#game-period-weekly")).to_be_checked()
    expect(admin.locator("#game-period-monthly")).not_to_be_checked()
    expect(admin.locator("#game-keep-archives")).to_have_value("3")
    admin.fill("#game-name", "Seasons Renamed")
    admin.uncheck("#game-period-weekly")
    admin.check("#game-period-monthly")
    admin.fill("#game-keep-archives", "5")
    admin.click("#game-submit")
    expect(admin.locator("#game-message")).to_contain_text("Saved")
    status, seasons = server.call("GET", f"/api/games/{seasons_id}")
    assert seasons["name"] == "Seasons Renamed", seasons
    assert (seasons["periods"], seasons["keepArchives"]) == (["all-time", "daily", "monthly", before["periods"][3]], 5), seasons
    expect(admin.locator(f'#admin-games tr[data-game-id="{seasons_id}"]')).to_contain_text("daily, monthly and raid-week boards")

    # Announcements: publish, edit, delete.
    title = unique("Maintenance ")
    admin.fill("#announcement-title", title)
    admin.click("#announcement-submit")
    item = admin.locator("#admin-announcements li", has_text=title)
    expect(item).to_be_visible()
    item.get_by_role("button", name=re.compile("^Edit")).click()
    admin.fill("#announcement-title", title + " moved")
    admin.fill("#announcement-body", "Now on Sunday.")
    admin.click("#announcement-submit")
    expect(admin.locator("#admin-announcements")).to_contain_text(title + " moved")
    status, answer = server.call("GET", "/api/announcements")
    assert any(a["title"] == title + " moved" and a["body"] == "Now on Sunday." for a in answer["announcements"])
    admin.locator("#admin-announcements li", has_text=title).get_by_role("button", name=re.compile("^Delete")).click()
    expect(admin.locator("#announcement-message")).to_contain_text("Deleted")
    expect(admin.locator("#admin-announcements li", has_text=title)).to_have_count(0)

    # A flagged submission: too many points for the time played on space-runner.
    cheat = server.register(unique("speedy"), unique("Speedy "))
    status, session = server.call("POST", "/api/game-sessions", {"gameId": "space-runner"}, cheat["accessToken"])
    status, answer = server.call("POST", "/api/scores/submit", {
        "gameId": "space-runner", "score": 900_000, "runId": unique("run-"), "sessionToken": session["token"],
    }, cheat["accessToken"])
    assert status == 400 and answer["error"]["code"] == "IMPLAUSIBLE_SCORE", (status, answer)
    admin.click("#flags-refresh")
    expect(admin.locator("#flag-rows")).to_contain_text(cheat["userId"])

    # A ban from the flag's row: the player leaves the open game page live.
    speedy = unique("Speedy ")
    server.ingest("time-trial", cheat["userId"], speedy, 1)
    viewer = new_page()
    viewer.goto("/games/time-trial")
    wait_live(viewer)
    expect(board_row(viewer, "global", speedy)).to_be_visible()
    flag_row = admin.locator("#flag-rows tr", has_text=cheat["userId"]).first
    flag_row.get_by_role("button", name=f"Ban {cheat['userId']}").click()
    expect(admin.locator("#moderation-message")).to_contain_text("Banned")
    expect(board_row(viewer, "global", speedy)).to_have_count(0, timeout=3000)

    # A removal by user id: only that entry goes, and the player may score again.
    tidy, tidy_id = unique("Tidy "), unique("u-")
    server.ingest("time-trial", tidy_id, tidy, 2)
    expect(board_row(viewer, "global", tidy)).to_be_visible()
    admin.select_option("#moderation-game", "time-trial")
    admin.fill("#moderation-user", tidy_id)
    admin.click("#moderation-remove")
    expect(admin.locator("#moderation-message")).to_contain_text("Removed")
    expect(board_row(viewer, "global", tidy)).to_have_count(0, timeout=3000)
    server.ingest("time-trial", tidy_id, tidy, 3)
    expect(board_row(viewer, "global", tidy)).to_be_visible()
    assert admin.errors == [] and viewer.errors == []


def answering(status, body):
    return lambda route: route.fulfill(status=status, json=body)


def test_period_buttons_switch_the_live_board_and_say_when_it_resets(new_page, server):
    page = new_page()
    page.goto("/games/space-runner")
    wait_live(page)
    expect(page.locator("#period-row")).to_be_visible()
    expect(page.locator("#period-buttons button")).to_have_text(["All-time", "Today", "This week"])
    expect(page.locator("#period-resets")).to_have_text("")
    page.get_by_role("button", name="Today").click()
    expect(page.get_by_role("button", name="Today")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#period-resets")).to_have_text(re.compile(r"^Resets in (\d+ h \d+ min|\d+ min)$"))
    assert "period=daily" in page.url
    # A score now reaches today's board live, and all-time keeps it too.
    name = unique("Daily ")
    server.ingest("space-runner", unique("d-"), name, 999_900)
    expect(board_row(page, "global", name)).to_be_visible()
    page.get_by_role("button", name="All-time").click()
    expect(page.locator("#period-resets")).to_have_text("")
    expect(board_row(page, "global", name)).to_be_visible()
    # A reload keeps the chosen board.
    page.get_by_role("button", name="This week").click()
    page.reload()
    wait_live(page)
    expect(page.get_by_role("button", name="This week")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#period-resets")).to_have_text(re.compile(r"^Resets in "))
    assert page.errors == []


def test_error_messages_are_specific(new_page, server):
    page = new_page()
    page.goto("/games/time-trial")
    register_in_page(page, unique("errors"), unique("Oops "))
    wait_live(page)
    cases = [
        (429, {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Too many.", "retryAfter": 12}}, "wait 12 s"),
        (410, {"error": {"code": "SESSION_EXPIRED", "message": "Expired."}}, "session expired"),
        (400, {"error": {"code": "SCORE_OUT_OF_RANGE", "message": "score 9 is above this game's maximum of 1."}}, "above this game's maximum"),
    ]
    for status, body, text in cases:
        page.route("**/api/scores/submit", answering(status, body))
        page.click("#submit-test-score")
        expect(page.locator("#submit-result")).to_contain_text(text)
        expect(page.locator("#submit-result")).to_have_class(re.compile("error"))
        page.unroute("**/api/scores/submit")
    page.route("**/api/game-sessions", lambda route: route.abort("connectionrefused"))
    page.click("#submit-test-score")
    expect(page.locator("#submit-result")).to_contain_text("offline")
    page.unroute("**/api/game-sessions")
    page.route("**/api/game-sessions", answering(401, {"error": {"code": "TOKEN_EXPIRED", "message": "The access token expired."}}))
    page.click("#submit-test-score")
    expect(page.locator("#auth-dialog")).to_be_visible()
    expect(page.locator("#auth-note")).to_contain_text("sign in again")
    expect(page.locator("#open-sign-in")).to_be_attached()


def test_incr_game_test_score_completes_an_action(new_page, server):
    page = new_page()
    page.goto("/games/quest-points")
    name = unique("Quester ")
    register_in_page(page, unique("quester"), name)
    wait_live(page)
    expect(page.locator("#test-score-help")).to_contain_text("Daily login")
    with page.expect_response(lambda r: r.url.endswith("/api/actions/complete")) as answer:
        page.click("#submit-test-score")
    assert answer.value.status == 200, answer.value.text()
    expect(page.locator("#submit-result")).to_contain_text("+5 points")
    expect(board_row(page, "global", name).locator("td.score")).to_have_text("5")
    page.click("#submit-test-score")
    expect(board_row(page, "global", name).locator("td.score")).to_have_text("10")


def test_keyboard_tabs_and_country_picker(new_page, server):
    page = new_page()
    page.goto("/games/space-runner")
    wait_live(page)
    page.focus("#tab-global")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-local")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-local")).to_be_focused()
    expect(page.locator("#panel-local")).to_be_visible()
    expect(page.locator("#country-picker")).to_have_value("GB")
    visitor = unique("Fan ")
    server.ingest("space-runner", unique("u-"), visitor, 1234, country="FR")
    page.select_option("#country-picker", "FR")
    expect(board_row(page, "local", visitor)).to_be_visible()
    page.keyboard.press("Tab")  # out of the tab list, to the next control
    assert page.evaluate("document.activeElement.getAttribute('role')") != "tab", "one tab stop for the tab list"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", "focus is visible"
    page.focus("#tab-local")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-personal")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#personal-body")).to_contain_text("Sign in")
    assert page.locator("#live-status").get_attribute("role") == "status"
    assert page.locator("#page-error").get_attribute("role") == "alert"


def test_reconnection_backs_off_1_2_4_8_16_then_30_seconds(new_page, server):
    page = new_page()
    page.goto("/games/space-runner")
    delays = page.evaluate("import('/assets/live.js').then((live) => [0, 1, 2, 3, 4, 5, 6, 12].map(live.retryDelay))")
    assert delays == [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]


def test_production_mode_hides_the_test_score_button(browser, server):
    production = extra_server(server, "--production", "--jwt-secret", JWT_SECRET)
    context = browser.new_context(base_url=production.base_url)
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/games/time-trial")
        wait_live(page)
        register_in_page(page, unique("prod"), unique("Prod "))
        expect(page.locator("#signed-in-as")).to_be_visible()
        expect(page.locator("#test-score-area")).to_be_hidden()
        expect(page.locator("#submit-test-score")).to_be_hidden()
        assert errors == []
    finally:
        context.close()
        production.stop()


def test_screenshots_of_the_pages(new_page, server):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    game = "space-runner"
    for index, (name, country) in enumerate([("Ann", "GB"), ("Björn", "SE"), ("Chiara", "IT"), ("Dev", "IN"), ("Emma", "GB")]):
        server.ingest(game, f"shot-{index}", name, 50_000 - index * 7_000, country=country)
    for width, height, suffix in [(1280, 900, "desktop"), (390, 844, "phone")]:
        page = new_page(width, height)
        page.goto(f"/games/{game}")
        wait_live(page)
        expect(board_row(page, "global", "Chiara")).to_be_visible()
        page.screenshot(path=str(OUTPUT / f"game-{suffix}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"

        admin = new_page(width, height)
        admin.goto("/admin")
        sign_in_admin(admin, server)
        expect(admin.locator("#admin-content")).to_be_visible()
        expect(admin.locator("#admin-games")).to_contain_text("Space Runner")
        admin.select_option("#moderation-game", game)
        admin.click("#moderation-load")
        expect(admin.locator("#moderation-rows")).to_contain_text("Chiara")
        admin.screenshot(path=str(OUTPUT / f"admin-{suffix}.png"), full_page=True)
        assert admin.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"

        home = new_page(width, height)
        home.goto("/")
        expect(home.locator(f'[data-game-id="{game}"] .leader-name')).to_be_visible()
        home.screenshot(path=str(OUTPUT / f"home-{suffix}.png"), full_page=True)
        assert home.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
    dark = new_page(390, 844)
    dark.emulate_media(color_scheme="dark")
    dark.goto(f"/games/{game}")
    wait_live(dark)
    dark.screenshot(path=str(OUTPUT / "game-phone-dark.png"), full_page=True)
    for suffix in ("desktop", "phone"):
        for page_name in ("game", "admin", "home"):
            assert (OUTPUT / f"{page_name}-{suffix}.png").stat().st_size > 10_000
