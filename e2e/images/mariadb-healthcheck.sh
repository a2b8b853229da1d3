#!/bin/sh
# The official mariadb image's healthcheck.sh, for the Debian build, with
# the tests the stdlib's template asks for: --connect (the server accepts
# a TCP connection on localhost: refusing the login still counts),
# --innodb_initialized and --innodb_buffer_pool_loaded (as the
# `healthcheck` user of /var/lib/mysql/.my-healthcheck.cnf, which the
# entrypoint creates). Every test must pass; an unknown one fails.
set -u
datadir=/var/lib/mysql
extra=
tests=
for arg in "$@"; do
  case $arg in
    --datadir=*) datadir=${arg#--datadir=} ;;
    --defaults-extra-file=*) extra=${arg#--defaults-extra-file=} ;;
    --connect | --innodb_initialized | --innodb_buffer_pool_loaded) tests="$tests ${arg#--}" ;;
    *) echo "healthcheck.sh: unknown option $arg" >&2; exit 1 ;;
  esac
done
[ -n "$extra" ] || extra=$datadir/.my-healthcheck.cnf
query() {
  mariadb --defaults-extra-file="$extra" -h localhost --protocol tcp -s -N -e "$1" 2>&1
}
for t in $tests; do
  case $t in
    connect)
      if query 'SELECT 1' | grep -qF "Can't connect"; then
        echo "healthcheck connect failed" >&2
        exit 1
      fi ;;
    innodb_initialized)
      [ "$(query "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'innodb' AND support IN ('YES', 'DEFAULT', 'ENABLED')")" = 1 ] || {
        echo "healthcheck innodb_initialized failed" >&2
        exit 1
      } ;;
    innodb_buffer_pool_loaded)
      query "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'Innodb_buffer_pool_load_status'" \
        | grep -q '^Buffer pool(s) load completed' || {
        echo "healthcheck innodb_buffer_pool_loaded failed" >&2
        exit 1
      } ;;
  esac
done
exit 0
