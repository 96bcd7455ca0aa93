"""The page export.py --web writes, in a real browser (headless Chromium, support/browser.py): it loads
without a console error, recognizer.js's classify gives numpy's probabilities, and strokes drawn with
the mouse become the input draw.py makes of the same strokes, and read as the digit drawn."""

import gzip

import numpy as np
import pytest
from test_draw import new_board
from test_export import digits, trained  # noqa: F401  (digits: a fixture)
from test_predict import trained_model  # noqa: F401  (a fixture: a small network trained on real MNIST)

import browser
import nn
from support import model, web_export

AGREEMENT_DIGITS = 100
NETWORKS = {
    "mlp recipe": lambda: model.build([512], rng=np.random.default_rng(1)),
    "cnn recipe": lambda: model.build([256], (32, 64), 3, "valid", "relu", dropout=0.4, rng=np.random.default_rng(1)),
    "cnn padding same, tanh, mse": lambda: model.build([16], (4, 6), 3, "same", "tanh", "mse",
                                                       rng=np.random.default_rng(2)),
    "cnn 5x5, leaky-relu, mse-relu": lambda: model.build([16], (4,), 5, "same", "leaky-relu", "mse-relu",
                                                         rng=np.random.default_rng(3)),
    "sigmoid": lambda: model.build([32, 16], activation="sigmoid", rng=np.random.default_rng(4)),
    "identity": lambda: model.build([16], (3,), activation="identity", rng=np.random.default_rng(5)),
}


@pytest.fixture(scope="module")
def driver():
    reason = browser.missing()
    if reason:
        pytest.skip(f"the web page's tests need a browser: {reason}")
    with browser.chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def served(tmp_path_factory, driver):
    """A folder served on 127.0.0.1 for the pages of the tests: (the folder, its URL)."""
    root = tmp_path_factory.mktemp("sites")
    with browser.serve(root) as url:
        yield root, url


@pytest.fixture
def sites(served):
    """A function that exports a network into a new folder of the served one; returns its page's URL."""
    root, url = served

    def site(name, network, dataset="mnist"):
        web_export.write_site(web_export.site_files(network, {"dataset": dataset}), root / name)
        return f"{url}{name}/"

    return site


def console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def open_page(driver, url):
    browser.open_page(driver, url)
    assert console_errors(driver) == []


def test_the_page_loads_without_a_console_error_and_shows_its_parts(driver, sites):
    open_page(driver, sites("parts", nn.mlp([784, 16, 10])))
    parts = driver.execute_script("""
        const text = (selector) => document.querySelector(selector).textContent;
        return [text('#answer'), document.querySelectorAll('#bars li').length, text('#bars li .name'),
                document.getElementById('seen').width, text('#clear'), text('#status')]""")
    assert parts == ["draw a digit", 10, "0", 28, "Clear", "dense 784-16 relu, dense 16-10"]


def classify_in_page(driver, rows):
    """What recognizer.js's documented API gives for rows (N, 784) on the page loaded."""
    return np.array(driver.execute_async_script("""
        const [rows, done] = arguments;
        import(new URL('recognizer.js', location.href)).then(async ({ loadNetwork }) => {
            const network = await loadNetwork();
            done(rows.map((row) => Array.from(network.classify(Float32Array.from(row)))));
        }).catch((error) => done(String(error)));""", rows.tolist()))


@pytest.mark.parametrize("name", NETWORKS)
def test_classify_gives_numpys_probabilities(driver, sites, digits, name):  # noqa: F811
    network = trained(NETWORKS[name](), digits)
    open_page(driver, sites(name.replace(" ", "-").replace(",", ""), network))
    x = digits[0][:AGREEMENT_DIGITS]
    got = classify_in_page(driver, x)
    assert got.shape == (AGREEMENT_DIGITS, 10)
    assert np.abs(got - network.probabilities(x)).max() <= 1e-4


def test_classify_refuses_a_picture_of_another_size(driver, sites):
    open_page(driver, sites("sizes", nn.mlp([784, 16, 10])))
    message = driver.execute_script("""
        try { board.network.classify(new Float32Array(100)); } catch (error) { return error.message; }""")
    assert message == "classify takes 784 pixels (28 x 28), not 100"


def read_page(driver):
    """What the page holds: its input (28, 28), its probabilities, and the answer it shows."""
    seen, probabilities, answer = driver.execute_script(
        "return [board.input && Array.from(board.input), Array.from(board.probabilities),"
        "        document.getElementById('answer').textContent]")
    return np.array(seen or np.zeros(784)).reshape(28, 28), np.array(probabilities), answer


def egg(n=40):
    """A 0 as a hand draws it: from the top, round once and a little past the start, wider below."""
    angles = np.linspace(-np.pi / 2, 1.6 * np.pi, n)
    return [(112 + 45 * np.cos(a) + 5 * np.sin(2 * a), 115 + 62 * np.sin(a) + 4 * np.cos(a)) for a in angles]


