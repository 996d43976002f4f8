"""python -m slope.models.whisper audio.wav --model DIR [--language en] [--beam-size 5]
[--task transcribe|translate] [--length-penalty A] [--max-new-tokens N]

Prints the transcript of a WAV file (any sample rate, mixed down to mono, resampled to 16 kHz), decoded in
consecutive 30 s windows with the checkpoint's tokenizer.json. Without --language the language is detected
from the first decoder step of each window."""
from __future__ import annotations

import argparse


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m slope.models.whisper",
                                 description="transcribe a WAV file with a Hugging Face Whisper checkpoint")
    ap.add_argument("audio", help="a WAV file")
    ap.add_argument("--model", required=True, help="checkpoint directory (config.json, model.safetensors, "
                                                   "tokenizer.json, generation_config.json)")
    ap.add_argument("--language", default=None, help="language code (en, de, ...); default: detect")
    ap.add_argument("--task", default="transcribe", choices=["transcribe", "translate"])
    ap.add_argument("--beam-size", type=int, default=None, help="beam search with this many beams (default greedy)")
    ap.add_argument("--length-penalty", type=float, default=None)
    ap.add_argument("--max-new-tokens", type=int, default=None)
    args = ap.parse_args(argv)

    from slope.models.whisper import Whisper

    model = Whisper.from_pretrained(args.model)
    print(model.transcribe(args.audio, language=args.language, task=args.task, beam_size=args.beam_size,
                           length_penalty=args.length_penalty, max_new_tokens=args.max_new_tokens))


if __name__ == "__main__":
    main()
