"""Train a tiny Llama on Python's own source text (bytes as tokens), then generate and save it.

    python examples/llama_train.py [--steps 300] [--out DIR] [--batch 16] [--seq 64]

The data is the standard library's .py files that ship with this Python (no network). One jitted train
step computes the loss and its gradient with respect to the `Llama` pytree and applies AdamW (written
inline until slope.optim lands). The trained model is written with `save_pretrained` (a Hugging Face
checkpoint: `transformers.LlamaForCausalLM.from_pretrained(out)` reads it), and continues a prompt with
the KV-cache generator:

    python -m slope.models.llama generate --model DIR --bytes --prompt "def "
"""
import argparse
import glob
import os
import sys
import time

import numpy as np

import slope
from slope.models.llama import Llama, LlamaConfig


def python_source(max_bytes=2_000_000):
    """Bytes of the standard library's top-level .py files, in a fixed order."""
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))
    chunks, n = [], 0
    for f in files:
        with open(f, "rb") as fh:
            b = fh.read()
        chunks.append(b)
        n += len(b)
        if n >= max_bytes:
            break
    return np.frombuffer(b"".join(chunks)[:max_bytes], np.uint8).astype(np.int32)


def tiny_config(layers=2, hidden=64, heads=4, kv_heads=2, seq=64):
    return LlamaConfig(vocab_size=256, hidden_size=hidden, intermediate_size=hidden * 8 // 3 // 8 * 8,
                       num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                       max_position_embeddings=max(seq, 256), rms_norm_eps=1e-5, tie_word_embeddings=False,
                       bos_token_id=None, eos_token_id=None)


def loss_fn(model, tokens):
    """Mean next-byte cross entropy (nats) of tokens (batch, seq + 1)."""
    logits = model(tokens[:, :-1])
    logp = logits.log_softmax(-1)
    onehot = (tokens[:, 1:, None] == slope.arange(model.config.vocab_size, dtype=slope.int32)).astype(slope.float32)
    return -(logp * onehot).sum(-1).mean()


def make_train_step(b1=0.9, b2=0.95, eps=1e-8, weight_decay=0.1):
    @slope.jit
    def train_step(model, opt, tokens, lr, t):
        """One AdamW step (t: the 1-based step number, a float32 scalar; lr traced too)."""
        loss, grads = slope.value_and_grad(loss_fn)(model, tokens)
        m, v = opt
        new_m, new_v, new_p = {}, {}, {}
        for name, p in model.params.items():
            g = grads.params[name]
            new_m[name] = b1 * m[name] + (1 - b1) * g
            new_v[name] = b2 * v[name] + (1 - b2) * g * g
            update = (new_m[name] / (1 - b1 ** t)) / ((new_v[name] / (1 - b2 ** t)).sqrt() + eps)
            decay = weight_decay if len(p.shape) == 2 else 0.0   # no decay on norms (and biases)
            new_p[name] = p - lr * (update + decay * p)
        return loss, Llama(model.config, new_p), (new_m, new_v)
    return train_step


def batches(data, batch, seq, seed):
    rng = np.random.default_rng(seed)
    while True:
        starts = rng.integers(0, len(data) - seq - 1, batch)
        yield np.stack([data[s:s + seq + 1] for s in starts])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="checkpoint directory (save_pretrained); none if omitted")
    ap.add_argument("--generate", type=int, default=64, help="bytes to generate after training (0: none)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    data = python_source()
    split = int(0.95 * len(data))
    train, held_out = data[:split], data[split:]
    config = tiny_config(args.layers, args.hidden, seq=args.seq)
    model = Llama.random(config, slope.random.key(args.seed))
    opt = ({k: slope.zeros_like(p) for k, p in model.params.items()},
           {k: slope.zeros_like(p) for k, p in model.params.items()})
    step = make_train_step()
    eval_loss = slope.jit(loss_fn)
    eval_batch = next(batches(held_out, 32, args.seq, 1234))
    log = (lambda *a: None) if args.quiet else print
    log(f"{model}; {len(train):,} training bytes of Python source")
    first_eval = float(eval_loss(model, eval_batch))
    log(f"held-out loss before training {first_eval:.3f} nats/byte (uniform: {np.log(256):.3f})")

    try:
        from tqdm import tqdm
        bar = tqdm(range(args.steps), disable=args.quiet, file=sys.stdout)
    except ImportError:
        bar = range(args.steps)
    losses, t0, tokens_seen = [], None, 0
    it = batches(train, args.batch, args.seq, args.seed)
    for i in bar:
        lr = args.lr * min(1.0, (i + 1) / 20) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * i / max(args.steps, 1))))
        loss, model, opt = step(model, opt, next(it), np.float32(lr), np.float32(i + 1))
        losses.append(float(loss))
        if i == 0:
            t0 = time.perf_counter()                       # the first step includes compiling it
        else:
            tokens_seen += args.batch * args.seq
        if hasattr(bar, "set_postfix") and i % 10 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    elapsed = time.perf_counter() - t0 if t0 else 0.0
    final_eval = float(eval_loss(model, eval_batch))
    log(f"train loss: first {losses[0]:.3f}, last 10 mean {np.mean(losses[-10:]):.3f}; held-out {first_eval:.3f} -> "
        f"{final_eval:.3f} nats/byte; {tokens_seen / elapsed if elapsed else 0:,.0f} training tokens/s")
    if args.out:
        model.save_pretrained(args.out)
        log(f"saved {args.out}")
    if args.generate:
        prompt = np.frombuffer(b"def ", np.uint8).astype(np.int32)[None]
        out = np.asarray(model.generate(prompt, args.generate, temperature=0.8, top_k=40, key=slope.random.key(0)))
        log(repr(bytes(out[0].astype(np.uint8).tolist()).decode("utf-8", errors="replace")))
    return {"losses": losses, "eval_before": first_eval, "eval_after": final_eval, "model": model}


if __name__ == "__main__":
    main()
