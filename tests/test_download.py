"""Tests for download-mnist.sh, run against local mirrors only (file:// and servers on 127.0.0.1).

Every run sets MNIST_MIRROR, so the real mirrors on the internet are never contacted. Most tests use
four small fake .gz files checked against their own sums file (MNIST_SHA256SUMS); one checks the
built-in canonical sums against the real files (the `mnist_dir` fixture).
"""

import functools
import gzip
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "download-mnist.sh"
NAMES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]

def run(*args, mirrors, sums=None, **env):
    """Run the script with MNIST_MIRROR set to `mirrors` (a list) and optionally a sums file."""
    environ = {key: value for key, value in os.environ.items() if key != "MNIST_SHA256SUMS"}
    environ.update(env, MNIST_MIRROR=" ".join(mirrors))
    if sums is not None:
        environ["MNIST_SHA256SUMS"] = str(sums)
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], env=environ, capture_output=True, text=True, timeout=60
    )


def write_sums(path, files):
    """A sums file in `sha256sum` format for the {name: content} dict `files`."""
    path.write_text("".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()))
    return path


def assert_holds_exactly(folder, files):
    """`folder` holds these {name: content} files and nothing else: no temporary or partial file."""
    assert sorted(os.listdir(folder)) == sorted(files)
    for name, data in files.items():
        assert (folder / name).read_bytes() == data


@pytest.fixture
def fake(tmp_path):
    """A folder with four small gzip files under the MNIST names, their sums file and contents."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    files = {name: gzip.compress(f"fake {name}\n".encode() * 50, mtime=0) for name in NAMES}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder, write_sums(tmp_path / "SHA256SUMS", files), files


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from its `directory` (404 for missing ones), without logging each request."""

    def log_message(self, *args):
        pass


class HtmlErrorHandler(QuietHandler):
    """Like some mirrors: an HTML error page with status 200 for every path."""

    def do_GET(self):
        body = b"<!DOCTYPE html><html><body>Not here</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HalfFileHandler(QuietHandler):
    """Announces a file's full length, sends only its first half, then closes the connection."""

    def do_GET(self):
        data = Path(self.translate_path(self.path)).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True


