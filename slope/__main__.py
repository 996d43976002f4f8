"""Command line: `python -m slope verify [...]` prints the conformance matrix (see slope.testing.matrix);
`python -m slope cache info|clear` shows or empties the compile cache (see slope.backends.iree.cache)."""
import os
import sys

USAGE = """usage: python -m slope COMMAND [...]

commands:
  verify        run every check of every primitive and print the conformance matrix (--help for options)
  cache info    print the compile cache's directory, entries, size and size cap
  cache clear   empty the compile cache
"""

CACHE_USAGE = "usage: python -m slope cache info|clear"


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


def cache(argv) -> int:
    from slope.backends.iree import cache as c

    if len(argv) != 1 or argv[0] not in ("info", "clear"):
        print(CACHE_USAGE, file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    d = c.cache_dir()
    if d is None:
        print("the compile cache is off (SLOPE_CACHE_DIR=off)")
        return 0
    if argv[0] == "clear":
        n, size = c.clear(d)
        print(f"removed {n} files ({_mb(size)}) from {d}")
        return 0
    i = c.info(d)
    cap = "none" if i["cap"] is None else _mb(i["cap"])
    print(f"directory: {i['dir']}{'' if os.path.isdir(d) else ' (not created yet)'}")
    print(f"entries:   {i['entries']} ({i['modules']} modules, {i['refs']} references into shared modules)")
    print(f"size:      {_mb(i['bytes'])}")
    print(f"cap:       {cap} (SLOPE_CACHE_MAX_MB; least recently used entries go first)")
    if i["temporaries"]:
        print(f"temporary: {i['temporaries']} files being written (or left by a crash; removed on eviction)")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "verify":
        from slope.testing.matrix import main as verify

        return verify(argv[1:])
    if argv[0] == "cache":
        return cache(argv[1:])
    print(f"slope: unknown command {argv[0]!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
