"""slope.nn: Modules as pytrees, PyTorch's names and initializers, functional buffer updates, dropout keys,
MultiheadAttention's layout; checkpoints (slope.save/load) and the DataLoader; the small example runs."""
import math
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import slope
import slope.nn as nn
import slope.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K = slope.random.key(0)


def _model(key=K):
    k1, k2, k3 = slope.random.split(key, 3)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding="same", key=k1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 8, key=k2), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(8, 3, key=k3))


def test_module_is_a_pytree_with_pytorch_names():
    m = _model()
    assert list(m.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                    "5.weight", "5.bias", "8.weight", "8.bias"]
    assert [n for n, _ in m.named_parameters()] == [k for k in m.state_dict() if "running" not in k]
    assert [n for n, _ in m.named_buffers()] == ["1.running_mean", "1.running_var"]
    assert len(slope.tree_leaves(m)) == 10 and len(m.children()) == 9 and len(m.modules()) == 10
    copy = slope.tree_map(lambda t: t * 2, m)
    assert type(copy) is nn.Sequential and copy[0].kernel_size == (3, 3)
    np.testing.assert_allclose(copy[5].weight.numpy(), 2 * m[5].weight.numpy())
    # hyper-parameters and the mode are static: part of the structure jit caches on
    assert slope.tree_structure(m) == slope.tree_structure(copy)
    assert slope.tree_structure(m) != slope.tree_structure(slope.tree_map(lambda t: t, m).eval())


def test_grad_jit_vmap_take_models():
    m = nn.Linear(3, 2, key=K)
    x = slope.randn(5, 3, seed=1)
    y = slope.tensor(np.array([0, 1, 1, 0, 1]))
    loss = lambda m, x, y: F.cross_entropy(m(x), y)  # noqa: E731
    g = slope.grad(loss)(m, x, y)
    gj = slope.jit(slope.grad(loss))(m, x, y)
    assert isinstance(g, nn.Linear)
    np.testing.assert_allclose(g.weight.numpy(), gj.weight.numpy(), rtol=1e-5, atol=1e-6)
    # the Linear's gradient by hand: (softmax - onehot)^T x / N
    p = F.softmax(m(x), -1).numpy()
    p[np.arange(5), y.numpy()] -= 1
    np.testing.assert_allclose(g.weight.numpy(), p.T @ x.numpy() / 5, rtol=1e-5, atol=1e-6)
    per_example = slope.vmap(lambda xi: m(xi))(x)
    np.testing.assert_allclose(per_example.numpy(), m(x).numpy(), rtol=1e-6)


def test_load_state_dict_strict_and_shapes():
    m = _model()
    sd = {k: v.numpy() for k, v in _model().state_dict().items()}
    sd["1.num_batches_tracked"] = np.array(7, np.int64)  # PyTorch's BatchNorm key: accepted, ignored
    res = m.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    with pytest.raises(slope.ArgumentError, match="missing keys \\['8.bias'\\]"):
        m.load_state_dict({k: v for k, v in sd.items() if k != "8.bias"})
    assert m.load_state_dict({"8.bias": np.zeros(3, np.float32)}, strict=False).missing_keys[0] == "0.weight"
    with pytest.raises(slope.ShapeError, match="8.bias has shape"):
        m.load_state_dict({**sd, "8.bias": np.zeros(4, np.float32)})
    with pytest.raises(slope.ArgumentError, match="unexpected keys \\['extra'\\]"):
        m.load_state_dict({**sd, "extra": np.zeros(1)})


