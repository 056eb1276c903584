"""Dense expanded filters against a convolution through symc's ring basis, at the escnn tutorial's shapes.

    python benchmarks/basis_conv.py

An 8-rotation filter bank lies in the span of the band-limited ring basis (symc.nn.filters.ring_basis: 9 functions
for a 5x5 kernel), so conv(x, C @ basis) equals a depthwise convolution of every input channel with the 9 basis
functions followed by a 1x1 mix with the coefficients C. Per layer (batch 8, 2 threads) it prints forward +
backward (input and filter gradients) of both, and their largest relative difference.
"""
import time

import torch
import torch.nn.functional as F

from symc.nn.filters import ring_basis
torch.set_num_threads(2)
B = 8
L = [(192,384,5,25,2),(384,384,5,13,2),(384,768,5,13,2),(768,768,5,7,2),(768,512,5,7,1)]
def t(f, n=5):
    f(); ts=[]
    for _ in range(n):
        s=time.perf_counter(); f(); ts.append(time.perf_counter()-s)
    return sorted(ts)[n//2]
tot_d=tot_b=0
for cin, cout, k, s, p in L:
    phi = ring_basis(k, 0.0).to(torch.float32)  # (k*k, nb)
    nb = phi.shape[1]
    x = torch.randn(B, cin, s, s, requires_grad=True)
    c = torch.randn(cout, cin, nb, requires_grad=True) * 0.01
    c = c.detach().requires_grad_()
    w = (c @ phi.t()).reshape(cout, cin, k, k).detach().requires_grad_()
    dw = phi.t().reshape(nb, 1, k, k).repeat(cin, 1, 1, 1)  # (cin*nb, 1, k, k)
    def dense():
        y = F.conv2d(x, w, padding=p); y.backward(torch.ones_like(y))
    def basis():
        z = F.conv2d(x, dw, padding=p, groups=cin)  # (B, cin*nb, o, o)
        y = F.conv2d(z, c.reshape(cout, cin * nb, 1, 1))
        y.backward(torch.ones_like(y))
    # correctness
    with torch.no_grad():
        a = F.conv2d(x, (c @ phi.t()).reshape(cout, cin, k, k), padding=p)
        b = F.conv2d(F.conv2d(x, dw, padding=p, groups=cin), c.reshape(cout, cin*nb, 1, 1))
    err = ((a-b).abs().max()/a.abs().max()).item()
    td, tb = t(dense), t(basis)
    tot_d += td; tot_b += tb
    print(f"{cin}->{cout} {s} nb={nb}: dense {td*1e3:.0f} ms basis {tb*1e3:.0f} ms  err {err:.1e}")
print(f"total dense {tot_d*1e3:.0f} basis {tot_b*1e3:.0f}")
