#!/bin/sh
# The official mariadb image's entrypoint contract, for the Debian build
# (MariaDB/mariadb-docker docker-entrypoint.sh): as root, own the data
# directory and the socket directory and drop to `mysql` (999); each
# MARIADB_* setting also read from MARIADB_*_FILE; an empty /var/lib/mysql
# initialised with the root password (for localhost and, as
# MARIADB_ROOT_HOST defaults, '%'), MARIADB_DATABASE created,
# MARIADB_USER given all rights on it with MARIADB_PASSWORD, and the
# `healthcheck` user healthcheck.sh logs in as (its password in
# /var/lib/mysql/.my-healthcheck.cnf); then run mariadbd.
set -eu
if [ "${1#-}" != "$1" ]; then set -- mariadbd "$@"; fi
case $1 in mariadbd | mysqld) ;; *) exec "$@" ;; esac
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$datadir" /run/mysqld
  find "$datadir" /run/mysqld \! -user mysql -exec chown mysql:mysql '{}' +
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
fi

# file_env VAR: VAR, or the contents of the file VAR_FILE names.
file_env() {
  eval "value=\${$1:-} file=\${$1_FILE:-}"
  if [ -n "$value" ] && [ -n "$file" ]; then
    echo "mariadb: both $1 and $1_FILE are set (but are exclusive)" >&2
    exit 1
  fi
  if [ -n "$file" ]; then value=$(cat "$file"); fi
  eval "$1=\$value"
  export "$1"
}
for var in MARIADB_ROOT_PASSWORD MARIADB_ROOT_HOST MARIADB_DATABASE MARIADB_USER MARIADB_PASSWORD; do
  file_env "$var"
done
: "${MARIADB_ROOT_HOST:=%}"
# SQL literals: a string between single quotes, a name between backticks.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")"; }
name() { printf '`%s`' "$(printf '%s' "$1" | sed -e 's/`/``/g')"; }
sql() { printf '%s\n' "$*"; } # not echo: dash's echo reads backslashes

if [ ! -d "$datadir/mysql" ]; then
  if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}" ] \
    && [ -z "${MARIADB_RANDOM_ROOT_PASSWORD:-}" ]; then
    echo "mariadb: the database is uninitialised and no root password option is given:" \
      "MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD" >&2
    exit 1
  fi
  if [ -n "${MARIADB_RANDOM_ROOT_PASSWORD:-}" ]; then
    MARIADB_ROOT_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    echo "mariadb: GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
  fi
  echo "mariadb: initialising $datadir"
  mariadb-install-db --datadir="$datadir" --rpm --auth-root-authentication-method=normal \
    --skip-test-db --skip-log-bin --default-time-zone=SYSTEM >/dev/null
  mariadbd --skip-networking --socket="$socket" --skip-log-bin --default-time-zone=SYSTEM \
    --loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 &
  pid=$!
  i=0
  until mariadb --protocol=socket --socket="$socket" -uroot -e 'SELECT 1' >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 60 ] || ! kill -0 "$pid" 2>/dev/null; then
      echo "mariadb: the initialising server did not start" >&2
      exit 1
    fi
    sleep 1
  done
  health=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  root=$(quote "$MARIADB_ROOT_PASSWORD")
  {
    sql "SET @@SESSION.SQL_LOG_BIN=0;"
    # No anonymous users, no root but root@localhost yet.
    sql "DELETE FROM mysql.global_priv WHERE user NOT IN ('mysql.sys', 'mariadb.sys', 'root') OR host NOT IN ('localhost');"
    sql "DELETE FROM mysql.proxies_priv WHERE host NOT IN ('localhost');"
    sql "FLUSH PRIVILEGES;"
    for h in 127.0.0.1 ::1 localhost; do
      sql "CREATE USER 'healthcheck'@'$h' IDENTIFIED BY '$health';"
    done
    if [ "$MARIADB_ROOT_HOST" != localhost ]; then
      sql "CREATE USER 'root'@$(quote "$MARIADB_ROOT_HOST") IDENTIFIED BY $root;"
      sql "GRANT ALL ON *.* TO 'root'@$(quote "$MARIADB_ROOT_HOST") WITH GRANT OPTION;"
      sql "GRANT PROXY ON ''@'%' TO 'root'@$(quote "$MARIADB_ROOT_HOST") WITH GRANT OPTION;"
    fi
    if [ -n "$MARIADB_DATABASE" ]; then
      sql "CREATE DATABASE IF NOT EXISTS $(name "$MARIADB_DATABASE");"
    fi
    if [ -n "$MARIADB_USER" ] && [ -n "$MARIADB_PASSWORD" ]; then
      sql "CREATE USER $(quote "$MARIADB_USER")@'%' IDENTIFIED BY $(quote "$MARIADB_PASSWORD");"
      if [ -n "$MARIADB_DATABASE" ]; then
        sql "GRANT ALL ON $(name "$MARIADB_DATABASE").* TO $(quote "$MARIADB_USER")@'%';"
      fi
    fi
    sql "SET PASSWORD FOR 'root'@'localhost' = PASSWORD($root);"
  } | mariadb --protocol=socket --socket="$socket" -uroot
  umask 077
  printf '[mariadb-client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\n' \
    "$socket" "$health" > "$datadir/.my-healthcheck.cnf"
  umask 022
  kill "$pid"
  wait "$pid" || true
  echo "mariadb: initialised $datadir"
fi
exec "$@"
