"""The README tutorial, runnable: linear regression trained with a jitted value_and_grad step."""
import slope

N = 50
x = slope.randn(N, 2, seed=0)
y = x @ slope.tensor([[2.0], [-3.0]]) + 1.0


def loss_fn(x, params, y):
    w, b = params
    y_hat = x @ w + b
    return ((y_hat - y) ** 2).mean()


g_loss_fn = slope.value_and_grad(loss_fn, argnums=(1,))


@slope.jit
def train_step(x, params, y, lr):
    loss, (g_params,) = g_loss_fn(x, params, y)
    params = [p - lr * g for p, g in zip(params, g_params)]
    return loss, params


params = [slope.zeros(2, 1), slope.zeros(1)]
for step in range(N):
    loss, params = train_step(x, params, y, 0.1)
    print(f"step {step:2d}  loss {loss.item():.4e}")
w, b = params
print("w =", w.numpy().ravel(), "b =", b.numpy())