def test_pytorch_default_initializers():
    lin = nn.Linear(400, 300, key=K)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    bound = 1 / math.sqrt(400)
    assert w.shape == (300, 400) and abs(w).max() <= bound and abs(w).max() > 0.98 * bound
    assert abs(b).max() <= bound and np.std(w) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    conv = nn.Conv2d(8, 16, 3, groups=2, key=K)
    assert conv.weight.shape == (16, 4, 3, 3) and abs(conv.weight.numpy()).max() <= 1 / math.sqrt(36)
    ct = nn.ConvTranspose2d(4, 6, 3, key=K)
    assert ct.weight.shape == (4, 6, 3, 3) and ct.bias.shape == (6,)
    e = nn.Embedding(1000, 16, padding_idx=0, key=K).weight.numpy()
    assert abs(e[0]).max() == 0 and np.std(e[1:]) == pytest.approx(1.0, rel=0.05)
    ln = nn.LayerNorm(5)
    assert (ln.weight.numpy() == 1).all() and (ln.bias.numpy() == 0).all()
    # same key, same weights; no key: drawn from the global key (manual_seed makes it reproducible)
    np.testing.assert_array_equal(nn.Linear(3, 2, key=K).weight.numpy(), nn.Linear(3, 2, key=K).weight.numpy())
    slope.manual_seed(3)
    a = nn.Linear(3, 2).weight.numpy()
    slope.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Linear(3, 2).weight.numpy())


def test_init_functions():
    init = nn.init
    t = slope.zeros(200, 100)
    x = init.xavier_uniform_(t, key=K).numpy()
    assert abs(x).max() <= math.sqrt(6 / 300) and x.shape == (200, 100)
    assert np.std(init.kaiming_normal_(t, nonlinearity="relu", key=K).numpy()) == pytest.approx(
        math.sqrt(2 / 100), rel=0.05)
    tn = init.trunc_normal_(t, std=1.0, a=-0.5, b=0.5, key=K).numpy()
    assert tn.min() >= -0.5 and tn.max() <= 0.5
    assert (init.ones_(t).numpy() == 1).all() and init.normal_((3,), key=K).dtype == slope.float32


