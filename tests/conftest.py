"""Project-wide test settings.

CI has 2 cores; the worker thread, the kernel under test and torch's own intra-op threads
compete for them. One intra-op thread keeps the small models here fast and timings steady.
"""

import torch

torch.set_num_threads(1)
