#!/usr/bin/env bash
# Installs the npm packages of cmd/deskbridge's @carbon/ai-chat browser test
# (@carbon/ai-chat, its React and @carbon/web-components peers, esbuild) into
# cmd/deskbridge/testdata/carbon/node_modules, and bundles the test page into
# cmd/deskbridge/testdata/carbon/dist. Both are gitignored. The demo page
# itself needs none of this: it is plain HTML and JavaScript.
# Install scripts are not run (--ignore-scripts): no telemetry, no downloads
# besides the registry's packages.
set -euo pipefail
cd "$(dirname "$0")/../cmd/deskbridge/testdata/carbon"
if ! command -v npm >/dev/null 2>&1; then
	echo "install-npm.sh: npm is not installed (scripts/install-deps.sh installs it); the @carbon/ai-chat page needs it" >&2
	exit 1
fi
stamp="$(cat package.json page.js $(ls package-lock.json 2>/dev/null) | sha256sum | cut -d' ' -f1)"
if [[ -f dist/page.js && -f node_modules/.deskbridge-stamp && "$(cat node_modules/.deskbridge-stamp)" == "$stamp" ]]; then
	echo "install-npm.sh: @carbon/ai-chat test page is up to date"
	exit 0
fi
echo "install-npm.sh: installing @carbon/ai-chat and its peers from the npm registry into cmd/deskbridge/testdata/carbon/node_modules"
if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; then
	echo "install-npm.sh: npm ci failed (is the npm registry reachable? npm's errors are above)" >&2
	exit 1
fi
node_modules/.bin/esbuild page.js --bundle --format=esm --target=es2022 --outfile=dist/page.js \
	--log-level=warning --log-override:unsupported-dynamic-import=silent
stamp="$(cat package.json page.js package-lock.json | sha256sum | cut -d' ' -f1)"
echo "$stamp" >node_modules/.deskbridge-stamp
echo "install-npm.sh: bundled $(du -h dist/page.js | cut -f1) into cmd/deskbridge/testdata/carbon/dist/page.js"
