"""Command line: `python -m slope verify [...]` prints the conformance matrix (see slope.testing.matrix)."""
import sys

USAGE = """usage: python -m slope COMMAND [...]

commands:
  verify    run every check of every primitive and print the conformance matrix (--help for options)
"""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "verify":
        from slope.testing.matrix import main as verify

        return verify(argv[1:])
    print(f"slope: unknown command {argv[0]!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
