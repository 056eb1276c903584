"""Sizes the planner and the runtime layers share: FFT lengths and the multi-scale filter basis.

Plain Python without torch: the planner and the IR import it, and the generated files inline the definitions their
layers use (symc/emit/inline.py), so both sides read the same numbers.
"""


def fast_fft_size(n: int) -> int:
    """Smallest m >= n whose only prime factors are 2, 3 and 5 (powers of two alone were 2-6x slower)."""
    # Each 3^b 5^c below the answer, doubled up to n: O(log^3 n) steps (counting up from n takes ages for huge n).
    target = max(1, n)
    best = 1
    while best < target:
        best *= 2
    power5 = 1
    while power5 < best:
        odd = power5
        while odd < best:
            m = odd
            while m < target:
                m *= 2
            best = min(best, m)
            odd *= 3
        power5 *= 5
    return best


SCALE_STEP = 2.0 ** 0.5   # q: scale s samples the basis at sigma_0 * q^s
# Output scale s of a scale convolution sees input scales s .. s + SCALE_WINDOW - 1 (ScaleGroupConv takes any window).
# With few scales a wider window lets the absent scales above the top reach every scale within a few layers: on the
# tester's zoom rows a depth-4 model measured 1.7 times the error with a window of 2 as with 1.
SCALE_WINDOW = 1
# Basis functions He_n(u/sigma) He_m(v/sigma) exp(-|p|^2 / (2 sigma^2)) with n, m <= HERMITE_ORDER (SESN's "effective
# size" 2): the Gaussian, its two first derivatives and the mixed second one. Higher orders alias at sigma_0 = 2/3 px:
# degree n + m <= 2 measured 1.1 times the zoom error, n + m <= 3 about 2.7 times.
HERMITE_ORDER = 1
TRUNCATE = 3.0            # a filter's grid reaches this many sigmas from its centre: sigma_0 = 2/3 pixel at 5x5


def hermite_orders(dims: int = 2):
    """The degree tuples (one degree per grid axis, each at most HERMITE_ORDER) of the basis, in a fixed order:
    for images (n, m) with the row degree first."""
    orders = [[]]
    for _ in range(dims):
        orders = [o + [n] for o in orders for n in range(HERMITE_ORDER + 1)]
    return [tuple(o) for o in orders]


def scale_kernel_sizes(kernel_size: int, scales: int):
    """Odd grid size of the filters at each scale: `kernel_size` at scale 0, the radius growing by q per scale."""
    radius = kernel_size // 2
    return [2 * int(radius * SCALE_STEP ** s + 0.5) + 1 for s in range(scales)]
