"""Signing in, sessions, CSRF and the sign-in rate limit, against the desk on a real server."""

from __future__ import annotations

import httpx
from desk_support import RunningDesk, SignIn, csrf_of, password_of

from yuqing.webdesk.access import SignInLimiter, person_for


def test_healthz_answers_without_a_session(desk_server: RunningDesk) -> None:
    assert httpx.get(f"{desk_server.base}/healthz").text == "ok"


def test_pages_send_strangers_to_the_sign_in_form(desk_server: RunningDesk) -> None:
    for path in ("/now", "/cases", "/units", "/sources", "/reports", "/events/1"):
        answer = httpx.get(f"{desk_server.base}{path}")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next="), path
    assert httpx.get(f"{desk_server.base}/now/rows").status_code == 401


def test_a_wrong_password_is_refused_and_says_nothing_about_which_part(desk_server: RunningDesk) -> None:
    with httpx.Client(base_url=desk_server.base) as client:
        for login in ("wangzhiban", "nobody"):
            answer = client.post("/signin", data={"csrf": csrf_of(client, "/signin"), "login": login,
                                                  "password": "wrong-password-1"})
            assert answer.status_code == 401 and "用户名或密码不正确" in answer.text
        assert client.get("/now").status_code == 303


def test_sign_in_sets_a_signed_httponly_samesite_cookie(desk_server: RunningDesk) -> None:
    with httpx.Client(base_url=desk_server.base) as client:
        answer = client.post("/signin", data={"csrf": csrf_of(client, "/signin"), "login": "wangzhiban",
                                              "password": password_of("wangzhiban"), "next": "/cases"})
        assert answer.status_code == 303 and answer.headers["location"] == "/cases"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        page = client.get("/now")
        assert page.status_code == 200 and "王值班" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]


def test_sign_in_never_sends_people_to_another_site(desk_server: RunningDesk) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        with httpx.Client(base_url=desk_server.base) as client:
            answer = client.post("/signin", data={"csrf": csrf_of(client, "/signin"), "login": "wangzhiban",
                                                  "password": password_of("wangzhiban"), "next": target})
            assert answer.headers["location"] == "/now"


def test_a_form_without_the_session_token_is_refused(sign_in: SignIn) -> None:
    client = sign_in("wangzhiban")
    forged = client.post("/signout", data={"csrf": "forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert client.get("/now").status_code == 200  # still signed in
    assert client.post("/signout", data={"csrf": csrf_of(client)}).status_code == 303
    assert client.get("/now").status_code == 303


def test_a_cookie_signed_with_another_key_is_no_session(desk_server: RunningDesk, sign_in: SignIn) -> None:
    client = sign_in("wangzhiban")
    value = client.cookies["yuqing_desk"]
    data, _, signature = value.rpartition(".")
    with httpx.Client(base_url=desk_server.base, cookies={"yuqing_desk": f"{data}.{signature[::-1]}"}) as tampered:
        assert tampered.get("/now").status_code == 303


def test_repeated_failures_lock_the_name_for_a_while(desk_server: RunningDesk) -> None:
    with httpx.Client(base_url=desk_server.base) as client:
        for _ in range(SignInLimiter().attempts):
            client.post("/signin", data={"csrf": csrf_of(client, "/signin"), "login": "lizhiban", "password": "nope"})
        answer = client.post("/signin", data={"csrf": csrf_of(client, "/signin"), "login": "lizhiban",
                                              "password": password_of("lizhiban")})
        assert answer.status_code == 429 and "分钟后再试" in answer.text


def test_the_limiter_forgets_failures_after_its_window() -> None:
    now = [0.0]
    limiter = SignInLimiter(attempts=2, window=60, clock=lambda: now[0])
    limiter.failed("login:a")
    limiter.failed("login:a")
    assert limiter.wait_for("login:a") == 60
    now[0] = 61
    assert limiter.wait_for("login:a") == 0


def test_roles_come_from_the_members_file(desk_members) -> None:  # type: ignore[no-untyped-def]
    chief = person_for(desk_members, "wangzhiban")
    liaison = person_for(desk_members, "chenjiaoyu")
    leader = person_for(desk_members, "wuzhuren")
    assert chief and chief.is_duty and chief.sees_everything and not chief.read_only
    assert liaison and liaison.departments == ("省教育厅",) and not liaison.sees_everything
    assert leader and leader.read_only and leader.sees_everything
    assert person_for(desk_members, "nobody") is None
