#!/usr/bin/env bash
# Download the four files of MNIST, or of Fashion-MNIST, and keep them only if they match their
# published checksums. Run with --help for usage. Written for bash 3.2 or later (macOS included):
# no associative arrays.
set -euo pipefail

readonly PROG=${0##*/}
# Fashion-MNIST uses the same four names and the same format.
readonly FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
                t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
readonly MNIST_MIRRORS="https://ossci-datasets.s3.amazonaws.com/mnist/
https://storage.googleapis.com/cvdf-datasets/mnist/
http://yann.lecun.com/exdb/mnist/"
# Zalando's download site, the data/fashion folder of their GitHub repository, and the copy Keras
# downloads. A copy that differs from the published files fails the MD5 check and is not kept.
readonly FASHION_MIRRORS="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/
https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/
https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

usage() {
    cat <<EOF
Usage: $PROG [--dataset mnist|fashion] [DIR]

Download the four files of MNIST or Fashion-MNIST (train/t10k images and labels, .gz as
published) into DIR and check each one against the checksums built into this script: SHA-256
and size for MNIST, MD5 for Fashion-MNIST (the checksums its authors publish). Files already
in DIR that verify are not downloaded again.

DIR defaults to \$MNIST_DIR if set, else data/ (MNIST) or data/fashion/ (Fashion-MNIST)
beside this script.

Environment:
  MNIST_MIRROR       mirror URL(s) to use instead of the built-in list of the dataset,
                     separated by spaces; http://, https:// or file:// (e.g. file:///path/to/folder/)
  MNIST_SHA256SUMS   file in \`sha256sum\` format to check against instead of the
                     canonical sums (for your own copies, such as Debian's recompressed
                     /usr/share/datasets/fashion-mnist; the size check is then skipped)

Exit status: 0 when all four files verify, 1 otherwise, 2 for a bad command line.
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
usage_error() { echo "$PROG: $* (see --help)" >&2; exit 2; }

# --- The canonical files -------------------------------------------------------------------------

# Prints "<algorithm> <checksum> [<bytes>]" of the published file NAME of $DATASET. This table is
# what makes a download trustworthy: never edit it to make a file pass (use MNIST_SHA256SUMS for
# other files). Fashion-MNIST's MD5 sums are those in the README of
# https://github.com/zalandoresearch/fashion-mnist ("Get the Data"); it publishes no SHA-256 and
# no exact sizes.
canonical() {
    case $DATASET:$1 in
        mnist:train-images-idx3-ubyte.gz)   echo "sha256 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609 9912422" ;;
        mnist:train-labels-idx1-ubyte.gz)   echo "sha256 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c 28881" ;;
        mnist:t10k-images-idx3-ubyte.gz)    echo "sha256 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6 1648877" ;;
        mnist:t10k-labels-idx1-ubyte.gz)    echo "sha256 f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 4542" ;;
        fashion:train-images-idx3-ubyte.gz) echo "md5 8d4fb7e6c68d591d4c3dfef9ec88bf0d" ;;
        fashion:train-labels-idx1-ubyte.gz) echo "md5 25c81989df183df01b3e8a0aad5dffbe" ;;
        fashion:t10k-images-idx3-ubyte.gz)  echo "md5 bef4ecab320f06d8554ea6380940ec79" ;;
        fashion:t10k-labels-idx1-ubyte.gz)  echo "md5 bb300cfdad3c16e7a12a480ee83cd310" ;;
    esac
}

# Prints "<algorithm> <checksum>" that NAME must have: the SHA-256 from $MNIST_SHA256SUMS when
# given, else the canonical one. A sums line is "<hex>  <name>", or "<hex> *<name>" as written
# by `sha256sum --binary`.
expected_sum() {
    if [[ -n $SUMS_FILE ]]; then
        awk -v name="$1" '$2 == name || $2 == "*" name { print "sha256", tolower($1); exit }' "$SUMS_FILE"
    else
        canonical "$1" | cut -d' ' -f1,2
    fi
}

# --- Checking a file -----------------------------------------------------------------------------

# checksum_of ALGORITHM FILE: the file's sha256 or md5, in lower-case hex.
checksum_of() {
    case $1 in
        sha256)
            if command -v sha256sum >/dev/null; then
                sha256sum "$2" | cut -d' ' -f1
            else
                shasum -a 256 "$2" | cut -d' ' -f1   # macOS has shasum, not sha256sum
            fi ;;
        md5)
            if command -v md5sum >/dev/null; then
                md5sum "$2" | cut -d' ' -f1
            else
                md5 -q "$2"   # macOS
            fi ;;
    esac
}

# wc pads its number with spaces on macOS; tr removes them.
size_of() { wc -c <"$1" | tr -d ' '; }

# Mirrors answer errors with HTML pages and status 200; gzip data starts with the bytes 1f 8b.
is_gzip() { [[ $(head -c 2 "$1" | od -An -tx1 | tr -d ' \n') == 1f8b ]]; }

# verify FILE NAME: succeeds when FILE is a good copy of NAME; otherwise sets REASON and fails.
verify() {
    local file=$1 name=$2 size want_size algorithm got want
    size=$(size_of "$file")
    if ! is_gzip "$file"; then
        REASON="not a gzip file ($size bytes; an error page?)"
        return 1
    fi
    REASON=""
    # Sums from MNIST_SHA256SUMS describe other files than the canonical ones, sizes included.
    if [[ -z $SUMS_FILE ]]; then
        want_size=$(canonical "$name" | cut -d' ' -f3)
        if [[ -n $want_size && $size != "$want_size" ]]; then
            REASON="wrong size (got $size bytes, expected $want_size)"
        fi
    fi
    read -r algorithm want <<<"$(expected_sum "$name")"
    got=$(checksum_of "$algorithm" "$file")
    [[ $got == "$want" ]] || REASON+="${REASON:+, }$algorithm mismatch (got ${got:0:12}..., expected ${want:0:12}...)"
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
        # Say what is going on: without a network, each mirror can take many seconds to fail.
        echo "$name: trying $mirror ..." >&2
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

DATASET=mnist
DIR=""
while (($# > 0)); do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --dataset) (($# > 1)) || usage_error "--dataset needs a name: mnist or fashion"; DATASET=$2; shift ;;
        --dataset=*) DATASET=${1#--dataset=} ;;
        --)
            shift
            (($# == 0)) || [[ -z $DIR && $# == 1 ]] || usage_error "too many arguments"
            DIR=${1:-$DIR}
            break ;;
        -?*) usage_error "unknown option: $1" ;;
        *) [[ -z $DIR ]] || usage_error "too many arguments"; DIR=$1 ;;
    esac
    shift
done

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case $DATASET in
    mnist) DEFAULT_DIR=$SCRIPT_DIR/data; DEFAULT_MIRRORS=$MNIST_MIRRORS ;;
    fashion) DEFAULT_DIR=$SCRIPT_DIR/data/fashion; DEFAULT_MIRRORS=$FASHION_MIRRORS ;;
    *) usage_error "unknown dataset: $DATASET (choose mnist or fashion)" ;;
esac
DIR=${DIR:-${MNIST_DIR:-$DEFAULT_DIR}}
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
        [[ -n $(expected_sum "$name") ]] || die "MNIST_SHA256SUMS: $SUMS_FILE has no sum for $name"
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
