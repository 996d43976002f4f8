"""slope.optim: PyTorch's optimizers as pure updates, learning-rate schedules, gradient clipping.

Each optimizer is a pure function pair, usable inside one jitted train step:

    opt = slope.optim.AdamW(lr=1e-3)
    state = opt.init(model)                              # a pytree: {"step": ..., "exp_avg": {...}, ...}

    @slope.jit
    def train_step(model, state, x, y):
        loss, grads = slope.value_and_grad(loss_fn)(model, x, y)
        model, state = opt.update(model, grads, state)
        return model, state, loss

`params` may be a slope.nn.Module (only its parameters are updated; buffers pass through) or any
pytree of float tensors. The update rules are PyTorch's published ones (torch.optim docs), checked
against a NumPy transcription over several steps in tests/test_optim.py. `lr` is a number or a
schedule (a callable of the step count, e.g. `CosineAnnealingLR(...)`), evaluated inside the step,
so changing learning rates never recompiles.

For eager code that feels like PyTorch, bind the parameters: `opt = SGD(model, lr=0.1)`, then
`opt.step(grads)` updates the bound Module in place (its attributes; tensors are immutable) and
returns it. `opt.state_dict()` / `opt.load_state_dict(d)` give the bound state as flat dotted names
(`exp_avg.0.weight`, `step`), which slope.save writes.
"""
from __future__ import annotations

import math
from collections import OrderedDict

from slope import ops as O
from slope.core import dtypes as dt
from slope.core import pytree
from slope.core.tensor import Tensor
from slope.core.trace import Tracer
from slope.errors import ArgumentError, DomainError
from slope.ops.promotion import as_array

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "StepLR", "CosineAnnealingLR", "LinearLR",
           "OneCycleLR", "clip_grad_norm_", "global_norm"]


def _is_module(x):
    return hasattr(x, "named_parameters") and hasattr(x, "state_dict") and hasattr(x, "_parameters")


def _named(tree):
    """(OrderedDict name -> tensor, rebuild) for a Module (its parameters) or any pytree (its leaves)."""
    if _is_module(tree):
        names = OrderedDict(tree.named_parameters())

        def rebuild(new):
            leaves, td = pytree.tree_flatten(tree)
            copy = pytree.tree_unflatten(td, leaves)
            mods = dict(copy.named_modules())
            for name, v in new.items():
                path, _, leaf = name.rpartition(".")
                mods[path].__dict__["_parameters"][leaf] = v
            return copy
        return names, rebuild
    leaves, td = pytree.tree_flatten(tree)
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, (Tensor, Tracer)):
            raise ArgumentError(f"optim: parameters must be tensors, leaf {i} is {type(leaf).__name__}")
    return (OrderedDict((str(i), v) for i, v in enumerate(leaves)),
            lambda new: pytree.tree_unflatten(td, list(new.values())))


def _as_lr(lr):
    if callable(lr):
        return lr
    if not isinstance(lr, (int, float)) or lr < 0:
        raise DomainError(f"optim: lr must be a non-negative number or a schedule, got {lr!r}")
    return float(lr)


class Optimizer:
    """Base class: subclasses define `_slots` (per-parameter state names) and `_rule`."""
    _slots: tuple = ()

    def __init__(self, params=None, lr=1e-3, **hyper):
        self.lr = _as_lr(lr)
        self.hyper = hyper
        self.params = params
        self.state = self.init(params) if params is not None else None

    # ------------------------------------------------------------ the pure API

    def init(self, params):
        named, _ = _named(params)
        state = {"step": O.zeros((), dtype=dt.float32)}
        for slot in self._slots:
            state[slot] = {k: self._initial(slot, v) for k, v in named.items()}
        return state

    def _initial(self, slot, p):
        return O.zeros_like(p)

    def lr_at(self, step):
        return self.lr(step) if callable(self.lr) else self.lr

    def update(self, params, grads, state):
        """(new params, new state) after one step with `grads` (a tree shaped like params)."""
        named, rebuild = _named(params)
        gnamed, _ = _named(grads)
        if list(gnamed) != list(named):
            raise ArgumentError(f"{type(self).__name__}.update: grads do not match params: {list(gnamed)[:4]} vs "
                                f"{list(named)[:4]}")
        step = state["step"]
        lr = self.lr_at(step)
        new_p, new_slots = OrderedDict(), {s: {} for s in self._slots}
        for k, p in named.items():
            g = gnamed[k]
            g = g if g.dtype is p.dtype else g.astype(p.dtype)
            slots = {s: state[s][k] for s in self._slots}
            p2, slots2 = self._rule(p, g, slots, step, lr)
            new_p[k] = p2
            for s in self._slots:
                new_slots[s][k] = slots2[s]
        return rebuild(new_p), {"step": step + 1.0, **new_slots}

    # ------------------------------------------------------------ eager convenience

    def step(self, grads):
        """Eager: update the bound params (a Module is updated in place) and return them."""
        if self.params is None:
            raise ArgumentError(f"{type(self).__name__}.step: no bound parameters; construct the optimizer with them "
                                f"({type(self).__name__}(model, lr=...)) or use the pure update(params, grads, state)")
        new, self.state = self.update(self.params, grads, self.state)
        if _is_module(self.params):
            for (_, old_m), (_, new_m) in zip(self.params.named_modules(), new.named_modules()):
                old_m.__dict__["_parameters"].update(new_m.__dict__["_parameters"])
            return self.params
        self.params = new
        return new

    def state_dict(self, state=None):
        state = self.state if state is None else state
        out = OrderedDict(step=state["step"])
        for s in self._slots:
            for k, v in state[s].items():
                out[f"{s}.{k}"] = v
        return out

    def load_state_dict(self, flat):
        """The state pytree from a flat dict (state_dict() or slope.load of one); binds it when params are bound."""
        state = {"step": as_array(flat["step"]).astype(dt.float32).reshape(())}
        for s in self._slots:
            prefix = s + "."
            state[s] = {k[len(prefix):]: as_array(v) for k, v in flat.items() if k.startswith(prefix)}
        if self.params is not None:
            self.state = state
        return state


