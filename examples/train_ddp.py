"""Data-parallel training of a symc model: torch.compile + DistributedDataParallel under torchrun.

    torchrun --nproc_per_node=2 examples/train_ddp.py                       # specs/rotated_digits.sym, 2 CPU processes
    torchrun --nproc_per_node=2 examples/train_ddp.py --spec specs/segmentation_d4.sym --steps 50
    torchrun --nproc_per_node=2 examples/train_ddp.py --spec "image 1x28x28; p4; invariant output 10" --compile none

The backend follows the device: NCCL with one GPU per process when CUDA is available, gloo on CPUs. Each process
reads its own shard of a random data set (DistributedSampler) shaped for the spec's domain; gradients are averaged by
DDP, so every process holds the same parameters after each step; the norms' running statistics are averaged at the
end. At the end process 0 runs `symc.check` on the
trained model and exits 1 when it is not equivariant. `--out DIR` makes every process save its parameters to
DIR/rank<R>.pt (and process 0 its report to DIR/check.txt), for comparing them.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import symc

DEFAULT_SPEC = Path(__file__).resolve().parent.parent / "specs" / "rotated_digits.sym"
# Sizes for specs that leave them free (the plan's own assumptions are larger than a quick run needs).
FREE_SIZES = {"image": (32, 32), "volume": (8, 8, 8), "sequence": (64,), "set": (8,), "point cloud": (8,),
              "graph": (8,)}


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(DEFAULT_SPEC), help="a .sym file or spec text")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps")
    parser.add_argument("--batch", type=int, default=8, help="samples per process per step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", default="inductor",
                        help="torch.compile backend (inductor, aot_eager, eager) or 'none' for eager PyTorch")
    parser.add_argument("--out", default=None, help="folder for each process's parameters and the check report")
    return parser.parse_args(argv)


def random_data(spec, count: int, generator: torch.Generator) -> list[torch.Tensor]:
    """`count` random inputs for the spec's domain, as the tensors `forward` takes (batch axis first)."""
    domain = spec.domain
    sizes = tuple(domain.shape) if domain.shape else FREE_SIZES[domain.kind]
    if domain.kind in ("image", "volume", "sequence"):
        return [torch.randn((count, domain.channels) + sizes, generator=generator)]
    n = sizes[0]
    if domain.kind == "set":
        return [torch.randn(count, n, domain.channels, generator=generator)]
    if domain.kind == "graph":
        edges = (torch.rand(count, n, n, generator=generator) < 0.3).float().triu(1)
        return [torch.randn(count, n, domain.channels, generator=generator), edges + edges.transpose(1, 2)]
    tensors = [torch.randn(count, n, domain.dim, generator=generator)]
    if domain.channels:
        tensors.append(torch.randn(count, n, domain.channels, generator=generator))
    return tensors


def as_tuple(y) -> tuple[torch.Tensor, ...]:
    return y if isinstance(y, tuple) else (y,)


def targets_for(spec, outputs: tuple[torch.Tensor, ...], generator: torch.Generator) -> list[torch.Tensor]:
    """Random targets shaped like the outputs: class labels for classifiers, values for everything else."""
    targets = []
    for output, y in zip(spec.outputs, outputs):
        if output.kind == "invariant" and output.size > 1:
            targets.append(torch.randint(output.size, (y.shape[0],), generator=generator))
        else:
            targets.append(torch.randn(y.shape, generator=generator))
    return targets


def loss_of(outputs: tuple[torch.Tensor, ...], targets: list[torch.Tensor]) -> torch.Tensor:
    total = 0.0
    for y, target in zip(outputs, targets):
        if target.dtype == torch.long:
            total = total + F.cross_entropy(y.float(), target)
        else:
            total = total + F.mse_loss(y.float(), target)
    return total


def main(argv=None) -> int:
    args = arguments(argv)
    use_cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if use_cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    if use_cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    try:
        spec_path = Path(args.spec)
        compiled = symc.compile(spec_path if spec_path.suffix == ".sym" and spec_path.exists() else args.spec)
        spec = compiled.spec
        torch.manual_seed(args.seed)  # same initial weights everywhere (DDP also broadcasts rank 0's at the start)
        module = compiled.module.to(device)

        # The same random data set on every process (same seed); the sampler gives each process its own shard.
        generator = torch.Generator().manual_seed(args.seed + 1)
        inputs = random_data(spec, args.batch * world * 4, generator)
        with torch.no_grad():
            module.eval()
            shapes = as_tuple(module(*(t[:2].to(device) for t in inputs)))
            module.train()
        targets = targets_for(spec, tuple(torch.empty((len(inputs[0]),) + y.shape[1:]) for y in shapes), generator)
        dataset = TensorDataset(*inputs, *targets)
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
        loader = DataLoader(dataset, batch_size=args.batch, sampler=sampler, drop_last=True)

        model = DistributedDataParallel(module, device_ids=[device.index] if use_cuda else None)
        step_model = model if args.compile == "none" else torch.compile(model, backend=args.compile)
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        count = len(inputs)
        step, epoch = 0, 0
        while step < args.steps:
            sampler.set_epoch(epoch)
            for batch in loader:
                batch = [t.to(device) for t in batch]
                outputs = as_tuple(step_model(*batch[:count]))
                loss = loss_of(outputs, batch[count:])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                if rank == 0 and (step == 1 or step % 10 == 0 or step == args.steps):
                    print(f"step {step}/{args.steps}  loss {loss.item():.4f}  ({world} processes, "
                          f"{dist.get_backend()}, compile {args.compile})", flush=True)
                if step == args.steps:
                    break
            epoch += 1

        # Gradients are averaged every step, but each process updated its norms' running statistics from its own
        # shard: average them too, so every process holds the same model.
        with torch.no_grad():
            for buffer in module.buffers():
                if buffer.is_floating_point():
                    dist.all_reduce(buffer)
                    buffer /= world
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            torch.save({name: value.cpu() for name, value in module.state_dict().items()}, out / f"rank{rank}.pt")
        ok = True
        if rank == 0:
            report = symc.check(module, spec)  # the trained weights, in eval mode
            print(report, flush=True)
            ok = report.ok
            if args.out:
                (Path(args.out) / "check.txt").write_text(str(report) + "\n")
        dist.barrier()
        return 0 if ok else 1
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
