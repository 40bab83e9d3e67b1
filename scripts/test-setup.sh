#!/usr/bin/env bash
# What `npm test` needs on the machine, set up before the tests run (the README's test command,
# and CI's, are `npm ci && npm test`): the Debian packages the tests use, and PostgreSQL and
# MariaDB running. Installs only what is missing; as a non-root user it says exactly what to run.
# MAINT_TEST_PG_URL / MAINT_TEST_MYSQL_URL name other servers (then none is started here).
set -euo pipefail

# The ONE list of Debian packages the tests need: package and the file that proves it is there.
PACKAGES=(
  "jekyll:/usr/bin/jekyll"                 # the banner test builds a real Jekyll site
  "pgbouncer:/usr/sbin/pgbouncer"          # the lock refuses real transaction poolers
  "haproxy:/usr/sbin/haproxy"              # a real load balancer in front of app servers
  "wrk:/usr/bin/wrk"                       # live traffic during migrations
  "chromium:/usr/bin/chromium"             # the banner seen by a real browser
  "postgresql-client:/usr/bin/psql"        # pg_isready, psql
  "mariadb-client:/usr/bin/mysqladmin"     # mysqladmin ping
)

say() { printf 'test-setup: %s\n' "$*" >&2; }

missing=()
for entry in "${PACKAGES[@]}"; do
  [ -e "${entry#*:}" ] || missing+=("${entry%%:*}")
done
if ((${#missing[@]} > 0)); then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}"
    say "install them, then run the tests again:"
    say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing packages (${missing[*]}) and no apt-get: install them with this system's package manager"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

wait_for() { # name, seconds, command...
  local name=$1 seconds=$2
  shift 2
  for _ in $(seq 1 "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  say "$name did not come up within ${seconds}s"
  return 1
}

if [ -z "${MAINT_TEST_PG_URL:-}" ] && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    say "PostgreSQL is not answering on 127.0.0.1:5432; start it (e.g. sudo pg_ctlcluster <version> main start) or set MAINT_TEST_PG_URL"
    exit 1
  fi
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_for PostgreSQL 60 pg_isready -h 127.0.0.1 -p 5432 -q
fi
if [ -z "${MAINT_TEST_MYSQL_URL:-}" ] && ! mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    say "MariaDB is not answering on 127.0.0.1:3306; start it (e.g. sudo service mariadb start) or set MAINT_TEST_MYSQL_URL"
    exit 1
  fi
  say "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  wait_for MariaDB 60 mysqladmin -h 127.0.0.1 -P 3306 -u root ping
fi
