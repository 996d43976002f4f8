"""slope.data: a DataLoader over NumPy arrays that prefetches the next batch to the device.

    loader = slope.data.DataLoader(x_train, y_train, batch_size=64, shuffle=True, key=slope.random.key(0))
    for epoch in range(3):
        for xb, yb in loader:              # slope tensors; the next batch is copied on a background thread
            ...

Shuffling draws a permutation with slope.random.permutation (JAX-exact) from `key` folded with the
epoch number, so every epoch has its own order and runs are reproducible. `drop_last` drops a final
partial batch (one batch shape means one compiled train step). The iterator runs `slope.tensor` on
the next batch in a background thread while the current step runs (`prefetch=1` batches ahead;
0 turns it off).
"""
from __future__ import annotations

import queue
import threading

import numpy as np

from slope.core.tensor import tensor as _tensor
from slope.errors import ArgumentError, ShapeError
from slope.random import prng
from slope.random import samplers as _rs

__all__ = ["DataLoader"]


class DataLoader:
    def __init__(self, *arrays, batch_size=1, shuffle=False, key=None, drop_last=False, prefetch=1):
        if not arrays:
            raise ArgumentError("DataLoader: pass at least one array")
        arrays = tuple(np.asarray(a) for a in arrays)
        n = len(arrays[0])
        if any(len(a) != n for a in arrays):
            raise ShapeError(f"DataLoader: arrays must share their first dim, got {[a.shape for a in arrays]}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ArgumentError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if shuffle and key is None:
            key = prng.key(0)
        self.arrays, self.n, self.batch_size, self.shuffle = arrays, n, batch_size, shuffle
        self.key, self.drop_last, self.prefetch, self.epoch = key, drop_last, prefetch, 0

    def __len__(self):
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def order(self, epoch):
        """The sample order of epoch `epoch` (a NumPy int array)."""
        if not self.shuffle:
            return np.arange(self.n)
        return np.asarray(_rs.permutation(prng.fold_in(self.key, epoch), self.n).numpy(), np.int64)

    def _batches(self, order):
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield tuple(_tensor(np.ascontiguousarray(a[idx])) for a in self.arrays)

    def __iter__(self):
        order = self.order(self.epoch)
        self.epoch += 1
        gen = self._batches(order)
        if not self.prefetch:
            yield from (b if len(b) > 1 else b[0] for b in gen)
            return
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
        done = object()
        stop = threading.Event()

        def work():
            try:
                for b in gen:
                    if stop.is_set():
                        return
                    q.put(b)
                q.put(done)
            except BaseException as e:  # hand the error to the consumer
                q.put(e)

        t = threading.Thread(target=work, daemon=True, name="slope-data-prefetch")
        t.start()
        try:
            while True:
                b = q.get()
                if b is done:
                    return
                if isinstance(b, BaseException):
                    raise b
                yield b if len(b) > 1 else b[0]
        finally:
            stop.set()
            while t.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    t.join(0.01)
