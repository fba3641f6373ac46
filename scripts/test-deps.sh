#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; install it when missing (never `playwright install`).
set -u
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser tests" >&2
    (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }) \
      || echo "could not install chromium" >&2
  fi
fi
exit 0
