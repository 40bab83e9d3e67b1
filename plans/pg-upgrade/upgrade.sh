#!/bin/sh
# Major-version upgrade of a Debian/Ubuntu PostgreSQL cluster with pg_upgradecluster, run by
# `maint run plans/pg-upgrade.yaml` as its operation "major-upgrade". Adapt it to your platform:
# the steps are find the cluster, refuse what is unsafe, check, upgrade, confirm.
#
# maint runs it in the plan's folder with, on top of its own environment:
#   MAINT_DATABASE_URL  the plan's database URL: the cluster is the local one on its port
#   MAINT_PLAN, MAINT_RUN_ID, MAINT_RELEASE
# Settings (environment):
#   PG_UPGRADE_TO         target major version (default: the newest one installed)
#   PG_UPGRADE_METHOD     upgrade (pg_upgrade, copying; default) | link | clone | dump
#   PG_UPGRADE_DRY_RUN=1  say what would be done and run pg_upgradecluster's own check;
#                         change nothing. Inside `maint run` it then fails on purpose, so the
#                         run is rolled back and the operation stays pending for the real run.
#
# It is idempotent: a cluster already at the target version is left alone, so running it again
# (after a later step failed, or after maint's lock connection ended with the old server) is safe.
# Everything it prints is kept, redacted, in maint's result and journal: print no secrets.
#
# Run it as the cluster owner (usually postgres) or as root: pg_upgradecluster reads and writes
# the cluster's files, and as root it switches to the owner itself (creating the new cluster's
# configuration under /etc/postgresql usually needs root). Anyone else is refused.
set -eu

say() { printf 'upgrade: %s\n' "$*"; }
fail() {
	printf 'upgrade: %s\n' "$*" >&2
	exit 1
}

url=${MAINT_DATABASE_URL:-}
[ -n "$url" ] || fail "MAINT_DATABASE_URL is not set: run this through \`maint run\`, or set it by hand"

# The port from postgres://user:password@host:port/db?… (5432 when the URL names none).
port=$(printf '%s\n' "$url" | sed -n 's#^[a-z]*://[^/?]*:\([0-9][0-9]*\)\([/?].*\)\{0,1\}$#\1#p')
port=${port:-5432}

for tool in pg_lsclusters pg_upgradecluster; do
	command -v "$tool" >/dev/null 2>&1 ||
		fail "$tool not found: this script drives Debian/Ubuntu clusters (postgresql-common); adapt it to your platform"
done

# pg_lsclusters -h: Ver Cluster Port Status Owner Data-directory Log-file
cluster_line=$(pg_lsclusters -h | awk -v p="$port" '$3 == p { print $1, $2, $5; exit }')
[ -n "$cluster_line" ] ||
	fail "no local cluster listens on port $port (from MAINT_DATABASE_URL): run maint on the database host"
# shellcheck disable=SC2086 # three words: version, cluster name, owner
set -- $cluster_line
old=$1 cluster=$2 owner=$3

me=$(id -un)
if [ "$me" != "$owner" ] && [ "$me" != root ]; then
	fail "refusing to run as $me: the cluster $old/$cluster belongs to $owner; run maint as $owner (e.g. sudo -u $owner maint run …) or as root"
fi

newest=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
target=${PG_UPGRADE_TO:-$newest}
case $target in
'' | *[!0-9]*) fail "PG_UPGRADE_TO must be a major version number like 17, not '${target}'" ;;
esac
[ -x "/usr/lib/postgresql/$target/bin/postgres" ] ||
	fail "PostgreSQL $target is not installed (no /usr/lib/postgresql/$target/bin/postgres): install postgresql-$target first"

if [ "$old" -eq "$target" ]; then
	say "cluster $cluster on port $port already runs PostgreSQL $target: nothing to do"
	exit 0
fi
[ "$old" -lt "$target" ] || fail "cluster $old/$cluster is newer than the target $target: refusing to downgrade"

method=${PG_UPGRADE_METHOD:-upgrade}
case $method in
upgrade | link | clone | dump) ;;
*) fail "PG_UPGRADE_METHOD must be upgrade, link, clone or dump, not '$method'" ;;
esac

say "cluster $old/$cluster (port $port, owner $owner) → PostgreSQL $target by method $method"

if [ "${PG_UPGRADE_DRY_RUN:-}" = 1 ]; then
	say "dry run: would run: pg_upgradecluster -v $target -m $method $old $cluster"
	if [ "$method" != dump ]; then
		say "dry run: pg_upgrade's compatibility check:"
		pg_upgradecluster --check -v "$target" -m "$method" "$old" "$cluster"
	fi
	if [ -n "${MAINT_RUN_ID:-}" ]; then
		printf 'upgrade: %s\n' "dry run inside maint run: stopping here on purpose, so the run is rolled back and the operation stays pending" >&2
		exit 3
	fi
	exit 0
fi

# The real thing. pg_upgradecluster stops the old cluster, upgrades into a new one that takes
# over the port, and starts it; the old cluster is kept, stopped, on another port.
pg_upgradecluster -v "$target" -m "$method" "$old" "$cluster"

now=$(pg_lsclusters -h | awk -v p="$port" '$3 == p && $4 ~ /^online/ { print $1; exit }')
[ "$now" = "$target" ] ||
	fail "after pg_upgradecluster, port $port is served by ${now:-no online cluster}, not PostgreSQL $target: see pg_lsclusters"

say "done: PostgreSQL $target/$cluster is online on port $port"
say "the old cluster $old/$cluster is kept (stopped); once the new one is trusted: pg_dropcluster $old $cluster"
