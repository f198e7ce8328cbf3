#!/usr/bin/env bash
# Installs what the operator console's browser test (server/console_e2e_test.go) needs: Debian's
# Chromium at /usr/bin/chromium and playwright-core under e2e/console/node_modules; and
# graphql-http under e2e/graphql-http/node_modules for the GraphQL over HTTP audit. Idempotent and
# quick when both are already there. It never downloads a browser build of its own: playwright-core
# drives the Debian package.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
	echo "browser-deps: installing chromium with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get -o DPkg::Lock::Timeout=300 -qq update
	# fonts-liberation: metric-compatible fonts, so that screenshots read the same everywhere.
	as_root apt-get -o DPkg::Lock::Timeout=300 -qq install -y --no-install-recommends \
		chromium fonts-liberation >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "browser-deps: node and npm are needed (Node 20 or later)" >&2
	exit 1
fi

dir=e2e/console
if [ ! -d "$dir/node_modules/playwright-core" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
	echo "browser-deps: npm ci in $dir" >&2
	# playwright-core has no install step, but make sure nothing tries to fetch a browser.
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	touch "$dir/node_modules"
fi

# graphql-http's audits of the GraphQL over HTTP specification (server/graphqlhttp_e2e_test.go).
dir=e2e/graphql-http
if [ ! -d "$dir/node_modules/graphql-http" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
	echo "browser-deps: npm ci in $dir" >&2
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	touch "$dir/node_modules"
fi
