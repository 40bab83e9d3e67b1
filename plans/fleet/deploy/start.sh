#!/bin/sh
# Start one demo server on MAINT_RELEASE at MAINT_SERVER_ADDR (env from maint), with
# DATABASE_URL = MAINT_DATABASE_URL (the plan's database; for the new fleet of a clone-freeze
# run, the clone). Pid and log files go to MAINT_DEMO_RUN_DIR (default: ./.run beside the plan).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${MAINT_DEMO_RUN_DIR:-$here/../.run}
mkdir -p "$dir"
port=${MAINT_SERVER_ADDR##*:}
RELEASE=$MAINT_RELEASE PORT=$port DATABASE_URL=${MAINT_DATABASE_URL:-} nohup node "$here/../app/server.js" >>"$dir/$MAINT_SERVER.log" 2>&1 </dev/null &
echo $! >"$dir/$MAINT_SERVER.pid"
