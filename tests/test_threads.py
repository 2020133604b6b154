import pytest
import torch

from lingualift_core.threads import torch_threads


def test_torch_threads_sets_and_restores() -> None:
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with torch_threads(target):
        assert torch.get_num_threads() == target
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(target):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before  # restored after an exception too
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_torch_threads_rejects_zero() -> None:
    with pytest.raises(ValueError, match="got 0"), torch_threads(0):
        pass
