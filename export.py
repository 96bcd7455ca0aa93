#!/usr/bin/env python3
"""Take a trained network elsewhere: as an ONNX model, or as a web page that reads digits drawn in a browser.

    ./export.py model.npz model.onnx    # for onnxruntime, OpenCV, ... (pip install -r requirements-export.txt)
    ./export.py model.npz --web site/   # a static folder: python3 -m http.server -d site/
    ./export.py model.npz model.onnx --web site/ --force

The ONNX model takes images (N, 1, 28, 28) float32 in [0, 1] (ink bright) and gives the ten
probabilities (N, 10); its metadata names the dataset, its classes and the training flags. The web
folder holds index.html, the JavaScript that runs the network (recognizer.js, no framework) and the
weights; nothing in it comes from the internet.
"""

from support import packages

packages.require()  # before the imports that need them: one line, not a traceback, if they are missing

import argparse

from support import cli, exportable, files, model, web_export

ONNX_MISSING = "writing ONNX needs the onnx package: pip install -r requirements-export.txt"


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="the trained network, from ./train.py --save")
    parser.add_argument("output", nargs="?", metavar="OUTPUT.onnx", help="write the network as an ONNX model here")
    parser.add_argument("--web", metavar="FOLDER", help="write a web page that runs the network into this folder")
    parser.add_argument("--force", action="store_true",
                        help="write the web page into a folder that holds other files too (they stay)")
    return parser


def onnx_exporter():
    """support.onnx_export, or the end of the program when the onnx package is not installed."""
    try:
        from support import onnx_export  # the export's own dependency, not training's
    except ImportError:
        cli.fail(ONNX_MISSING)
    return onnx_export


def check_paths(args):
    """End the program with one line when an output cannot be written, before the model is read."""
    for path, folder in ((args.output, False), (args.web, True)):
        problem = path and cli.unwritable(path, folder)
        if problem:
            cli.fail(f"{path}: {problem}")
    if args.web:
        try:
            web_export.check_folder(args.web, args.force)
        except web_export.FolderError as error:
            cli.fail(f"--web {args.web}: {error}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.output and not args.web:
        parser.error("give an OUTPUT.onnx file, or --web FOLDER, or both")
    if args.output and args.output.lower().endswith(".npz"):  # never written over a second model
        parser.error(f"{args.output}: export.py takes one model, and OUTPUT is where the ONNX model goes "
                     "(a committee of several networks cannot be exported)")
    onnx_export = onnx_exporter() if args.output else None
    check_paths(args)
    try:
        network, metadata = model.load(args.model)
        # Everything is made before anything is written: a network that cannot be exported leaves no file.
        onnx_bytes = onnx_export.to_onnx(network, metadata).SerializeToString() if args.output else None
        site = web_export.site_files(network, metadata) if args.web else None
    except (model.ModelError, exportable.ExportError) as error:
        cli.fail(error)
    try:
        if args.output:
            files.write_atomically(args.output, lambda file: file.write(onnx_bytes))
            print(f"wrote {args.output}: ONNX opset {onnx_export.OPSET}, {len(onnx_bytes):,} bytes")
        if args.web:
            web_export.write_site(site, args.web)
            print(f"wrote {args.web}: {', '.join(site)}, {sum(map(len, site.values())):,} bytes; "
                  f"to try it: python3 -m http.server -d {args.web}")
    except OSError as error:
        cli.fail_to_write(error)


if __name__ == "__main__":
    main()
