#!/usr/bin/env bash
# ensure-chromium.sh: make sure Debian's Chromium is at /usr/bin/chromium, the browser the
# Playwright tests drive (executable_path; `playwright install` is never used). Installs the
# Debian package when missing and we are root. Exit 0 if Chromium is there, 1 if not.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [[ -x $CHROMIUM ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "$CHROMIUM is missing; install it as root: apt-get install chromium" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "$CHROMIUM is missing and apt-get is not available" >&2
    exit 1
fi
echo ">>> installing Debian chromium (apt-get)…"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q >&2 || ! apt-get install -y -q chromium >&2; then
    echo "apt-get could not install chromium" >&2
    exit 1
fi
[[ -x $CHROMIUM ]]
