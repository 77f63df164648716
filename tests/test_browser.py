"""The course as learners see it: JupyterLab in headless Chromium, widgets rendered.

Starts JupyterLab the way `make lab` does (`sm-tutorial lab`, on loopback, with a token) on a
copy of the notebooks, drives Debian's chromium through chromedriver (Selenium), runs lessons
3 and 1, and saves screenshots to test-artifacts/. Without chromium it is skipped on a laptop
(with how to install it) and fails in CI, where `.ci/run` installs it.

Nothing here depends on the machine's state:
- JupyterLab runs with its own throwaway HOME, config, data, runtime, workspaces and settings
  folders, and a hostile `~/.jupyter` is planted in that HOME (dark theme, a saved workspace with
  other lessons open) to prove that the isolation holds;
- it listens on a port the OS picks (`--port 0`), read back from its own server-info file;
- notebooks are found by path among the main area's widgets and run through that panel's id,
  never through whichever widget has focus (headless Chromium may give the page none);
- every wait says what it waited for and what it saw last, and saves a screenshot on failure.
"""
import json
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
PLANTED_THEME = "JupyterLab Dark"
PLANTED_TABS = ["03_inside_the_container.ipynb", "01_estimator.ipynb"]

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser test: install Debian's chromium and chromium-driver "
                    "(.ci/run does: apt-get install -y chromium chromium-driver)", pytrace=False)
    pytest.skip("browser test: needs /usr/bin/chromium and /usr/bin/chromedriver "
                "(sudo apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def plant_hostile_home(home: Path) -> Path:
    """A ~/.jupyter as a learner's might be: dark theme, a saved workspace with other tabs open."""
    lab = home / ".jupyter" / "lab"
    theme = lab / "user-settings" / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    theme.parent.mkdir(parents=True)
    theme.write_text(json.dumps({"theme": PLANTED_THEME}))
    workspace = lab / "workspaces" / "default-37a8.jupyterlab-workspace"
    workspace.parent.mkdir(parents=True)
    workspace.write_text(json.dumps({
        "data": {"layout-restorer:data": {"main": {"dock": {"type": "tab-area", "currentIndex": 0,
                                                            "widgets": [f"notebook:{n}" for n in PLANTED_TABS]}}},
                 **{f"notebook:{n}": {"data": {"path": n, "factory": "Notebook"}} for n in PLANTED_TABS}},
        "metadata": {"id": "default"}}))
    return workspace


def isolated_env(root: Path) -> dict:
    """The environment for a JupyterLab that reads and writes nothing of the user's."""
    dirs = {name: root / name for name in ("home", "config", "data", "runtime", "ipython")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return dict(os.environ, JUPYTER_TOKEN=TOKEN, HOME=str(dirs["home"]),
                JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
                JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), IPYTHONDIR=str(dirs["ipython"]),
                MPLCONFIGDIR=str(dirs["home"] / "matplotlib"))


def wait_until(browser, what, check, timeout, seen=None):
    """Wait for check(browser) to be truthy; on time-out, fail saying what was seen last."""
    last = {}

    def probe(b):
        result = check(b)
        last["seen"] = seen(b) if seen and not result else None
        return result
    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.25).until(probe)
    except TimeoutException:
        pass
    fail(browser, f"waited {timeout} s for {what}", last.get("seen"))


def fail(browser, message, seen=None):
    import inspect
    test = next((f.function for f in inspect.stack() if f.function.startswith("test_")), "browser")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"FAILED-{test}.png"
    try:
        browser.save_screenshot(str(shot))
    except WebDriverException as error:
        shot = f"(no screenshot: {error.msg})"
    try:
        console = [e["message"] for e in browser.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]
    except WebDriverException:
        console = ["(console log unavailable)"]
    state = lab_state(browser)
    pytest.fail(f"{message}.\nlast seen: {json.dumps(seen, default=str)}\n"
                f"lab state: {json.dumps(state, default=str)}\nconsole errors: {console[-10:]}\n"
                f"screenshot: {shot}", pytrace=False)


