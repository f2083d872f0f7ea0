#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium); a test tool's own browser download cannot
# work here. Installs it with apt when absent, so `npm ci && npm test` works on a fresh machine.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo 'installing Debian chromium for the browser tests (apt-get)...'
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo 'The browser tests need Chromium at /usr/bin/chromium: run "sudo apt-get install chromium" (Debian/Ubuntu).' >&2
exit 1
