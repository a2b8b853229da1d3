#!/bin/sh
# The official redis image's entrypoint contract, for the Debian build: as
# root, own the working directory /data and drop to `redis`; protected mode
# off (the official build compiles it off: the network decides who reaches it).
set -eu
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ]; then
  shift
  if [ "${1:-}" != "" ] && [ "${1%.conf}" != "$1" ]; then
    conf=$1; shift
    set -- redis-server "$conf" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
