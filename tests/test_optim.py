"""slope.optim against a NumPy transcription of PyTorch's published update equations (torch.optim docs,
the algorithm boxes), over several steps, eagerly and inside one jitted train step; schedules against
PyTorch's closed forms; clip_grad_norm_; optimizer state round trips."""
import math

import numpy as np
import pytest

import slope
import slope.optim as optim

STEPS = 5
RNG = np.random.default_rng(0)
P0 = {"w": RNG.normal(size=(3, 2)).astype(np.float32), "b": RNG.normal(size=(2,)).astype(np.float32)}
GRADS = [{k: RNG.normal(size=v.shape).astype(np.float32) for k, v in P0.items()} for _ in range(STEPS)]


def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf = p.astype(np.float64), None
    for t, g in enumerate(grads, 1):
        g = g + weight_decay * p
        if momentum:
            buf = g if t == 1 else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def ref_adam(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    p = p.astype(np.float64)
    m = v = vmax = np.zeros_like(p)
    b1, b2 = betas
    for t, g in enumerate(grads, 1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax / (1 - b2 ** t)
        else:
            vhat = v / (1 - b2 ** t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
    return p


def ref_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    p = p.astype(np.float64)
    v = gavg = buf = np.zeros_like(p)
    for g in grads:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            gavg = alpha * gavg + (1 - alpha) * g
            vt = v - gavg ** 2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(vt) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(vt) + eps)
    return p


def ref_adagrad(p, grads, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    p = p.astype(np.float64)
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, 1):
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


CASES = [
    ("sgd", optim.SGD, ref_sgd, dict(lr=0.1)),
    ("sgd_momentum", optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd_nesterov", optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("adam", optim.Adam, ref_adam, dict(lr=0.01)),
    ("adam_l2_amsgrad", optim.Adam, ref_adam, dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("adamw", optim.AdamW, lambda p, g, **k: ref_adam(p, g, decoupled=True, **k), dict(lr=0.01, weight_decay=0.1)),
    ("rmsprop", optim.RMSprop, ref_rmsprop, dict(lr=0.01)),
    ("rmsprop_centered_momentum", optim.RMSprop, ref_rmsprop,
     dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
    ("adagrad", optim.Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.01,
                                                  initial_accumulator_value=0.1)),
]


def _tensors(d):
    return {k: slope.tensor(v) for k, v in d.items()}


@pytest.mark.parametrize("name,cls,ref,kw", CASES, ids=[c[0] for c in CASES])
def test_update_rule_matches_pytorch_equations(name, cls, ref, kw):
    opt = cls(**kw)
    params = _tensors(P0)
    state = opt.init(params)
    step = slope.jit(opt.update)
    for g in GRADS:
        params, state = step(params, _tensors(g), state)
    for k in P0:
        want = ref(P0[k], [g[k] for g in GRADS], **kw)
        np.testing.assert_allclose(params[k].numpy(), want, rtol=2e-5, atol=2e-6, err_msg=f"{name} {k}")
    assert float(state["step"]) == STEPS


def test_eager_step_updates_a_bound_module_in_place():
    model = slope.nn.Linear(2, 1, key=slope.random.key(0))
    w0 = model.weight.numpy()
    opt = optim.SGD(model, lr=0.5)
    g = slope.grad(lambda m: (m(slope.ones(1, 2)) ** 2).sum())(model)
    out = opt.step(g)
    assert out is model
    np.testing.assert_allclose(model.weight.numpy(), w0 - 0.5 * g.weight.numpy(), rtol=1e-6)


def test_module_buffers_pass_through_and_state_dict_round_trips(tmp_path):
    model = slope.nn.Sequential(slope.nn.Linear(3, 2, key=slope.random.key(1)), slope.nn.BatchNorm2d(2))
    opt = optim.Adam(lr=0.1, weight_decay=0.5)
    state = opt.init(model)
    assert sorted(state["exp_avg"]) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    grads = slope.tree_map(lambda t: slope.ones_like(t), model)
    new, state = opt.update(model, grads, state)
    np.testing.assert_array_equal(new[1].running_var.numpy(), model[1].running_var.numpy())
    assert not np.allclose(new[0].weight.numpy(), model[0].weight.numpy())
    slope.save(opt.state_dict(state), tmp_path / "opt.safetensors")
    back = opt.load_state_dict(slope.load(tmp_path / "opt.safetensors"))
    for a, b in zip(slope.tree_leaves(state), slope.tree_leaves(back)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_schedule_in_the_jitted_step_does_not_recompile():
    sched = optim.StepLR(1.0, step_size=2, gamma=0.5)
    opt = optim.SGD(lr=sched)
    p = {"x": slope.ones(1)}
    state = opt.init(p)
    step = slope.jit(opt.update)
    xs = []
    for _ in range(5):
        p, state = step(p, {"x": slope.ones(1)}, state)
        xs.append(float(p["x"][0]))
    np.testing.assert_allclose(np.diff([1.0] + xs), [-1, -1, -0.5, -0.5, -0.25], rtol=1e-6)


def _onecycle_ref(t, max_lr, total, pct=0.3, div=25.0, final_div=1e4, three=False, strategy="cos"):
    init = max_lr / div
    final = init / final_div
    e1 = pct * total - 1
    phases = ([(e1, init, max_lr), (2 * e1, max_lr, init), (total - 1, init, final)] if three
              else [(e1, init, max_lr), (total - 1, max_lr, final)])
    start = 0
    for i, (end, a, b) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            pc = (t - start) / (end - start)
            return b + (a - b) / 2 * (math.cos(math.pi * pc) + 1) if strategy == "cos" else (b - a) * pc + a
        start = end


@pytest.mark.parametrize("t", [0, 1, 5, 9, 17, 29, 30, 45])
def test_schedules_match_pytorch_closed_forms(t):
    assert math.isclose(float(optim.StepLR(0.1, 7, 0.5)(t)), 0.1 * 0.5 ** (t // 7), rel_tol=1e-5)
    lin = 0.2 * (0.25 + 0.75 * min(t, 10) / 10)
    assert math.isclose(float(optim.LinearLR(0.2, 0.25, 1.0, 10)(t)), lin, rel_tol=1e-5)
    tc = min(t, 30)
    cos = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * tc / 30)) / 2
    assert math.isclose(float(optim.CosineAnnealingLR(0.1, 30, eta_min=0.001)(t)), cos, rel_tol=1e-5, abs_tol=1e-7)
    warm = 0.1 * t / 5 if t < 5 else 0.1 * (1 + math.cos(math.pi * min(t - 5, 25) / 25)) / 2
    assert math.isclose(float(optim.CosineAnnealingLR(0.1, 30, warmup_steps=5)(t)), warm, rel_tol=1e-5,
                        abs_tol=1e-7)
    for three, strat in [(False, "cos"), (True, "linear")]:
        if t < 40:
            got = float(optim.OneCycleLR(0.5, 40, three_phase=three, anneal_strategy=strat)(t))
            assert math.isclose(got, _onecycle_ref(t, 0.5, 40, three=three, strategy=strat), rel_tol=1e-4,
                                abs_tol=1e-7)


def test_clip_grad_norm():
    g = {"a": slope.tensor(np.array([3.0, 0.0], np.float32)), "b": slope.tensor(np.array([[4.0]], np.float32))}
    clipped, norm = optim.clip_grad_norm_(g, 1.0)
    assert math.isclose(float(norm), 5.0, rel_tol=1e-6)
    np.testing.assert_allclose(clipped["a"].numpy(), [3 / (5 + 1e-6), 0], rtol=1e-6)
    same, _ = optim.clip_grad_norm_(g, 10.0)
    np.testing.assert_array_equal(same["b"].numpy(), g["b"].numpy())
    _, inf = optim.clip_grad_norm_(g, 1.0, norm_type=math.inf)
    assert float(inf) == 4.0
