#!/bin/bash
# Builds the LuaJIT test fixtures into the directory given as $1 (created if missing):
#   upstream-deb/           Debian's upstream LuaJIT (luajit + libluajit-5.1-2), unpacked with dpkg -x
#                           (never installed: it conflicts with the installed OpenResty luajit2)
#   build/<variant>/src/    luajit and libluajit.so built with -g, not stripped, from Debian source packages:
#                           openresty-gc64, openresty-nogc64, upstream-gc64, upstream-nogc64
# Idempotent: every step leaves a stamp file and is skipped when its stamp exists, so a second run
# returns at once. Uses a private apt configuration under the fixture directory (deb-src enabled there);
# the machine's apt configuration is never changed. Exits non-zero with a message when a step fails.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 FIXTURE_DIR" >&2
    exit 2
fi
FIX=$(mkdir -p "$1" && cd "$1" && pwd)
exec 9>"$FIX/.lock"
# Tests in several JVMs (or worktrees) may call this at once: one builds, the others wait for it.
flock -w 1800 9 || { echo "build-fixtures: timed out waiting for the lock on $FIX" >&2; exit 1; }

if [ -f "$FIX/.complete" ]; then
    exit 0
fi

STAMPS="$FIX/.stamps"
mkdir -p "$STAMPS"
done_step() { [ -f "$STAMPS/$1" ]; }
mark() { touch "$STAMPS/$1"; }
t0=$(date +%s)

# --- private apt configuration -------------------------------------------------------------------
APT="$FIX/apt"
APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$APT/sources.list.d"
          -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o "Debug::NoLocking=1"
          -o "APT::Sandbox::User=root")
if ! done_step apt-update; then
    mkdir -p "$APT/sources.list.d" "$APT/lists/partial" "$APT/cache/archives/partial"
    cat > "$APT/sources.list.d/debian.sources" <<SRC
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get -q "${APT_OPTS[@]}" update >"$FIX/apt-update.log" 2>&1 \
        || { echo "build-fixtures: private apt-get update failed, see $FIX/apt-update.log" >&2; exit 1; }
    mark apt-update
fi

# --- upstream LuaJIT binaries from the .deb ------------------------------------------------------
if ! done_step upstream-deb; then
    rm -rf "$FIX/debs" "$FIX/upstream-deb"
    mkdir -p "$FIX/debs" "$FIX/upstream-deb"
    (cd "$FIX/debs" && apt-get -q "${APT_OPTS[@]}" download luajit libluajit-5.1-2) >"$FIX/download.log" 2>&1 \
        || { echo "build-fixtures: apt-get download failed, see $FIX/download.log" >&2; exit 1; }
    for d in "$FIX"/debs/*.deb; do
        dpkg -x "$d" "$FIX/upstream-deb"
    done
    mark upstream-deb
fi

# --- source packages -----------------------------------------------------------------------------
fetch_source() { # $1 = source package, $2 = directory name
    local pkg=$1 name=$2
    if ! done_step "source-$name"; then
        rm -rf "$FIX/src/$name"
        mkdir -p "$FIX/src/$name"
        (cd "$FIX/src/$name" && apt-get -q "${APT_OPTS[@]}" source "$pkg") >"$FIX/source-$name.log" 2>&1 \
            || { echo "build-fixtures: apt-get source $pkg failed, see $FIX/source-$name.log" >&2; exit 1; }
        mark "source-$name"
    fi
}
fetch_source luajit2 openresty
fetch_source luajit upstream

source_tree() { # the unpacked tree of a source package (the only directory with a src/Makefile)
    local d
    d=$(find "$FIX/src/$1" -mindepth 2 -maxdepth 3 -path '*/src/Makefile' -printf '%h\n' | head -1)
    [ -n "$d" ] || { echo "build-fixtures: no src/Makefile under $FIX/src/$1" >&2; exit 1; }
    dirname "$d"
}

build() { # $1 = source name, $2 = variant, $3 = extra XCFLAGS
    local name=$1 variant=$2 xcflags=$3 tree out
    if done_step "build-$variant"; then
        return
    fi
    tree=$(source_tree "$name")
    out="$FIX/build/$variant"
    rm -rf "$out"
    mkdir -p "$FIX/build"
    cp -a "$tree" "$out"
    local b0
    b0=$(date +%s)
    # -g and no strip: these are the ground truth for gdb/nm. timeout bounds a runaway build.
    if ! timeout 900 make -C "$out" -j2 Q= CCDEBUG=-g XCFLAGS="$xcflags" PREFIX=/usr/local \
            >"$FIX/build-$variant.log" 2>&1; then
        echo "build-fixtures: make for $variant failed, see $FIX/build-$variant.log" >&2
        exit 1
    fi
    [ -x "$out/src/luajit" ] && [ -f "$out/src/libluajit.so" ] \
        || { echo "build-fixtures: $variant produced no luajit/libluajit.so" >&2; exit 1; }
    echo "$variant: $(( $(date +%s) - b0 )) s" >>"$FIX/build-times.txt"
    mark "build-$variant"
}
build openresty openresty-gc64 ""
build openresty openresty-nogc64 "-DLUAJIT_DISABLE_GC64"
build upstream upstream-gc64 ""
build upstream upstream-nogc64 "-DLUAJIT_DISABLE_GC64"

echo "total: $(( $(date +%s) - t0 )) s" >>"$FIX/build-times.txt"
touch "$FIX/.complete"
