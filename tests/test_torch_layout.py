"""PyTorch layout ops (slope/ops/layout.py) against NumPy: eager, jit, float64 gradients against
central differences, vmap against stacked per-slice results."""
import numpy as np
import pytest
from oracle import check, f32

import slope


def test_t_mT_T():
    check(slope.t, lambda x: x.T, f32(3, 4))
    check(slope.t, lambda x: x, f32(4), vmap=False)
    check(lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), f32(2, 3, 4))
    assert slope.tensor(f32(2, 3)).T.shape == (3, 2)
    with pytest.raises(slope.ShapeError, match=r"t: expects a tensor of at most 2 dims, got f32\[2,3,4\]"):
        slope.t(slope.tensor(f32(2, 3, 4)))
    with pytest.raises(slope.ShapeError, match="mT: expects a tensor of at least 2 dims"):
        _ = slope.tensor(f32(3)).mT


def test_repeat_tile():
    check(lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), f32(2, 3))
    check(lambda x: x.repeat(2, 2), lambda x: np.tile(x, (2, 2)), f32(2, 3))
    check(lambda x: slope.tile(x, (2,)), lambda x: np.tile(x, (1, 2)), f32(2, 3))
    check(lambda x: x.tile(2, 1, 1), lambda x: np.tile(x, (2, 1, 1)), f32(2, 3), grad=False)
    with pytest.raises(slope.ShapeError, match="repeat: number of repeat dims"):
        slope.tensor(f32(2, 3)).repeat(2)


def test_repeat_interleave():
    check(lambda x: x.repeat_interleave(2, dim=1), lambda x: np.repeat(x, 2, 1), f32(2, 3))
    check(lambda x: slope.repeat_interleave(x, 3), lambda x: np.repeat(x, 3), f32(2, 2))
    check(lambda x: x.repeat_interleave([1, 0, 2], dim=1), lambda x: np.repeat(x, [1, 0, 2], 1), f32(2, 3))
    r = np.array([2, 1, 0, 3], np.int32)
    out = slope.jit(lambda x, r: x.repeat_interleave(r, 0, output_size=6))(slope.tensor(f32(4)), slope.tensor(r))
    np.testing.assert_array_equal(out.numpy(), np.repeat(f32(4), r))
    with pytest.raises(slope.TracerError, match="output_size"):
        slope.jit(lambda x, r: x.repeat_interleave(r, 0))(slope.tensor(f32(4)), slope.tensor(r))


def test_expand_view_unflatten_movedim_swap():
    y = slope.tensor(f32(4, 3))
    check(lambda x: x.expand_as(y), lambda x: np.broadcast_to(x, (4, 3)), f32(1, 3), vmap=False)
    check(lambda x: x.view_as(y), lambda x: x.reshape(4, 3), f32(2, 6), vmap=False)
    check(lambda x: x.unflatten(1, (2, -1)), lambda x: x.reshape(3, 2, 3), f32(3, 6))
    check(lambda x: x.movedim((0, 1), (2, 0)), lambda x: np.moveaxis(x, (0, 1), (2, 0)), f32(2, 3, 4))
    check(lambda x: slope.moveaxis(x, -1, 0), lambda x: np.moveaxis(x, -1, 0), f32(2, 3, 4))
    check(lambda x: x.swapaxes(0, 2), lambda x: np.swapaxes(x, 0, 2), f32(2, 3, 4), grad=False)
    with pytest.raises(slope.ShapeError, match="unflatten: sizes"):
        slope.tensor(f32(3, 6)).unflatten(1, (4, 2))


def test_unbind_roll():
    check(lambda x: x.unbind(1), lambda x: tuple(np.moveaxis(x, 1, 0)), f32(2, 3))
    check(lambda x: x.roll(1, 0), lambda x: np.roll(x, 1, 0), f32(3, 4))
    check(lambda x: x.roll((-1, 6), (1, 0)), lambda x: np.roll(x, (-1, 6), (1, 0)), f32(3, 4))
    check(lambda x: slope.roll(x, 5), lambda x: np.roll(x, 5), f32(3, 4))


def test_tril_triu_diag_diagonal_trace():
    check(lambda x: x.tril(), np.tril, f32(3, 4))
    check(lambda x: x.triu(1), lambda x: np.triu(x, 1), f32(2, 3, 4))
    check(lambda x: slope.tril(x, -1), lambda x: np.tril(x, -1), f32(4, 3))
    for k in (0, 1, -2, 5):
        check(lambda x, k=k: x.diagonal(k), lambda x, k=k: np.diagonal(x, k).copy(), f32(3, 4), vmap=k == 0)
    check(lambda x: x.diagonal(0, 2, 0), lambda x: np.diagonal(x, 0, 2, 0).copy(), f32(3, 2, 4))
    check(lambda x: x.diag(), lambda x: np.diag(x), f32(3, 4))
    for k in (0, 2, -1):
        check(lambda x, k=k: slope.diag(x, k), lambda x, k=k: np.diag(x, k), f32(3))
    check(lambda x: x.trace(), np.trace, f32(3, 4))
    with pytest.raises(slope.ShapeError, match=r"trace: expects a 2-d tensor, got f32\[3\]"):
        slope.trace(slope.tensor(f32(3)))


def test_fliplr_flipud():
    check(lambda x: x.fliplr(), np.fliplr, f32(2, 3))
    check(slope.flipud, np.flipud, f32(2, 3))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes(mode):
    npmode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    check(lambda x: slope.pad(x, (2, 1), mode=mode), lambda x: np.pad(x, ((0, 0), (2, 1)), npmode), f32(2, 4))
    check(lambda x: slope.pad(x, (1, 0, 0, 2), mode), lambda x: np.pad(x, ((0, 2), (1, 0)), npmode), f32(3, 3),
          vmap=False)


def test_pad_mode_errors():
    x = slope.tensor(f32(2, 3))
    with pytest.raises(slope.ShapeError, match=r"reflect padding \(3, 0\) must be smaller than the size 3"):
        slope.pad(x, (3, 0), mode="reflect")
    with pytest.raises(slope.DomainError, match="pad: mode must be"):
        slope.pad(x, (1, 1), mode="symmetric")
    assert slope.pad(x, (1, 1), value=None).shape == (2, 5)
