"""Transformations, one module each: jvp, vmap, jit (staging), partial_eval (linearize), transpose (vjp), api."""
