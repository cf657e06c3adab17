"""One process of the MQ-HMR DDP test: train from the environment torchrun would set, save this rank's parameters."""
import sys

import torch

from biopose_opensim.hmr.config import load_config
from biopose_opensim.hmr.trainer import train_mqhmr

if __name__ == "__main__":
    cfg_path, data, out, state_path = sys.argv[1:5]
    res = train_mqhmr(load_config(cfg_path), [data], out, progress=False)
    torch.save(res.state, state_path)
