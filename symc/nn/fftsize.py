"""FFT sizes (plain Python: the planner imports this without torch)."""


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
