"""The unrolled sequence of single-pair SGD steps on a one-hidden-layer tanh MLP, and its exact
Jacobian in the rates, in closed form with numpy (float64).

A round of steering is M steps theta_{j+1} = theta_j - lr_j grad l_j(theta_j), each on one
pair's loss l_j = 1/2 (f(x_j) - y_j)^2. Its end theta_M depends on every rate, and

    d theta_M / d lr_k = -(prod_{j>k} (I - lr_j H_j)) g_k,

with g_j and H_j the pair's gradient and Hessian at theta_j. For f(x) = w2 . tanh(W1 x + b1) + b2
both are a few lines: with h = tanh(a), u = (x, 1) and unit i's input block (W1[i], b1[i]),

    grad f = (w2 * (1 - h^2)) (x) u, h, 1
    hess f: s_i u u^T on unit i's block, s_i = -2 w2_i h_i (1 - h_i^2);
            (1 - h_i^2) u between that block and w2_i,

and H = grad f grad f^T + (f - y) hess f. A round of P = 17 weights and M = 136 steps costs
milliseconds this way (one forward sweep, one backward sweep of P x P products), where
differentiating through `nn.Module` calls cost seconds, all of it per-call overhead.

The flat weight vector is torch's `parameters()` order: W1 (row-major), b1, w2, b2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class TanhNet:
    """The shape of a one-hidden-layer tanh MLP with one output, and its index tables."""

    inputs: int
    hidden: int

    @property
    def size(self) -> int:
        return self.hidden * (self.inputs + 2) + 1

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        d, h = self.inputs, self.hidden
        w1 = theta[: h * d].reshape(h, d)
        b1 = theta[h * d : h * d + h]
        w2 = theta[h * d + h : h * d + 2 * h]
        return w1, b1, w2, float(theta[-1])

    @cached_property
    def blocks(self) -> np.ndarray:
        """(hidden, inputs + 1): the flat indices of unit i's input weights and bias."""
        d, h = self.inputs, self.hidden
        rows = np.arange(h)[:, None] * d + np.arange(d)[None, :]
        return np.hstack([rows, (h * d + np.arange(h))[:, None]])

    @cached_property
    def output_weights(self) -> np.ndarray:
        return self.hidden * self.inputs + self.hidden + np.arange(self.hidden)


def output(net: TanhNet, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """f(x) for a batch of inputs (n, inputs)."""
    w1, b1, w2, b2 = net.split(theta)
    return np.tanh(x @ w1.T + b1) @ w2 + b2


def _output_grad(
    net: TanhNet, theta: np.ndarray, x: np.ndarray, y: float
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """grad f at `theta` for one input, the residual f(x) - y, and what the Hessian reuses:
    the output weights w2, tanh's slope 1 - h^2 and u = (x, 1)."""
    w1, b1, w2, b2 = net.split(theta)
    h = np.tanh(w1 @ x + b1)
    slope = 1.0 - h * h
    u = np.append(x, 1.0)
    gf = np.empty(net.size)
    gf[net.blocks] = (w2 * slope)[:, None] * u[None, :]
    gf[net.output_weights] = h
    gf[-1] = 1.0
    return gf, float(h @ w2 + b2 - y), w2, h, slope, u


def loss_grad(net: TanhNet, theta: np.ndarray, x: np.ndarray, y: float) -> np.ndarray:
    """The gradient of 1/2 (f(x) - y)^2 at `theta`, for one input `x`."""
    gf, r, *_ = _output_grad(net, theta, x, y)
    return r * gf


def loss_grad_hess(
    net: TanhNet, theta: np.ndarray, x: np.ndarray, y: float
) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and Hessian of 1/2 (f(x) - y)^2 at `theta`, for one input `x`."""
    gf, r, w2, h, slope, u = _output_grad(net, theta, x, y)
    blocks, w2_index = net.blocks, net.output_weights
    hess = np.outer(gf, gf)
    s = -2.0 * w2 * h * slope
    hess[blocks[:, :, None], blocks[:, None, :]] += r * s[:, None, None] * np.outer(u, u)
    cross = r * slope[:, None] * u[None, :]
    hess[blocks, w2_index[:, None]] += cross
    hess[w2_index[:, None], blocks] += cross
    return r * gf, hess


def unroll(
    net: TanhNet, theta0: np.ndarray, x: np.ndarray, y: np.ndarray, lr: np.ndarray
) -> np.ndarray:
    """theta after each step: (M + 1, P), the start first."""
    out = np.empty((len(lr) + 1, net.size))
    out[0] = theta0
    for j in range(len(lr)):
        out[j + 1] = out[j] - lr[j] * loss_grad(net, out[j], x[j], float(y[j]))
    return out


def unrolled_jacobian(
    net: TanhNet, theta0: np.ndarray, x: np.ndarray, y: np.ndarray, lr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """theta_M and d theta_M / d lr, (P, M): a forward sweep, then the product of the steps'
    (I - lr_j H_j) accumulated backwards (reverse mode, O(M P^3))."""
    thetas = unroll(net, theta0, x, y, lr)
    v = np.eye(net.size)
    jac = np.empty((net.size, len(lr)))
    for k in range(len(lr) - 1, -1, -1):
        g, hess = loss_grad_hess(net, thetas[k], x[k], float(y[k]))
        jac[:, k] = -(v @ g)
        v -= lr[k] * (v @ hess)
    return thetas[-1], jac
