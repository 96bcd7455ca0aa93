#!/usr/bin/env python3
"""How faithful and how fast are a model's exports? The ONNX model in onnxruntime and the web page in
headless Chromium, each against numpy's probabilities.

    python bench/exported.py --model model.npz
    python bench/exported.py --model model.npz --screenshot screenshots/web-page.png

Prints the largest |difference| from numpy's probabilities of onnxruntime's on the 10,000 test digits
and of the page's on the first 1,000, the web folder's size file by file, and the time the page takes
to classify a digit (recognizer.js's classify, the median of 5 runs over the 1,000 digits after a
warm-up) and to prepare a drawing (prepare.js's toMnist on the 224 x 224 canvas, of a seven drawn on
it). --screenshot saves the page with that seven drawn, as the README shows it. Needs onnx,
onnxruntime and selenium (requirements-dev.txt), Chromium and its driver, and MNIST's test set.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # tests/browser.py drives the browser for the tests and for this
import browser
from support import mnist, model, onnx_export, web_export

PAGE_DIGITS = 1000
RUNS = 5
SEVEN = [[(60, 50), (100, 50), (160, 50), (130, 100), (110, 145), (90, 190)]]
WINDOW = (820, 660)  # CSS pixels: the page's parts side by side, as on a laptop


def onnx_difference(network, metadata, x):
    import onnxruntime

    proto = onnx_export.to_onnx(network, metadata)
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.abs(session.run(None, {"image": x.reshape(-1, 1, 28, 28)})[0] - network.probabilities(x)).max()


def page_figures(driver, x):
    """The page's probabilities for rows x and the milliseconds of each run's classifications, one digit's."""
    return driver.execute_async_script("""
        const [rows, runs, done] = arguments;
        import(new URL('recognizer.js', location.href)).then(async ({ loadNetwork }) => {
            const network = await loadNetwork();
            const inputs = rows.map((row) => Float32Array.from(row));
            const probabilities = inputs.map((input) => Array.from(network.classify(input)));  // also a warm-up
            const times = [];
            for (let run = 0; run < runs; run++) {
                const start = performance.now();
                for (const input of inputs) network.classify(input);
                times.push((performance.now() - start) / inputs.length);
            }
            done([probabilities, times]);
        });""", x.tolist(), RUNS)


def preparation_ms(driver):
    """Milliseconds that toMnist takes on the drawing on the page: the median of 100 runs."""
    return driver.execute_async_script("""
        const done = arguments[0];
        import(new URL('prepare.js', location.href)).then(({ toMnist }) => {
            const times = [];
            for (let run = 0; run < 100; run++) {
                const start = performance.now();
                toMnist(board.ink, 224, 224);
                times.push(performance.now() - start);
            }
            done(times.sort((a, b) => a - b)[50]);
        });""")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="model.npz")
    parser.add_argument("--data-dir", help="folder with MNIST's files (default: $MNIST_DIR, else data/)")
    parser.add_argument("--screenshot", metavar="PNG", help="save the page with a seven drawn on it here")
    args = parser.parse_args()
    network, metadata = model.load(args.model)
    images, _ = mnist.load_split("test", args.data_dir, metadata["dataset"])
    x = mnist.as_inputs(images)
    print(f"{args.model}: {model.describe(network)}")
    difference = onnx_difference(network, metadata, x)
    print(f"onnxruntime: largest |difference| from numpy on {len(x)} test digits: {difference:.2g}")
    with tempfile.TemporaryDirectory() as folder:
        site = web_export.site_files(network, metadata)
        web_export.write_site(site, Path(folder) / "site")
        sizes = {name: len(content) for name, content in site.items()}
        print(f"web folder: {sum(sizes.values()):,} bytes: "
              + ", ".join(f"{name} {size:,}" for name, size in sizes.items()))
        with browser.serve(folder) as url, browser.chromium(*WINDOW) as driver:
            browser.open_page(driver, f"{url}site/")
            probabilities, times = page_figures(driver, x[:PAGE_DIGITS])
            difference = np.abs(np.array(probabilities) - network.probabilities(x[:PAGE_DIGITS])).max()
            print(f"page: largest |difference| from numpy on {PAGE_DIGITS} test digits: {difference:.2g}")
            print(f"page: {statistics.median(times):.3f} ms to classify a digit (runs: "
                  + ", ".join(f"{time:.3f}" for time in times) + ")")
            browser.draw_strokes(driver, SEVEN)
            print(f"page: {preparation_ms(driver):.2f} ms to prepare a drawing (toMnist), median of 100")
            print(f"page: the seven drawn reads as {driver.find_element('id', 'answer').text}")
            if args.screenshot:
                driver.save_screenshot(args.screenshot)
                print(f"wrote {args.screenshot}")


if __name__ == "__main__":
    main()
