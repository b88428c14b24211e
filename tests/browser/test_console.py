"""Browser test of Parley's web console: headless Chromium driven by Selenium.

scripts/test starts `parley serve` on the example configuration and passes its URL and the
passwords it set in the environment. Screenshots go to $PARLEY_SCREENSHOTS.
"""
import os
import pathlib
import re

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ.get("PARLEY_URL", "http://127.0.0.1:8080")
SHOTS = pathlib.Path(os.environ.get("PARLEY_SCREENSHOTS", ".test-output/browser"))


def browser():
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(flag)
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def sign_in(driver, user, password):
    driver.get(URL + "/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "signin").click()
    WebDriverWait(driver, 10).until(until.presence_of_element_located((By.ID, "console")))
    WebDriverWait(driver, 10).until(
        until.text_to_be_present_in_element((By.ID, "transcript"), "Connected as " + user))


def say(driver, text):
    box = driver.find_element(By.ID, "message")
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()
    entries = driver.find_elements(By.CSS_SELECTOR, "#transcript .entry")
    return entries[-1]


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / (name + ".png")))


@pytest.fixture
def alice():
    driver = browser()
    yield driver
    driver.quit()


@pytest.fixture
def carol():
    driver = browser()
    yield driver
    driver.quit()


def test_wrong_password_is_refused(alice):
    alice.get(URL + "/login")
    alice.find_element(By.ID, "username").send_keys("alice")
    alice.find_element(By.ID, "password").send_keys("not her password")
    alice.find_element(By.ID, "signin").click()
    error = WebDriverWait(alice, 10).until(until.presence_of_element_located((By.CSS_SELECTOR, ".error")))
    assert "Wrong user name or password." in error.text
    shot(alice, "01-wrong-password")


def test_console_runs_a_deploy_with_live_output_and_a_second_user_approves(alice, carol):
    sign_in(alice, "alice", os.environ["ALICE_PASSWORD"])
    box = alice.find_element(By.ID, "message")
    box.send_keys("dep")
    WebDriverWait(alice, 5).until(
        until.text_to_be_present_in_element((By.ID, "completions"), "deploy <app> to <env>"))
    shot(alice, "02-completion")
    box.clear()

    entry = say(alice, "deploy api to staging")
    live = entry.find_element(By.CSS_SELECTOR, "pre.live")
    WebDriverWait(alice, 10).until(lambda _: "pull image api:latest" in live.text)
    assert entry.get_attribute("data-outcome") in (None, ""), "the reply came before any live output"
    shot(alice, "03-live-output")
    WebDriverWait(alice, 15).until(lambda _: entry.get_attribute("data-outcome") == "succeeded")
    answer = entry.find_element(By.CSS_SELECTOR, ".answer").text
    assert "api latest is live on staging" in answer
    assert "demo-deploy-token" not in answer and "••••" in answer
    shot(alice, "04-deploy-finished")

    pending = say(alice, "deploy web to prod")
    WebDriverWait(alice, 10).until(lambda _: pending.get_attribute("data-outcome") == "pending")
    buttons = pending.find_elements(By.CSS_SELECTOR, "button.action")
    assert [b.text for b in buttons] == ["Approve", "Deny"]
    code = re.search(r"approve ([A-Z0-9]{8})", pending.text).group(1)
    shot(alice, "05-approval-requested")

    buttons[0].click()  # the requester's own Approve is refused
    WebDriverWait(alice, 10).until(
        until.text_to_be_present_in_element((By.ID, "transcript"), "so you cannot approve it"))

    sign_in(carol, "carol", os.environ["CAROL_PASSWORD"])
    carol.get(URL + "/approvals")
    row = carol.find_element(By.XPATH, "//tr[td[1][text()='%s']]" % code)
    shot(carol, "06-approvals-page")
    row.find_element(By.XPATH, ".//button[text()='Approve']").click()

    # The form posts and the browser comes back to /approvals: the page before the post is still
    # there for a moment, so look for the decision afresh until the new page shows it.
    def decided_shows_it(driver):
        try:
            table = driver.find_element(By.XPATH, "//h1[text()='Decided']/following-sibling::table[1]")
            return code in table.text and "approved" in table.text
        except (StaleElementReferenceException, NoSuchElementException):
            return False

    WebDriverWait(carol, 15).until(decided_shows_it)
    shot(carol, "07-approved")

    carol.get(URL + "/runs")
    assert "deploy web to prod" in carol.page_source
    carol.find_element(By.XPATH, "//tr[td[4][text()='deploy web to prod']]//a").click()
    output = WebDriverWait(carol, 15).until(until.presence_of_element_located((By.ID, "output"))).text
    assert "web latest is live on prod" in output and "approved by carol" in output
    assert "started" in carol.find_element(By.TAG_NAME, "table").text
    shot(carol, "08-run-detail")
    carol.get(URL + "/audit")
    assert "Chain verified" in carol.find_element(By.ID, "chain").text
    shot(carol, "09-audit")


def test_an_incident_declared_in_the_console_is_followed_live_resolved_and_exported(alice, carol):
    sign_in(alice, "alice", os.environ["ALICE_PASSWORD"])
    declared = say(alice, 'incident declare sev2 "Checkout errors on EU"')
    WebDriverWait(alice, 10).until(lambda _: declared.get_attribute("data-outcome") == "succeeded")
    name = re.search(r"(INC-\d+) declared \(sev2\): Checkout errors on EU", declared.text).group(1)
    number = name.split("-")[1]
    shot(alice, "10-incident-declared")

    sign_in(carol, "carol", os.environ["CAROL_PASSWORD"])
    carol.get(URL + "/incidents")
    carol.find_element(By.XPATH, "//a[@class='incident-link'][text()='%s']" % name).click()
    WebDriverWait(carol, 10).until(
        until.text_to_be_present_in_element((By.ID, "incident-title"), name + ": Checkout errors on EU"))
    timeline = carol.find_element(By.ID, "timeline")
    assert "declared sev2: Checkout errors on EU" in timeline.text

    # What alice does shows on carol's page without a reload.
    noted = say(alice, "incident note rolled back the config <b>by hand</b>")
    WebDriverWait(alice, 10).until(lambda _: noted.get_attribute("data-outcome") == "succeeded")
    WebDriverWait(carol, 15).until(
        until.text_to_be_present_in_element((By.ID, "timeline"), "rolled back the config <b>by hand</b>"))
    assert carol.find_elements(By.CSS_SELECTOR, "#timeline b") == [], "the note's markup was not escaped"
    shot(carol, "11-incident-live-timeline")

    resolved = say(alice, "incident resolve Config rolled back")
    WebDriverWait(alice, 10).until(lambda _: resolved.get_attribute("data-outcome") == "succeeded")
    assert name + " resolved after" in resolved.text
    shot(alice, "12-incident-resolved")

    carol.get(URL + "/incidents/" + number)
    assert "resolved" in carol.find_element(By.ID, "facts").text
    carol.find_element(By.ID, "postmortem").click()
    WebDriverWait(carol, 10).until(lambda driver: "Postmortem draft generated by Parley" in driver.page_source)
    text = carol.find_element(By.TAG_NAME, "body").text
    assert text.startswith("# " + name + ": Checkout errors on EU")
    assert "| Commander | alice |" in text
    assert "rolled back the config <b>by hand</b>" in text
    assert re.search(r"\| resolved \| resolved: Config rolled back \| #\d+ \|", text)
    shot(carol, "13-postmortem")