STATE_JS = """
const app = window.jupyterapp;
if (!app) return {app: 'window.jupyterapp is not defined (page still loading, or --expose-app missing)'};
const current = app.shell.currentWidget;
return {
  restored: !!window.__smRestored, current: current ? current.title.label : null,
  theme: document.body.dataset.jpThemeName || null,
  main: [...app.shell.widgets('main')].map(w => ({
    id: w.id, label: w.title.label, path: w.context ? w.context.path : null,
    kernel: w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel
      ? w.sessionContext.session.kernel.status : null,
    running: w.node.querySelectorAll('.jp-InputArea-prompt').length
      ? [...w.node.querySelectorAll('.jp-InputArea-prompt')].filter(p => p.textContent.includes('*')).length
      : null})),
};
"""


def lab_state(browser):
    try:
        return browser.execute_script(STATE_JS)
    except WebDriverException as error:
        return f"(page not scriptable: {error.msg})"


def main_paths(browser):
    state = lab_state(browser)
    return [w["path"] or w["label"] for w in state.get("main", [])] if isinstance(state, dict) else state


PANEL_JS = """
const app = window.jupyterapp;
if (!app) return null;
if (!window.__smRestoredHook) { window.__smRestoredHook = app.restored.then(() => { window.__smRestored = true; }); }
if (!window.__smRestored) return null;  // the layout is restored: no tab appears after this
const panel = [...app.shell.widgets('main')].find(w => w.context && w.context.path === arguments[0]);
if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) return null;
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
if (!kernel || kernel.status !== 'idle' || !panel.content.widgets.length) return null;
app.shell.activateById(panel.id);
return panel.id;
"""


class Notebook:
    """One notebook panel, found by its path, never by focus."""

    def __init__(self, browser, panel_id, path):
        self.browser, self.id, self.path = browser, panel_id, path

    @property
    def node(self):
        return self.browser.find_element(By.ID, self.id)

    def run_all(self, timeout):
        """Run every cell through this panel's id; wait for NotebookActions.runAll to resolve."""
        self.browser.execute_script(
            "window.__smRuns = window.__smRuns || {}; window.__smRuns[arguments[0]] = 'running';"
            "window.jupyterapp.commands.execute('notebook:run-all-cells', {semanticWidget: arguments[0]})"
            ".then(ok => { window.__smRuns[arguments[0]] = ok ? 'done' : 'failed'; },"
            "      err => { window.__smRuns[arguments[0]] = 'error: ' + err; });", self.id)
        status = wait_until(self.browser, f"every cell of {self.path} to run (notebook:run-all-cells)",
                            lambda b: b.execute_script("const s = window.__smRuns[arguments[0]];"
                                                       "return s === 'running' ? false : s;", self.id),
                            timeout, seen=lab_state)
        assert status == "done", f"{self.path}: run-all ended '{status}'; lab state: {lab_state(self.browser)}"

    def elements(self, css):
        return self.node.find_elements(By.CSS_SELECTOR, css)

    def wait_for_text(self, css, text, timeout):
        def found(b):
            return next((e for e in self.elements(css) if text in e.text), False)
        return wait_until(self.browser, f"a '{css}' element containing {text!r} in {self.path}", found, timeout,
                          seen=lambda b: [e.text[:120] for e in self.elements(css)][-5:])

    def click_text(self, text, within, timeout=60):
        """Click the visible element reading `text` inside a `within` widget (not in the prose:
        a lesson's markdown may show the same words)."""
        def candidates():
            return [e for area in self.elements(within)
                    for e in area.find_elements(By.XPATH, f".//*[normalize-space(text())='{text}']")]

        def visible(b):
            return next((e for e in candidates() if e.is_displayed()), False)
        element = wait_until(self.browser, f"a visible element reading {text!r} in a '{within}' of {self.path}",
                             visible, timeout,
                             seen=lambda b: [" | ".join(a.text.split("\n")[:12])[:300] for a in self.elements(within)])
        self.browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()
        return element


IN_VIEW_JS = """
const e = arguments[0], r = e.getBoundingClientRect();
if (!(r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight)) {
  e.scrollIntoView({block: 'center'});  // the notebook may still move it: check again next poll
  window.__smLastTop = null;
  return false;
}
const steady = window.__smLastTop === r.top;  // in view, and where it was a poll ago
window.__smLastTop = r.top;
return steady;
"""


