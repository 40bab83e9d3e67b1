#!/bin/sh
# Stop one demo server (SIGTERM, then SIGKILL after 10 s); nothing to do when it is not running.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${MAINT_DEMO_RUN_DIR:-$here/../.run}
pidfile="$dir/$MAINT_SERVER.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -TERM "$pid" 2>/dev/null; then
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 200 ]; then kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.05
  done
fi
rm -f "$pidfile"