def _bias_correction(beta, t):
    return 1.0 - O.exp(t * math.log(beta)) if beta > 0 else O.ones_like(t)


class SGD(Optimizer):
    """PyTorch's SGD: g += wd p; buf = g (first step) or momentum buf + (1 - dampening) g; nesterov g + momentum buf."""
    _slots = ("momentum_buffer",)

    def __init__(self, params=None, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ArgumentError("SGD: nesterov needs momentum > 0 and dampening = 0")
        if momentum == 0:
            self._slots = ()
        super().__init__(params, lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov)

    def _rule(self, p, g, s, step, lr):
        h = self.hyper
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        if h["momentum"]:
            mu = h["momentum"]
            buf = O.where(step == 0, g, mu * s["momentum_buffer"] + (1.0 - h["dampening"]) * g)
            g = g + mu * buf if h["nesterov"] else buf
            s = {"momentum_buffer": buf}
        return p - lr * g, s


class Adam(Optimizer):
    """PyTorch's Adam (L2 weight decay added to the gradient; amsgrad optional)."""
    _slots = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        if amsgrad:
            self._slots = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise DomainError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        super().__init__(params, lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def _rule(self, p, g, s, step, lr):
        h = self.hyper
        b1, b2 = h["betas"]
        if h["weight_decay"]:
            if self._decoupled:
                p = p * (1.0 - lr * h["weight_decay"])
            else:
                g = g + h["weight_decay"] * p
        m = b1 * s["exp_avg"] + (1.0 - b1) * g
        v = b2 * s["exp_avg_sq"] + (1.0 - b2) * g * g
        t = step + 1.0
        bc1, bc2 = _bias_correction(b1, t), _bias_correction(b2, t)
        out = {"exp_avg": m, "exp_avg_sq": v}
        vv = v
        if h["amsgrad"]:
            vv = O.maximum(s["max_exp_avg_sq"], v)
            out["max_exp_avg_sq"] = vv
        denom = O.sqrt(vv) / O.sqrt(bc2) + h["eps"]
        return p - (lr / bc1) * m / denom, out


class AdamW(Adam):
    """PyTorch's AdamW: decoupled weight decay p *= 1 - lr wd, then Adam's step (default wd 0.01)."""
    _decoupled = True

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
    """PyTorch's RMSprop (alpha, eps, weight_decay, momentum, centered)."""

    def __init__(self, params=None, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self._slots = ("square_avg",) + (("momentum_buffer",) if momentum else ()) + (("grad_avg",) if centered else ())
        super().__init__(params, lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered)

    def _rule(self, p, g, s, step, lr):
        h = self.hyper
        a = h["alpha"]
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        sq = a * s["square_avg"] + (1.0 - a) * g * g
        out = {"square_avg": sq}
        if h["centered"]:
            ga = a * s["grad_avg"] + (1.0 - a) * g
            out["grad_avg"] = ga
            avg = O.sqrt(sq - ga * ga) + h["eps"]
        else:
            avg = O.sqrt(sq) + h["eps"]
        if h["momentum"]:
            buf = h["momentum"] * s["momentum_buffer"] + g / avg
            out["momentum_buffer"] = buf
            return p - lr * buf, out
        return p - lr * g / avg, out


class Adagrad(Optimizer):
    """PyTorch's Adagrad: clr = lr / (1 + (t - 1) lr_decay); sum += g^2; p -= clr g / (sqrt(sum) + eps)."""
    _slots = ("sum",)

    def __init__(self, params=None, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        super().__init__(params, lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    def _initial(self, slot, p):
        return O.full_like(p, self.hyper["initial_accumulator_value"])

    def _rule(self, p, g, s, step, lr):
        h = self.hyper
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        clr = lr / (1.0 + step * h["lr_decay"])
        acc = s["sum"] + g * g
        return p - clr * g / (O.sqrt(acc) + h["eps"]), {"sum": acc}


# ---------------------------------------------------------------- learning-rate schedules


def _t(step):
    """The step count as a float32 tensor (a Python int, a tensor or a tracer)."""
    t = as_array(step)
    return t if t.dtype is dt.float32 else t.astype(dt.float32)


class StepLR:
    """lr * gamma ** floor(step / step_size) (PyTorch's StepLR, counted in optimizer steps)."""

    def __init__(self, lr, step_size, gamma=0.1):
        self.lr, self.step_size, self.gamma = lr, step_size, gamma

    def __call__(self, step):
        return self.lr * O.exp(O.floor(_t(step) / self.step_size) * math.log(self.gamma))


class LinearLR:
    """lr * (start_factor + (end_factor - start_factor) * min(step, total_iters) / total_iters): linear warmup."""

    def __init__(self, lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        self.lr, self.start_factor, self.end_factor, self.total_iters = lr, start_factor, end_factor, total_iters

    def __call__(self, step):
        frac = O.clamp(_t(step), max=float(self.total_iters)) / self.total_iters
        return self.lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class CosineAnnealingLR:
    """PyTorch's closed form eta_min + (lr - eta_min)(1 + cos(pi t / T_max)) / 2, held at eta_min after T_max;
    with warmup_steps > 0 it first rises linearly from warmup_start_lr to lr, and t counts from the end of
    the warmup (T_max then includes the warmup, as common "cosine with warmup" schedules)."""

    def __init__(self, lr, T_max, eta_min=0.0, warmup_steps=0, warmup_start_lr=0.0):
        if T_max <= warmup_steps:
            raise ArgumentError(f"CosineAnnealingLR: T_max ({T_max}) must exceed warmup_steps ({warmup_steps})")
        self.lr, self.T_max, self.eta_min = lr, T_max, eta_min
        self.warmup_steps, self.warmup_start_lr = warmup_steps, warmup_start_lr

    def __call__(self, step):
        t = _t(step)
        w = self.warmup_steps
        tc = O.clamp(t - w, min=0.0, max=float(self.T_max - w))
        cos = self.eta_min + (self.lr - self.eta_min) * (1.0 + O.cos(tc * (math.pi / (self.T_max - w)))) / 2
        if not w:
            return cos
        warm = self.warmup_start_lr + (self.lr - self.warmup_start_lr) * t / w
        return O.where(t < w, warm, cos)


class OneCycleLR:
    """PyTorch's OneCycleLR (two phases, or three with three_phase=True; 'cos' or 'linear' annealing)."""

    def __init__(self, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
                 final_div_factor=1e4, three_phase=False):
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.max_lr, self.total_steps, self.anneal_strategy = max_lr, total_steps, anneal_strategy
        initial = max_lr / div_factor
        final = initial / final_div_factor
        e1 = float(pct_start * total_steps) - 1
        if three_phase:
            self.phases = [(e1, initial, max_lr), (2 * e1, max_lr, initial), (total_steps - 1.0, initial, final)]
        else:
            self.phases = [(e1, initial, max_lr), (total_steps - 1.0, max_lr, final)]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (O.cos(pct * math.pi) + 1.0)
        return (end - start) * pct + start

    def __call__(self, step):
        t = _t(step)
        out, start = None, 0.0
        for end, lo, hi in self.phases:
            lr = self._anneal(lo, hi, O.clamp((t - start) / (end - start), min=0.0, max=1.0))
            out = lr if out is None else O.where(t <= start, out, lr)  # an earlier phase owns t <= its end
            start = end
        return out


# ---------------------------------------------------------------- clipping


def global_norm(tree, norm_type=2.0):
    leaves = [x for x in pytree.tree_leaves(tree) if isinstance(x, (Tensor, Tracer))]
    if norm_type == math.inf:
        return O.stack([O.abs(x).amax() for x in leaves]).amax()
    return O.stack([(O.abs(x) ** norm_type).sum() for x in leaves]).sum() ** (1.0 / norm_type)


def clip_grad_norm_(grads, max_norm, norm_type=2.0):
    """(grads scaled by min(1, max_norm / (norm + 1e-6)), the total norm) as torch.nn.utils.clip_grad_norm_
    computes them; functional: returns new gradients (a Module-shaped tree stays one)."""
    total = global_norm(grads, norm_type)
    coef = O.clamp(max_norm / (total + 1e-6), max=1.0)
    return pytree.tree_map(lambda g: g * coef.astype(g.dtype) if isinstance(g, (Tensor, Tracer)) else g, grads), total
