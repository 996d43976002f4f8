"""NumPy oracle of the counter-based PRNG primitive: the Threefry-2x32 block cipher (20 rounds).

Threefry is from Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC 2011); the key
schedule, rotation constants and the 5 x 4 round structure are those of Random123's threefry2x32
(the same as XLA's and JAX's), so the outputs are bit-for-bit the ones JAX produces."""
import numpy as np

__all__ = ["threefry2x32"]

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)  # Threefish key-schedule constant


def _rotl(v, r):
    return (v << np.uint32(r)) | (v >> np.uint32(32 - r))


def threefry2x32(k1, k2, x1, x2):
    """Encrypt the counter pairs (x1, x2) under the key (k1, k2); all uint32 of one shape.

    Returns the two uint32 output words (y1, y2), elementwise."""
    k1, k2, x1, x2 = (np.asarray(a, dtype=np.uint32) for a in (k1, k2, x1, x2))
    ks = (k1, k2, k1 ^ k2 ^ _PARITY)
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps modulo 2**32 by design
        a, b = x1 + ks[0], x2 + ks[1]
        for i in range(5):
            for r in _ROTATIONS[i % 2]:
                a = a + b
                b = _rotl(b, r) ^ a
            a = a + ks[(i + 1) % 3]
            b = b + ks[(i + 2) % 3] + np.uint32(i + 1)
    return a.astype(np.uint32), b.astype(np.uint32)