def test_batchnorm_running_stats_update_functionally():
    bn = nn.BatchNorm2d(3, momentum=0.1)
    x = slope.randn(4, 3, 2, 2, seed=2)
    out, new = nn.apply(bn, x)
    xn = x.numpy()
    np.testing.assert_allclose(new.running_mean.numpy(), 0.1 * xn.mean((0, 2, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new.running_var.numpy(), 0.9 + 0.1 * xn.var((0, 2, 3), ddof=1), rtol=1e-5)
    assert (bn.running_var.numpy() == 1).all()  # the module passed in is unchanged
    np.testing.assert_allclose(out.numpy(), (xn - xn.mean((0, 2, 3), keepdims=True))
                               / np.sqrt(xn.var((0, 2, 3), keepdims=True) + 1e-5), rtol=1e-4, atol=1e-5)
    # inside jit and grad: return the updated model as aux
    def loss(m, x):
        y, m2 = nn.apply(m, x)
        return (y * y).mean(), m2
    (val, m2), g = slope.jit(slope.value_and_grad(loss, has_aux=True))(bn, x)
    np.testing.assert_allclose(m2.running_mean.numpy(), new.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    ev = new.eval()(x).numpy()
    np.testing.assert_allclose(ev, (xn - new.running_mean.numpy()[:, None, None])
                               / np.sqrt(new.running_var.numpy()[:, None, None] + 1e-5), rtol=1e-4, atol=1e-5)


def test_dropout_needs_a_key_and_matches_bernoulli():
    x = slope.ones(1000)
    with pytest.raises(slope.ArgumentError, match="dropout: training with p=0.3 draws random numbers"):
        F.dropout(x, 0.3)
    y = F.dropout(x, 0.3, key=K).numpy()
    keep = slope.random.bernoulli(K, 0.7, (1000,)).numpy()
    np.testing.assert_allclose(y, np.where(keep, 1 / 0.7, 0), rtol=1e-6)
    assert (F.dropout(x, 0.3, training=False).numpy() == 1).all()
    m = _model()
    xb = slope.randn(2, 1, 4, 4, seed=0)
    a, b = m(xb, key=K).numpy(), m(xb, key=K).numpy()
    np.testing.assert_array_equal(a, b)
    assert m.eval()(xb).shape == (2, 3)


def test_multihead_attention_layout_and_math():
    E, H = 8, 2
    mha = nn.MultiheadAttention(E, H, batch_first=True, key=K)
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    q = slope.randn(2, 3, E, seed=4)
    out, w = mha(q, q, q)
    assert out.shape == (2, 3, E) and w.shape == (2, 3, 3)
    # by hand with NumPy
    W, bvec = mha.in_proj_weight.numpy(), mha.in_proj_bias.numpy()
    qn = q.numpy()
    qq, kk, vv = (qn @ W[i * E:(i + 1) * E].T + bvec[i * E:(i + 1) * E] for i in range(3))
    split = lambda t: t.reshape(2, 3, H, E // H).transpose(0, 2, 1, 3)  # noqa: E731
    s = split(qq) @ split(kk).transpose(0, 1, 3, 2) / math.sqrt(E // H)
    causal = np.triu(np.ones((3, 3), bool), 1)
    for mask in (None, causal):
        ss = s if mask is None else np.where(mask, -np.inf, s)
        p = np.exp(ss - ss.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o = (p @ split(vv)).transpose(0, 2, 1, 3).reshape(2, 3, E)
        want = o @ mha.out_proj.weight.numpy().T + mha.out_proj.bias.numpy()
        got, wts = mha(q, q, q, attn_mask=None if mask is None else slope.tensor(mask))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(wts.numpy(), p.mean(1), rtol=1e-4, atol=1e-6)
    seq_first = nn.MultiheadAttention(E, H, key=K)
    o2, _ = seq_first(q.transpose(0, 1), q.transpose(0, 1), q.transpose(0, 1))
    np.testing.assert_allclose(o2.transpose(0, 1).numpy(), mha(q, q, q)[0].numpy(), rtol=1e-5, atol=1e-6)


def test_sdpa_dropout_uses_the_key():
    q = slope.randn(2, 4, 3, seed=1)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, dropout_key=K)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, dropout_key=K)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), F.scaled_dot_product_attention(q, q, q).numpy())


def test_layers_forward_shapes():
    x = slope.randn(2, 4, 6, 6, seed=0)
    assert nn.Conv2d(4, 8, 3, stride=2, padding=1, key=K)(x).shape == (2, 8, 3, 3)
    assert nn.Conv2d(4, 8, 3, dilation=2, groups=4, key=K)(x).shape == (2, 8, 2, 2)
    assert nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, key=K)(x).shape == (2, 2, 12, 12)
    assert nn.Conv1d(4, 5, 3, key=K)(x[:, :, 0]).shape == (2, 5, 4)
    assert nn.AvgPool2d(2)(x).shape == (2, 4, 3, 3) and nn.AdaptiveAvgPool2d(1)(x).shape == (2, 4, 1, 1)
    assert nn.GroupNorm(2, 4)(x).shape == x.shape and nn.RMSNorm(6)(x).shape == x.shape
    idx = slope.tensor(np.array([[1, 2], [0, 3]]))
    assert nn.Embedding(5, 7, key=K)(idx).shape == (2, 2, 7)
    assert F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False).shape == (2, 4, 12, 12)
    lst = nn.ModuleList([nn.Linear(2, 2, key=K), nn.Linear(2, 2, key=K)])
    assert list(lst.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"] and len(lst) == 2


def test_embedding_padding_idx_gets_no_gradient():
    w = slope.randn(4, 3, seed=0)
    idx = slope.tensor(np.array([0, 1, 1]))
    g = slope.grad(lambda w: F.embedding(idx, w, padding_idx=1).sum())(w).numpy()
    np.testing.assert_array_equal(g, [[1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]])


# ---------------------------------------------------------------- checkpoints


def test_save_load_bit_exact_all_dtypes(tmp_path):
    rng = np.random.default_rng(0)
    tree = {"f32": slope.tensor(rng.normal(size=(3, 2)).astype(np.float32)),
            "bf16": slope.tensor(rng.normal(size=(5,)).astype(ml_dtypes.bfloat16)),
            "f16": slope.tensor(rng.normal(size=(2, 2)).astype(np.float16)),
            "f64": slope.tensor(rng.normal(size=(2,))),
            "nested": [slope.tensor(np.array([1, -2], np.int32)), (slope.tensor(np.array(True)),), None],
            "i64": slope.tensor(np.int64(2 ** 40)), "u8": slope.tensor(np.arange(3, dtype=np.uint8))}
    path = tmp_path / "tree.safetensors"
    slope.save(tree, path)
    back = slope.load(path)
    assert list(back) == list(tree) and back["nested"][2] is None and isinstance(back["nested"][1], tuple)
    for a, b in zip(slope.tree_leaves(tree), slope.tree_leaves(back)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.numpy().tobytes() == b.numpy().tobytes()
    raw = slope.load(path, to_tensor=False)
    assert isinstance(raw["f32"], np.memmap) or isinstance(raw["f32"].base, np.memmap)


def test_module_round_trip_and_foreign_state_dict(tmp_path):
    from safetensors.numpy import save_file

    m = _model()
    slope.save(m, tmp_path / "m.safetensors")
    fresh = _model(slope.random.key(5))
    assert not np.array_equal(fresh[0].weight.numpy(), m[0].weight.numpy())
    fresh.load_state_dict(slope.load(tmp_path / "m.safetensors"))
    for (k, a), (_, b) in zip(m.state_dict().items(), fresh.state_dict().items()):
        assert a.numpy().tobytes() == b.numpy().tobytes(), k
    # a file as PyTorch writes it (safetensors.torch.save_file(model.state_dict())): flat keys, no slope metadata
    sd = {k: np.full(v.shape, 0.5, v.dtype.np) for k, v in m.state_dict().items()}
    sd["1.num_batches_tracked"] = np.array(3, np.int64)
    save_file(sd, str(tmp_path / "torch.safetensors"), metadata={"format": "pt"})
    loaded = slope.load(tmp_path / "torch.safetensors")
    assert set(loaded) == set(sd)  # a foreign file's keys come in file order
    m.load_state_dict(loaded)
    assert (m[8].weight.numpy() == 0.5).all()


# ---------------------------------------------------------------- data


def test_dataloader_batches_shuffle_and_drop_last():
    x = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10)
    plain = list(slope.data.DataLoader(x, y, batch_size=4))
    assert [b[0].shape for b in plain] == [(4, 1), (4, 1), (2, 1)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in plain]), y)
    dl = slope.data.DataLoader(x, y, batch_size=4, shuffle=True, key=K, drop_last=True)
    e1, e2 = list(dl), list(dl)
    assert len(e1) == len(dl) == 2
    order1 = np.concatenate([b[1].numpy() for b in e1])
    assert len(set(order1)) == 8 and not np.array_equal(order1, np.concatenate([b[1].numpy() for b in e2]))
    np.testing.assert_array_equal(order1, slope.random.permutation(slope.random.fold_in(K, 0), 10).numpy()[:8])
    for xb, yb in e1:
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())
    single = next(iter(slope.data.DataLoader(x, batch_size=3, prefetch=0)))
    assert single.shape == (3, 1)


