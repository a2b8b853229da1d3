#!/usr/bin/env python3
"""Writes COUNT adversarial compose projects into DIR (issue 15's third
"done when"): DIR/NNNNN/compose.yaml, with the files it names beside it.

    scripts/adversarial-gen.py DIR COUNT [SEED]

Case N is of kind N mod len(KINDS), its sizes drawn from a generator seeded
with (SEED, N): the same arguments give the same files, so a failing case
is reproduced by its number. The kinds: alias bombs, include trees
(doubling, wide, deep, cyclic), extends chains, long lines, 200 KB
flow-style lines, devices, FIFOs, /proc files and link loops named by
include / env_file / extends / secrets, NULs and bytes that are not UTF-8,
YAML tags and directives, deep nesting, huge numbers, variable bombs in
`.env`, many services, and byte mutations of a valid project.
scripts/adversarial-run.sh imports each with a time and memory limit.
"""
import os
import random
import sys

VALID = """name: shop
x-common: &common
  restart: always
  environment: &env
    LEVEL: ${LEVEL:-info}
services:
  web:
    <<: *common
    image: nginx:1.27
    ports:
      - "8080:80"
      - target: 443
        published: "8443"
    depends_on: [api]
    networks: [front]
  api:
    <<: *common
    image: registry.example.com/api:${TAG:-1.0}
    env_file: api.env
    expose: ["9000"]
    networks: [front, back]
    secrets: [token]
    deploy:
      replicas: 2
      resources: {limits: {cpus: "0.5", memory: 256M}}
  db:
    image: postgres:16.4
    volumes: [data:/var/lib/postgresql/data]
    networks: [back]
    healthcheck: {test: ["CMD", "pg_isready"], interval: 10s}
networks: {front: {}, back: {internal: true}}
volumes: {data: {}}
secrets: {token: {file: ./token.txt}}
"""

SERVICE = "  s{i}:\n    image: nginx:1.27\n"


