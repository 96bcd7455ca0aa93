"""The exported web page in a real browser, headless Chromium driven by selenium: for its tests
(tests/test_web.py) and its measurements (bench/exported.py).

    with serve(folder) as url, chromium() as driver:
        open_page(driver, url)
        drawn = draw_strokes(driver, [[(112, 40), (112, 190)]])    # canvas pixels, as draw.py's
        driver.execute_script("return Array.from(board.input)")

Debian's packages (apt-get install chromium chromium-driver) put the browser and its driver here.
"""

import contextlib
import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Without the background-networking flags, Chromium on a machine with no internet keeps trying to
# reach Google's services and fills its log with the failures.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
PAGE_TIMEOUT = 30  # seconds for the page to load its network


def missing():
    """Why the browser cannot be run here (a sentence), or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    absent = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if absent:
        return f"no {' or '.join(absent)} (apt-get install chromium chromium-driver)"
    return None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # one line per request would bury the tests' output
        pass


@contextlib.contextmanager
def serve(folder):
    """Serve `folder` on 127.0.0.1 from a thread, as python -m http.server does; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def chromium(width=900, height=640):
    """A headless Chromium with a fresh profile and a window of width x height CSS pixels, whose
    console messages driver.get_log("browser") returns."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, url):
    """Load the page at `url` and wait until its network is loaded and it is ready to draw on."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, PAGE_TIMEOUT).until(
        lambda driver: driver.execute_script("return document.body.classList.contains('ready')"))


def draw_strokes(driver, strokes):
    """Draw strokes on the page's canvas with the mouse, each a list of points (x, y) in canvas pixels
    (draw.py's: 224 a side), and wait until the page has read the drawing. The mouse moves in whole CSS
    pixels: returns the strokes as they were drawn, in canvas pixels."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    left, top, width, size = driver.execute_script(
        "const box = document.getElementById('canvas').getBoundingClientRect();"
        "return [box.left, box.top, box.width, document.getElementById('canvas').width]")
    scale = width / size
    drawn = []
    # The actions may return before the page has had all their events: it is done with a stroke when
    # its pointerup has come and the drawing has been read since.
    driver.execute_script("window.strokesEnded = 0;"
                          "document.getElementById('canvas').addEventListener('pointerup', () => strokesEnded++);")
    for stroke in strokes:
        actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_MOUSE, "mouse"), duration=0)
        client = [(round(left + x * scale), round(top + y * scale)) for x, y in stroke]
        actions.pointer_action.move_to_location(*client[0]).pointer_down()
        for point in client[1:]:
            actions.pointer_action.move_to_location(*point)
        actions.pointer_action.pointer_up()
        actions.perform()
        drawn.append([((x - left) / scale, (y - top) / scale) for x, y in client])
    driver.execute_async_script(
        "const [strokes, done] = arguments;"
        "const check = () => strokesEnded < strokes || board.pending ? requestAnimationFrame(check) : done();"
        "check();", len(strokes))
    return drawn