def test_mlp_regression_example_runs():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "mlp_regression.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0, out.stderr[-3000:]
    assert float(out.stdout.strip().splitlines()[-1].split(": ")[1]) < 0.02, out.stdout


@pytest.mark.parametrize("kdim,vdim", [(None, None), (5, 6), (8, 3)])
def test_multihead_attention_kdim_vdim_against_torch(kdim, vdim):
    torch = pytest.importorskip("torch")
    E, H, L, S = 8, 2, 3, 4
    mha = nn.MultiheadAttention(E, H, batch_first=True, kdim=kdim, vdim=vdim, key=K)
    tm = torch.nn.MultiheadAttention(E, H, batch_first=True, kdim=kdim, vdim=vdim)
    assert list(mha.state_dict()) == list(tm.state_dict())       # PyTorch's names, in its order
    for k, v in mha.state_dict().items():
        assert tuple(v.shape) == tuple(tm.state_dict()[k].shape), k
    mha.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(5)
    q = rng.standard_normal((2, L, E)).astype(np.float32)
    k = rng.standard_normal((2, S, kdim or E)).astype(np.float32)
    v = rng.standard_normal((2, S, vdim or E)).astype(np.float32)
    pad = np.zeros((2, S), bool)
    pad[1, -1] = True
    out, w = mha(slope.tensor(q), slope.tensor(k), slope.tensor(v), key_padding_mask=slope.tensor(pad))
    with torch.no_grad():
        tout, tw = tm(torch.tensor(q), torch.tensor(k), torch.tensor(v), key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.numpy(), tw.numpy(), rtol=1e-5, atol=1e-6)
    # xavier-uniform bounds of PyTorch's reset_parameters, per projection
    if kdim is not None:
        assert np.abs(nn.MultiheadAttention(E, H, kdim=kdim, vdim=vdim, key=K).k_proj_weight.numpy()).max() <= \
            math.sqrt(6 / (E + kdim))
    with pytest.raises(slope.ShapeError, match=f"kdim={kdim or E}"):
        mha(slope.tensor(q), slope.tensor(q[:, :, :7]), slope.tensor(v))


