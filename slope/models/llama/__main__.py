"""python -m slope.models.llama generate --model DIR --prompt "..." [--max-new-tokens N] [--temperature T]
[--top-k K] [--top-p P] [--seed S] [--bytes | --ids]

The prompt is encoded with DIR/tokenizer.json through the `tokenizers` package when both are present
(and the output decoded with it); otherwise, or with --bytes, as UTF-8 bytes (the byte-level models of
examples/llama_train.py, vocab_size >= 256). With --ids the prompt is a list of token ids ("1 15043 3186")
and the output too. Generation stops at the checkpoint's eos token (generation_config.json)."""
from __future__ import annotations

import argparse
import os
import sys


def _tokenizer(path):
    f = os.path.join(path, "tokenizer.json")
    if not os.path.exists(f):
        return None
    try:
        import tokenizers
    except ImportError:
        return None
    return tokenizers.Tokenizer.from_file(f)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m slope.models.llama")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="continue a prompt with a Hugging Face Llama checkpoint")
    g.add_argument("--model", required=True, help="checkpoint directory (config.json, model.safetensors)")
    g.add_argument("--prompt", required=True)
    g.add_argument("--max-new-tokens", type=int, default=32)
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--top-k", type=int, default=None)
    g.add_argument("--top-p", type=float, default=None)
    g.add_argument("--seed", type=int, default=0)
    how = g.add_mutually_exclusive_group()
    how.add_argument("--bytes", action="store_true", help="the model's tokens are UTF-8 bytes (no tokenizer.json)")
    how.add_argument("--ids", action="store_true", help="the prompt and the output are token ids")
    args = ap.parse_args(argv)

    import numpy as np

    import slope
    from slope.models.llama import Llama

    model = Llama.from_pretrained(args.model)
    tok = None if args.bytes or args.ids else _tokenizer(args.model)
    if args.ids:
        try:
            ids = [int(t) for t in args.prompt.replace(",", " ").split()]
        except ValueError:
            sys.exit(f"--ids: the prompt must be token ids separated by spaces or commas, got {args.prompt!r}")
    elif tok is not None:
        ids = tok.encode(args.prompt).ids
    else:
        if model.config.vocab_size < 256:
            sys.exit(f"{args.model} has no tokenizer.json (or the `tokenizers` package is missing) and its "
                     f"vocab_size ({model.config.vocab_size}) is too small for bytes: give token ids with --ids")
        args.bytes = True
        ids = list(args.prompt.encode("utf-8"))
    out = model.generate(np.array([ids], np.int32), args.max_new_tokens, temperature=args.temperature,
                         top_k=args.top_k, top_p=args.top_p, key=slope.random.key(args.seed))
    new = np.asarray(out)[0].tolist()
    if args.bytes:
        print(bytes(new).decode("utf-8", errors="replace"))
    elif tok is not None:
        print(tok.decode(new))
    else:
        print(" ".join(map(str, new)))


if __name__ == "__main__":
    main()
