"""The course as learners see it: JupyterLab in headless Chromium, widgets rendered.

Starts JupyterLab the way `make lab` does (`sm-tutorial lab`, on loopback, with a token) on a
copy of the notebooks, drives Debian's chromium through chromedriver (Selenium), runs lessons
3 and 1, and saves screenshots to test-artifacts/. Without chromium it is skipped on a laptop
(with how to install it) and fails in CI, where `.ci/run` installs it.
"""
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = REPO / "test-artifacts"
TOKEN = "sm-tutorial-browser-test"

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser test: install Debian's chromium and chromium-driver "
                    "(.ci/run does: apt-get install -y chromium chromium-driver)", pytrace=False)
    pytest.skip("browser test: needs /usr/bin/chromium and /usr/bin/chromedriver "
                "(sudo apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    course = tmp_path_factory.mktemp("course") / "notebooks"
    shutil.copytree(REPO / "notebooks", course)  # JupyterLab autosaves: never the committed files
    port = free_port()
    env = dict(os.environ, JUPYTER_TOKEN=TOKEN)
    server = subprocess.Popen([sys.executable, "-m", "sm_tutorial", "lab", "--no-browser", "--expose-app",
                               "--port", str(port), "--notebook-dir", str(course)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2).close()
            break
        except Exception:
            if server.poll() is not None or time.time() > deadline:
                pytest.fail("JupyterLab did not start:\n" + server.stdout.read()[-3000:])
            time.sleep(0.5)
    yield url
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", "--dns-prefetch-disable",
                 # resolve nothing but loopback: the page may name outside hosts, the test
                 # must not even look them up
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER),
                                  options=options)
    except Exception as error:
        pytest.fail(f"headless Chromium did not start: {error}", pytrace=False)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def open_notebook(browser, lab, name):
    browser.get(f"{lab}/lab/tree/{name}?token={TOKEN}")
    WebDriverWait(browser, 120).until(lambda b: b.execute_script(
        "const app = window.jupyterapp; if (!app) return false;"
        "const w = app.shell.currentWidget;"
        "return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle' && w.context.path.endsWith(arguments[0]));",
        name))


def run_all(browser):
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")


def kernel_idle(browser):
    return browser.execute_script(
        "const w = window.jupyterapp.shell.currentWidget;"
        "return w.sessionContext.session.kernel.status === 'idle'"
        " && !document.querySelector('.jp-InputArea-prompt')?.textContent.includes('[*]')"
        " && ![...document.querySelectorAll('.jp-InputArea-prompt')].some(p => p.textContent.includes('*'));")


def click_text(browser, text):
    element = WebDriverWait(browser, 60).until(lambda b: next(
        (e for e in b.find_elements(By.XPATH, f"//*[normalize-space(text())='{text}']") if e.is_displayed()),
        False))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()
    return element


def test_lab_settings(lab, browser):
    open_notebook(browser, lab, "00_welcome.ipynb")
    assert browser.execute_script("return document.body.dataset.jpThemeLight") == "true"
    schema = browser.execute_script(  # overrides.json becomes the schema's defaults
        "return fetch('/lab/api/settings/@jupyterlab/apputils-extension:notification?token=' +"
        " arguments[0]).then(r => r.json()).then(j => j.schema.properties);", TOKEN)
    assert schema["fetchNews"]["default"] == "false" and schema["checkForUpdates"]["default"] is False
    assert browser.execute_script(
        "return window.jupyterapp.hasPlugin('@jupyter-widgets/jupyterlab-manager:plugin')")
    listing = browser.execute_script(
        "return fetch('/api/contents?token=' + arguments[0]).then(r => r.json())"
        ".then(j => j.content.map(c => c.name));", TOKEN)
    assert "00_welcome.ipynb" in listing and "scripts" in listing  # the notebooks folder is the root


def test_container_tree_widget_in_lesson_3(lab, browser):
    open_notebook(browser, lab, "03_inside_the_container.ipynb")
    run_all(browser)
    WebDriverWait(browser, 300).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".widget-accordion"))
    WebDriverWait(browser, 300).until(kernel_idle)
    click_text(browser, "input/")
    click_text(browser, "config/")
    click_text(browser, "hyperparameters.json")
    viewer = WebDriverWait(browser, 30).until(lambda b: next(
        (e for e in b.find_elements(By.CSS_SELECTOR, ".widget-html") if "sagemaker_program" in e.text), False))
    assert "input/config/hyperparameters.json" in viewer.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", viewer)
    browser.save_screenshot(str(ARTIFACTS / "lesson3-container-tree.png"))


def test_job_timeline_widget_in_lesson_1(lab, browser):
    open_notebook(browser, lab, "01_estimator.ipynb")
    run_all(browser)
    done = WebDriverWait(browser, 400).until(lambda b: next(
        (e for e in b.find_elements(By.CSS_SELECTOR, ".widget-html") if "Status: Completed" in e.text), False))
    bars = [b for b in browser.find_elements(By.CSS_SELECTOR, ".progress-bar") if b.is_displayed()]
    assert len(bars) >= 4
    WebDriverWait(browser, 400).until(kernel_idle)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", bars[-1])
    browser.save_screenshot(str(ARTIFACTS / "lesson1-job-timeline.png"))
    errors = browser.find_elements(By.CSS_SELECTOR, ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
    assert not [e.text for e in errors if "Error" in e.text], [e.text for e in errors]