def screenshot(browser, element, name):
    """A picture of the cell output holding `element` (JupyterLab may scroll the notebook on
    its own, so a picture of the window could miss it)."""
    output = element.find_element(By.XPATH, "./ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
    wait_until(browser, f"the output for {name} to be in view", lambda b: b.execute_script(IN_VIEW_JS, element),
               30, seen=lambda b: b.execute_script("return arguments[0].getBoundingClientRect().toJSON()", element))
    output.screenshot(str(ARTIFACTS / name))


def open_notebook(browser, lab, name, workspace=None, timeout=180):
    """Open NAME in the given workspace (a fresh one per test unless None = the default workspace)."""
    prefix = f"/lab/workspaces/{workspace}" if workspace else "/lab"
    browser.get(f"{lab}{prefix}/tree/{name}?token={TOKEN}")
    panel_id = wait_until(browser, f"the notebook panel for {name} with its kernel idle",
                          lambda b: b.execute_script(PANEL_JS, name), timeout, seen=lab_state)
    return Notebook(browser, panel_id, name)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    course = root / "notebooks"
    shutil.copytree(REPO / "notebooks", course)  # JupyterLab autosaves: never the committed files
    env = isolated_env(root)
    planted = plant_hostile_home(Path(env["HOME"]))
    planted_text = planted.read_text()
    log = (root / "jupyterlab.log").open("w")  # a file, not a pipe: a full pipe would stall the server
    server = subprocess.Popen([sys.executable, "-m", "sm_tutorial", "lab", "--no-browser", "--expose-app",
                               "--port", "0", "--notebook-dir", str(course)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    runtime = Path(env["JUPYTER_RUNTIME_DIR"])

    def started():
        for info in runtime.glob("jpserver-*.json"):
            try:
                url = json.loads(info.read_text())["url"].rstrip("/")
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2).close()
                return url
            except (ValueError, KeyError, OSError):
                pass
        return None

    deadline = time.monotonic() + 120
    while not (url := started()):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("JupyterLab did not start within 120 s (no answering server-info file in "
                        f"{runtime}):\n" + (root / "jupyterlab.log").read_text()[-3000:], pytrace=False)
        time.sleep(0.2)
    yield url
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()
    assert planted.read_text() == planted_text, "the test's JupyterLab rewrote the HOME's own workspace"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
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


def test_lab_settings_ignore_the_users_jupyter_state(lab, browser):
    # The default workspace, as a learner opens it: the planted ~/.jupyter must not show through.
    notebook = open_notebook(browser, lab, "00_welcome.ipynb")
    assert main_paths(browser) == ["00_welcome.ipynb"], \
        f"tabs restored from somewhere other than the test's own workspace: {main_paths(browser)}"
    assert browser.execute_script("return document.body.dataset.jpThemeLight") == "true", \
        f"theme is {browser.execute_script('return document.body.dataset.jpThemeName')}, not the course's light theme"
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
    assert notebook.node.is_displayed()


def test_container_tree_widget_in_lesson_3(lab, browser):
    notebook = open_notebook(browser, lab, "03_inside_the_container.ipynb", workspace="lesson3")
    notebook.run_all(timeout=300)
    assert notebook.elements(".widget-accordion"), "lesson 3 ran but shows no container tree"
    for name in ("input/", "config/", "hyperparameters.json"):
        notebook.click_text(name, within=".widget-accordion")
    viewer = notebook.wait_for_text(".widget-html", "sagemaker_program", 30)
    assert "input/config/hyperparameters.json" in viewer.text
    screenshot(browser, viewer, "lesson3-container-tree.png")


def test_job_timeline_widget_in_lesson_1(lab, browser):
    notebook = open_notebook(browser, lab, "01_estimator.ipynb", workspace="lesson1")
    notebook.run_all(timeout=400)
    notebook.wait_for_text(".widget-html", "Status: Completed", 30)
    bars = [b for b in notebook.elements(".progress-bar") if b.is_displayed()]
    assert len(bars) >= 4, f"the job timeline shows {len(bars)} bars, expected one per status (>= 4)"
    screenshot(browser, bars[-1], "lesson1-job-timeline.png")
    errors = notebook.elements(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
    assert not [e.text for e in errors if "Error" in e.text], [e.text for e in errors]