def w(case, name, data):
    path = os.path.join(case, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(path, "wb") as f:
        f.write(data)


def alias_bomb(case, r):
    levels, fan = r.randint(5, 40), r.randint(2, 12)
    lines = ["x-l0: &l0 [" + ",".join(["'" + "x" * r.randint(1, 64) + "'"] * fan) + "]"]
    for i in range(1, levels):
        lines.append(f"x-l{i}: &l{i} [" + ",".join([f"*l{i-1}"] * fan) + "]")
    where = r.choice(["command", "environment", "labels", "ports", "x-top"])
    if where == "x-top":
        lines.append(f"x-top: *l{levels-1}\nservices:\n  s:\n    image: a")
    else:
        lines.append(f"services:\n  s:\n    image: a\n    {where}: *l{levels-1}")
    if r.random() < 0.3:  # merge-key bomb: `<<` of many aliases
        lines.append("  m:\n    <<: [" + ",".join(["*l0"] * r.randint(2, 500)) + "]")
    w(case, "compose.yaml", "\n".join(lines) + "\n")


def include_tree(case, r):
    shape = r.choice(["doubling", "wide", "deep", "cycle", "diamond"])
    if shape == "doubling":
        levels, fan = r.randint(5, 40), r.randint(2, 4)
        for l in range(levels):
            name = "compose.yaml" if l == 0 else f"l{l}.yml"
            inc = "".join(f"  - l{l+1}.yml\n" for _ in range(fan))
            w(case, name, f"include:\n{inc}services:\n  s{l}:\n    image: a\n")
        w(case, f"l{levels}.yml", "services:\n  last:\n    image: a\n")
    elif shape == "wide":
        n = r.randint(10, 400)
        inc = "".join(f"  - f{i}.yml\n" for i in range(n))
        w(case, "compose.yaml", f"include:\n{inc}")
        for i in range(n):
            w(case, f"f{i}.yml", "services:\n" + SERVICE.format(i=i))
    elif shape == "deep":
        n = r.randint(10, 300)
        for i in range(n):
            name = "compose.yaml" if i == 0 else f"d/{'x/' * (i % 20)}c{i}.yml"
            nxt = f"d/{'x/' * ((i + 1) % 20)}c{i+1}.yml"
            up = "../" * (name.count("/"))
            w(case, name, f"include:\n  - {up}{nxt}\nservices:\n" + SERVICE.format(i=i))
    elif shape == "cycle":
        n = r.randint(1, 50)
        for i in range(n):
            name = "compose.yaml" if i == 0 else f"c{i}.yml"
            nxt = "compose.yaml" if i == n - 1 else f"c{i+1}.yml"
            w(case, name, f"include: [{nxt}, ./{nxt}, x/../{nxt}]\nservices:\n" + SERVICE.format(i=i))
    else:  # diamond of extends.file and include at once
        levels = r.randint(5, 35)
        for l in range(levels):
            name = "compose.yaml" if l == 0 else f"l{l}.yml"
            w(case, name,
              f"include: [l{l+1}.yml]\nservices:\n  s:\n    extends: {{file: l{l+1}.yml, service: s}}\n"
              f"    image: a\n  t:\n    extends: {{file: l{l+1}.yml, service: s}}\n")
        w(case, f"l{levels}.yml", "services:\n  s:\n    image: a\n    env_file: [e.env, e.env]\n")
        w(case, "e.env", "A=1\n")


def extends_chain(case, r):
    n = r.randint(2, 2000)
    body = ["services:"]
    for i in range(n):
        nxt = (i + 1) % n if r.random() < 0.3 else i + 1
        body.append(f"  s{i}:\n    extends: s{nxt}\n    image: a")
    body.append(f"  s{n}:\n    image: a")
    w(case, "compose.yaml", "\n".join(body) + "\n")


def long_line(case, r):
    n = r.randint(50_000, 1_500_000)
    texts = {
        "scalar": lambda: f"services:\n  s:\n    image: a\n    command: {'x' * n}\n",
        "key": lambda: f"services:\n  {'k' * n}:\n    image: a\n",
        "comment": lambda: f"# {'#' * n}\nservices:\n  s:\n    image: a\n",
        "quoted": lambda: f'services:\n  s:\n    image: "{chr(92) + "u00e9" * (n // 6)}"\n',
        "many": lambda: "services:\n" + "".join(f"  s{i}:\n    image: {'a' * 2000}\n" for i in range(n // 2000)),
    }
    w(case, "compose.yaml", texts[r.choice(list(texts))]())


def flow_line(case, r):
    n = r.randint(1_000, 30_000)

    def ports():
        ports = ", ".join(f'"{1000 + i % 60000}:{i % 65535 + 1}"' for i in range(n))
        return f"services: {{s: {{image: a, ports: [{ports}]}}}}\n"

    def nested():
        depth = r.randint(10, 500)
        return "services: {s: {image: a, labels: " + "{a: " * depth + "b" + "}" * depth + "}}\n"

    texts = {
        "ports": ports,
        "services": lambda: "services: {" + ", ".join(f"s{i}: {{image: a}}" for i in range(n // 3)) + "}\n",
        "env": lambda: "services: {s: {image: a, environment: {" + ", ".join(f"K{i}: v{i}" for i in range(n)) + "}}}\n",
        "nested": nested,
    }
    w(case, "compose.yaml", texts[r.choice(list(texts))]())


def special_files(case, r):
    """Devices, FIFOs, /proc files, directories and link loops where a
    compose file names a file."""
    targets = ["/dev/zero", "/dev/urandom", "/dev/null", "/dev/full", "/dev/stdin", "/dev/tty",
               "/proc/self/mem", "/proc/self/pagemap", "/proc/self/environ", "/proc/kcore",
               "/proc/self/fd/0", "/sys/kernel/mm", ".", "/", "fifo", "loop", "to-zero", "dir"]
    os.mkfifo(os.path.join(case, "fifo"))
    os.symlink("loop", os.path.join(case, "loop"))
    os.symlink("/dev/zero", os.path.join(case, "to-zero"))
    os.mkdir(os.path.join(case, "dir"))
    t = r.choice(targets)
    s = "services:\n  s:\n    image: a\n"
    texts = {
        "include": f"include:\n  - {t}\n{s}",
        "env_file": f"{s}    env_file: {t}\n",
        "extends": f"{s}    extends: {{file: {t}, service: s}}\n",
        "secret": f"{s}    secrets: [k]\nsecrets:\n  k:\n    file: {t}\n",
        "env_file_long": f"{s}    env_file:\n      - path: {t}\n        required: false\n",
        "dotenv": s,  # the file is named by the .env beside it
    }
    where = r.choice(list(texts))
    if where == "dotenv":
        os.symlink(t, os.path.join(case, ".env"))
    w(case, "compose.yaml", texts[where])
    if r.random() < 0.2:  # the entry point itself
        os.remove(os.path.join(case, "compose.yaml"))
        os.symlink(t if t.startswith("/") else t, os.path.join(case, "compose.yaml"))


def bad_bytes(case, r):
    data = bytearray(VALID.encode())
    for _ in range(r.randint(1, 20)):
        at = r.randrange(len(data) + 1)
        data[at:at] = r.choice([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf",
                                b"\r", b"\t", b"\x1b[2J", b"\xe2\x80\xae", b"\x00" * 1000])
    if r.random() < 0.1:
        data = "\ufeff".encode("utf-16") + VALID.encode("utf-16-le")
    w(case, "compose.yaml", bytes(data))
    w(case, "api.env", b"A=\x00\nB=\xff\xfe\nC=ok\n")


def tags(case, r):
    tags = ["!!binary", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!set",
            "!!omap", "!!timestamp", "!foo", "!<tag:yaml.org,2002:str>", "!<!>", "!reset",
            "!override", "!e!x", "!!python/object:os.system", "!" + "t" * 5000]
    lines = []
    if r.random() < 0.3:
        lines.append("%YAML 1.2\n%TAG !e! tag:example.com,2026:\n---")
    lines.append(f"services: {r.choice(tags)}")
    for i in range(r.randint(1, 30)):
        t = lambda: r.choice(tags)  # noqa: E731
        lines.append(f"  {t()} s{i}: {t()}\n    image: {t()} nginx:1.27\n"
                     f"    ports: {t()} [{t()} \"80:80\"]\n    environment: {t()} {{A: {t()} aGVsbG8=}}")
    if r.random() < 0.2:
        lines.append("---\nservices: {second: {image: a}}\n...\n--- !!binary AAAA")
    w(case, "compose.yaml", "\n".join(lines) + "\n")


def nesting(case, r):
    depth = r.randint(100, 200_000)
    kind = r.choice(["flow_seq", "flow_map", "block_map", "block_seq", "mixed"])
    if kind == "flow_seq":
        text = "services: {s: {image: a, command: " + "[" * depth + "]" * depth + "}}\n"
    elif kind == "flow_map":
        text = "x: " + "{a: " * depth + "b" + "}" * depth + "\nservices: {s: {image: a}}\n"
    elif kind == "block_map":
        depth = min(depth, 3000)
        text = "services:\n  s:\n    image: a\n    labels:\n" + "".join(
            " " * (6 + i) + f"k{i}:\n" for i in range(depth))
    elif kind == "block_seq":
        depth = min(depth, 3000)
        text = "services:\n  s:\n    image: a\n    command:\n" + "".join(
            " " * (6 + i) + "-\n" for i in range(depth))
    else:
        text = "services: {s: {image: a, command: " + "[{a: " * depth + "}]" * depth + "}}\n"
    w(case, "compose.yaml", text)


def huge_numbers(case, r):
    big = r.choice(["9" * r.randint(20, 100_000), "1e308", "1e400", "-0", "0x" + "f" * 100,
                    "0o777777777777777777777777", ".inf", "-.inf", ".nan", "18446744073709551616",
                    "-9223372036854775809", "4294967296", "65536", "1_000_000", "0b" + "1" * 200])
    text = (f"services:\n  s:\n    image: a\n    ports:\n      - \"{big}:{big}\"\n"
            f"      - {big}\n      - target: {big}\n        published: {big}\n"
            f"    expose: [{big}]\n    deploy:\n      replicas: {big}\n"
            f"      resources: {{limits: {{cpus: '{big}', memory: {big}G, pids: {big}}}}}\n"
            f"    healthcheck: {{interval: {big}s, retries: {big}}}\n"
            f"    ulimits: {{nofile: {big}}}\n    mem_limit: {big}\n    shm_size: {big}\n"
            f"    user: \"{big}:{big}\"\n    stop_grace_period: {big}h\n")
    w(case, "compose.yaml", text)


def variable_bomb(case, r):
    levels = r.randint(5, 64)
    env = [f"V0={'x' * r.randint(1, 1000)}"]
    for i in range(1, levels):
        env.append(f"V{i}=" + "${V%d}" % (i - 1) * r.randint(2, 4))
    nested = "${A:-" * r.randint(1, 5000) + "x" + "}" * r.randint(0, 5000)
    w(case, ".env", "\n".join(env) + "\n")
    w(case, "compose.yaml",
      f"services:\n  s:\n    image: a:${{V{levels-1}}}\n    environment:\n      B: \"{nested}\"\n"
      f"      C: ${{V{levels-1}:?${{V{levels-1}}}}}\n    env_file: e.env\n")
    w(case, "e.env", "\n".join(f"E{i}=${{V{levels-1}}}" for i in range(r.randint(1, 50))) + "\n")


def many_services(case, r):
    n = r.randint(1_000, 8_000)
    body = "".join(
        f"  s{i}:\n    image: nginx:1.27\n    ports: ['{10000 + i}:80']\n    depends_on: [s{max(i - 1, 0)}]\n"
        for i in range(n))
    w(case, "compose.yaml", "services:\n" + body)


def mutated(case, r):
    data = bytearray(VALID.encode())
    for _ in range(r.randint(1, 60)):
        op, at = r.randrange(4), r.randrange(len(data))
        if op == 0:
            data[at] = r.randrange(256)
        elif op == 1:
            del data[at:at + r.randint(1, 40)]
        elif op == 2:
            piece = data[r.randrange(len(data)):][: r.randint(1, 200)]
            data[at:at] = piece * r.randint(1, 50)
        else:
            data[at:at] = r.choice([b"{", b"[", b"&a ", b"*a", b"<<: *common\n", b": ", b"- ", b"\n  ", b"'", b'"'])
    w(case, "compose.yaml", bytes(data))
    w(case, "api.env", "A=1\n")
    w(case, "token.txt", "t\n")


KINDS = [alias_bomb, include_tree, extends_chain, long_line, flow_line, special_files,
         bad_bytes, tags, nesting, huge_numbers, variable_bomb, many_services, mutated]


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    out, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 15
    os.makedirs(out, exist_ok=True)
    for n in range(count):
        case = os.path.join(out, f"{n:05d}")
        os.makedirs(case)
        kind = KINDS[n % len(KINDS)]
        kind(case, random.Random(seed * 1_000_003 + n))
        with open(os.path.join(out, "kinds.txt"), "a") as f:
            f.write(f"{n:05d} {kind.__name__}\n")


if __name__ == "__main__":
    main()
