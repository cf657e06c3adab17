"""One process of the DDP test: train from the environment torchrun would set, save this rank's parameters."""
import sys

import torch

from biopose_opensim.neurik.config import load_config
from biopose_opensim.neurik.trainer import train_neurik

if __name__ == "__main__":
    cfg_path, data, out, state_path = sys.argv[1:5]
    res = train_neurik(load_config(cfg_path), [data], out, progress=False)
    torch.save(res.state, state_path)
