#!/usr/bin/env bash
# The deploy test (test/deploy/nginx.test.ts) starts Debian's nginx (/usr/sbin/nginx) in front of two server
# processes, with its own configuration in a temporary folder. Installs nginx-light with apt when absent, so
# `npm ci && npm test` works on a fresh machine. No nginx of the system's is started or changed.
set -euo pipefail
[ -x /usr/sbin/nginx ] && exit 0
command -v nginx >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo 'installing Debian nginx-light for the deploy tests (apt-get)...'
  apt-get update -qq
  # The package starts the system's nginx where it can; the tests never use that one.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
  exit 0
fi
echo 'The deploy tests need nginx: run "sudo apt-get install nginx-light" (Debian/Ubuntu).' >&2
exit 1
