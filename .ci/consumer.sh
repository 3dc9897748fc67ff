#!/usr/bin/env bash
# The package as a user gets it. Packs the tarball (prepack builds dist/), lints it (publint, attw
# esm-only), installs it into a fresh ESM project (TypeScript 5.9, nodenext, strict, skipLibCheck: false)
# and uses it there: first with xstate and zod only, then with the optional peers. The fixtures are in
# .ci/consumer/. Exits non-zero on the first failure. Usage: bash .ci/consumer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BIN=$REPO/node_modules/.bin
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jd-consumer.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

START=$SECONDS
step() { printf -- '-- %s (%ss)\n' "$*" "$((SECONDS - START))"; }
# The versions this repository tests with, so the install is served from the npm cache.
pin() { printf '%s@%s' "$1" "$(node -p "require('$REPO/node_modules/$1/package.json').version")"; }
npm_install() { npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@" >/dev/null; }

step "npm pack"
npm pack --pack-destination "$WORK" >"$WORK/pack.log" 2>&1 || { cat "$WORK/pack.log"; exit 1; }
TARBALL=$(ls "$WORK"/*.tgz)
echo "ok   $(basename "$TARBALL"): $(tar -tzf "$TARBALL" | wc -l) files"

step "publint --strict, attw --profile esm-only (on the tarball)"
"$BIN/publint" run "$TARBALL" --strict
# The same check as `attw --pack --profile esm-only`, on the tarball that is installed below.
"$BIN/attw" "$TARBALL" --profile esm-only --no-color --no-emoji
echo "ok   publint and attw: no problems"

step "fresh ESM project with xstate and zod only"
APP=$WORK/app
mkdir -p "$APP"
cp -r .ci/consumer/tsconfig.json .ci/consumer/*.mjs .ci/consumer/src "$APP/"
cd "$APP"
echo '{ "name": "consumer", "private": true, "type": "module" }' >package.json
npm_install "$TARBALL" "$(pin xstate)" "$(pin zod)" "$(pin typescript)" "$(pin @types/node)"
for peer in better-sqlite3 pg @statelyai/inspect; do
  if [ -e "node_modules/$peer" ]; then echo "FAIL $peer was installed with the package"; exit 1; fi
done
node shipped.mjs
node imports.mjs ./postgres=pg
node readme.mjs extract
"$APP/node_modules/.bin/tsc" -p .
echo "ok   tsc: every entry but ./postgres, the README example and the fixtures type-check against dist/"
node readme.mjs check
node out/memory.js
node out/view.js

step "optional peers added: better-sqlite3, pg, @types/pg"
# better-sqlite3 compiles for minutes on install: take the registry package without its install script
# and reuse this repository's build of the same version.
npm_install --ignore-scripts "$(pin better-sqlite3)" "$(pin pg)" "$(pin @types/pg)"
ADDON=build/Release/better_sqlite3.node
if [ -f "$REPO/node_modules/better-sqlite3/$ADDON" ]; then
  mkdir -p "node_modules/better-sqlite3/$(dirname "$ADDON")"
  cp "$REPO/node_modules/better-sqlite3/$ADDON" "node_modules/better-sqlite3/$ADDON"
else
  npm rebuild better-sqlite3 --loglevel=error >/dev/null
fi
cp "$REPO"/.ci/consumer/with-peers/*.ts src/
node imports.mjs
"$APP/node_modules/.bin/tsc" -p .
echo "ok   tsc: every entry, ./postgres included, type-checks against dist/"
node out/sqlite.js
node out/postgres.js
echo "consumer check passed in $((SECONDS - START))s"
