"""Sizes of the multi-scale filter basis (plain Python: the planner imports this without torch)."""

SCALE_STEP = 2.0 ** 0.5   # q: scale s samples the basis at sigma_0 * q^s
# Output scale s of a scale convolution sees input scales s .. s + SCALE_WINDOW - 1 (ScaleGroupConv2d takes any window).
# With few scales a wider window lets the absent scales above the top reach every scale within a few layers: on the
# tester's zoom rows a depth-4 model measured 1.7 times the error with a window of 2 as with 1.
SCALE_WINDOW = 1
# Basis functions He_n(u/sigma) He_m(v/sigma) exp(-|p|^2 / (2 sigma^2)) with n, m <= HERMITE_ORDER (SESN's "effective
# size" 2): the Gaussian, its two first derivatives and the mixed second one. Higher orders alias at sigma_0 = 2/3 px:
# degree n + m <= 2 measured 1.1 times the zoom error, n + m <= 3 about 2.7 times.
HERMITE_ORDER = 1
TRUNCATE = 3.0            # a filter's grid reaches this many sigmas from its centre: sigma_0 = 2/3 pixel at 5x5


def hermite_orders():
    """The (n, m) degree pairs of the basis, in a fixed order."""
    return [(n, m) for n in range(HERMITE_ORDER + 1) for m in range(HERMITE_ORDER + 1)]


def scale_kernel_sizes(kernel_size: int, scales: int):
    """Odd grid size of the filters at each scale: `kernel_size` at scale 0, the radius growing by q per scale."""
    radius = kernel_size // 2
    return [2 * int(radius * SCALE_STEP ** s + 0.5) + 1 for s in range(scales)]