# The strokes of digits. The 1, one straight stroke, is symmetric about its middle: its centre of
# mass falls on a half pixel of the 28 x 28 frame, where both the page and framing.py move it down
# and right, whatever the last bits of their sums.
STROKES = {
    "7": [[(60, 50), (100, 50), (160, 50), (130, 100), (110, 145), (90, 190)]],
    "0": [egg()],
    "1": [[(112, y) for y in range(40, 190, 10)]],
}


@pytest.mark.parametrize("digit", STROKES)
def test_strokes_drawn_read_as_the_digit_and_as_draw_py_reads_them(driver, sites, trained_model, digit):  # noqa: F811
    strokes = STROKES[digit]
    network = model.load(trained_model)[0]
    open_page(driver, sites(f"draw-{digit}", network))
    drawn = browser.draw_strokes(driver, strokes)
    seen, probabilities, answer = read_page(driver)
    board, hand = new_board(network)
    for stroke in drawn:
        hand.stroke(*stroke)
    expected_seen, expected_probabilities = board.read()
    assert np.abs(seen - expected_seen).max() <= 1e-5
    assert np.abs(probabilities - network.probabilities(seen.reshape(1, 784).astype(np.float32))[0]).max() <= 1e-4
    assert answer == digit == str(expected_probabilities.argmax())
    assert console_errors(driver) == []


def test_clear_empties_the_canvas_the_picture_and_the_bars(driver, sites):
    open_page(driver, sites("clear", nn.mlp([784, 16, 10])))
    browser.draw_strokes(driver, STROKES["1"])
    assert read_page(driver)[0].any()
    driver.find_element("id", "clear").click()
    seen, probabilities, answer = read_page(driver)
    ink = driver.execute_script("return board.ink.some((value) => value !== 0)")
    assert not ink and not seen.any() and not probabilities.any() and answer == "draw a digit"


def test_load_network_reads_a_network_from_the_url_given(driver, sites, digits):  # noqa: F811
    other = trained(model.build([16], (3,), rng=np.random.default_rng(7)), digits)
    sites("other", other, dataset="fashion")
    open_page(driver, sites("first", nn.mlp([784, 16, 10])))
    classes, probabilities = driver.execute_async_script("""
        const [row, done] = arguments;
        import(new URL('recognizer.js', location.href)).then(async ({ loadNetwork }) => {
            const network = await loadNetwork('../other/network.json');
            done([network.classes, Array.from(network.classify(Float32Array.from(row)))]);
        });""", digits[0][0].tolist())
    assert classes[0] == "T-shirt/top"
    assert np.abs(np.array(probabilities) - other.probabilities(digits[0][:1])[0]).max() <= 1e-4


def test_a_network_of_a_layer_the_page_does_not_know_is_refused(driver, served, sites):
    url = sites("unknown-layer", nn.mlp([784, 16, 10]))
    description = served[0] / "unknown-layer" / "network.json"
    description.write_text(description.read_text().replace('"dense"', '"attention"', 1))
    driver.get(url)
    assert wait_for_status(driver, "could not") == (
        "The network could not be loaded: layer 1: a relu attention layer, which this page cannot run")
    driver.get_log("browser")  # the error is logged, as it should be


def test_a_fashion_network_names_its_classes(driver, sites):
    open_page(driver, sites("fashion", nn.mlp([784, 16, 10]), dataset="fashion"))
    names = driver.execute_script("return Array.from(document.querySelectorAll('#bars .name'), (n) => n.textContent)")
    assert names[0] == "T-shirt/top" and names[9] == "Ankle boot"
    assert driver.execute_script("return document.getElementById('answer').textContent") == "draw something to wear"


DAMAGES = {
    "cut short": (lambda packed: packed[:1000], "The network could not be loaded: "),
    "too few floats": (lambda packed: gzip.compress(bytes(1000)), "The network could not be loaded: weights.bin holds "
                       f"1000 bytes, not the {3 * (784 * 16 + 16 + 16 * 10 + 10)} expected"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_weights_say_so_on_the_page(driver, served, sites, damage):
    change, message = DAMAGES[damage]
    name = f"damaged-{damage.replace(' ', '-')}"  # a folder of its own: the browser keeps what it fetched
    url = sites(name, nn.mlp([784, 16, 10]))
    weights = served[0] / name / "weights.bin"
    weights.write_bytes(change(weights.read_bytes()))
    driver.get(url)
    status = wait_for_status(driver, "could not")
    assert status.startswith(message), status
    assert console_errors(driver)  # the error is in the console too, for whoever looks there


def wait_for_status(driver, words):
    """The page's status line, once it holds `words`."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, browser.PAGE_TIMEOUT).until(lambda driver: words in driver.find_element("id", "status").text)
    return driver.find_element("id", "status").text
