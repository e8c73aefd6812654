"""`python -m bench.gpu --quick` (CI): the GPU benchmark runs end to end on the CPU at reduced depth, so a
GPU run finds it working; every quick case and variant gives a row of numbers, and select's clicks one."""

from __future__ import annotations

from bench import gpu


def test_the_quick_gpu_benchmark_measures_every_case_on_the_cpu():
    report = gpu.main(["--quick"])
    edits, clicks = report.split("\n\n")
    rows = [line.split("|")[1:-1] for line in edits.splitlines() if line.startswith("| ") and "operation" not in line]
    cells = [[cell.strip() for cell in row] for row in rows]
    quick = gpu.plan(quick=True)
    expected = {(op, variant) for op, name in quick.cases.items()
                for variant in (quick.variants if not name.startswith("swin2sr") else ("bare",))}
    assert {(row[0], row[3]) for row in cells} == expected
    for row in cells:
        assert float(row[4]) > 0  # seconds per edit
        assert row[3] == "bare" or row[4] != "does not apply"
    denoised = [row for row in cells if row[1] == "sd15-pix2pix"]
    assert all(float(row[5]) > 0 for row in denoised)  # denoiser calls per second, from the warm edit
    (click_row,) = [[cell.strip() for cell in line.split("|")[1:-1]] for line in clicks.splitlines()
                    if line.startswith("| sam2")]
    assert click_row[0] == "sam2 tiny (quick)"
    assert all(float(cell) > 0 for cell in click_row[1:])  # first click, further clicks, embedding MB, peak MB


def test_without_cuda_the_full_benchmark_says_so_instead_of_failing(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on any machine without a GPU
    assert "no CUDA device" in gpu.main([])
