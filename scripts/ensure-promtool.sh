#!/usr/bin/env bash
# The metrics and alert-rule tests run promtool (`promtool check metrics` on a real scrape, `promtool test rules`
# on deploy/prometheus). Installs Debian's prometheus package (which ships promtool) with apt when absent, so
# `npm ci && npm test` works on a fresh machine.
set -euo pipefail
command -v promtool >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo 'installing Debian prometheus (for promtool) for the metrics tests (apt-get)...'
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  exit 0
fi
echo 'The metrics tests need promtool: run "sudo apt-get install prometheus" (Debian/Ubuntu).' >&2
exit 1
