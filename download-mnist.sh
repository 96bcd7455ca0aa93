#!/usr/bin/env bash
# Download the four MNIST files and keep them only if they match their published SHA-256 sums.
# Run with --help for usage. Written for bash 3.2 or later (macOS included): no associative arrays.
set -euo pipefail

readonly PROG=${0##*/}
readonly FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
                t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
readonly DEFAULT_MIRRORS="https://ossci-datasets.s3.amazonaws.com/mnist/
https://storage.googleapis.com/cvdf-datasets/mnist/
http://yann.lecun.com/exdb/mnist/"

usage() {
    cat <<EOF
Usage: $PROG [DIR]

Download the four MNIST files (train/t10k images and labels, .gz as published) into DIR
and check each one's size and SHA-256 against the canonical values built into this script.
Files already in DIR that verify are not downloaded again.

DIR defaults to \$MNIST_DIR if set, else data/ beside this script.

Environment:
  MNIST_MIRROR       mirror URL(s) to use instead of the built-in list, separated by spaces;
                     http://, https:// or file:// (e.g. file:///path/to/folder/)
  MNIST_SHA256SUMS   file in \`sha256sum\` format to check against instead of the
                     canonical sums (for your own copies; the size check is then skipped)

Exit status: 0 when all four files verify, 1 otherwise, 2 for a bad command line.
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }

# --- The canonical files -------------------------------------------------------------------------

# Prints "<sha256> <bytes>" of the published file NAME. This table is what makes a download
# trustworthy: never edit it to make a file pass (use MNIST_SHA256SUMS for other files).
canonical() {
    case $1 in
        train-images-idx3-ubyte.gz) echo "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609 9912422" ;;
        train-labels-idx1-ubyte.gz) echo "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c 28881" ;;
        t10k-images-idx3-ubyte.gz)  echo "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6 1648877" ;;
        t10k-labels-idx1-ubyte.gz)  echo "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 4542" ;;
    esac
}

# Prints the SHA-256 that NAME must have: from $MNIST_SHA256SUMS when given, else canonical.
# A sums line is "<hex>  <name>", or "<hex> *<name>" as written by `sha256sum --binary`.
expected_sha() {
    if [[ -n $SUMS_FILE ]]; then
        awk -v name="$1" '$2 == name || $2 == "*" name { print tolower($1); exit }' "$SUMS_FILE"
    else
        canonical "$1" | cut -d' ' -f1
    fi
}

# --- Checking a file -----------------------------------------------------------------------------

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1   # macOS has shasum, not sha256sum
    fi
}

# wc pads its number with spaces on macOS; tr removes them.
size_of() { wc -c <"$1" | tr -d ' '; }

# Mirrors answer errors with HTML pages and status 200; gzip data starts with the bytes 1f 8b.
is_gzip() { [[ $(head -c 2 "$1" | od -An -tx1 | tr -d ' \n') == 1f8b ]]; }

# verify FILE NAME: succeeds when FILE is a good copy of NAME; otherwise sets REASON and fails.
verify() {
    local file=$1 name=$2 size want_size got want
    size=$(size_of "$file")
    if ! is_gzip "$file"; then
        REASON="not a gzip file ($size bytes; an error page?)"
        return 1
    fi
    REASON=""
    # Sums from MNIST_SHA256SUMS describe other files than the canonical ones, sizes included.
    if [[ -z $SUMS_FILE ]]; then
        want_size=$(canonical "$name" | cut -d' ' -f2)
        [[ $size == "$want_size" ]] || REASON="wrong size (got $size bytes, expected $want_size)"
    fi
    got=$(sha256_of "$file")
    want=$(expected_sha "$name")
    [[ $got == "$want" ]] || REASON+="${REASON:+, }sha256 mismatch (got ${got:0:12}..., expected ${want:0:12}...)"
    [[ -z $REASON ]]
}

# --- Downloading ---------------------------------------------------------------------------------

# fetch URL DEST: writes URL's content to DEST. On failure, prints the tool's error messages.
fetch() {
    local url=$1 dest=$2
    if command -v curl >/dev/null; then
        # --fail: an HTTP error status is an error, not a file. Without it, 404 pages get saved.
        curl --fail --location --retry 2 --connect-timeout 10 --max-time 600 \
             --silent --show-error --output "$dest" "$url" 2>&1
    elif command -v wget >/dev/null; then
        wget --no-verbose --tries=3 --timeout=10 --output-document="$dest" "$url" 2>&1  # no file://
    else
        python3 -c 'import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)' "$url" "$dest" 2>&1
    fi
}

# The temporary file being downloaded, removed if we stop early (error, Ctrl-C, kill), so that
# no partial download is left behind. Downloads happen one at a time, so one variable is enough.
# (Ctrl-C reaches curl too and stops at once; a signal sent to this shell alone is handled by bash
# only once the running download ends.)
TMP=""
cleanup() { if [[ -n $TMP ]]; then rm -f -- "$TMP"; fi; }
trap cleanup EXIT
trap 'exit 130' INT    # exiting runs the EXIT trap; 128 + signal number is the usual status
trap 'exit 143' TERM

# get NAME: makes sure DIR/NAME is a verified copy, downloading it if needed. Prints one line.
# Called as `get NAME || ...`, where bash ignores `set -e`: hence the explicit `|| die` below.
get() {
    local name=$1 final="$DIR/$1" mirror tried="" output
    if [[ -e $final ]]; then
        if verify "$final" "$name"; then
            echo "$name: ok (cached)"
            return 0
        fi
        echo "$PROG: warning: $final does not verify ($REASON); downloading it again" >&2
    fi
    for mirror in "${MIRRORS[@]}"; do
        # Download beside the final file so that the rename below is atomic (same filesystem):
        # the final name only ever holds a verified file.
        TMP=$(mktemp "$DIR/.$name.XXXXXX") || die "cannot create a temporary file in $DIR"
        if output=$(fetch "${mirror%/}/$name" "$TMP"); then
            if verify "$TMP" "$name"; then
                chmod 644 "$TMP"    # mktemp made it private; data files are normally readable
                mv -f -- "$TMP" "$final" || die "cannot rename $TMP to $final"
                TMP=""
                echo "$name: ok (downloaded from $mirror)"
                return 0
            fi
        else
            REASON=$(printf '%s\n' "$output" | tail -n 1)  # the last line is the final error
        fi
        rm -f -- "$TMP"
        TMP=""
        tried+="${tried:+; }$mirror: ${REASON:-download failed}"
    done
    echo "$name: FAILED — $tried" >&2
    # A bad file that was already here is left as it is: we did not write it, and it may be a copy
    # someone made on purpose (e.g. a reconstructed file). Say clearly that it is unverified.
    if [[ -e $final ]]; then
        echo "$name: the existing $final is NOT verified; it was left in place" >&2
    fi
    return 1
}

# --- Main ----------------------------------------------------------------------------------------

case ${1:-} in
    -h | --help) usage; exit 0 ;;
    --) shift ;;
    -?*) echo "$PROG: unknown option: $1 (see --help)" >&2; exit 2 ;;
esac
if (($# > 1)); then
    echo "$PROG: too many arguments (see --help)" >&2
    exit 2
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:-${MNIST_DIR:-$SCRIPT_DIR/data}}
SUMS_FILE=${MNIST_SHA256SUMS:-}
# Word splitting turns the space (or newline) separated list into an array.
read -r -d '' -a MIRRORS <<<"${MNIST_MIRROR:-$DEFAULT_MIRRORS}" || true
((${#MIRRORS[@]} > 0)) || die "MNIST_MIRROR is set but holds no URL"

for mirror in "${MIRRORS[@]}"; do
    case $mirror in
        http://* | https://* | file://*) ;;
        *) die "MNIST_MIRROR: not an http://, https:// or file:// URL: $mirror" ;;
    esac
done
if [[ -n $SUMS_FILE ]]; then
    [[ -f $SUMS_FILE ]] || die "MNIST_SHA256SUMS: no such file: $SUMS_FILE"
    for name in "${FILES[@]}"; do
        [[ -n $(expected_sha "$name") ]] || die "MNIST_SHA256SUMS: $SUMS_FILE has no sum for $name"
    done
fi
mkdir -p -- "$DIR"

failed=0
for name in "${FILES[@]}"; do
    get "$name" || failed=1
done
if ((failed)); then
    echo "$PROG: some files could not be verified. Check the network connection, or set" \
         "MNIST_MIRROR to a mirror that has the files (file:///path/ for a local copy)," \
         "or MNIST_SHA256SUMS to check your own files against your own sums." >&2
    exit 1
fi
