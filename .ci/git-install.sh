#!/usr/bin/env bash
# Installs the package from this clone's HEAD as a git dependency (git+file://), as a user installing from a
# repository would: npm clones it, installs its dev dependencies, runs `prepare` (the build) and packs it.
# Then imports the entries that need no optional peer. Prints one `git-install:` line with the result.
# Slow (the clone's dev dependencies include better-sqlite3, compiled from source): .ci/run runs it as an
# informative step that never fails CI.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jd-git-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
pin() { printf '%s@%s' "$1" "$(node -p "require('$REPO/node_modules/$1/package.json').version")"; }
echo '{ "name": "git-consumer", "private": true, "type": "module" }' >package.json

start=$SECONDS
if timeout 1200 npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "git+file://$REPO#$(git -C "$REPO" rev-parse HEAD)" "$(pin xstate)" "$(pin zod)" >install.log 2>&1 &&
  node --input-type=module -e "
    for (const entry of ['jd-dispute-statecharts', 'jd-dispute-statecharts/runtime', 'jd-dispute-statecharts/coverage']) await import(entry);
  " >>install.log 2>&1; then
  echo "git-install: ok, $(git -C "$REPO" rev-parse --short HEAD) installed from git+file:// with dist/ built by prepare, entries import ($((SECONDS - start)) s)"
else
  tail -20 install.log
  echo "git-install: FAILED after $((SECONDS - start)) s (see above)"
  exit 1
fi
