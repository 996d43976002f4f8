import slope

N = 50
x = slope.randn(N, 2, seed=0)
y = x @ slope.tensor([[2.0], [-3.0]])

def loss_fn(x, w, y):
    return ((x @ w - y) ** 2).mean()

gloss_fn = slope.value_and_grad(loss_fn, argnums=(1,))

@slope.jit
def train_step(x, w, y, lr):
    loss, gw = gloss_fn(x, w, y)
    w = w - lr * gw
    return loss, w

w = slope.zeros(2, 1)
lr = 0.1
for i in range(10):
    loss, w = train_step(x, w, y, lr)
    print(i, loss.numpy())
print(w)
