# Sourced by .ci/run: makes Debian's headless Chromium available for the view's browser tests
# (test/view) and turns their skip-without-a-browser into a failure.
export JD_DISPUTE_REQUIRE_BROWSER=1

if [ -z "${JD_DISPUTE_CHROMIUM:-}" ] && ! [ -x /usr/bin/chromium ]; then
  echo "installing chromium from Debian packages"
  if [ "$(id -u)" != 0 ]; then echo "chromium is missing and installing it needs root"; return 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || return 1
fi
"${JD_DISPUTE_CHROMIUM:-/usr/bin/chromium}" --headless --no-sandbox --version 2>/dev/null || { echo "chromium does not start"; return 1; }
