# Sourced by .ci/run: makes a PostgreSQL server answer on 127.0.0.1:5432 and exports JD_DISPUTE_PG_URL.
export JD_DISPUTE_PG_URL="${JD_DISPUTE_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export JD_DISPUTE_REQUIRE_PG=1

pg_answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! pg_answers; then
  if ls /etc/postgresql/*/main >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  else
    echo "installing PostgreSQL from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
    version=$(ls /etc/postgresql | head -1)
    sed -i 's/^\(local\|host\)\(.*\)\(peer\|scram-sha-256\|md5\)$/\1\2trust/' "/etc/postgresql/$version/main/pg_hba.conf"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
  fi
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
fi
pg_answers || { echo "PostgreSQL does not answer on 127.0.0.1:5432"; return 1; }
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null || return 1
echo "PostgreSQL ready: $JD_DISPUTE_PG_URL"
