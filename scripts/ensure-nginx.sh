#!/usr/bin/env bash
# test/server/security-nginx.test.ts runs docs/deployment.md's nginx example for real. Installs Debian's nginx
# with apt when absent, so `npm ci && npm test` works on a fresh machine.
set -euo pipefail
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo 'installing Debian nginx for the deployment example test (apt-get)...'
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  exit 0
fi
echo 'The deployment example test needs nginx: run "sudo apt-get install nginx" (Debian/Ubuntu).' >&2
exit 1
