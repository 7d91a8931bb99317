#!/usr/bin/env bash
# `make test-versions`: the fast test tier on every Python found among VERSIONS, each in its
# own .venv-X.Y installed from constraints.txt; prints a table and fails when any version fails.
# An interpreter is pythonX.Y on PATH, else pyenv's newest X.Y.*; override with PYTHON_X_Y=/path.
set -uo pipefail
cd "$(dirname "$0")/.."
VERSIONS=${VERSIONS:-"3.11 3.12 3.13"}
MAKE=${MAKE:-make}

find_python() {  # the first candidate that really is Python $1 (pyenv shims exist for versions not enabled)
    local version=$1 override="PYTHON_${1/./_}" candidate
    local pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
    for candidate in ${!override:-} "python$version" $(ls -d "$pyenv_root"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V -r); do
        if "$candidate" -c "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$version')" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

unpinned() {  # what venv $1 holds that constraints.txt does not pin at that version
    "$1/bin/python" -m pip freeze --all --exclude-editable | grep -v -i -x -F -f <(grep -v '^#' constraints.txt)
}

rows=() failed=0 found=0
for version in $VERSIONS; do
    if ! python=$(find_python "$version"); then
        rows+=("$version|not found|-|-|-")
        continue
    fi
    found=$((found + 1))
    venv=".venv-$version"
    log="build/test-versions-$version.log"
    mkdir -p build
    echo "== Python $version ($python) in $venv, log: $log"
    start=$(date +%s)
    if "$MAKE" --no-print-directory "$venv/.audiospec-test-installed" PYTHON="$python" VENV="$venv" >"$log" 2>&1; then
        install=ok
        extra=$(unpinned "$venv" | tr '\n' ' ')
        [ -z "$extra" ] || { install="not from the lock: $extra"; echo "$venv holds $extra" >>"$log"; }
    else
        install=FAILED
    fi
    installed=$(date +%s)
    tests=-
    if [ "$install" != FAILED ]; then
        if "$MAKE" --no-print-directory test-fast PYTHON="$python" VENV="$venv" >>"$log" 2>&1; then
            tests=ok
        else
            tests=FAILED failed=$((failed + 1))
        fi
        # pytest's last line, e.g. "575 passed, 2 skipped in 201.3s (0:03:21)"
        summary=$(grep -E '^=* ?[0-9]+ (passed|failed|errors?)\b.* in [0-9.]+s' "$log" | tail -1 | sed -E 's/^=+ | =+$//g')
        tests="$tests: ${summary:-no pytest summary, see $log}"
        [ "$install" = ok ] || failed=$((failed + 1))
    else
        failed=$((failed + 1))
    fi
    done_at=$(date +%s)
    rows+=("$version|$("$python" -c 'import platform; print(platform.python_version())')|$install ($((installed - start)) s)|$tests|$((done_at - installed)) s")
    tail -1 "$log"
done

{
    printf '\n| Python | interpreter | install | fast tier | test time |\n|---|---|---|---|---|\n'
    for row in "${rows[@]}"; do printf '| %s |\n' "${row//|/ | }"; done
} | tee build/test-versions.md
if [ "$found" -eq 0 ]; then echo "no Python among $VERSIONS found: failing"; exit 1; fi
[ "$failed" -eq 0 ] || { echo "$failed of $found Python versions failed"; exit 1; }
