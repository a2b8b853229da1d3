#!/usr/bin/env bash
# The live-engine tier: builds a tiny image (FROM scratch + static busybox),
# compiles e2e/main.inf for compose and for swarm, runs each on the local
# Docker engine and proves every exposure level for real:
#   local    answers on 127.0.0.1 and not on the host's other address;
#   internal answers from a container on a shared network, not from a
#            container on another network, not from the host;
#   public   answers on the host's address.
# Everything is torn down on exit, even on failure. When no engine answers,
# the tier is skipped with a loud line. Needs: docker, Compose v2
# (scripts/install-tools.sh --validators installs it), busybox-static.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
infrac=${INFRAC:-$here/target/release/infrac}
project=infrac-e2e
image=infrac-e2e:1

# shellcheck source=scripts/engine-or-skip.sh
. "$here/scripts/engine-or-skip.sh"
engine_or_skip "live-engine tier"
if [ ! -x /bin/busybox ] || ! /bin/busybox --list | grep -qx httpd; then
  apt-get update -qq >/dev/null && apt-get install -y -qq busybox-static >/dev/null
fi

work=$(mktemp -d)
swarm_started=no
cleanup() {
  set +e
  docker compose -p "$project" -f "$work/compose/compose.yaml" down -v --remove-orphans >/dev/null 2>&1
  if docker stack ls 2>/dev/null | grep -q "^$project "; then
    docker stack rm "$project" >/dev/null 2>&1
    for _ in $(seq 30); do docker network ls | grep -q "${project}_" || break; sleep 1; done
  fi
  [ "$swarm_started" = yes ] && docker swarm leave --force >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "  ok   $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL $*"; }
# expect answers|silent DESCRIPTION COMMAND...
# An answer is retried for a few seconds (a port may still be binding);
# silence is only asserted after the answers showed the services are up.
expect() {
  local want=$1 what=$2 tries=1; shift 2
  [ "$want" = answers ] && tries=10
  got=silent
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then got=answers; break; fi
    [ "$tries" -gt 1 ] && sleep 1
  done
  if [ "$got" = "$want" ]; then ok "$what ($got)"; else bad "$what: wanted $want, got $got"; fi
}
# fetch HOST PORT: an HTTP GET with nc that succeeds on a 200 (busybox's
# static wget crashes on Debian, nc does not).
fetch() { printf 'GET / HTTP/1.0\r\n\r\n' | /bin/busybox nc -w 3 "$1" "$2" 2>/dev/null | grep -q '200 OK'; }
# The same probe run inside a container: sh -c "$probe" HOST PORT.
probe='printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 "$0" "$1" | grep -q "200 OK"'

host_ip=$(hostname -I | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | grep -v '^172\.1[6-9]\.\|^172\.2[0-9]\.\|^172\.3[01]\.' | head -n 1)
[ -n "$host_ip" ] || host_ip=$(hostname -I | awk '{print $1}')
echo "== live-engine tier on $(docker version --format '{{.Server.Version}}'), host address $host_ip"

# The image: busybox applets (httpd, wget, nc, sleep) and one page.
mkdir -p "$work/image/www"
cp /bin/busybox "$work/image/busybox"
echo "infrac e2e" > "$work/image/www/index.html"
cat > "$work/image/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY www /www
DOCKERFILE
docker build -q -t "$image" "$work/image" >/dev/null

"$infrac" build "$here/e2e/main.inf" --target compose -o "$work/compose" 2>/dev/null
"$infrac" build "$here/e2e/main.inf" --target swarm -o "$work/swarm" 2>/dev/null

echo "-- compose"
docker compose -p "$project" -f "$work/compose/compose.yaml" up -d --wait >/dev/null
dc() { docker compose -p "$project" -f "$work/compose/compose.yaml" "$@"; }
inner_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$(dc ps -q inner)" | awk '{print $1}')
expect answers "local port on 127.0.0.1" fetch "127.0.0.1" 19090
expect silent  "local port on $host_ip" fetch "$host_ip" 19090
expect answers "public port on $host_ip" fetch "$host_ip" 18080
expect answers "internal port from a container on its network" dc exec -T client sh -c "$probe" inner 8081
expect silent  "internal port from a container on another network" dc exec -T outsider sh -c "$probe" "$inner_ip" 8081
expect silent  "internal port from the host ($inner_ip)" fetch "$inner_ip" 8081
dc down -v --remove-orphans >/dev/null 2>&1

echo "-- swarm"
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  if docker swarm init --advertise-addr "$host_ip" >/dev/null 2>&1; then
    swarm_started=yes
  else
    echo "SKIPPED: swarm part — docker swarm init failed on this engine"
  fi
fi
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
  docker stack deploy -c "$work/swarm/stack.yml" "$project" >/dev/null
  for _ in $(seq 90); do
    running=$(docker stack ps "$project" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
    [ "$running" -ge 5 ] && break
    sleep 1
  done
  # Probes name `tasks.inner` (the task's own address): service VIPs need
  # IPVS in the kernel, which not every test machine has.
  task() { docker ps -q --filter "label=com.docker.swarm.service.name=${project}_$1" | head -n 1; }
  for _ in $(seq 30); do fetch "$host_ip" 18080 && break; sleep 1; done
  inner_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$(task inner)" | awk '{print $1}')
  expect answers "public port on $host_ip (host mode)" fetch "$host_ip" 18080
  expect silent  "local port not published on 127.0.0.1" fetch "127.0.0.1" 19090
  expect silent  "local port not published on $host_ip" fetch "$host_ip" 19090
  expect answers "internal port from a task on its network" docker exec "$(task client)" sh -c "$probe" tasks.inner 8081
  expect silent  "internal port from a task on another network" docker exec "$(task outsider)" sh -c "$probe" "$inner_ip" 8081
fi

echo "live-engine: $pass passed, $fail failed"
[ "$fail" = 0 ]