def test_batchnorm_momentum_none_is_a_cumulative_average_as_torch():
    torch = pytest.importorskip("torch")
    bn = nn.BatchNorm2d(3, momentum=None)
    tb = torch.nn.BatchNorm2d(3, momentum=None)
    assert list(bn.state_dict()) == list(tb.state_dict())
    rng = np.random.default_rng(6)
    step = slope.jit(lambda m, x: nn.apply(m, x))
    for i in range(4):
        x = (rng.standard_normal((4, 3, 2, 2)) * (i + 1) + i).astype(np.float32)
        out, bn = (step if i % 2 else nn.apply)(bn, slope.tensor(x))      # eager and jitted steps alike
        tout = tb(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-5)
        assert float(bn.num_batches_tracked.numpy()) == int(tb.num_batches_tracked) == i + 1
        np.testing.assert_allclose(bn.running_mean.numpy(), tb.running_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bn.running_var.numpy(), tb.running_var.numpy(), rtol=1e-5, atol=1e-6)
    tb.eval()
    np.testing.assert_allclose(bn.eval()(slope.tensor(x)).numpy(), tb(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    fresh = nn.BatchNorm2d(3, momentum=None)                  # PyTorch's int64 count loads (as float32)
    fresh.load_state_dict({k: v.numpy() for k, v in tb.state_dict().items()})
    assert float(fresh.num_batches_tracked.numpy()) == 4.0
    g = slope.grad(lambda m, x: m(x).sum())(nn.BatchNorm2d(3, momentum=None), slope.tensor(x))
    assert isinstance(g, nn.BatchNorm2d)                      # the count is no obstacle to grad over the model


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_mask_statistics_and_scale(p):
    n = 200_000
    x = slope.tensor(np.random.default_rng(1).uniform(1.0, 2.0, n).astype(np.float32))
    y = F.dropout(x, p, key=slope.random.key(11)).numpy()
    kept = y != 0
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs((1 - kept.mean()) - p) < 5 * sigma                       # the dropped fraction is p
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / np.float32(1 - p), rtol=2e-7)   # kept ones scaled
    assert abs(y.mean() / x.numpy().mean() - 1) < 5 * sigma / (1 - p) * 1.2     # unbiased in expectation
    again = F.dropout(x, p, key=slope.random.key(11)).numpy()
    assert (again == y).all()                                           # one key, one mask
    other = F.dropout(x, p, key=slope.random.key(12)).numpy() != 0
    assert abs((other != kept).mean() - 2 * p * (1 - p)) < 5 * math.sqrt(2 * p * (1 - p) / n)  # independent keys
    jitted = slope.jit(lambda t, k: F.dropout(t, p, key=k))(x, slope.random.key(11)).numpy()
    assert (jitted == y).all()