@pytest.fixture
def serve():
    """serve(handler_class, folder) starts an HTTP server on 127.0.0.1 and returns its URL."""
    servers = []

    def start(handler_class, folder):
        handler = functools.partial(handler_class, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # A short poll interval makes shutdown() quick (the default waits up to half a second).
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_all_four_from_a_file_mirror(fake, tmp_path):
    folder, sums, files = fake
    dest = tmp_path / "data"  # does not exist yet: the script creates it
    result = run(dest, mirrors=[folder.as_uri()], sums=sums)
    assert result.returncode == 0, result.stderr
    assert_holds_exactly(dest, files)
    for name in NAMES:
        assert f"{name}: ok (downloaded from {folder.as_uri()})" in result.stdout


def test_folder_from_MNIST_DIR_when_no_argument(fake, tmp_path):
    folder, sums, files = fake
    result = run(mirrors=[folder.as_uri()], sums=sums, MNIST_DIR=str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert_holds_exactly(tmp_path / "data", files)


@pytest.mark.parametrize("bad_handler", [QuietHandler, HtmlErrorHandler], ids=["404", "html-200"])
def test_a_bad_first_mirror_falls_back_to_the_second(fake, tmp_path, serve, bad_handler):
    folder, sums, files = fake
    empty = tmp_path / "empty"
    empty.mkdir()
    bad, good = serve(bad_handler, empty), serve(QuietHandler, folder)
    result = run(tmp_path / "data", mirrors=[bad, good], sums=sums)
    assert result.returncode == 0, result.stderr
    assert_holds_exactly(tmp_path / "data", files)
    assert result.stdout.count(f"ok (downloaded from {good})") == 4


def test_a_wrong_sum_is_refused(fake, tmp_path):
    folder, _, files = fake
    sums = write_sums(tmp_path / "wrong-sums", {**files, NAMES[0]: b"other content"})
    result = run(tmp_path / "data", mirrors=[folder.as_uri()], sums=sums)
    assert result.returncode != 0
    assert f"{NAMES[0]}: FAILED" in result.stderr
    assert "sha256 mismatch" in result.stderr
    # The three others are fine; nothing at all is left under the refused name.
    assert_holds_exactly(tmp_path / "data", {name: files[name] for name in NAMES[1:]})


# The published SHA-256 of each MNIST file, written out here as the test's own oracle.
CANONICAL = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


def test_real_data_against_the_canonical_sums(tmp_path, mnist_dir):
    """Each real file is kept exactly when it is the published one. (The shared copy on the project's
    machines has reconstructed training images, which must be refused.)"""
    if not all((mnist_dir / name).exists() for name in NAMES):
        pytest.skip(f"{mnist_dir} lacks some of the .gz files as published")
    genuine = [name for name in NAMES if hashlib.sha256((mnist_dir / name).read_bytes()).hexdigest() == CANONICAL[name]]
    result = run(tmp_path / "data", mirrors=[mnist_dir.as_uri()])
    assert (result.returncode == 0) == (len(genuine) == 4)
    for name in NAMES:
        if name in genuine:
            assert f"{name}: ok (downloaded from" in result.stdout
        else:
            assert f"{name}: FAILED" in result.stderr and "sha256 mismatch" in result.stderr
    assert sorted(os.listdir(tmp_path / "data")) == sorted(genuine)


def test_a_rerun_fetches_nothing(fake, tmp_path):
    folder, sums, files = fake
    assert run(tmp_path / "data", mirrors=[folder.as_uri()], sums=sums).returncode == 0
    # A mirror that does not exist proves the second run downloads nothing.
    result = run(tmp_path / "data", mirrors=[(tmp_path / "nowhere").as_uri()], sums=sums)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok (cached)") == 4
    assert_holds_exactly(tmp_path / "data", files)


def test_a_connection_closed_mid_file_leaves_nothing(fake, tmp_path, serve):
    folder, sums, _ = fake
    result = run(tmp_path / "data", mirrors=[serve(HalfFileHandler, folder)], sums=sums)
    assert result.returncode != 0
    for name in NAMES:
        assert f"{name}: FAILED" in result.stderr
    assert_holds_exactly(tmp_path / "data", {})


def test_a_corrupt_existing_file_is_replaced(fake, tmp_path):
    folder, sums, files = fake
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / NAMES[1]).write_bytes(b"corrupt")
    result = run(dest, mirrors=[folder.as_uri()], sums=sums)
    assert result.returncode == 0, result.stderr
    assert f"warning: {dest / NAMES[1]} does not verify" in result.stderr
    assert_holds_exactly(dest, files)


def test_ctrl_c_leaves_no_temporary_file(fake, tmp_path, serve):
    """Interrupt while a download is under way, as Ctrl-C does: the whole process group gets SIGINT."""
    folder, sums, _ = fake
    sending, release = threading.Event(), threading.Event()

    class StallingHandler(QuietHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"\x1f\x8b")
            self.wfile.flush()
            sending.set()
            release.wait(timeout=30)

    environ = dict(os.environ, MNIST_MIRROR=serve(StallingHandler, folder), MNIST_SHA256SUMS=str(sums))
    script = subprocess.Popen([str(SCRIPT), str(tmp_path / "data")], env=environ, start_new_session=True)
    try:
        assert sending.wait(timeout=30)
        os.killpg(script.pid, signal.SIGINT)
        assert script.wait(timeout=30) != 0
    finally:
        release.set()
    assert_holds_exactly(tmp_path / "data", {})


def test_sums_file_without_an_entry_is_an_error(fake, tmp_path):
    folder, _, files = fake
    sums = write_sums(tmp_path / "short-sums", {name: files[name] for name in NAMES[1:]})
    result = run(tmp_path / "data", mirrors=[folder.as_uri()], sums=sums)
    assert result.returncode == 1
    assert f"has no sum for {NAMES[0]}" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_help_and_unknown_option(tmp_path):
    result = run("--help", mirrors=[(tmp_path / "nowhere").as_uri()])
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    result = run("--bogus", mirrors=[(tmp_path / "nowhere").as_uri()])
    assert result.returncode == 2
    assert "unknown option: --bogus" in result.stderr


# --- Fashion-MNIST ----------------------------------------------------------------------------------------

# Fashion-MNIST's published MD5 sums (the README of github.com/zalandoresearch/fashion-mnist), written
# out here as the test's own oracle.
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian's package dataset-fashion-mnist


def test_fashion_from_a_file_mirror(fake, tmp_path):
    folder, sums, files = fake
    result = run("--dataset", "fashion", tmp_path / "fashion", mirrors=[folder.as_uri()], sums=sums)
    assert result.returncode == 0, result.stderr
    assert_holds_exactly(tmp_path / "fashion", files)


@pytest.mark.parametrize("dataset, folder", [("mnist", "data"), ("fashion", "data/fashion")])
def test_the_default_folder_is_beside_the_script(fake, tmp_path, dataset, folder):
    mirror, sums, files = fake
    copy = tmp_path / "project" / SCRIPT.name
    copy.parent.mkdir()
    shutil.copy(SCRIPT, copy)
    environ = {key: value for key, value in os.environ.items() if key not in ("MNIST_DIR", "MNIST_SHA256SUMS")}
    environ.update(MNIST_MIRROR=mirror.as_uri(), MNIST_SHA256SUMS=str(sums))
    result = subprocess.run([str(copy), f"--dataset={dataset}"], env=environ, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert_holds_exactly(copy.parent / folder, files)


def test_fashion_uses_MNIST_DIR_when_set(fake, tmp_path):
    folder, sums, files = fake
    result = run("--dataset", "fashion", mirrors=[folder.as_uri()], sums=sums, MNIST_DIR=str(tmp_path / "mine"))
    assert result.returncode == 0, result.stderr
    assert_holds_exactly(tmp_path / "mine", files)


def test_fashion_files_are_checked_against_the_published_md5_sums(fake, tmp_path):
    folder, _, files = fake
    result = run("--dataset", "fashion", tmp_path / "fashion", mirrors=[folder.as_uri()])
    assert result.returncode == 1
    for name in NAMES:
        got = hashlib.md5(files[name]).hexdigest()
        assert (f"{name}: FAILED — {folder.as_uri()}: md5 mismatch (got {got[:12]}..., "
                f"expected {FASHION_MD5[name][:12]}...)") in result.stderr
    assert_holds_exactly(tmp_path / "fashion", {})


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"no {DEBIAN_FASHION} (apt-get install dataset-fashion-mnist)")
def test_debians_recompressed_fashion_mnist_needs_the_checksum_override(tmp_path):
    """Debian's copy holds the same images, recompressed: the published MD5 sums refuse it, and
    MNIST_SHA256SUMS with the copy's own sums accepts it."""
    mirror = [DEBIAN_FASHION.as_uri()]
    refused = run("--dataset", "fashion", tmp_path / "refused", mirrors=mirror)
    assert refused.returncode == 1
    assert refused.stderr.count("md5 mismatch") == 4
    files = {name: (DEBIAN_FASHION / name).read_bytes() for name in NAMES}
    sums = write_sums(tmp_path / "debian-sums", files)
    accepted = run("--dataset", "fashion", tmp_path / "accepted", mirrors=mirror, sums=sums)
    assert accepted.returncode == 0, accepted.stderr
    assert_holds_exactly(tmp_path / "accepted", files)


@pytest.mark.parametrize("args, complaint", [
    (["--dataset", "kmnist"], "unknown dataset: kmnist (choose mnist or fashion)"),
    (["--dataset"], "--dataset needs a name: mnist or fashion"),
    (["one", "two"], "too many arguments"),
])
def test_bad_command_lines_exit_2(tmp_path, args, complaint):
    result = run(*args, mirrors=[(tmp_path / "nowhere").as_uri()])
    assert result.returncode == 2
    assert result.stderr == f"download-mnist.sh: {complaint} (see --help)\n"


# --- Saying what it does while it waits --------------------------------------------------------------------

def test_says_which_mirror_it_is_trying_while_it_waits(fake, tmp_path, serve):
    """Without a network each mirror takes seconds to fail: the script must not be silent meanwhile."""
    folder, sums, _ = fake
    waiting, release = threading.Event(), threading.Event()

    class SilentHandler(QuietHandler):
        def do_GET(self):
            waiting.set()
            release.wait(timeout=30)

    slow = serve(SilentHandler, folder)
    environ = dict(os.environ, MNIST_MIRROR=f"{slow} {folder.as_uri()}", MNIST_SHA256SUMS=str(sums))
    script = subprocess.Popen([str(SCRIPT), str(tmp_path / "data")], env=environ, stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        assert waiting.wait(timeout=30)  # the script is now waiting for the silent mirror
        os.set_blocking(script.stderr.fileno(), False)
        said = script.stderr.read() or b""
        assert said.decode() == f"{NAMES[0]}: trying {slow} ...\n"
    finally:
        release.set()
        os.killpg(script.pid, signal.SIGTERM)
        script.wait(timeout=30)
        script.stderr.close()


def readme_block(after):
    """The first ```sh block of the README after the line that ends with `after`."""
    readme = (SCRIPT.parent / "README.md").read_text()
    return readme[readme.index(after):].split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"no {DEBIAN_FASHION} (apt-get install dataset-fashion-mnist)")
def test_the_readmes_way_from_debians_fashion_mnist_leaves_the_clone_clean(tmp_path):
    """The README's commands, run in a copy of the clone: Fashion-MNIST lands in data/fashion/ (which
    git ignores), and nothing else is left behind."""
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(SCRIPT, clone)
    environ = {key: value for key, value in os.environ.items() if key not in ("MNIST_DIR", "MNIST_SHA256SUMS")}
    result = subprocess.run(["bash", "-e", "-c", readme_block("to take them from there:")], cwd=clone, env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(clone)) == ["data", SCRIPT.name]
    assert sorted(os.listdir(clone / "data")) == ["fashion"]
    assert_holds_exactly(clone / "data" / "fashion", {name: (DEBIAN_FASHION / name).read_bytes() for name in NAMES})
